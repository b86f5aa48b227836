from django.urls import path

from accounts.urls import people_urls
from posts import views

app_name = "posts"

P = "p/<uuid:post_id>/"
C = f"{P}comments/<uuid:comment_id>/"

urlpatterns = [
    path("explore/tags/<str:name>/", views.hashtag, name="hashtag"),
    path("explore/", views.explore, name="explore"),
    path("search/", views.search, name="search"),
    path("saved/", views.saved, name="saved"),
    path("circles/<uuid:circle_id>/posts/", views.circle_posts, name="circle_posts"),
    path("p/new/", views.post_create, name="create"),
    path(P, views.post_detail, name="detail"),
    path(f"{P}status/", views.post_status, name="status"),
    path(f"{P}delete/", views.post_delete, name="delete"),
    path(f"{P}like/", views.post_like, name="like"),
    path(f"{P}unlike/", views.post_unlike, name="unlike"),
    path(f"{P}save/", views.bookmark_create, name="bookmark"),
    path(f"{P}unsave/", views.bookmark_delete, name="unbookmark"),
    path(f"{P}comments/", views.comment_list, name="comments"),
    path(f"{P}comments/new/", views.comment_create, name="comment_create"),
    path(f"{C}delete/", views.comment_delete, name="comment_delete"),
    path(f"{C}like/", views.comment_like, name="comment_like"),
    path(f"{C}unlike/", views.comment_unlike, name="comment_unlike"),
]

# /<username>/ and its lists: they catch any first path segment, so they are mounted last.
profile_urls = (
    [path("<str:username>/", views.profile, name="detail"), *people_urls],
    "profiles",
)
