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


class Named:
    """Named functions that apps above accounts register, run in `order` (then name).
    Names are recorded as work is done (account deletion resumes after the last one
    done), so a name must not change once released."""

    def __init__(self, name: str):
        self.name = name
        self._entries: dict[str, tuple[int, Callable]] = {}

    def register(self, entry: str, function: Callable, *, order: int) -> Callable:
        self._entries[entry] = (order, function)
        return function

    def unregister(self, entry: str) -> None:
        self._entries.pop(entry, None)

    def items(self) -> list[tuple[str, Callable]]:
        ranked = sorted(self._entries.items(), key=lambda e: (e[1][0], e[0]))
        return [(entry, function) for entry, (_, function) in ranked]

    def __repr__(self) -> str:
        return f"<Named {self.name}: {len(self._entries)} registered>"


# (user=): an account is being deleted. Each step removes what its app holds of the
# person — their content, their marks on others' content (counts kept right) — and must
# be idempotent: an interrupted deletion runs a step again until it is recorded done.
# Files need not be removed here: accounts removes every image the person owns (files,
# then rows) after these steps, and the user row with whatever cascades last.
account_deleting = Named("account_deleting")

# (user=, archive=) -> {"title", "items": [dict]} | None: an app's part of "Download your
# data" (accounts.exports.ExportArchive): what the person made or received, read with the
# app's own visibility rules; photos through archive.photo(image) (a rendition, never the
# original), which returns the path inside the ZIP to put in the item.
export_sections = Named("export_sections")
