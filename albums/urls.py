from django.urls import path

from albums import views

app_name = "albums"

A = "<uuid:album_id>/"
I = f"{A}items/<uuid:item_id>/"  # noqa: E741

urlpatterns = [
    path("", views.album_list, name="list"),
    path("new/", views.album_create, name="create"),
    path(A, views.album_detail, name="detail"),
    path(f"{A}upload/", views.album_upload, name="upload"),
    path(f"{A}pick/", views.album_pick, name="pick"),
    path(f"{A}cover/", views.album_cover, name="cover"),
    path(f"{A}edit/", views.album_update, name="update"),
    path(f"{A}delete/", views.album_delete, name="delete"),
    path(f"{A}like/", views.album_like, name="like"),
    path(f"{A}unlike/", views.album_unlike, name="unlike"),
    path(f"{I}move/", views.album_item_move, name="move"),
    path(f"{I}remove/", views.album_item_remove, name="remove"),
]
