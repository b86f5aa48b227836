"""The privacy matrix: who gets a post's page, its API answer and every byte of its photo.

One rule (posts.models.PostQuerySet.visible_to, used by posts.selectors for posts and
for media) decides all three; this file checks it from the outside, through HTTP, for
every kind of viewer and every visibility. Hidden things answer 404, never 403, so their
existence does not leak; the API answers 401 to anyone not signed in (API.md).
"""

import pytest

from accounts import services as accounts
from accounts.models import Follow, FollowRequest
from media.links import media_url
from media.schemas import RENDITION_NAMES
from posts.models import Post, PostStatus
from tests.factories import UserFactory
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db

VIEWERS = (
    "anonymous",
    "outsider",
    "follower",
    "circle_member",
    "blocked_by_author",
    "blocking_author",
)
VISIBILITIES = ("public", "followers", "circle")

# The rule, for a published post of a public account: the status of its page and of
# every one of its media URLs (and of the API for anyone signed in).
EXPECTED = {
    # viewer: {visibility: status of the post page, the API and all 8 media URLs}
    "anonymous": {"public": 200, "followers": 404, "circle": 404},
    "outsider": {"public": 200, "followers": 404, "circle": 404},
    "follower": {"public": 200, "followers": 200, "circle": 404},
    "circle_member": {"public": 200, "followers": 404, "circle": 200},
    "blocked_by_author": {"public": 404, "followers": 404, "circle": 404},
    "blocking_author": {"public": 404, "followers": 404, "circle": 404},
}
# The API does not serve anonymous callers at all, whatever the post.
API_ANONYMOUS = 401

FORMATS = ("webp", "jpeg")
CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg"}
MAGIC = {"webp": b"RIFF", "jpeg": b"\xff\xd8"}


def media_urls(post) -> dict[str, str]:
    """All 8 media URLs of the post's (only) image: {"large.jpeg": url, ...}."""
    image = post.images.get()
    return {
        f"{name}.{fmt}": media_url(image, name, fmt) for name in RENDITION_NAMES for fmt in FORMATS
    }


def check_access(client, post, *, page: int, api: int, media: int) -> None:
    """Assert the status of the post page, the API post and all 8 media URLs."""
    got = {
        "page": client.get(f"/p/{post.pk}/").status_code,
        "api": client.get(f"/api/v1/posts/{post.pk}").status_code,
    }
    for label, url in media_urls(post).items():
        response = client.get(url)
        got[label] = response.status_code
        if response.status_code == 200:
            fmt = label.split(".")[1]
            assert response["Content-Type"] == CONTENT_TYPES[fmt], label
            assert response["Cache-Control"].startswith("private"), label
            assert b"".join(response.streaming_content).startswith(MAGIC[fmt]), label
    wanted = {"page": page, "api": api, **dict.fromkeys(media_urls(post), media)}
    assert got == wanted


# --- the world: a public author, their circle, and one viewer of each kind --------------


@pytest.fixture
def author(db):
    return UserFactory(username="author", is_private=False)


@pytest.fixture
def circle(author):
    return accounts.circle_create(owner=author, name="Close friends")


def join(circle, user):
    invite = accounts.circle_invite(actor=circle.owner, circle=circle, invitee=user)
    accounts.circle_invite_accept(user=user, invite_id=invite.pk)


def make_viewer(kind: str, *, author, circle):
    """A viewer of the given kind, built through the services (None: anonymous).

    The two blocked kinds were a follower and a circle member before the block, and keep a
    follow row besides (block_create removes follows; one left over must not matter): the
    block alone is what hides the post from them."""
    if kind == "anonymous":
        return None
    user = UserFactory(username=kind)
    if kind == "follower":
        accounts.follow_create(follower=user, target=author)
    elif kind == "circle_member":
        join(circle, user)
    elif kind in ("blocked_by_author", "blocking_author"):
        accounts.follow_create(follower=user, target=author)
        join(circle, user)
        if kind == "blocked_by_author":
            accounts.block_create(blocker=author, target=user)
        else:
            accounts.block_create(blocker=user, target=author)
        Follow.objects.get_or_create(follower=user, following=author)
    return user


def make_published(author, visibility: str, circle) -> Post:
    fields = {"visibility": visibility}
    if visibility == "circle":
        fields["circle_id"] = str(circle.pk)
    post = make_post(author, **fields)
    assert post.status == PostStatus.PUBLISHED
    return post


# --- the matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("viewer_kind", VIEWERS)
def test_privacy_matrix(client_for, author, circle, viewer_kind, visibility):
    viewer = make_viewer(viewer_kind, author=author, circle=circle)
    post = make_published(author, visibility, circle)
    expected = EXPECTED[viewer_kind][visibility]
    check_access(
        client_for(viewer),
        post,
        page=expected,
        api=API_ANONYMOUS if viewer is None else expected,
        media=expected,
    )


def test_expected_table_covers_every_case():
    assert set(EXPECTED) == set(VIEWERS)
    assert all(set(row) == set(VISIBILITIES) for row in EXPECTED.values())


# --- changes take effect at once ---------------------------------------------------------


LOSSES = {
    # what the viewer was, what they could see, and what takes it away
    "removed from the circle": (
        "circle_member", "circle",
        lambda author, viewer, circle: accounts.circle_member_remove(
            actor=author, circle=circle, user=viewer
        ),
    ),
    "left the circle": (
        "circle_member", "circle",
        lambda author, viewer, circle: accounts.circle_leave(user=viewer, circle=circle),
    ),
    "blocked later": (
        "follower", "followers",
        lambda author, viewer, circle: accounts.block_create(blocker=author, target=viewer),
    ),
}  # fmt: skip


@pytest.mark.parametrize("loss", LOSSES)
def test_access_ends_at_once_when_its_reason_does(client_for, author, circle, loss):
    kind, visibility, take_away = LOSSES[loss]
    viewer = make_viewer(kind, author=author, circle=circle)
    post = make_published(author, visibility, circle)
    client = client_for(viewer)  # the same session before and after: no cached answer
    check_access(client, post, page=200, api=200, media=200)
    take_away(author, viewer, circle)
    check_access(client, post, page=404, api=404, media=404)


# --- a private account's public post -------------------------------------------------------


def test_private_authors_public_post_is_for_approved_followers_only(client_for, author, circle):
    accounts.user_update(user=author, is_private=True)
    follower, requester, outsider = (UserFactory(username=n) for n in ("fan", "asker", "stranger"))
    accounts.follow_create(follower=follower, target=author)
    accounts.follow_create(follower=requester, target=author)  # stays a pending request
    request = FollowRequest.objects.get(requester=follower, target=author)
    accounts.follow_request_approve(user=author, request_id=request.pk)
    post = make_published(author, "public", circle)

    check_access(client_for(follower), post, page=200, api=200, media=200)
    check_access(client_for(requester), post, page=404, api=404, media=404)
    check_access(client_for(outsider), post, page=404, api=404, media=404)
    check_access(client_for(None), post, page=404, api=API_ANONYMOUS, media=404)


# --- the author ----------------------------------------------------------------------------


@pytest.mark.parametrize("private_account", [False, True], ids=["public_acct", "private_acct"])
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_author_sees_own_post_in_every_case(
    client_for, author, circle, visibility, private_account
):
    if private_account:
        accounts.user_update(user=author, is_private=True)
    post = make_published(author, visibility, circle)
    client = client_for(author)
    check_access(client, post, page=200, api=200, media=200)
    # the media URLs checked above are exactly those the API hands out
    renditions = client.get(f"/api/v1/posts/{post.pk}").json()["images"][0]["renditions"]
    served = {f"{name}.{fmt}": renditions[name][fmt] for name in RENDITION_NAMES for fmt in FORMATS}
    assert served == media_urls(post)
