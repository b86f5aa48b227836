"""The static files' storage (circles/staticfiles.py): Django's URLs, each worked out once."""

from django.contrib.staticfiles.storage import StaticFilesStorage, staticfiles_storage
from django.templatetags.static import static

from circles.staticfiles import StaticStorage


def test_static_urls_are_djangos_and_worked_out_once_per_storage():
    storage = StaticStorage()
    expected = StaticFilesStorage().url("css/app.css")
    assert storage.url("css/app.css") == expected == "/static/css/app.css"
    assert storage.url("css/app.css") is storage.url("css/app.css")  # the kept answer
    assert storage.url("a b.css") == "/static/a%20b.css"  # quoted as Django does


def test_the_site_uses_it(settings):
    static("css/app.css")
    assert isinstance(staticfiles_storage._wrapped, StaticStorage)
    settings.STATIC_URL = "/assets/"  # a new setting, a new storage: not the old answers
    assert static("css/app.css") == "/assets/css/app.css"
