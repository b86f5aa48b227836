"""The one input guard for text (circles.textguard + TextGuardMiddleware): NUL, control
characters and unpaired surrogates are a 400 with a message on every way in — API bodies,
URL paths, query parameters, page forms — never a 500, and nothing is stored."""

import pytest

from accounts.models import Circle, Follow, User
from circles import textguard
from messaging.models import Conversation
from tests.accounts.conftest import Api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "\u0000", "\ud800"


@pytest.fixture
def api(user):
    return Api(user, "token")


@pytest.fixture
def circle(user, api):
    response = api.post("/circles", {"name": "Close friends"})
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def friend(user):
    friend = UserFactory(username="bob")
    Follow.objects.create(follower=user, following=friend)
    Follow.objects.create(follower=friend, following=user)
    return friend


def assert_invalid_text(response, field=None):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_text"
    assert error["message"] == textguard.MESSAGE
    if field is not None:
        assert error["fields"] == {field: [textguard.MESSAGE]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bio", NUL),
        ("bio", f"hello{NUL}world"),
        ("display_name", SURROGATE),
        ("display_name", "bell\u0007"),
        ("bio", "C1 control \u0085"),
    ],
)
def test_profile_fields(api, user, field, value):
    before = getattr(user, field)
    assert_invalid_text(api.patch("/auth/me", {field: value}), field)
    user.refresh_from_db()
    assert getattr(user, field) == before


def test_nothing_of_a_refused_profile_is_stored(api, user):
    before = (user.display_name, user.bio)
    assert_invalid_text(api.patch("/auth/me", {"display_name": "New", "bio": NUL}), "bio")
    user.refresh_from_db()
    assert (user.display_name, user.bio) == before


def test_newlines_and_tabs_are_text(api, user):
    response = api.patch("/auth/me", {"bio": "line one\r\nline two\tand a tab"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.bio == "line one\r\nline two\tand a tab"


@pytest.mark.parametrize(
    "payload", [{"name": f"a{NUL}b"}, {"name": "ok", "description": NUL}, {"name": SURROGATE}]
)
def test_circle_create(api, payload):
    assert_invalid_text(api.post("/circles", payload))
    assert not Circle.objects.exists()


@pytest.mark.parametrize("payload", [{"name": NUL}, {"description": f"x{SURROGATE}"}])
def test_circle_update(api, circle, payload):
    assert_invalid_text(api.patch(f"/circles/{circle}", payload), next(iter(payload)))
    assert Circle.objects.get(pk=circle).name == "Close friends"


def test_conversation_title(api, friend, user):
    carol = UserFactory(username="carol")
    Follow.objects.create(follower=user, following=carol)
    Follow.objects.create(follower=carol, following=user)
    response = api.post("/conversations", {"usernames": ["bob", "carol"], "title": f"t{NUL}"})
    assert_invalid_text(response, "title")
    assert not Conversation.objects.exists()


def test_nested_json_names_the_field(api):
    response = api.post("/conversations", {"usernames": ["bob", SURROGATE]})
    assert_invalid_text(response, "usernames.1")


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=%00",
        "/search?q=a%01",
        "/hashtags/%00/posts",
        "/users/%00",
        "/users/%00/followers",
        "/posts?cursor=%00",
    ],
)
def test_url_parameters_in_the_api(api, path):
    assert_invalid_text(api.get(path))


def test_the_guard_answers_before_authentication(client):
    response = client.get("/api/v1/users/%00")
    assert_invalid_text(response, "path")


@pytest.mark.parametrize("path", ["/search/?q=%00", "/explore/tags/%00/", "/%00/", "/a%1b/"])
def test_pages_answer_a_400_page(client_for, user, path):
    response = client_for(user).get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert textguard.MESSAGE.encode() in response.content


def test_page_forms(client_for, user):
    browser = client_for(user)
    response = browser.post(
        "/accounts/profile/", {"display_name": "Alice", "bio": f"bad{NUL}", "is_private": ""}
    )
    assert response.status_code == 400
    assert textguard.MESSAGE.encode() in response.content
    user.refresh_from_db()
    assert user.bio == ""


def test_registration_form(client):
    response = client.post(
        "/accounts/register/",
        {
            "username": f"eve{NUL}",
            "email": "eve@example.com",
            "password": "a good long passphrase",
            "password_again": "a good long passphrase",
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="eve@example.com").exists()


def test_a_body_that_is_not_json_is_left_to_the_view(api):
    response = api.client.patch(
        "/api/v1/auth/me", "{not json", content_type="application/json", **api.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] != "invalid_text"


@pytest.mark.parametrize(
    ("value", "multiline", "clean"),
    [
        ("plain text, émoji 🎉 and 中文", False, True),
        ("two\nlines", True, True),
        ("two\nlines", False, False),
        ("tab\there", True, True),
        (NUL, True, False),
        (SURROGATE, True, False),
        ("\udfff", True, False),
        ("\x7f", True, False),
        ("\x1b[31m", True, False),
        ("\u2028 line separator is text", True, True),
    ],
)
def test_is_clean(value, multiline, clean):
    assert textguard.is_clean(value, multiline=multiline) is clean


def test_first_fault_walks_json():
    assert textguard.first_fault({"a": ["ok", {"b": NUL}]}) == "a.1.b"
    assert textguard.first_fault({f"k{NUL}": 1}) == "__all__"
    assert textguard.first_fault({"a": 1, "b": [True, None, 2.5]}) is None
