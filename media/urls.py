from django.urls import re_path

from media import views

app_name = "media"

urlpatterns = [
    re_path(
        r"^media/(?P<image_id>[0-9a-f-]{36})/(?P<rendition>thumbnail|small|medium|large)\.(?P<fmt>webp|jpeg)$",
        views.media_serve,
        name="image",
    ),
]
