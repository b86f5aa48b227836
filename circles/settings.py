"""Circles settings: the one place that reads the environment.

With no environment at all the app runs on SQLite, an in-memory channel layer,
in-process tasks and local-disk media. DATABASE_URL, REDIS_URL and S3_* switch
each piece to its production counterpart; see .env.example.
"""

import ipaddress
import re
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where runtime files live (SQLite database, local media, collected static).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off Circles refuses to start without a secret: "
            "set SECRET_KEY in the environment or in .env (see .env.example)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS may not contain '*' in production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
# Addresses of reverse proxies whose X-Forwarded-For we believe. Empty: the socket peer
# is the client, and a forwarded header changes nothing.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:  # addresses or CIDR ranges; a typo must not start the app
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        message = f"TRUSTED_PROXIES: {_proxy!r} is not an address or a range."
        raise ImproperlyConfigured(message) from _exc

# Celery's processes (`celery worker`, `celery beat`; `python -m celery` too) answer no
# HTTP request, so they go without ninja, the API's framework: it is an app only for its
# docs page's templates and static files, and with it every pool process carried ~26 MB
# more (make bench, case worker).
RUNS_CELERY = "celery" in (Path(sys.argv[0]).name, Path(sys.argv[0]).parent.name)

INSTALLED_APPS = [
    # django.contrib.admin, served by staff's site (audited, with the stats page)
    "staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    *([] if RUNS_CELERY else ["ninja"]),
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "media",
    "notifications",
    "accounts",
    "posts",
    "stories",
    "albums",
    "messaging",
    "staff",
    "ops",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "circles.middleware.RequestIdMiddleware",
    # X-Robots-Tag: noindex on every response (robots.txt disallows everything too)
    "circles.middleware.NoIndexMiddleware",
    # outside everything that may answer early (the text guard, size limits, errors)
    "circles.middleware.ContentSecurityPolicyMiddleware",
    "circles.middleware.ClientIpMiddleware",
    "circles.middleware.RequestSizeLimitMiddleware",
    # NUL, control characters and lone surrogates in any text: 400 before any view
    "circles.middleware.TextGuardMiddleware",
    "circles.middleware.ApiMethodNotAllowedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # views marked @accepts_bearer_token (the media view) take the API's bearer token too
    "accounts.middleware.BearerTokenMiddleware",
    # INVITE_ONLY: anonymous requests reach only the sign-in, invitation and reset pages
    "accounts.middleware.AnonymousWallMiddleware",
    # TWO_FACTOR_REQUIRED_FOR_STAFF: staff without a second factor enrol before /admin/
    "accounts.middleware.StaffTwoFactorMiddleware",
    # a body of a content type or shape its API operation does not declare: 415 or 400
    # (after the wall: a stranger learns nothing but 401)
    "circles.middleware.ApiRequestBodyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # a Ratelimited raised by a page becomes RATELIMIT_VIEW's 429 with Retry-After
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "circles.urls"
WSGI_APPLICATION = "circles.wsgi.application"
ASGI_APPLICATION = "circles.asgi.application"
AUTH_USER_MODEL = "accounts.User"
# ModelBackend with the session's user lookup compiled (accounts/backends.py). Sessions
# name their backend: ones made under django.contrib.auth.backends.ModelBackend, before
# this setting, sign their person out once.
AUTHENTICATION_BACKENDS = ["accounts.backends.UserBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "circles.links.nav",
                "notifications.context_processors.unread",
                "circles.jinja.csrf_token",  # the token the Jinja2 templates show too
            ],
            "libraries": {
                "jinja": "circles.jinja",  # {% jinja %}: a Jinja2 template in place
                "icons": "circles.icons",  # {% icon "house" %}
            },
        },
    },
    {
        # The templates rendered many times a page (the feed's cards): circles/jinja.py
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "circles.jinja.environment",
            "context_processors": ["circles.jinja.csrf_input"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if POSTGRESQL:
    # Django's backend, reading timestamps with psycopg's C loader (circles/postgresql)
    DATABASES["default"]["ENGINE"] = "circles.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# PostgreSQL through psycopg's connection pool, per process. Under ASGI every request runs
# in a thread of its own, so persistent connections (CONN_MAX_AGE) would pile up instead of
# being reused; without either, each request paid for a new connection (bench/cases/feed.py
# measured that as most of a feed request's time). DATABASE_POOL_MAX_SIZE=0 turns it off.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=10)
if POSTGRESQL and DATABASE_POOL_MAX_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool requires it
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        # seconds a request waits for a connection before answering 503 (circles.views)
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5),
        "max_idle": 300,
    }
    # Django gives the pool psycopg's check: a connection PostgreSQL dropped (restart,
    # failover, pg_terminate_backend) is found dead when handed out, and replaced,
    # instead of failing a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if POSTGRESQL:
    # an unreachable server (a dropped packet, not a refusal) fails fast instead of at
    # the operating system's TCP timeout
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
# The planner's cost of a random page read, for this connection (PostgreSQL's default, 4,
# models spinning disks). The data of a server for friends lives in RAM or on an SSD, for
# which PostgreSQL's documentation suggests about 1.1; at 4 the stories tray hashed the
# whole user table to find its ~150 authors (README, "Performance"). Empty: the server's.
DATABASE_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
if POSTGRESQL and DATABASE_RANDOM_PAGE_COST:
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c random_page_cost={float(DATABASE_RANDOM_PAGE_COST)}"
    )
# Threads per process that run the sockets' writes (messaging/consumers.py), each keeping
# a pooled connection from its first write on: keep it below DATABASE_POOL_MAX_SIZE. One
# on SQLite, which takes one writer at a time anyway.
CHAT_WRITE_THREADS = env.int(
    "CHAT_WRITE_THREADS",
    default=4 if POSTGRESQL else 1,
)
# Server-side binding, so that PostgreSQL keeps the plans of statements run again and again:
# psycopg prepares a statement on its second run on a connection. The feed's page query
# took longer to plan than to run (1.3 and 1.5 ms on the bench VM). Plans live as long as
# the pooled connection. DATABASE_PREPARE=false turns it off (for a transaction-mode pooler).
if POSTGRESQL and env.bool("DATABASE_PREPARE", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a request writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions, channel layer, Celery broker -------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Each pytest-xdist worker gets its own Redis database so that flushing it between
    # tests never touches another worker's keys. Unset outside pytest-xdist.
    _xdist_worker = env.str("PYTEST_XDIST_WORKER", default="")
    if _xdist_worker:
        _base, _, _db = REDIS_URL.rpartition("/")
        REDIS_URL = f"{_base}/{int(_db or 0) + int(_xdist_worker.removeprefix('gw'))}"
    CACHES = {
        "default": {
            # Django's Redis backend, answering misses instead of errors when Redis is
            # down (circles/cache.py): sessions, cards and limits degrade, pages stay up.
            "BACKEND": "circles.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    # CHANNEL_LAYER: "pubsub" (channels_redis's RedisPubSubChannelLayer, publishing on a pool
    # of its own: circles/channel_layer.py) or "core" (its RedisChannelLayer). See README
    # "Performance", "Hot paths" for why pubsub is the default.
    CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
    if CHANNEL_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # A Redis that does not answer must not hang a send: connect within 1 s.
                    # Reads stay unbounded here; the layer's own 5 s blocking pop needs that.
                    "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1}],
                    "prefix": "circles:ws",
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "circles.channel_layer.PubSubChannelLayer",
                "CONFIG": {
                    "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1}],
                    # Pub/sub channels are server-wide, not per database: the database
                    # number in the prefix keeps two sites (or test runs) on one Redis apart.
                    "prefix": f"circles:ws:{REDIS_URL.rpartition('/')[2] or 0}",
                },
            }
        }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery (see circles/celery.py for the app and the periodic schedule) ---------------
# (memory://localhost//: with no host named, kombu warns about falling back to localhost.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost//"
# Without a broker, tasks run in-process at the moment they are queued.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_IGNORE_RESULT = True
# Every task goes to this one queue (circles.metrics reads its depth at scrape time).
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Redelivery of unacknowledged jobs happens after the visibility timeout, which must
# exceed the longest task (the time limit above).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
# Publishing must not hang a request when the broker is down: one quick try, then
# circles.queue falls back to running the task inline.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"

# --- Storage ----------------------------------------------------------------------------
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_BUCKET = env.str("S3_BUCKET", default="")
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media-files/"  # never routed: media is served through checked views only
# How long a per-viewer signed media URL (POST /api/v1/media/signed-urls) works.
MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=600)
STATIC_ROOT = VAR_DIR / "static"

# --- Invitations and two-factor sign-in ---------------------------------------------------
# Invite-only: registration needs an invitation link from a member or the operator, and
# anonymous visitors reach nothing but the sign-in, registration-by-invitation and
# password-reset pages (accounts.middleware.AnonymousWallMiddleware). Off in the embedded
# defaults (`make run`), on in docker-compose.yml.
INVITE_ONLY = env.bool("INVITE_ONLY", default=False)
# How long a new invitation link works.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Staff without a confirmed authenticator are sent to enrol before they can use /admin/.
TWO_FACTOR_REQUIRED_FOR_STAFF = env.bool("TWO_FACTOR_REQUIRED_FOR_STAFF", default=False)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Circles")
# One limit on codes, ours (circles.ratelimits.second_factor_attempt: counted in Redis
# across processes, held in the process while Redis is down); django-otp's own per-device
# back-off (1, 2, 4 … s after each failure) is off so the two never disagree.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# --- Notifications ----------------------------------------------------------------------
# The hourly prune (notifications.prune) removes read ones older than this, unread older
# than that.
NOTIFICATIONS_KEEP_READ_DAYS = env.int("NOTIFICATIONS_KEEP_READ_DAYS", default=90)
NOTIFICATIONS_KEEP_UNREAD_DAYS = env.int("NOTIFICATIONS_KEEP_UNREAD_DAYS", default=365)
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it; WhiteNoise warns when it is missing
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
if S3_BUCKET:
    from botocore.config import Config as BotoConfig  # botocore only when S3 is used

    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            # A hung store must not hang a request or a worker: short timeouts and one
            # retry, then StorageUnavailable (503; the pipeline retries later). With a
            # client_config of its own, django-storages takes signing and addressing
            # from it.
            "client_config": BotoConfig(
                connect_timeout=env.float("S3_CONNECT_TIMEOUT", default=2),
                read_timeout=env.float("S3_READ_TIMEOUT", default=5),
                retries={"max_attempts": env.int("S3_MAX_ATTEMPTS", default=2), "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
            ),
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "access_key": env.str("S3_ACCESS_KEY", default=""),
            "secret_key": env.str("S3_SECRET_KEY", default=""),
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,  # signed URLs expire within minutes
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": "path",
        },
    }
else:
    _media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "circles.staticfiles.StaticStorage"},  # URLs worked out once
}

# --- Security ---------------------------------------------------------------------------
# HTTPS defaults to on in production; set HTTPS=false to serve plain HTTP (tests, LAN).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy on every response (circles.middleware): scripts and style sheets
# from this site only, no inline scripts (pages pass data in json_script blocks, which
# are not scripts). Inline style *attributes* are allowed (a photo's aspect ratio is set
# per image); <style> elements are not. Images may come from the S3 endpoint (signed
# URLs) and from data:/blob: (blurred placeholders, upload previews).
_s3_origin = (S3_ENDPOINT_URL.rstrip("/") or "https://*.amazonaws.com") if S3_BUCKET else ""
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        f"img-src 'self' data: blob: {_s3_origin}".rstrip(),
        f"media-src 'self' blob: {_s3_origin}".rstrip(),
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # /healthz must answer over plain HTTP to a load balancer probe.
]
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
MAX_REQUEST_BYTES = 10 * 10 * 1024 * 1024 + 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A post takes 10 photos; a few more are let through so the API can say "at most 10"
# in its own words, beyond that Django refuses the request.
DATA_UPLOAD_MAX_NUMBER_FILES = 20

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Circles <noreply@localhost>")

# --- Metrics (/metrics, circles/metrics.py) ---------------------------------------------
# Who may read /metrics: a client address in these networks (addresses or CIDR ranges),
# or a request carrying "Authorization: Bearer <METRICS_TOKEN>". Nothing configured with
# DEBUG off: /metrics answers 404 to everyone. In development (DEBUG on, `make run`) the
# machine itself may read it.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"] if DEBUG else []
)
for _network in METRICS_ALLOWED_NETWORKS:  # a typo must not start the app
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        message = f"METRICS_ALLOWED_NETWORKS: {_network!r} is not an address or a range."
        raise ImproperlyConfigured(message) from _exc

# --- Backups (manage.py backup / restore, ops/) ------------------------------------------
# Where pg_dump and pg_restore are found; empty: the one for the server's major version
# under /usr/lib/postgresql/<major>/bin, else the PATH.
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

# --- Rate limits (django-ratelimit over the cache) --------------------------------------
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = "circles.middleware.client_ip_meta_key"
RATELIMIT_VIEW = "circles.ratelimits.ratelimited_view"
# A counter the cache could not read or write (Redis down) lets the request through —
# except the credential limits (sign-in, registration), which then count in the process
# (circles/ratelimits.py).
RATELIMIT_FAIL_OPEN = True
# Every limit's rate, "<count>/<period>" with period s, m, h or d, optionally multiplied
# ("20/10m"); each can be set as RATELIMIT_<NAME> (RATELIMIT_LOGIN_IP=30/m).
_RATE_DEFAULTS = {
    "login": "5/m",  # failed sign-ins per (username, address)
    "login_ip": "20/m",  # failed sign-ins per address, whatever the usernames
    "login_username": "50/h",  # failed sign-ins per username, from anywhere: past it,
    "login_slowed": "1/m",  # ...each (username, address) gets this rate instead of "login"
    "register": "5/h",  # registrations per address
    "password_reset": "5/h",  # reset emails per address and per email
    "post": "10/h",
    "story": "20/h",
    "like": "100/h",
    "comment": "50/h",
    "feed": "60/m",
    "message": "120/m",
    "album_photos": "60/h",  # batches of up to 20 photos into albums
    "export": "5/h",  # "Download your data" requests per person (refused ones too)
    "account_delete": "5/h",  # account deletion attempts per person (wrong passwords too)
    "invite": "10/h",  # failed invitation tokens (unknown, used, expired, revoked) per address
    "invite_create": "20/d",  # invitation links a person creates
    "otp": "5/m",  # failed second-factor codes per (person, address)
    "otp_user": "20/h",  # failed second-factor codes per person, from anywhere
}
RATELIMIT_RATES = {
    name: env.str(f"RATELIMIT_{name.upper()}", default=default)
    for name, default in _RATE_DEFAULTS.items()
}
for _name, _rate in RATELIMIT_RATES.items():  # a typo must not start the app
    if not re.fullmatch(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]", _rate):
        raise ImproperlyConfigured(f"RATELIMIT_{_name.upper()}: {_rate!r} is not a rate.")

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# English only: without the translation machinery every {{ value|timesince }}, date and
# plural in a template is a plain call (a feed page renders hundreds of them).
USE_I18N = False
USE_TZ = True

# --- Logging: JSON lines with the request id in production, readable text in DEBUG ------
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "circles.logs.RequestIdFilter"},
        "layer_outage": {"()": "circles.logs.LayerOutageFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "layer_outage"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # uvicorn installs its own text handlers before Django starts: take them over.
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
