"""Request ids for log lines: a context variable set per request (or task) and a logging
filter that stamps it on every record."""

import contextvars
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a request's 4xx/5xx (django.request) after the middleware has
        # returned and reset the context; such records carry the request itself.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


class LayerOutageFilter(logging.Filter):
    """channels_redis's pub/sub layer logs a traceback every second its connection is
    down ("Unexpected exception in receive task") and one for every socket that closes
    meanwhile. Redis being unreachable is an outage the sockets already report in one
    line each (messaging.consumers): these become one line without the traceback. Any
    other exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("channels_redis") and record.exc_info:
            exc = record.exc_info[1]
            if isinstance(exc, (RedisConnectionError, RedisTimeoutError, OSError)):
                record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
                record.args = ()
                record.exc_info = None
                record.exc_text = None
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True
