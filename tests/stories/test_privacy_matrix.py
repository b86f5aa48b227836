"""The audience matrix: who learns anything of a story, on every path.

One rule (stories.models.StoryQuerySet.visible_to) decides the tray, the detail, recording
a view, the viewer list, the photo's bytes, replies and the viewer page; this file checks
it from the outside, through HTTP, for every kind of viewer and both audiences. Hidden
stories answer 404, never 403; the API answers 401 to anyone not signed in.
"""

import pytest

from accounts import services as accounts
from accounts.models import Follow
from media.links import media_url
from tests.factories import UserFactory
from tests.stories.conftest import Api, join, make_story

pytestmark = pytest.mark.django_db

VIEWERS = (
    "author",
    "follower",
    "non_follower",
    "circle_member",
    "ex_member",
    "unfollowed",
    "blocked_by_author",
    "blocking_author",
    "anonymous",
)
AUDIENCES = ("followers", "circle")
SEES = {
    "author": {"followers", "circle"},
    "follower": {"followers"},
    "circle_member": {"circle"},
}


def make_viewer(kind, *, author, circle):
    """A viewer of the given kind, built through the services (None: anonymous). The
    blocked kinds followed the author and were in the circle before the block, and keep a
    follow row besides: the block alone is what hides the story from them."""
    if kind == "anonymous":
        return None
    if kind == "author":
        return author
    user = UserFactory(username=kind)
    if kind in ("follower", "unfollowed"):
        accounts.follow_create(follower=user, target=author)
    if kind in ("circle_member", "ex_member"):
        join(circle, user)
    if kind in ("blocked_by_author", "blocking_author"):
        accounts.follow_create(follower=user, target=author)
        join(circle, user)
        blocker, target = (author, user) if kind == "blocked_by_author" else (user, author)
        accounts.block_create(blocker=blocker, target=target)
        Follow.objects.get_or_create(follower=user, following=author)
    return user


def lose_access(kind, *, user, author, circle):
    """What happens after the story is up: unfollowing, being removed from the circle."""
    if kind == "unfollowed":
        accounts.follow_delete(follower=user, target=author)
    elif kind == "ex_member":
        accounts.circle_member_remove(actor=author, circle=circle, user=user)


def expected(kind, audience) -> dict:
    sees = audience in SEES.get(kind, set())
    if kind == "anonymous":
        return {"tray": 401, "detail": 401, "view": 401, "viewers": 401, "reply": 401,
                "media": 404, "page": 302}  # fmt: skip
    if not sees:
        return dict.fromkeys(["tray", "detail", "view", "viewers", "reply", "media", "page"], 404)
    own = kind == "author"
    return {
        "tray": 200,
        "detail": 200,
        "view": 204,
        "viewers": 200 if own else 403,  # nobody but the author learns who viewed
        # your own story: no reply; a follower who is not followed back may not message
        # the author; a circle member may (they share a circle)
        "reply": 403 if own or kind == "follower" else 201,
        "media": 200,
        "page": 200,
    }


def check(user, story) -> dict:
    api = Api(user, "session")
    got = {}
    feed = api.get("/stories/feed")
    if feed.status_code == 200:
        ids = [s["id"] for entry in feed.json()["items"] for s in entry["stories"]]
        got["tray"] = 200 if str(story.pk) in ids else 404
    else:
        got["tray"] = feed.status_code
    got["detail"] = api.get(f"/stories/{story.pk}").status_code
    got["view"] = api.post(f"/stories/{story.pk}/view").status_code
    got["viewers"] = api.get(f"/stories/{story.pk}/viewers").status_code
    got["reply"] = api.post(f"/stories/{story.pk}/reply", {"content": "Nice!"}).status_code
    got["media"] = api.client.get(media_url(story.image, "large", "jpeg")).status_code
    got["page"] = api.client.get(f"/stories/{story.pk}/").status_code
    return got


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("kind", VIEWERS)
def test_audience_matrix(author, circle, media_storage, kind, audience):
    user = make_viewer(kind, author=author, circle=circle)
    story = make_story(author, audience=audience, circle=circle if audience == "circle" else None)
    lose_access(kind, user=user, author=author, circle=circle)
    assert check(user, story) == expected(kind, audience)


def test_matrix_covers_every_viewer_kind_and_both_outcomes():
    outcomes = {expected(kind, audience)["detail"] for kind in VIEWERS for audience in AUDIENCES}
    assert outcomes == {200, 404, 401}


@pytest.mark.parametrize("how", ["leaves", "is_removed"])
def test_a_circle_story_leaves_the_circle_with_its_author(author, circle, media_storage, how):
    """A member's circle story is gone for the circle, on every path, the moment its author
    leaves or is removed; the author still sees (and may delete) their own."""
    poster, other = UserFactory(username="poster"), UserFactory(username="other")
    join(circle, poster)
    join(circle, other)
    story = make_story(poster, audience="circle", circle=circle)
    assert check(other, story)["detail"] == 200
    if how == "leaves":
        accounts.circle_leave(user=poster, circle=circle)
    else:
        accounts.circle_member_remove(actor=author, circle=circle, user=poster)
    gone = dict.fromkeys(["tray", "detail", "view", "viewers", "reply", "media", "page"], 404)
    assert check(other, story) == gone
    assert check(author, story) == gone  # the circle's owner too
    assert Api(poster, "session").get(f"/stories/{story.pk}").status_code == 200
