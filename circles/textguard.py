"""The one guard for text from outside: no NUL, no other control characters (newline,
carriage return and tab aside, in request bodies and frames), no unpaired surrogates.

PostgreSQL cannot store NUL in text and UTF-8 cannot encode a lone surrogate, so either
would fail deep inside a write or a query (a 500, or a half-done write); the other
control characters are never meant in a name, a caption or a message. Rather than a rule
per field, every piece of text is checked once at the edge, before any view or service
runs: TextGuardMiddleware (circles/middleware.py) checks a request's path, query
parameters, form fields and JSON body, and the socket consumer checks each frame with
`first_fault`. Both refuse with 400 (`invalid_text`) and MESSAGE.
"""

import json
import re

MESSAGE = "Text may not contain NUL, other control characters or unpaired surrogates."

# Control characters (Unicode category Cc: C0, DEL, C1) and surrogates (which a decoded
# str only holds unpaired). Multi-line text may hold tab, newline and carriage return.
_FORBIDDEN_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_MAX_DEPTH = 64  # deeper JSON is not walked further (the parser's own limits apply first)


def is_clean(value: str, *, multiline: bool = True) -> bool:
    """Whether value holds none of the forbidden characters (multiline: tab, newline and
    carriage return allowed)."""
    pattern = _FORBIDDEN_IN_TEXT if multiline else _FORBIDDEN_IN_LINE
    return pattern.search(value) is None


def first_fault(data, *, where: str = "", depth: int = 0) -> str | None:
    """The name of the first string in data (a str, or JSON-like dicts and lists, keys
    included) that is not clean, or None. The name is the dotted path to it ("bio",
    "items.0.title"); `where` names data that is itself a string."""
    if isinstance(data, str):
        return None if is_clean(data) else (where or "__all__")
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(data, dict):
        items = data.items()
        for key in data:
            if isinstance(key, str) and not is_clean(key, multiline=False):
                return where or "__all__"
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        name = f"{where}.{key}" if where else str(key)
        if (fault := first_fault(value, where=name, depth=depth + 1)) is not None:
            return fault
    return None


def request_fault(request) -> str | None:
    """The first part of a Django request holding forbidden text: "path", a query
    parameter's or form field's name, or a JSON body's field path; None if all is clean.
    Files are not text and are not looked at; a body that is not valid JSON is left for
    the view to refuse."""
    if not is_clean(request.path, multiline=False):
        return "path"
    for name, values in request.GET.lists():
        if not is_clean(name, multiline=False):
            return "query"
        if first_fault(values) is not None:
            return name
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.POST.lists():
            if not is_clean(name, multiline=False):
                return "form"
            if first_fault(values) is not None:
                return name
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, RecursionError):
            return None
        return first_fault(body)
    return None
