"""The home page's story tray as HTML: one ring a person (~50 for someone following 150).

A ring shows what its entry holds and nothing else — the person (username, display name,
avatar), the story it opens (the first unseen, else the first) and seen or not — so each
process keeps the HTML of the rings it drew last, under a key made of exactly those
values: a new story, a story seen, a renamed person or a new avatar is a new key, and
nothing needs forgetting. Which rings a viewer gets is decided on every request by
story_rings_for_home (Story.objects.visible_to), so a kept ring is only ever shown to
someone the rule lets see it.
"""

import functools

from django.template import engines
from markupsafe import Markup

from stories.selectors import TrayAuthor, story_rings_for_home

RINGS_KEPT = 20_000  # ~0.5 KB of HTML each: ≤ ~10 MB a process


@functools.lru_cache(maxsize=RINGS_KEPT)
def _ring(person: TrayAuthor, story_id, unseen: bool) -> Markup:
    template = engines["jinja2"].get_template("stories/_ring.html")
    return Markup(template.render({"person": person, "story_id": story_id, "unseen": unseen}))  # noqa: S704 (Jinja2 escaped it)


def home_tray(*, viewer) -> dict:
    """The home page's part of the context (posts.hooks.home_sections): `story_own`, the
    viewer's own Ring or None, and `story_rings`, the others' rings in tray order."""
    entries = story_rings_for_home(viewer=viewer)
    own = entries[0] if entries and entries[0].user.pk == viewer.pk else None
    rings = [_ring(e.user, e.story_id, e.has_unseen) for e in entries if e is not own]
    return {"story_own": own, "story_rings": rings}
