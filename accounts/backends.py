"""The authentication backend: Django's ModelBackend, with the lookup of a session's user
compiled once per process (circles/compiled.py). Every signed-in page and WebSocket asks
it; Django's `get(pk=...)` built and compiled the same query each time (~1 of a home
page's ~12 ms on the bench VM)."""

import functools
import uuid

from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from circles.compiled import CompiledQuery


@functools.cache
def _user_by_pk() -> CompiledQuery:
    return CompiledQuery(lambda pk: User._default_manager.filter(pk=pk), pk="uuid")


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        """The active user with this id, or None (as ModelBackend.get_user)."""
        try:
            pk = uuid.UUID(str(user_id))
        except ValueError:
            return None
        found = _user_by_pk().run(pk=pk)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
