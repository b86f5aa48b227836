"""The static files' storage: Django's, with each file's URL worked out once per process.

Every page's shell asks ~15 of them ({% static %}: styles, scripts, icons), and each cost
~14 µs of quoting and joining; the answer for a name never changes while the process
runs (a new setting makes a new storage, with a cache of its own).
"""

import functools

from django.contrib.staticfiles.storage import StaticFilesStorage


class StaticStorage(StaticFilesStorage):
    @functools.lru_cache(maxsize=1024)  # noqa: B019 (one storage per process, kept for its life)
    def url(self, name):
        return super().url(name)
