"""What the apps above stories add to it, as named registrations.

A reply to a story is a direct message, and messaging sits above stories (it needs the
story's rule; stories must never import it). So messaging registers here, from its
AppConfig.ready(), the two things the viewer needs to offer a reply box: whom viewer may
message among the tray's authors, and the page URL a reply form posts to. With nothing
registered, no reply box is offered.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Replies:
    # messageable(viewer=, author_ids=) -> the set of those ids viewer may message
    messageable: Callable
    # url(story_id) -> the page action a reply form posts to
    url: Callable


_replies: list[Replies] = []


def replies_register(*, messageable: Callable, url: Callable) -> None:
    _replies[:] = [Replies(messageable=messageable, url=url)]


def replies_registered() -> Replies | None:
    return _replies[0] if _replies else None
