"""Rate limits, counted in the cache (Redis in production).

Limits are named in one table, RATES (settings.RATELIMIT_RATES, each rate settable from
the environment). Exceeding one raises Ratelimited carrying `retry_after` seconds; the
API answers 429 with the error format, pages answer 429 through `ratelimited_view`.

Two kinds:
- `enforce()` (django-ratelimit) for what people do once signed in — posts, likes,
  comments, feeds, messages — and reset emails. Redis down: the cache (circles/cache.py)
  answers a miss, and with RATELIMIT_FAIL_OPEN an unknown count lets the request through:
  a limit is a guard, and must not take pages or the API down with Redis.
- `login_attempt()`, `registration_attempt()`, `invitation_attempt()` and
  `second_factor_attempt()` for credentials, which must hold while
  Redis is down: their counters fall back to this process's memory (per process, so a
  few processes allow a few times the rate — still a limit). An attempt is counted
  before the password is checked, so concurrent guesses cannot slip past the count, and
  given back when it succeeds: only failures (and real registrations) use the limit.

Sign-in is built so that a stranger cannot lock the owner out: failures count per
(username, address) and per address, so guesses from elsewhere never use up the owner's
tries. Past a longer cap of failures for the username from anywhere ("login_username"),
each (username, address) pair is slowed to "login_slowed" instead of locked: the owner
still gets that many tries, and the right password still signs in.
"""

import contextlib
import re
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from circles import metrics
from circles.errors import refusal

RATES = settings.RATELIMIT_RATES  # name -> rate, as django-ratelimit spells it
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
        metrics.RATELIMIT_REJECTIONS.inc(limit=name)
        exc = Ratelimited(f"Rate limit '{name}' exceeded.")
        exc.retry_after = max(1, usage["time_left"])
        raise exc


def parse_rate(rate: str) -> tuple[int, int]:
    """ "5/m" -> (5, 60), "20/10m" -> (20, 600)."""
    count, period = rate.split("/")
    multiple, unit = re.fullmatch(r"(\d*)([smhd])", period).groups()
    return int(count), int(multiple or 1) * _PERIODS[unit]


# --- credential limits: counted in the cache, or in the process while it is down ---------

_local: dict[str, tuple[int, float]] = {}  # cache key -> (count, expires at)
_local_lock = threading.Lock()
_LOCAL_MAX_KEYS = 10_000


def _local_add(key: str, amount: int, period: int) -> int:
    now = time.monotonic()
    with _local_lock:
        if len(_local) > _LOCAL_MAX_KEYS:  # drop the expired ones; at worst, all of them
            for stale in [k for k, (_, ends) in _local.items() if ends <= now]:
                del _local[stale]
            if len(_local) > _LOCAL_MAX_KEYS:
                _local.clear()
        count, ends = _local.get(key, (0, now + period))
        if ends <= now:
            count, ends = 0, now + period
        count = max(0, count + amount)
        _local[key] = (count, ends)
        return count


def _local_get(key: str) -> int:
    count, ends = _local.get(key, (0, 0.0))
    return count if ends > time.monotonic() else 0


def local_reset() -> None:
    """Forget the in-process counters (tests)."""
    with _local_lock:
        _local.clear()


def _now() -> float:
    """The clock the windows are cut from (tests hold it)."""
    return time.time()


def _window(name: str, key: str) -> tuple[str, int, int, int]:
    """(cache key, limit, period, seconds left) of key's current fixed window for name."""
    limit, period = parse_rate(RATES[name])
    now = _now()
    window = int(now // period)
    left = max(1, int(period - now % period))
    return f"circles:rl:{name}:{period}:{key}:{window}", limit, period, left


def _add(cache_key: str, amount: int, period: int) -> tuple[int, bool]:
    """Count amount (±) on cache_key; (the count, whether it was kept in the cache)."""
    if amount > 0:
        cache.add(cache_key, 0, period + 1)
    try:
        count = cache.incr(cache_key, amount)
    except ValueError:  # gone between add and incr (expired, evicted), or never there
        count = None
    if count is None:  # the cache is down (circles.cache answers None): count here
        return _local_add(cache_key, amount, period), False
    return count, True


def _current(name: str, key: str) -> int:
    cache_key, *_ = _window(name, key)
    found = cache.get(cache_key)
    return found if isinstance(found, int) else _local_get(cache_key)


class Attempt:
    """Hits counted for one attempt; give_back() uncounts them (the attempt succeeded)."""

    def __init__(self):
        self.counted: list[tuple[str, bool]] = []  # (cache key, kept in the cache)

    def give_back(self) -> None:
        for cache_key, in_cache in self.counted:
            if in_cache:
                with contextlib.suppress(ValueError):  # the window ended: nothing to give back
                    cache.decr(cache_key)
            else:
                _local_add(cache_key, -1, 1)
        self.counted = []


def count_attempt(limits: list[tuple[str, str]]) -> Attempt:
    """Count one attempt against each (limit name, key); if any is over its limit,
    nothing stays counted and Ratelimited is raised (retry_after: the longest wait)."""
    attempt, waits = Attempt(), []
    for name, key in limits:
        cache_key, limit, period, left = _window(name, key)
        count, in_cache = _add(cache_key, 1, period)
        attempt.counted.append((cache_key, in_cache))
        if count > limit:
            waits.append(left)
            metrics.RATELIMIT_REJECTIONS.inc(limit=name)
    if waits:
        attempt.give_back()
        exc = Ratelimited("Too many attempts.")
        exc.retry_after = max(waits)
        raise exc
    return attempt


def _client_ip(request) -> str:
    return getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")


def login_attempt(request, username: str) -> Attempt:
    """Count a sign-in attempt for username from the request's address (see the module's
    docstring); give it back once the password proved right."""
    if not settings.RATELIMIT_ENABLE:
        return Attempt()
    ip = _client_ip(request)
    limit, _ = parse_rate(RATES["login_username"])
    slowed = _current("login_username", username) >= limit
    pair = "login_slowed" if slowed else "login"
    attempt = count_attempt([(pair, f"{username}|{ip}"), ("login_ip", ip)])
    # the username's own count only slows its pairs down (above); it never refuses
    cache_key, _, period, _ = _window("login_username", username)
    attempt.counted.append((cache_key, _add(cache_key, 1, period)[1]))
    return attempt


def registration_attempt(request) -> Attempt:
    """Count a registration from the request's address; give it back if it was refused
    (a taken username is not an account made)."""
    if not settings.RATELIMIT_ENABLE:
        return Attempt()
    return count_attempt([("register", _client_ip(request))])


def invitation_attempt(request) -> Attempt:
    """Count a registration's invitation token from the request's address; give it back
    when the token was a usable invitation. Unknown, used, expired and revoked tokens use
    the limit ("invite"), so links cannot be tried in bulk."""
    if not settings.RATELIMIT_ENABLE:
        return Attempt()
    return count_attempt([("invite", _client_ip(request))])


def second_factor_attempt(request, user_id) -> Attempt:
    """Count a second-factor code (authenticator or recovery code) for a person, per
    (person, address) and per person from anywhere; give it back when the code was right.
    Held in the process while Redis is down, like sign-in. Someone must know the password
    to get here, so the per-person cap ("otp_user") is a lock on guessing the code, not
    a way for strangers to lock the owner out."""
    if not settings.RATELIMIT_ENABLE:
        return Attempt()
    ip = _client_ip(request)
    return count_attempt([("otp", f"{user_id}|{ip}"), ("otp_user", str(user_id))])


def ratelimited_view(request, exception):
    """RATELIMIT_VIEW: what a page answers when a limit trips (as text: no page here)."""
    refused = refusal(exception, too_often="Too many requests. Try again in a minute.")
    return HttpResponse(refused.message, status=refused.status, headers=refused.headers)
