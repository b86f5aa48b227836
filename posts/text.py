"""Captions: find #hashtags and @mentions, and render them as escaped HTML with links."""

import re

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

HASHTAG_RE = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([a-z0-9_]{3,30})\b", re.IGNORECASE)
TOKEN_RE = re.compile(f"{HASHTAG_RE.pattern}|{MENTION_RE.pattern}", re.UNICODE | re.IGNORECASE)


def hashtags_in(text: str) -> list[str]:
    """Distinct hashtag names, lowercased, in order of appearance."""
    return list(dict.fromkeys(name.lower() for name in HASHTAG_RE.findall(text or "")))


def mentions_in(text: str) -> list[str]:
    return list(dict.fromkeys(name.lower() for name in MENTION_RE.findall(text or "")))


def caption_html(text: str, *, known_usernames: set[str] | None = None) -> SafeString:
    """Escape everything; link hashtags, and mentions of usernames that exist."""
    parts, last = [], 0
    for match in TOKEN_RE.finditer(text or ""):
        parts.append(escape(text[last : match.start()]))
        tag, username = match.group(1), match.group(2)
        if tag:
            url = reverse("posts:hashtag", args=[tag.lower()])
            parts.append(format_html('<a href="{}">#{}</a>', url, tag))
        elif known_usernames is None or username.lower() in known_usernames:
            # profiles live at /<username>/ (usernames are [a-z0-9_], safe in a path)
            parts.append(format_html('<a href="/{}/">@{}</a>', username.lower(), username))
        else:
            parts.append(escape(match.group(0)))
        last = match.end()
    parts.append(escape((text or "")[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part escaped
