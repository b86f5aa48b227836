"""Contract of "Auth and account": register, login, logout, me, avatar (API.md)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image as PILImage

from accounts.models import User
from circles import ratelimits
from tests.accounts.conftest import API, error_of
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

USER_FIELDS = {
    "id",
    "username",
    "display_name",
    "bio",
    "avatar",
    "is_private",
    "followers_count",
    "following_count",
    "posts_count",
}


def post_json(client, path, data, **extra):
    return client.post(f"{API}{path}", json.dumps(data), content_type="application/json", **extra)


def csrf_client():
    client = Client(enforce_csrf_checks=True)
    token = client.get(f"{API}/auth/csrf").json()["csrf_token"]
    return client, token


# --- register ---------------------------------------------------------------------------


def test_register_returns_201_and_your_user_object(client):
    response = post_json(
        client,
        "/auth/register",
        {
            "username": "Dana_99",
            "email": "Dana@Example.COM",
            "password": "a long enough password",
            "display_name": "Dana",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == USER_FIELDS  # no relationship with yourself
    assert body["username"] == "dana_99"
    assert body["display_name"] == "Dana"
    assert body["followers_count"] == body["following_count"] == body["posts_count"] == 0
    user = User.objects.get(username="dana_99")
    assert user.email == "dana@example.com"
    assert user.check_password("a long enough password")
    assert str(user.pk) == body["id"]


def test_register_display_name_is_optional(client):
    details = {"username": "erin", "email": "e@x.org", "password": "pw-erin-12345"}
    response = post_json(client, "/auth/register", details)
    assert response.status_code == 201
    assert response.json()["display_name"] == ""


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("admin", "That username is reserved."),
        ("Settings", "That username is reserved."),
        ("ab", "Use 3–30 characters: lowercase letters, digits and underscores."),
        ("x" * 31, "Use 3–30 characters: lowercase letters, digits and underscores."),
        ("dot.ted", "Use 3–30 characters: lowercase letters, digits and underscores."),
        ("héllo", "Use 3–30 characters: lowercase letters, digits and underscores."),
        ("", "This field cannot be blank."),
    ],
)
def test_register_refuses_bad_usernames(client, username, message):
    response = post_json(
        client,
        "/auth/register",
        {"username": username, "email": "new@example.com", "password": "pw-new-12345"},
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"]["username"] == [message]
    assert not User.objects.filter(email="new@example.com").exists()


def test_register_duplicate_username_and_email_are_field_errors(client, user):
    response = post_json(
        client,
        "/auth/register",
        {"username": "ALICE", "email": "ALICE@example.com", "password": "pw-alice-12345"},
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"] == {
        "username": ["That username is taken."],
        "email": ["That email is already registered."],
    }
    assert User.objects.count() == 1


def test_register_weak_password_and_bad_email(client):
    response = post_json(
        client, "/auth/register", {"username": "frank", "email": "not-an-email", "password": "123"}
    )
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert fields["email"] == ["Enter a valid email address."]
    too_short = "This password is too short. It must contain at least 8 characters."
    assert too_short in fields["password"]
    assert not User.objects.exists()


def test_register_missing_fields_and_malformed_json(client):
    response = post_json(client, "/auth/register", {"username": "frank"})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"email", "password"}
    broken = client.post(f"{API}/auth/register", "{nope", content_type="application/json")
    assert broken.status_code == 400
    assert error_of(broken)["code"] == "invalid"


# --- login and logout -------------------------------------------------------------------


def test_login_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, "/auth/login", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert "_auth_user_id" not in client.session


def test_login_starts_a_session(user):
    client, token = csrf_client()
    response = post_json(
        client,
        "/auth/login",
        {"username": "Alice", "password": DEFAULT_PASSWORD},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert set(response.json()) == USER_FIELDS
    assert client.get(f"{API}/auth/me").json()["username"] == "alice"
    # the CSRF token rotated with the login: the new cookie works for the next write
    new_token = client.cookies["csrftoken"].value
    assert client.post(f"{API}/realtime/ticket", HTTP_X_CSRFTOKEN=new_token).status_code == 201


def test_wrong_password_unknown_user_and_banned_user_look_the_same(user, other_user):
    other_user.is_active = False
    other_user.save()
    answers = []
    for username, password in [
        ("alice", "wrong-password"),
        ("nobody", DEFAULT_PASSWORD),
        ("bob", DEFAULT_PASSWORD),
    ]:
        client, token = csrf_client()
        response = post_json(
            client,
            "/auth/login",
            {"username": username, "password": password},
            HTTP_X_CSRFTOKEN=token,
        )
        answers.append((response.status_code, response.json()))
        assert "_auth_user_id" not in client.session
    assert answers[0] == answers[1] == answers[2]
    assert answers[0] == (
        400,
        {"error": {"code": "invalid_credentials", "message": "Wrong username or password."}},
    )


def test_logout_ends_the_session(session_api, user):
    api = session_api(user)
    response = api.post("/auth/logout")
    assert response.status_code == 204
    assert response.content == b""
    assert api.get("/auth/me").status_code == 401


def test_logout_with_a_session_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"{API}/auth/logout")
    assert response.status_code == 403
    assert client.get(f"{API}/auth/me").status_code == 200


def test_logout_everywhere_ends_other_sessions(session_api, user):
    laptop, phone = session_api(user), session_api(user)
    assert laptop.post("/auth/logout?everywhere=true").status_code == 204
    assert laptop.get("/auth/me").status_code == 401
    assert phone.get("/auth/me").status_code == 401


def test_plain_logout_leaves_other_sessions(session_api, user):
    laptop, phone = session_api(user), session_api(user)
    assert laptop.post("/auth/logout").status_code == 204
    assert phone.get("/auth/me").status_code == 200


def test_logout_needs_authentication(client):
    assert client.post(f"{API}/auth/logout").status_code == 401


# --- rate limit -------------------------------------------------------------------------


def attempt(username, *, ip="10.0.0.1", forwarded=None, password=None):
    """One login try from ip (with an optional X-Forwarded-For); wrong password by default."""
    password = password or "wrong-password"
    client, token = csrf_client()
    extra = {"REMOTE_ADDR": ip, "HTTP_X_CSRFTOKEN": token}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return post_json(client, "/auth/login", {"username": username, "password": password}, **extra)


def test_sixth_login_try_a_minute_is_429_with_retry_after(user):
    for _ in range(5):
        assert attempt("alice").status_code == 400
    response = attempt("alice", password=DEFAULT_PASSWORD)  # even the right password
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_strangers_cannot_lock_the_owner_out(user):
    """The issue's scenario: many wrong passwords for alice from many addresses; alice,
    from her own address, still signs in."""
    for n in range(30):
        assert attempt("alice", ip=f"10.0.1.{n}").status_code == 400
    assert attempt("alice", ip="10.0.1.250", password=DEFAULT_PASSWORD).status_code == 200


def test_past_the_username_cap_each_address_is_slowed_not_locked(user, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "login_username", "10/h")
    monkeypatch.setitem(ratelimits.RATES, "login_slowed", "1/h")
    for n in range(10):
        assert attempt("alice", ip=f"10.0.1.{n}").status_code == 400
    # over the cap: every (alice, address) pair now gets one try an hour, not five a minute
    assert attempt("alice", ip="10.0.1.0").status_code == 400
    assert attempt("alice", ip="10.0.1.0").status_code == 429
    # ...and the owner, elsewhere, is slowed too but never locked out
    assert attempt("alice", ip="10.0.9.9", password=DEFAULT_PASSWORD).status_code == 200
    assert attempt("alice", ip="10.0.9.9", password=DEFAULT_PASSWORD).status_code == 200


def test_successful_logins_do_not_use_up_the_limit(user):
    for _ in range(4):
        assert attempt("alice").status_code == 400
    for _ in range(5):
        assert attempt("alice", password=DEFAULT_PASSWORD).status_code == 200
    assert attempt("alice").status_code == 400  # the fifth failure
    assert attempt("alice").status_code == 429


def login_ip_limit() -> int:
    return ratelimits.parse_rate(ratelimits.RATES["login_ip"])[0]


def test_login_limit_is_per_ip_across_usernames(user):
    for n in range(login_ip_limit()):
        assert attempt(f"guess{n}", ip="10.0.2.1").status_code == 400
    assert attempt("alice", ip="10.0.2.1", password=DEFAULT_PASSWORD).status_code == 429
    assert attempt("alice", ip="10.0.2.2", password=DEFAULT_PASSWORD).status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_limit(user):
    for n in range(login_ip_limit()):
        assert attempt(f"guess{n}", forwarded=f"203.0.113.{n}").status_code == 400
    response = attempt("guess99", forwarded="198.51.100.7")
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def register(username, *, ip="10.0.3.1"):
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "password": "a good passphrase 1",
    }
    return post_json(Client(), "/auth/register", body, REMOTE_ADDR=ip)


def test_registrations_are_limited_per_address(db, monkeypatch):
    monkeypatch.setitem(ratelimits.RATES, "register", "3/h")
    assert register("newbie0").status_code == 201
    assert register("newbie0").status_code == 400  # taken: refused, and not counted
    for n in (1, 2):
        assert register(f"newbie{n}").status_code == 201
    refused = register("newbie9")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert error_of(refused)["code"] == "rate_limited"
    assert register("newbie9", ip="10.0.3.2").status_code == 201  # another address


def test_token_endpoint_shares_the_login_limit(client, user):
    for _ in range(5):
        attempt("alice")
    credentials = {"username": "alice", "password": DEFAULT_PASSWORD}
    response = post_json(client, "/auth/tokens", credentials, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429


# --- me ---------------------------------------------------------------------------------


def test_me_in_both_auth_modes(api_for, user):
    response = api_for(user).get("/auth/me")
    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["id"] == str(user.pk)


def test_me_needs_authentication(client):
    response = client.get(f"{API}/auth/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_patch_me_changes_only_what_is_sent(api_for, user):
    user.bio = "Photos of bread"
    user.save()
    response = api_for(user).patch("/auth/me", {"display_name": "  Alice M.  ", "is_private": True})
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Alice M."
    assert body["is_private"] is True
    assert body["bio"] == "Photos of bread"
    user.refresh_from_db()
    assert (user.display_name, user.is_private, user.bio) == ("Alice M.", True, "Photos of bread")


def test_patch_me_validates_lengths_and_types(api_for, user):
    api = api_for(user)
    too_long = api.patch("/auth/me", {"bio": "b" * 151, "display_name": "d" * 61})
    assert too_long.status_code == 400
    assert set(error_of(too_long)["fields"]) == {"bio", "display_name"}
    wrong_type = api.patch("/auth/me", {"is_private": "perhaps"})
    assert wrong_type.status_code == 400
    assert set(error_of(wrong_type)["fields"]) == {"is_private"}
    broken = api.client.patch(f"{API}/auth/me", "{", content_type="application/json", **api.headers)
    assert broken.status_code == 400
    user.refresh_from_db()
    assert user.bio == "" and user.is_private is False


def test_patch_me_with_a_session_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(f"{API}/auth/me", {"bio": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"


# --- avatar -----------------------------------------------------------------------------


def real_image(fmt: str, size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (30, 140, 200)).save(buffer, fmt)
    return buffer.getvalue()


def process_pending_avatars():
    """What the worker does: run the queued processing task bodies directly."""
    from media import services as media_services
    from media.models import Image, ImageState

    for image_id in Image.objects.filter(state=ImageState.PENDING).values_list("pk", flat=True):
        media_services.image_process(image_id=image_id)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_avatar_goes_through_the_pipeline_and_gets_a_checked_url(
    api_for, user, media_storage, fmt, client_for, other_user
):
    upload = SimpleUploadedFile("../../etc/passwd.gif", real_image(fmt), content_type="image/gif")
    response = api_for(user).upload("/auth/me/avatar", {"image": upload})
    assert response.status_code == 202, response.content
    assert set(response.json()) == USER_FIELDS
    assert response.json()["avatar"] is None  # shown once processed
    process_pending_avatars()
    me = api_for(user).get("/auth/me").json()
    assert me["avatar"].startswith("/media/") and me["avatar"].endswith("/small.jpeg")
    served = client_for(other_user).get(me["avatar"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"
    assert not any("passwd" in str(p) for p in media_storage.rglob("*"))


def test_replacing_the_avatar_removes_the_old_image(
    session_api, user, media_storage, django_capture_on_commit_callbacks
):
    from media.models import Image
    from media.tasks import files_delete_task

    api = session_api(user)
    api.upload("/auth/me/avatar", {"image": SimpleUploadedFile("a.png", real_image("PNG"))})
    process_pending_avatars()
    user.refresh_from_db()
    first = Image.objects.get(pk=user.avatar_id)
    first_keys = first.storage_keys()
    api.upload("/auth/me/avatar", {"image": SimpleUploadedFile("b.jpg", real_image("JPEG"))})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process_pending_avatars()
    user.refresh_from_db()
    assert user.avatar_id != first.pk
    assert not Image.objects.filter(pk=first.pk).exists()
    assert callbacks  # the old files' removal, queued on commit
    files_delete_task.run(first_keys)
    assert not any((media_storage / key).exists() for key in first_keys)


def test_a_blocked_person_cannot_fetch_the_avatar(
    api_for, user, other_user, client_for, media_storage
):
    from accounts.models import Block

    api_for(user).upload(
        "/auth/me/avatar", {"image": SimpleUploadedFile("a.png", real_image("PNG"))}
    )
    process_pending_avatars()
    url = api_for(user).get("/auth/me").json()["avatar"]
    Block.objects.create(blocker=user, blocked=other_user)
    assert client_for(other_user).get(url).status_code == 404


@pytest.mark.parametrize(
    "content",
    [b"II*\x00" + b"\x00" * 64, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.7 x"],
)
def test_avatar_must_really_be_an_image(api_for, user, media_storage, content):
    upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
    response = api_for(user).upload("/auth/me/avatar", {"image": upload})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    user.refresh_from_db()
    assert not user.avatar_id
    assert not any(media_storage.rglob("*"))


def test_empty_avatar_is_400(api_for, user, media_storage):
    upload = SimpleUploadedFile("photo.jpg", b"", content_type="image/jpeg")
    response = api_for(user).upload("/auth/me/avatar", {"image": upload})
    assert response.status_code == 400


def test_avatar_over_10_mb_is_413(session_api, user, media_storage):
    big = SimpleUploadedFile("big.jpg", real_image("JPEG") + b"\x00" * (10 * 1024 * 1024))
    response = session_api(user).upload("/auth/me/avatar", {"image": big})
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    assert not any(media_storage.rglob("*"))


def test_avatar_field_is_required(session_api, user):
    response = session_api(user).upload("/auth/me/avatar", {})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"image"}


def test_avatar_with_a_session_needs_csrf(user, media_storage):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    upload = SimpleUploadedFile("a.png", real_image("PNG"))
    response = client.post(f"{API}/auth/me/avatar", {"image": upload})
    assert response.status_code == 403


def test_other_users_are_unaffected_by_register(client):
    UserFactory(username="zed")
    details = {"username": "yan", "email": "y@x.org", "password": "pw-yan-12345"}
    post_json(client, "/auth/register", details)
    assert User.objects.count() == 2


def test_logout_with_a_token_is_204_and_the_token_is_revoked_separately(token_api, user):
    api = token_api(user)
    assert api.post("/auth/logout").status_code == 204
    assert api.get("/auth/me").status_code == 200  # tokens end with DELETE /auth/tokens/{id}
