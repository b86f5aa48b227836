from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.conversation_start, name="new"),
    path("with/<str:username>/button/", views.message_button, name="message_button"),
    path("<uuid:conversation_id>/", views.conversation, name="conversation"),
    path("<uuid:conversation_id>/delete/", views.conversation_delete, name="delete"),
    path("m/<uuid:message_id>/react/", views.reaction, name="react"),
    path("story/<uuid:story_id>/reply/", views.story_reply, name="story_reply"),
]
