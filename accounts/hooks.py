"""What a change in accounts causes in the apps above it, as named registrations.

accounts sits below posts and messaging, so it cannot call them; each of those apps
registers here, from its AppConfig.ready(), the work it does when people or circles
change. Hooks run synchronously inside the accounts service's transaction, in the order
registered, so a block or a membership change and its consequences commit together.
"""

from collections.abc import Callable


class Hook:
    """One named moment with the functions registered for it."""

    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable] = []

    def register(self, receiver: Callable) -> Callable:
        self._receivers.append(receiver)
        return receiver

    def __call__(self, **kwargs) -> None:
        for receiver in self._receivers:
            receiver(**kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} registered>"


# (circle=): its members changed, or it was just created (messaging syncs its group chat)
circle_members_changed = Hook("circle_members_changed")
# (circle=): about to be deleted (messaging closes its group chat first)
circle_deleting = Hook("circle_deleting")
# (blocker=, target=): a block was made (posts removes each one's likes and comments on
# the other's posts; messaging stops their direct conversation's live events and tells
# their sockets to leave out each other's frames in shared groups)
block_created = Hook("block_created")
# (blocker=, target=): no block is left either way any more (messaging resumes events)
block_lifted = Hook("block_lifted")

# Counts a user object shows that other apps own: name -> f(viewer) returning an
# annotation expression (posts registers posts_count: the posts viewer may see).
profile_counts: dict[str, Callable] = {}


class Sections:
    """The parts of a page that apps above accounts fill (the circle page's posts, albums
    and chat): name -> f(*, circle, viewer) returning the section's context (with its
    "template") or None, shown in `order`. Each section loads its own data with its own
    selectors, so accounts renders them without knowing them."""

    def __init__(self, name: str):
        self.name = name
        self._sections: dict[str, tuple[int, Callable]] = {}

    def register(self, section: str, render: Callable, *, order: int) -> Callable:
        self._sections[section] = (order, render)
        return render

    def __call__(self, **kwargs) -> list[dict]:
        shown = []
        for section, (_, render) in sorted(self._sections.items(), key=lambda s: s[1][0]):
            context = render(**kwargs)
            if context is not None:
                shown.append({"name": section, **context})
        return shown


# (circle=, viewer=): the circle page's sections below its header (posts registers its
# posts, albums its albums, messaging the group chat with its unread count)
circle_sections = Sections("circle_sections")
