"""Rate limits, counted in the cache (Redis in production) by django-ratelimit.

Limits are named here, in one table, and applied with `enforce()` from views and API
endpoints. Exceeding one raises Ratelimited carrying `retry_after` seconds; the API
answers 429 with the error format, pages answer 429 through `ratelimited_view`.

Redis down: the cache (circles/cache.py) answers a miss instead of an error, and with
RATELIMIT_FAIL_OPEN an unknown count lets the request through — a limit is a guard, and
must not take pages or the API down with Redis.
"""

from django.http import HttpResponse
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from circles.errors import refusal

# name -> rate, as django-ratelimit spells it
RATES = {
    "login": "5/m",
    "post": "10/h",
    "story": "20/h",
    "like": "100/h",
    "comment": "50/h",
    "feed": "60/m",
    "message": "120/m",
    "password_reset": "5/h",
    "album_photos": "60/h",  # batches of up to 20 photos into albums
}


def enforce(request, name: str, *, key: str, rate: str | None = None) -> None:
    """Count one hit for `key` against limit `name`; raise Ratelimited when over.

    `key` is anything django-ratelimit accepts: "ip", "user", or a callable, or a literal
    value such as "username:alice" (passed through a callable so it is not interpreted).
    """
    usage = get_usage(
        request,
        group=f"circles.{name}",
        key=key if key in ("ip", "user", "user_or_ip") else (lambda _g, _r: key),
        rate=rate or RATES[name],
        increment=True,
    )
    if usage and usage["should_limit"]:
        exc = Ratelimited(f"Rate limit '{name}' exceeded.")
        exc.retry_after = max(1, usage["time_left"])
        raise exc


def ratelimited_view(request, exception):
    """RATELIMIT_VIEW: what a page answers when a limit trips (as text: no page here)."""
    refused = refusal(exception, too_often="Too many requests. Try again in a minute.")
    return HttpResponse(refused.message, status=refused.status, headers=refused.headers)
