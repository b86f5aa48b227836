"""The accounts pages (issue 3) through the Django test client: who may open each page,
forms and their errors, the login limit, `next`, POST-only changes, the profile's states,
list pages in a constant number of queries, and the htmx follow button."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import (
    ApiToken,
    Block,
    Circle,
    CircleInvite,
    CircleMembership,
    Follow,
    FollowRequest,
    User,
    hash_token,
)
from circles import ratelimits
from tests.factories import (
    DEFAULT_PASSWORD,
    BlockFactory,
    CircleFactory,
    CircleInviteFactory,
    CircleMembershipFactory,
    FollowFactory,
    FollowRequestFactory,
    UserFactory,
)
from tests.posts.conftest import jpeg_bytes, make_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LOGIN = "/accounts/login/"
REGISTER = "/accounts/register/"
NEW_PASSWORD = "a-fresh-long-passphrase-42"


def profile_url(user) -> str:
    return f"/{user.username}/"


def text(response) -> str:
    return response.content.decode()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def own_queries(captured) -> int:
    """Queries of the page itself (a session-cache miss reading django_session is not)."""
    return len([q for q in captured.captured_queries if "django_session" not in q["sql"]])


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


# --- who may open which page ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/settings/",
        "/accounts/profile/",
        "/accounts/password/",
        "/accounts/requests/",
        "/accounts/blocked/",
        "/circles/",
        "/circles/invites/",
    ],
)
def test_own_pages_render_for_their_person_and_send_others_to_log_in(client_for, user, path):
    assert client_for(user).get(path).status_code == 200
    response = client_for(None).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={path}"


@pytest.mark.parametrize(
    "path", [REGISTER, LOGIN, "/accounts/password/reset/", "/accounts/password/reset/sent/"]
)
def test_sign_in_pages_render_for_anyone(client_for, path):
    response = client_for(None).get(path)
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in text(response) or "sent" in path


def test_signed_in_people_skip_the_login_and_register_pages(client_for, user):
    client = client_for(user)
    assert client.get(LOGIN)["Location"] == "/"
    assert client.get(REGISTER)["Location"] == "/"


def test_unknown_profile_is_404(client_for, user):
    assert client_for(user).get("/nobody_here/").status_code == 404
    assert client_for(None).get("/nobody_here/followers/").status_code == 404


# --- register -----------------------------------------------------------------------------


def register_form(**fields):
    data = {
        "username": "newbie",
        "email": "newbie@example.com",
        "display_name": "New Bie",
        "password": DEFAULT_PASSWORD,
        "password_again": DEFAULT_PASSWORD,
    }
    return {**data, **fields}


def test_register_creates_the_person_and_signs_them_in(client_for):
    client = client_for(None)
    response = client.post(REGISTER, register_form(username="NewBie"))
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="newbie")  # stored lowercase
    assert user.check_password(DEFAULT_PASSWORD) and user.display_name == "New Bie"
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "Bad Name!"}, "username", "lowercase letters, digits and underscores"),
        ({"username": "ab"}, "username", "3–30 characters"),
        ({"username": "admin"}, "username", "That username is reserved."),
        ({"username": "circles"}, "username", "That username is reserved."),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"password": "short", "password_again": "short"}, "password", "too short"),
        ({"password_again": "something-else-entirely"}, "password_again", "differ"),
    ],
)
def test_register_refuses_bad_input_with_the_error_on_its_field(client_for, fields, field, message):
    response = client_for(None).post(REGISTER, register_form(**fields))
    assert response.status_code == 400
    body = text(response)
    assert message in body
    # the message is tied to its input for assistive technology
    assert f'id="id_{field}_error"' in body
    assert re.search(rf'<input[^>]*aria-describedby="[^"]*id_{field}_error[^"]*"[^>]*>', body) or (
        re.search(rf'<input[^>]*aria-invalid="true"[^>]*id="id_{field}"', body)
    )
    assert not User.objects.exists()
    assert not signed_in(response.client)


def test_register_refuses_a_taken_username_or_email(client_for, user):
    client = client_for(None)
    response = client.post(REGISTER, register_form(username="ALICE"))
    assert response.status_code == 400 and "That username is taken." in text(response)
    response = client.post(REGISTER, register_form(email="ALICE@example.com"))
    assert response.status_code == 400 and "That email is already registered." in text(response)
    assert User.objects.count() == 1


# --- log in, log out ----------------------------------------------------------------------


def login(client, username="alice", password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_login_signs_in_and_goes_home(client_for, user):
    client = client_for(None)
    response = login(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_wrong_password_and_unknown_user_get_the_same_answer(client_for, user):
    wrong = login(client_for(None), password="not-the-password")
    unknown = login(client_for(None), username="nobody_at_all")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong username or password." in text(wrong)
    assert "Wrong username or password." in text(unknown)
    message = re.compile(r'<div class="form-errors" role="alert">(.*?)</div>', re.S)
    assert message.search(text(wrong)).group(1) == message.search(text(unknown)).group(1)


@pytest.mark.parametrize(
    "target", ["https://evil.example/steal", "//evil.example/", "http:/\\evil.example"]
)
def test_next_to_another_site_is_ignored(client_for, user, target):
    response = login(client_for(None), next=target)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client_for(None).get(LOGIN, {"next": target})
    assert "evil.example" not in text(page)


def test_next_inside_the_site_is_honoured(client_for, user):
    page = client_for(None).get(LOGIN, {"next": "/circles/"})
    assert 'name="next" value="/circles/"' in text(page)
    response = login(client_for(None), next="/circles/")
    assert response["Location"] == "/circles/"


def test_login_is_limited_to_five_tries_a_minute_per_username(client_for, user):
    for _ in range(5):
        assert login(Client(), password="wrong-password").status_code == 400
    response = login(Client())  # even the right password now waits
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in text(response)
    assert not signed_in(response.client)


def test_login_limit_per_address_is_not_reset_by_a_forged_forwarded_for(client_for, user):
    for n in range(ratelimits.parse_rate(ratelimits.RATES["login_ip"])[0]):
        forged = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}"}
        assert login(Client(), username=f"someone{n}", **forged).status_code == 400
    response = login(Client(), HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429 and "Retry-After" in response


def test_logout_is_post_only(client_for, user):
    client = client_for(user)
    response = client.get("/accounts/logout/")
    assert response.status_code == 200 and signed_in(client)  # only asks
    assert client.post("/accounts/logout/")["Location"] == "/"
    assert not signed_in(client)


def test_logout_everywhere_ends_the_other_sessions(client_for, user):
    laptop, phone = client_for(user), client_for(user)
    laptop.post("/accounts/logout/", {"everywhere": "1"})
    assert phone.get("/accounts/settings/").status_code == 302  # sent to log in


def test_every_change_refuses_get(client_for, user, other_user):
    client = client_for(user)
    for path in [
        f"/accounts/users/{other_user.username}/follow/",
        f"/accounts/users/{other_user.username}/block/",
        "/accounts/settings/tokens/",
    ]:
        assert client.get(path).status_code == 405
    assert not Follow.objects.exists() and not Block.objects.exists()


def test_forms_carry_a_csrf_token_and_changes_need_it(user, other_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert 'name="csrfmiddlewaretoken"' in text(client.get(profile_url(other_user)))
    response = client.post(f"/accounts/users/{other_user.username}/follow/")
    assert response.status_code == 403 and not Follow.objects.exists()


# --- passwords ----------------------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(client_for, user):
    here, elsewhere = client_for(user), client_for(user)
    response = here.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response["Location"] == "/accounts/settings/"
    assert here.get("/accounts/settings/").status_code == 200
    assert elsewhere.get("/accounts/settings/").status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_changes_nothing(client_for, user):
    response = client_for(user).post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 400 and 'id="id_old_password_error"' in text(response)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_by_email(client_for, user):
    client = client_for(None)
    response = client.post("/accounts/password/reset/", {"email": "ALICE@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in text(form_page)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert login(client_for(None), password=NEW_PASSWORD).status_code == 302


def test_password_reset_says_the_same_for_unknown_addresses(client_for, user):
    response = client_for(None).post("/accounts/password/reset/", {"email": "who@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


# --- the profile and its states ---------------------------------------------------------


def follow_controls(response) -> str:
    body = text(response)
    start = body.index('class="follow-button"')
    return body[start : body.index("</div>", start)]


def test_own_profile_offers_edit_profile(client_for, user):
    controls = follow_controls(client_for(user).get(profile_url(user)))
    assert "Edit profile" in controls and "Follow" not in controls


def test_stranger_sees_follow_and_the_posts_of_a_public_account(client_for, user, other_user):
    post = make_post(other_user)
    response = client_for(user).get(profile_url(other_user))
    assert response.status_code == 200
    assert ">Follow</button>" in follow_controls(response)
    assert reverse("posts:detail", args=[post.pk]) in text(response)


def test_follower_sees_following_with_unfollow(client_for, user, other_user):
    FollowFactory(follower=user, following=other_user)
    controls = follow_controls(client_for(user).get(profile_url(other_user)))
    assert "Following" in controls and ">Unfollow</button>" in controls


def test_followed_by_them_offers_follow_back(client_for, user, other_user):
    FollowFactory(follower=other_user, following=user)
    response = client_for(user).get(profile_url(other_user))
    assert ">Follow back</button>" in follow_controls(response)
    assert "Follows you" in text(response)


def test_private_account_shows_only_its_header_to_strangers(client_for, user, other_user):
    other_user.is_private = True
    other_user.save()
    post = make_post(other_user)
    response = client_for(user).get(profile_url(other_user))
    assert response.status_code == 200
    assert "This account is private" in text(response)
    assert ">Follow</button>" in follow_controls(response)
    assert reverse("posts:detail", args=[post.pk]) not in text(response)
    assert f"/{other_user.username}/followers/" not in text(response)
    assert "This account is private" in text(client_for(None).get(profile_url(other_user)))


def test_private_account_shows_its_posts_to_approved_followers(client_for, user, other_user):
    other_user.is_private = True
    other_user.save()
    post = make_post(other_user)
    FollowFactory(follower=user, following=other_user)
    response = client_for(user).get(profile_url(other_user))
    assert "This account is private" not in text(response)
    assert reverse("posts:detail", args=[post.pk]) in text(response)


def test_pending_request_shows_requested_with_cancel(client_for, user, other_user):
    FollowRequestFactory(requester=user, target=other_user)
    controls = follow_controls(client_for(user).get(profile_url(other_user)))
    assert "Requested" in controls and ">Cancel request</button>" in controls


def test_blocked_person_gets_404_on_the_blockers_profile_and_lists(client_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)
    client = client_for(user)
    for path in ("", "followers/", "following/"):
        assert client.get(f"{profile_url(other_user)}{path}").status_code == 404


def test_blocker_sees_unblock_and_no_posts(client_for, user, other_user):
    post = make_post(other_user)
    BlockFactory(blocker=user, blocked=other_user)
    response = client_for(user).get(profile_url(other_user))
    assert response.status_code == 200
    assert ">Unblock</button>" in follow_controls(response)
    assert "You blocked @bob" in text(response)
    assert reverse("posts:detail", args=[post.pk]) not in text(response)


def test_anonymous_visitor_gets_a_follow_link_to_log_in(client_for, other_user):
    controls = follow_controls(client_for(None).get(profile_url(other_user)))
    assert f'href="{LOGIN}?next=/bob/"' in controls


def test_profile_counts(client_for, user, other_user, outsider):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=outsider, following=other_user)
    FollowFactory(follower=other_user, following=outsider)
    make_post(other_user)
    body = text(client_for(user).get(profile_url(other_user)))
    assert "<strong>1</strong> post<" in body
    assert "<strong>2</strong> followers" in body
    assert "<strong>1</strong> following" in body


def test_a_script_in_a_bio_or_name_is_escaped(client_for, user, other_user):
    other_user.bio = "<script>alert('x')</script>"
    other_user.display_name = "<b>Bob</b>"
    other_user.save()
    body = text(client_for(user).get(profile_url(other_user)))
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert "<b>Bob</b>" not in body and "&lt;b&gt;Bob&lt;/b&gt;" in body


def test_profile_grid_pages_with_more_and_htmx(client_for, user, other_user, monkeypatch):
    from posts import views as post_views

    monkeypatch.setattr(post_views, "GRID_PAGE", 1)
    older, newer = make_post(other_user), make_post(other_user)
    client = client_for(user)
    first = text(client.get(profile_url(other_user)))
    assert reverse("posts:detail", args=[newer.pk]) in first  # newest first
    assert reverse("posts:detail", args=[older.pk]) not in first
    more = re.search(r'href="(/bob/\?cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    fragment = client.get(more, **HTMX)
    assert "<html" not in text(fragment)
    assert reverse("posts:detail", args=[older.pk]) in text(fragment)
    assert "More" not in text(fragment)
    assert client.get(more).status_code == 200  # without JS: a page of its own


def test_profile_with_a_forged_cursor_is_400(client_for, user, other_user):
    assert client_for(user).get(profile_url(other_user), {"cursor": "forged"}).status_code == 400


# --- follow, unfollow, requests, block ------------------------------------------------


def act(client, name, person, **extra):
    return client.post(f"/accounts/users/{person.username}/{name}/", **extra)


def test_follow_a_public_account_then_unfollow(client_for, user, other_user):
    client = client_for(user)
    response = act(client, "follow", other_user)
    assert response["Location"] == profile_url(other_user)
    assert Follow.objects.filter(follower=user, following=other_user).exists()
    act(client, "unfollow", other_user)
    assert not Follow.objects.exists()


def test_follow_goes_back_to_a_local_next_only(client_for, user, other_user):
    client = client_for(user)
    response = client.post(
        f"/accounts/users/{other_user.username}/follow/", {"next": "/alice/following/"}
    )
    assert response["Location"] == "/alice/following/"
    response = client.post(
        f"/accounts/users/{other_user.username}/unfollow/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == profile_url(other_user)


def test_follow_button_swaps_in_place_with_htmx(client_for, user, other_user):
    other_user.is_private = True
    other_user.save()
    client = client_for(user)
    response = act(client, "follow", other_user, **HTMX)
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<div class="follow-button"')
    assert "Requested" in body and ">Cancel request</button>" in body
    assert FollowRequest.objects.filter(requester=user, target=other_user).exists()
    response = act(client, "cancel-request", other_user, **HTMX)
    assert ">Follow</button>" in text(response)
    assert not FollowRequest.objects.exists()


def test_anonymous_actions_go_to_log_in(client_for, other_user):
    response = act(client_for(None), "follow", other_user)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    response = act(client_for(None), "follow", other_user, **HTMX)
    assert response["HX-Redirect"] == LOGIN
    assert not Follow.objects.exists()


def test_following_yourself_is_refused_with_400(client_for, user):
    response = act(client_for(user), "follow", user)
    assert response.status_code == 400 and "follow yourself" in text(response)


def test_following_someone_you_blocked_is_403(client_for, user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    assert act(client_for(user), "follow", other_user).status_code == 403
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()


def test_acting_on_someone_who_blocked_you_is_404(client_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)
    assert act(client_for(user), "follow", other_user).status_code == 404
    assert act(client_for(user), "block", other_user).status_code == 404


def test_block_removes_follows_both_ways_and_unblock_restores_nothing(client_for, user, other_user):
    FollowFactory(follower=user, following=other_user)
    FollowFactory(follower=other_user, following=user)
    client = client_for(user)
    assert act(client, "block", other_user)["Location"] == profile_url(other_user)
    assert Block.objects.filter(blocker=user, blocked=other_user).exists()
    assert not Follow.objects.exists()
    response = client.post(
        f"/accounts/users/{other_user.username}/unblock/", {"next": "/accounts/blocked/"}
    )
    assert response["Location"] == "/accounts/blocked/"
    assert not Block.objects.exists() and not Follow.objects.exists()


def test_remove_a_follower(client_for, user, other_user):
    FollowFactory(follower=other_user, following=user)
    response = act(client_for(user), "remove-follower", other_user)
    assert response["Location"] == "/alice/followers/"
    assert not Follow.objects.exists()


def test_request_inbox_approve_and_decline(client_for, user, other_user, outsider):
    user.is_private = True
    user.save()
    approve = FollowRequestFactory(requester=other_user, target=user)
    decline = FollowRequestFactory(requester=outsider, target=user)
    client = client_for(user)
    body = text(client.get("/accounts/requests/"))
    assert "@bob" in body and "@mallory" in body
    response = client.post(f"/accounts/requests/{approve.pk}/approve/")
    assert response["Location"] == "/accounts/requests/"
    assert Follow.objects.filter(follower=other_user, following=user).exists()
    response = client.post(f"/accounts/requests/{decline.pk}/decline/", **HTMX)
    assert response.status_code == 200 and "declined" in text(response)
    assert not FollowRequest.objects.exists()
    assert not Follow.objects.filter(follower=outsider).exists()


def test_someone_elses_follow_request_is_404(client_for, user, other_user, outsider):
    request = FollowRequestFactory(requester=outsider, target=other_user)
    client = client_for(user)
    assert client.post(f"/accounts/requests/{request.pk}/approve/").status_code == 404
    assert client.post(f"/accounts/requests/{request.pk}/decline/").status_code == 404
    assert FollowRequest.objects.filter(pk=request.pk).exists()


def test_blocked_list_shows_whom_you_block(client_for, user, other_user, outsider):
    BlockFactory(blocker=user, blocked=other_user)
    BlockFactory(blocker=outsider, blocked=user)
    body = text(client_for(user).get("/accounts/blocked/"))
    assert "@bob" in body and "@mallory" not in body


# --- follower lists -------------------------------------------------------------------------


def test_follower_lists_show_people_with_their_buttons(client_for, user, other_user, outsider):
    FollowFactory(follower=outsider, following=other_user)
    FollowFactory(follower=user, following=outsider)
    body = text(client_for(user).get("/bob/followers/"))
    assert "@mallory" in body and ">Unfollow</button>" in body
    body = text(client_for(user).get("/mallory/following/"))
    assert "@bob" in body and ">Follow</button>" in body


def test_anonymous_visitors_see_a_public_accounts_lists(client_for, other_user, outsider):
    FollowFactory(follower=outsider, following=other_user)
    response = client_for(None).get("/bob/followers/")
    assert response.status_code == 200
    assert "@mallory" in text(response) and f"{LOGIN}?next=" in text(response)


def test_a_private_accounts_lists_are_403_to_strangers(client_for, user, other_user):
    other_user.is_private = True
    other_user.save()
    for path in ("/bob/followers/", "/bob/following/"):
        response = client_for(user).get(path)
        assert response.status_code == 403 and "This account is private." in text(response)
    assert client_for(other_user).get("/bob/followers/").status_code == 200


def list_pages(user, other_user) -> dict:
    """{name: (path, add one more row)} for every list page."""
    circle = CircleFactory(owner=user)

    def circle_row():
        CircleMembershipFactory(circle=circle)
        CircleInviteFactory(circle=circle)

    return {
        "followers": ("/bob/followers/", lambda: FollowFactory(following=other_user)),
        "following": ("/bob/following/", lambda: FollowFactory(follower=other_user)),
        "requests": ("/accounts/requests/", lambda: FollowRequestFactory(target=user)),
        "blocked": ("/accounts/blocked/", lambda: BlockFactory(blocker=user)),
        "circles": ("/circles/", lambda: CircleMembershipFactory(user=user)),
        "invites": ("/circles/invites/", lambda: CircleInviteFactory(invitee=user)),
        "circle": (f"/circles/{circle.pk}/", circle_row),
        "profile grid": ("/bob/", lambda: make_post(other_user)),
    }


@pytest.mark.parametrize(
    "name",
    [
        "followers",
        "following",
        "requests",
        "blocked",
        "circles",
        "invites",
        "circle",
        "profile grid",
    ],
)
def test_list_pages_run_a_constant_number_of_queries(
    client_for, user, other_user, django_assert_max_num_queries, name
):
    path, add_row = list_pages(user, other_user)[name]
    client = client_for(user)
    add_row()
    with django_assert_max_num_queries(10) as one:
        assert client.get(path).status_code == 200
    for _ in range(3 if name == "profile grid" else 12):
        add_row()
    with django_assert_max_num_queries(10) as many:
        response = client.get(path)
    assert response.status_code == 200
    assert own_queries(many) == own_queries(one)


# --- edit profile, settings ----------------------------------------------------------------


def test_edit_profile(client_for, user, media):
    client = client_for(user)
    avatar = SimpleUploadedFile("me.jpg", jpeg_bytes((64, 64)), content_type="image/jpeg")
    response = client.post(
        "/accounts/profile/",
        {"display_name": "Alice A.", "bio": "Hi\r\nthere", "is_private": "on", "avatar": avatar},
    )
    assert response["Location"] == "/alice/"
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.is_private) == ("Alice A.", "Hi\nthere", True)
    from accounts.models import AVATAR_PURPOSE
    from media import services as media_services
    from media.models import Image

    pending = Image.objects.get(owner=user, purpose=AVATAR_PURPOSE)
    media_services.image_process(image_id=pending.pk)  # what the worker does
    user.refresh_from_db()
    assert user.avatar_id == pending.pk
    profile = client.get("/alice/").content.decode()
    assert f"/media/{pending.pk}/thumbnail.jpeg" in profile


def test_edit_profile_refuses_a_file_that_is_no_image_and_changes_nothing(client_for, user, media):
    fake = SimpleUploadedFile("me.jpg", b"<?php echo 1; ?>" * 10, content_type="image/jpeg")
    response = client_for(user).post(
        "/accounts/profile/", {"display_name": "Changed", "bio": "", "avatar": fake}
    )
    assert response.status_code == 415
    assert 'id="id_avatar_error"' in text(response)
    user.refresh_from_db()
    assert user.display_name == "Alice" and not user.avatar_id


def test_edit_profile_refuses_a_long_bio(client_for, user):
    response = client_for(user).post("/accounts/profile/", {"bio": "x" * 151})
    assert response.status_code == 400 and 'id="id_bio_error"' in text(response)
    user.refresh_from_db()
    assert user.bio == ""


def test_going_public_approves_pending_requests(client_for, user, other_user):
    user.is_private = True
    user.save()
    FollowRequestFactory(requester=other_user, target=user)
    client_for(user).post("/accounts/profile/", {"display_name": "Alice", "bio": ""})
    assert Follow.objects.filter(follower=other_user, following=user).exists()


def test_api_token_is_shown_once_stored_hashed_and_revocable(client_for, user, other_user):
    client = client_for(user)
    response = client.post("/accounts/settings/tokens/", {"name": "backup script"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'id="new-token"[^>]*value="([^"]+)"', text(response)).group(1)
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hash_token(raw) and raw not in token.key_hash
    listing = text(client.get("/accounts/settings/"))
    assert "backup script" in listing and raw not in listing
    # someone else can't revoke it
    assert (
        client_for(other_user).post(f"/accounts/settings/tokens/{token.pk}/revoke/").status_code
        == 404
    )
    assert client.post(f"/accounts/settings/tokens/{token.pk}/revoke/")["Location"] == (
        "/accounts/settings/"
    )
    assert not ApiToken.objects.exists()


def test_nav_badges_count_requests_and_invitations(client_for, user, other_user):
    FollowRequestFactory(requester=other_user, target=user)
    CircleInviteFactory(invitee=user)
    CircleInviteFactory(invitee=user)
    body = text(client_for(user).get("/accounts/badges/"))
    assert re.search(r'id="badge-requests"[^>]*>1<', body)
    assert re.search(r'id="badge-invites"[^>]*>2<', body)
    assert client_for(None).get("/accounts/badges/").status_code == 204
    assert 'id="badge-activity"' in body
    # the page renders the bell's count itself, so its own load of the badges skips it
    page = text(client_for(user).get("/accounts/settings/"))
    assert 'hx-get="/accounts/badges/?except=activity"' in page
    assert 'data-badges-url="/accounts/badges/"' in page
    on_load = text(client_for(user).get("/accounts/badges/?except=activity"))
    assert 'id="badge-activity"' not in on_load and 'id="badge-invites"' in on_load


# --- circles --------------------------------------------------------------------------------


@pytest.fixture
def circle(user):
    return CircleFactory(owner=user, name="Close friends")


def circle_url(circle, tail="") -> str:
    return f"/circles/{circle.pk}/{tail}"


def test_create_a_circle(client_for, user):
    response = client_for(user).post("/circles/", {"name": "Climbers", "description": "Weekends"})
    circle = Circle.objects.get()
    assert response["Location"] == circle_url(circle)
    assert CircleMembership.objects.get(circle=circle).user == user


def test_create_a_circle_without_a_name_is_400(client_for, user):
    response = client_for(user).post("/circles/", {"name": ""})
    assert response.status_code == 400 and 'id="id_name_error"' in text(response)
    assert not Circle.objects.exists()


def test_circle_page_is_for_members_only(client_for, user, other_user, outsider, circle):
    CircleMembershipFactory(circle=circle, user=other_user)
    CircleInviteFactory(circle=circle, invitee=outsider)
    assert client_for(other_user).get(circle_url(circle)).status_code == 200
    assert client_for(outsider).get(circle_url(circle)).status_code == 404  # only invited
    assert client_for(UserFactory()).get(circle_url(circle)).status_code == 404
    assert client_for(user).get("/circles/not-a-uuid/").status_code == 404


def test_owner_sees_members_roles_invites_and_controls(client_for, user, other_user, circle):
    CircleMembershipFactory(circle=circle, user=other_user, role="admin")
    CircleInviteFactory(circle=circle, invitee=UserFactory(username="carol"))
    body = text(client_for(user).get(circle_url(circle)))
    assert "@bob" in body and "Admin" in body and "@carol" in body
    for control in ("Transfer ownership", "Delete this circle", ">Invite</button>", "Withdraw"):
        assert control in body
    member_body = text(client_for(other_user).get(circle_url(circle)))
    assert "Delete this circle" not in member_body and "Leave this circle" in member_body


def test_invite_accept_from_the_inbox(client_for, user, other_user, circle):
    response = client_for(user).post(circle_url(circle, "invite/"), {"username": "@Bob"})
    assert response["Location"] == circle_url(circle)
    invite = CircleInvite.objects.get(circle=circle, invitee=other_user)
    client = client_for(other_user)
    assert "Close friends" in text(client.get("/circles/invites/"))
    response = client.post(f"/circles/invites/{invite.pk}/accept/")
    assert response["Location"] == circle_url(circle)
    assert CircleMembership.objects.filter(circle=circle, user=other_user).exists()


def test_decline_an_invitation(client_for, other_user, circle):
    invite = CircleInviteFactory(circle=circle, invitee=other_user)
    response = client_for(other_user).post(f"/circles/invites/{invite.pk}/decline/")
    assert response["Location"] == "/circles/invites/"
    assert not CircleInvite.objects.exists()
    assert not CircleMembership.objects.filter(user=other_user).exists()


def test_someone_elses_invitation_is_404(client_for, outsider, other_user, circle):
    invite = CircleInviteFactory(circle=circle, invitee=other_user)
    assert client_for(outsider).post(f"/circles/invites/{invite.pk}/accept/").status_code == 404
    assert not CircleMembership.objects.filter(user=outsider).exists()


def test_invite_errors_are_shown_on_the_field(client_for, user, other_user, circle):
    client = client_for(user)
    response = client.post(circle_url(circle, "invite/"), {"username": "nobody_here"})
    assert response.status_code == 404 and "No one is called @nobody_here." in text(response)
    assert 'id="invite_username_error"' in text(response)
    CircleMembershipFactory(circle=circle, user=other_user)
    response = client.post(circle_url(circle, "invite/"), {"username": "bob"})
    assert response.status_code == 400 and "already in this circle" in text(response)
    assert not CircleInvite.objects.exists()


def test_plain_members_cannot_manage(client_for, user, other_user, outsider, circle):
    UserFactory(username="carol")
    CircleMembershipFactory(circle=circle, user=other_user)
    CircleMembershipFactory(circle=circle, user=outsider)
    client = client_for(other_user)
    response = client.post(circle_url(circle, "invite/"), {"username": "carol"})
    assert response.status_code == 403 and "Only the owner and admins" in text(response)
    response = client.post(circle_url(circle, "edit/"), {"name": "Mine now"})
    assert response.status_code == 403 and "Only the owner" in text(response)
    assert client.post(circle_url(circle, "members/mallory/remove/")).status_code == 403
    assert client.post(circle_url(circle, "delete/")).status_code == 403
    circle.refresh_from_db()
    assert circle.name == "Close friends"
    assert CircleMembership.objects.filter(circle=circle).count() == 3


def test_outsiders_get_404_on_circle_actions(client_for, outsider, circle):
    client = client_for(outsider)
    for tail in ("edit/", "delete/", "leave/", "invite/", "members/alice/remove/"):
        assert client.post(circle_url(circle, tail), {"name": "x"}).status_code == 404
    assert Circle.objects.filter(pk=circle.pk).exists()


def test_owner_renames_sets_roles_removes_and_transfers(client_for, user, other_user, circle):
    CircleMembershipFactory(circle=circle, user=other_user)
    client = client_for(user)
    client.post(circle_url(circle, "edit/"), {"name": "Family", "description": "Us"})
    circle.refresh_from_db()
    assert (circle.name, circle.description) == ("Family", "Us")
    client.post(circle_url(circle, "members/bob/role/"), {"role": "admin"})
    assert CircleMembership.objects.get(circle=circle, user=other_user).role == "admin"
    response = client.post(circle_url(circle, "members/bob/role/"), {"role": "owner"})
    assert response.status_code == 400
    response = client.post(circle_url(circle, "transfer/"), {"username": "bob"})
    assert response["Location"] == circle_url(circle)
    circle.refresh_from_db()
    assert circle.owner == other_user
    assert CircleMembership.objects.get(circle=circle, user=user).role == "admin"


def test_admin_cannot_remove_another_admin(client_for, user, other_user, outsider, circle):
    CircleMembershipFactory(circle=circle, user=other_user, role="admin")
    CircleMembershipFactory(circle=circle, user=outsider, role="admin")
    response = client_for(other_user).post(circle_url(circle, "members/mallory/remove/"))
    assert response.status_code == 403
    assert CircleMembership.objects.filter(circle=circle, user=outsider).exists()


def test_owner_removes_a_member_who_blocked_them(client_for, user, other_user, circle):
    CircleMembershipFactory(circle=circle, user=other_user)
    BlockFactory(blocker=other_user, blocked=user)
    response = client_for(user).post(circle_url(circle, "members/bob/remove/"))
    assert response["Location"] == circle_url(circle)
    assert not CircleMembership.objects.filter(circle=circle, user=other_user).exists()


def test_owner_must_transfer_before_leaving(client_for, user, other_user, circle):
    response = client_for(user).post(circle_url(circle, "leave/"))
    assert response.status_code == 400 and "Transfer ownership" in text(response)
    CircleMembershipFactory(circle=circle, user=other_user)
    assert client_for(other_user).post(circle_url(circle, "leave/"))["Location"] == "/circles/"
    assert not CircleMembership.objects.filter(user=other_user).exists()


def test_withdraw_an_invitation_and_delete_the_circle(client_for, user, other_user, circle):
    CircleInviteFactory(circle=circle, invitee=other_user)
    client = client_for(user)
    client.post(circle_url(circle, "invites/bob/cancel/"))
    assert not CircleInvite.objects.exists()
    assert client.post(circle_url(circle, "delete/"))["Location"] == "/circles/"
    assert not Circle.objects.exists()


def test_password_reset_is_rate_limited(client, user, mailoutbox):
    for _ in range(5):
        response = client.post("/accounts/password/reset/", {"email": user.email})
        assert response.status_code == 302
    limited = client.post("/accounts/password/reset/", {"email": user.email})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert len(mailoutbox) == 5
