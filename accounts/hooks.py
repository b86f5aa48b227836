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
# (blocker=, target=): a block was made (posts removes target's likes and comments on
# blocker's posts; messaging stops their direct conversation's live events)
block_created = Hook("block_created")
# (blocker=, target=): no block is left either way any more (messaging resumes events)
block_lifted = Hook("block_lifted")

# Counts a user object shows that other apps own: name -> f(viewer) returning an
# annotation expression (posts registers posts_count: the posts viewer may see).
profile_counts: dict[str, Callable] = {}
