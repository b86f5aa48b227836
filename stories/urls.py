from django.urls import path

from stories import views

app_name = "stories"

S = "stories/<uuid:story_id>/"

urlpatterns = [
    path("stories/new/", views.story_create, name="create"),
    path(S, views.story_detail, name="detail"),
    path(f"{S}viewers/", views.story_viewers, name="viewers"),
    path(f"{S}delete/", views.story_delete, name="delete"),
]
