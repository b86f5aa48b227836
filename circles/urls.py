from django.contrib import admin
from django.urls import include, path, re_path

from accounts.urls import circle_urls
from circles import health, metrics, views
from circles.api import api
from circles.errors import api_not_found
from messaging import shell
from posts import views as post_views
from posts.urls import profile_urls

urlpatterns = [
    path("", post_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # the shell's badges: they read every app's counts, so the view is on the top floor
    path("accounts/badges/", shell.nav_badges, name="nav_badges"),
    path("readyz", health.readyz, name="readyz"),
    # django-prometheus' exporter, behind the network/token check, plus circles.metrics
    path("metrics", metrics.metrics_view, name="prometheus-django-metrics"),
    path("admin/login/", views.admin_login, name="admin_login"),  # the site's, with 2FA
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("accounts/", include("accounts.urls")),
    path("direct/", include("messaging.urls")),
    path("notifications/", include("notifications.urls")),
    path("circles/", include(circle_urls)),
    path("albums/", include("albums.urls")),
    path("", include("media.urls")),
    path("", include("posts.urls")),
    path("", include("stories.urls")),
    path("", include(profile_urls)),  # /<username>/…: catches any first segment, keep last
]

handler404 = "circles.views.page_not_found"
handler500 = "circles.views.server_error"
