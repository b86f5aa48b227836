"""The invite-only instance: an anonymous visitor reaches nothing but sign-in,
registration by invitation and password reset (every URL pattern crawled), robots are
kept out, and invitations are single use, expiring, revocable and limited."""

import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from accounts import services
from accounts.middleware import OPEN_API_ROUTES, OPEN_PAGES
from accounts.models import Invitation, User
from circles import ratelimits
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.platform.test_websocket_auth import finish, socket
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db

# What the issue allows an anonymous visitor on an invite-only instance, written out here
# again so that widening the middleware's list fails this test.
ALLOWED_PAGES = {
    "prometheus-django-metrics",  # its own guard: configured networks or a bearer token
    "accounts:login",
    "accounts:login_code",
    "accounts:register",
    "accounts:register_invited",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "healthz",
    "readyz",
    "robots_txt",
    "favicon",
    "service_worker",
}
ALLOWED_API = {
    "api/v1/auth/csrf",
    "api/v1/auth/login",
    "api/v1/auth/register",
    "api/v1/auth/tokens",
}


@pytest.fixture
def invite_only(settings):
    settings.INVITE_ONLY = True


# --- the crawl --------------------------------------------------------------------------


def _patterns(resolvers, prefix=""):
    """(the full pattern text, the URLPattern) for every pattern, recursively."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _regex_groups_filled(text: str, value_for) -> str:
    """A regex pattern's named groups replaced by values, other groups and anchors
    dropped: "^media/(?P<image_id>[0-9a-f-]{36})/…\\.(?P<fmt>webp|jpeg)$" -> a path."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):
            name = text[i + 4 : text.index(">", i)]
            depth, j = 0, i
            while True:  # the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(text[j], 0) if text[j - 1] != "\\" else 0
                if depth == 0:
                    break
                j += 1
            out.append(value_for(name, "str"))
            i = j + 1
        elif text.startswith("(?:", i):  # an optional unnamed group: left out
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            i = j + 2 if text[j + 1 : j + 2] in ("?", "*") else j + 1
        elif text[i] in "^$":
            i += 1
        elif text[i] == "\\":
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _fill(pattern_text: str, value_for) -> str:
    text = _regex_groups_filled(pattern_text, value_for)
    return "/" + re.sub(
        r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>",
        lambda m: value_for(m["name"], m["conv"] or "str"),
        text,
    )


@pytest.fixture
def world(db):
    """A member with a public post and its photo: real values to put in the URLs."""
    alice = UserFactory(username="alice")
    post = make_post(alice, caption="Secret sunset at the lake")
    return {"user": alice, "post": post, "image": post.images.first()}


def _value_for(world):
    post, image, user = world["post"], world["image"], world["user"]
    named = {
        "username": user.username,
        "post_id": str(post.pk),
        "image_id": str(image.pk),
        "rendition": "small",
        "fmt": "jpeg",
        "app_label": "accounts",
        "model_name": "user",
        "object_id": str(user.pk),
        "content_type_id": "1",
        "name": "sunset",
        "tag": "sunset",
        "emoji": "x",
        "uidb64": "MQ",
        "token": "abc-def",
        "url": "x",
    }

    def value_for(name, converter):
        if name in named:
            return named[name]
        if converter == "uuid" or name.endswith("_id"):
            return str(uuid.uuid4())
        return "1" if converter == "int" else "x"

    return value_for


def _crawl(world):
    """Every URL pattern, filled with plausible values (a real username, post and photo)."""
    value_for = _value_for(world)
    urls = []
    for text, _pattern in _patterns(get_resolver().url_patterns):
        path = _fill(text, value_for)
        try:
            match = resolve(path)
        except Resolver404:
            pytest.fail(f"{text!r} filled as {path!r} does not resolve")
        reached = match.route.replace("^", "")
        assert reached == text.replace("^", ""), f"{path!r} reached {reached!r}, not {text!r}"
        urls.append((path, match))
    return urls


def test_anonymous_crawl_of_every_url_pattern_finds_only_the_open_pages(client, world, invite_only):
    urls = _crawl(world)
    assert len(urls) > 150  # every app's pages, the API, the admin, media
    reached_open = set()
    for path, match in urls:
        if match.view_name in ALLOWED_PAGES or match.route in ALLOWED_API:
            reached_open.add(match.view_name if match.view_name in ALLOWED_PAGES else match.route)
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            where = f"{method.upper()} {path} ({match.view_name})"
            body = response.content.decode(errors="replace")
            assert "Secret sunset" not in body and "alice" not in body, where
            if path.startswith("/api/"):
                assert response.status_code == 401, where
                assert response.json()["error"]["code"] == "not_authenticated", where
            elif match.view_name == "media:image":
                assert response.status_code == 404, where
            else:
                assert response.status_code == 302, where
                assert response["Location"].startswith("/accounts/login/?next="), where
    assert reached_open == ALLOWED_PAGES | ALLOWED_API  # the crawl saw every open one
    assert OPEN_PAGES == ALLOWED_PAGES and OPEN_API_ROUTES == ALLOWED_API


def test_open_pages_show_nothing_of_the_members(client, world, invite_only):
    for path in ("/accounts/login/", "/accounts/register/", "/accounts/password/reset/"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"alice" not in response.content and b"Secret sunset" not in response.content
    assert client.get("/healthz").status_code == 200


def test_a_members_credentials_pass_the_wall(client, world, invite_only):
    alice, image = world["user"], world["image"]
    _, raw = services.api_token_create(user=alice, name="script")
    assert client.get("/api/v1/feed", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert client.get("/api/v1/feed", HTTP_AUTHORIZATION="Bearer forged").status_code == 401
    media = f"/media/{image.pk}/small.jpeg"
    assert client.get(media, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    signed = client.post(
        "/api/v1/media/signed-urls",
        data={"image_ids": [str(image.pk)]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    ).json()["images"][0]["renditions"]["small"]["jpeg"]
    assert client.get(signed).status_code == 200  # a URL signed for a member
    assert client.get(media + "?sig=forged").status_code == 404
    client.force_login(alice)
    assert client.get("/").status_code == 200
    assert client.get("/alice/").status_code == 200


def test_without_invite_only_public_pages_stay_open(client, world, settings):
    settings.INVITE_ONLY = False
    assert client.get("/alice/").status_code == 200
    assert client.get(f"/media/{world['image'].pk}/small.jpeg").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_socket_refused_to_anonymous_visitors(invite_only):
    communicator = socket(host="localhost", origin="http://localhost")
    connected, code = await communicator.connect()
    if connected:
        frame = await communicator.receive_output(timeout=3)
        assert frame == {"type": "websocket.close", "code": 4401}
    else:
        assert code == 4401
    await finish(communicator)


def test_robots_txt_disallows_everything_and_pages_say_noindex(client, world):
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert robots.content.decode().split() == ["User-agent:", "*", "Disallow:", "/"]
    login = client.get("/accounts/login/")
    assert login["X-Robots-Tag"] == "noindex, nofollow"
    assert b'<meta name="robots" content="noindex, nofollow">' in login.content
    assert client.get("/api/v1/auth/csrf")["X-Robots-Tag"] == "noindex, nofollow"


# --- invitations ------------------------------------------------------------------------


def _register(client, token="", username="newbie", **extra):
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "password": DEFAULT_PASSWORD,
        **({"invite_token": token} if token is not None else {}),
        **extra,
    }
    return client.post("/api/v1/auth/register", data=body, content_type="application/json")


def test_invitation_lifecycle_create_use_once_listed_with_who_used_it(
    client, client_for, user, invite_only
):
    member = client_for(user)
    answer = member.post("/accounts/settings/invitations/", {"note": "For Sam"})
    assert answer.status_code == 201
    link = re.search(
        r'value="(http://testserver/accounts/register/[^"]+/)"', answer.content.decode()
    )
    token = link[1].rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get(created_by=user)
    assert invitation.note == "For Sam" and token not in invitation.token_hash  # hashed

    # the link opens the registration form with the token in it
    page = client.get(f"/accounts/register/{token}/")
    assert page.status_code == 200 and f'value="{token}"'.encode() in page.content

    created = _register(client, token)
    assert created.status_code == 201
    sam = User.objects.get(username="newbie")
    invitation.refresh_from_db()
    assert invitation.used_by == sam and invitation.used_at is not None

    again = _register(client, token, username="second")
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["invite_token"] == [
        "That invitation has already been used. Ask for a new one."
    ]
    assert not User.objects.filter(username="second").exists()

    listed = member.get("/accounts/settings/").content.decode()
    assert "For Sam" in listed and "@newbie" in listed and "used by" in listed


def test_registration_needs_an_invitation_when_invite_only(client, invite_only):
    refused = _register(client, token="")
    assert refused.status_code == 400
    assert "invite-only" in refused.json()["error"]["fields"]["invite_token"][0]
    page = client.post(
        "/accounts/register/",
        {
            "username": "newbie",
            "email": "n@example.com",
            "password": DEFAULT_PASSWORD,
            "password_again": DEFAULT_PASSWORD,
        },
    )
    assert page.status_code == 400 and b"invite-only" in page.content
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "That invitation has expired."),
        ({"revoked_at": timezone.now()}, "That invitation was withdrawn."),
    ],
)
def test_expired_and_revoked_invitations_create_nothing(client, user, invite_only, spoil, message):
    invitation, token = services.invitation_create(created_by=user)
    Invitation.objects.filter(pk=invitation.pk).update(**spoil)
    refused = _register(client, token)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["invite_token"][0].startswith(message)
    assert not User.objects.filter(username="newbie").exists()
    page = client.get(f"/accounts/register/{token}/")
    assert page.status_code == 400 and message.encode() in page.content
    assert b'name="password"' not in page.content  # no form for a dead link


def test_revoke_only_your_own_pending_invitation(client_for, user, other_user):
    invitation, _ = services.invitation_create(created_by=user)
    url = f"/accounts/settings/invitations/{invitation.pk}/revoke/"
    assert client_for(other_user).post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert client_for(user).post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    listed = client_for(user).get("/accounts/settings/").content.decode()
    assert "withdrawn" in listed


def test_wrong_invitation_tokens_are_rate_limited(client, user, invite_only, settings):
    settings.RATELIMIT_ENABLE = True
    _, good = services.invitation_create(created_by=user)
    for attempt in range(10):
        assert _register(client, f"guess-{attempt}").status_code == 400
    limited = _register(client, good)  # even a good one, from this address, for now
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert not User.objects.filter(username="newbie").exists()


def test_open_instance_still_checks_a_given_invitation(client, user, settings):
    settings.INVITE_ONLY = False
    assert _register(client, token=None).status_code == 201  # no invitation needed
    invitation, token = services.invitation_create(created_by=user)
    assert _register(client, token, username="invited").status_code == 201
    invitation.refresh_from_db()
    assert invitation.used_by.username == "invited"
    assert _register(client, "nonsense", username="third").status_code == 400


def test_invitation_creation_is_limited(client_for, user, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "invite_create", "2/d")
    member = client_for(user)
    assert member.post("/accounts/settings/invitations/", {"note": "a"}).status_code == 201
    assert member.post("/accounts/settings/invitations/", {"note": "b"}).status_code == 201
    assert member.post("/accounts/settings/invitations/", {"note": "c"}).status_code == 429
    assert Invitation.objects.filter(created_by=user).count() == 2


def test_settings_page_lists_invitations_in_constant_queries(
    client_for, user, django_assert_max_num_queries
):
    member = client_for(user)
    member.get("/accounts/settings/")  # warm the session
    for n in range(6):
        invitation, token = services.invitation_create(created_by=user, note=f"n{n}")
        if n % 2:
            services.user_register(
                request=_request(),
                invite_token=token,
                username=f"person{n}",
                email=f"person{n}@example.com",
                password=DEFAULT_PASSWORD,
            )
    with django_assert_max_num_queries(8):
        page = member.get("/accounts/settings/")
    assert page.content.decode().count("used by") == 3


def _request():
    return RequestFactory().post("/", REMOTE_ADDR="10.1.2.3")


def test_two_registrations_with_one_link_make_one_account(user, invite_only):
    _, token = services.invitation_create(created_by=user)
    services.user_register(
        request=_request(),
        invite_token=token,
        username="first",
        email="first@example.com",
        password=DEFAULT_PASSWORD,
    )
    with pytest.raises(ValidationError) as refused:
        services.user_register(
            request=_request(),
            invite_token=token,
            username="second",
            email="second@example.com",
            password=DEFAULT_PASSWORD,
        )
    assert "already been used" in str(refused.value)
    assert sorted(User.objects.values_list("username", flat=True)) == ["alice", "first"]


def test_the_operators_command_prints_a_working_link(client, user, invite_only):
    out, err = StringIO(), StringIO()
    call_command(
        "invite_create", url="https://circles.example/", note="Sam", stdout=out, stderr=err
    )
    link = out.getvalue().strip()
    assert link.startswith("https://circles.example/accounts/register/")
    assert "Works once" in err.getvalue()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert _register(client, token).status_code == 201
    assert Invitation.objects.get(note="Sam").created_by is None
    with pytest.raises(CommandError):
        call_command("invite_create", by="nobody", stdout=out, stderr=err)


def test_invitations_api_create_list_revoke(client_for, user, other_user, invite_only):
    member, anonymous = client_for(user), client_for()
    member.get("/api/v1/auth/csrf")
    csrf = {"HTTP_X_CSRFTOKEN": member.cookies["csrftoken"].value}
    made = member.post(
        "/api/v1/invitations", {"note": "For Ola"}, content_type="application/json", **csrf
    )
    assert made.status_code == 201
    body = made.json()
    assert body["state"] == "pending" and body["used_by"] is None
    assert body["link"] == f"http://testserver/accounts/register/{body['token']}/"
    assert _register(anonymous, body["token"], username="ola").status_code == 201

    listed = member.get("/api/v1/invitations").json()
    assert [(i["note"], i["state"], i["used_by"]["username"]) for i in listed["items"]] == [
        ("For Ola", "used", "ola")
    ]
    assert "token" not in listed["items"][0]
    used = f"/api/v1/invitations/{body['id']}"
    assert member.delete(used, **csrf).status_code == 404  # used: cannot be taken back
    assert client_for(other_user).get("/api/v1/invitations").json()["items"] == []
    assert anonymous.get("/api/v1/invitations").status_code == 401
