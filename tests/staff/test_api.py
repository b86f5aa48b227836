"""The admin API: staff only (everyone else: 404), lists with keyset cursors and
constant queries, ban/unban/remove with their effects and audit rows, and refusals."""

import base64
import json

import pytest
import redis
from django.conf import settings
from django.test import Client

from accounts.models import ApiToken, User
from accounts.services import api_token_create
from media.models import Image
from media.tasks import files_delete_task
from posts.models import Post
from staff.models import AuditEntry
from tests.accounts.conftest import API, Api, error_of
from tests.factories import UserFactory
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


def queued_tasks() -> list[tuple[str, list]]:
    """(task name, args) of every task waiting on this test's Redis broker."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tasks = []
    for raw in reversed(broker.lrange("celery", 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks


ROUTES = [
    ("get", "/admin/users"),
    ("delete", "/admin/users/target"),
    ("post", "/admin/users/target/unban"),
    ("get", "/admin/posts"),
    ("delete", "/admin/posts/{post}"),
    ("get", "/admin/stats"),
]


@pytest.fixture
def target(db):
    return UserFactory(username="target")


@pytest.fixture
def target_post(target, media_storage):
    return make_post(target, caption="a post to moderate")


def call(api, method, path, target_post):
    return getattr(api, method)(path.format(post=target_post.pk))


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("mode", ["session", "token"])
def test_nobody_but_staff_gets_past_404(method, path, mode, member, target, target_post):
    """Anonymous, a member and a banned operator see nothing there; nothing changes."""
    banned_operator = UserFactory(username="former_operator", is_staff=True)
    callers = [Api(None, "session"), Api(member, mode)]
    former = Api(banned_operator, mode)
    User.objects.filter(pk=banned_operator.pk).update(is_active=False)
    callers.append(former)
    for api in callers:
        response = call(api, method, path, target_post)
        assert response.status_code == 404, (api.user, response.content)
        assert error_of(response)["code"] == "not_found"
    target.refresh_from_db()
    assert target.is_active and Post.objects.filter(pk=target_post.pk).exists()
    assert not AuditEntry.objects.exists()


def test_anonymous_delete_without_csrf_is_404_not_403(target, target_post):
    client = Client(enforce_csrf_checks=True)
    assert client.delete(f"{API}/admin/users/target").status_code == 404
    assert client.delete(f"{API}/admin/posts/{target_post.pk}").status_code == 404


@pytest.mark.parametrize("rank", ["staff_user", "superuser"])
@pytest.mark.parametrize("mode", ["session", "token"])
def test_staff_and_superusers_may_use_every_route(request, rank, mode, target, target_post):
    api = Api(request.getfixturevalue(rank), mode)
    assert api.get("/admin/users").status_code == 200
    assert api.get("/admin/posts").status_code == 200
    assert api.get("/admin/stats").status_code == 200
    assert api.delete(f"/admin/posts/{target_post.pk}").status_code == 204
    assert api.delete("/admin/users/target").status_code == 204
    assert api.post("/admin/users/target/unban").status_code == 204
    actions = list(AuditEntry.objects.order_by("created_at").values_list("action", flat=True))
    assert actions == ["post.remove", "user.ban", "user.unban"]


def test_session_staff_still_needs_csrf(staff_user, target):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.delete(f"{API}/admin/users/target").status_code == 403
    target.refresh_from_db()
    assert target.is_active


# --- lists --------------------------------------------------------------------------------


def test_user_list_pages_with_cursors_and_searches(staff_user, list_queries):
    for index in range(5):
        UserFactory(username=f"person{index}", display_name=f"Person {index}")
    api = Api(staff_user, "session")
    seen, cursor, counts = [], None, set()
    while True:
        body, queries = list_queries(
            api, "/admin/users", {"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        counts.add(queries)
        seen += [item["username"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(User.objects.values_list("username", flat=True))
    assert len(seen) == len(set(seen))
    assert len(counts) == 1  # every page costs the same
    found = api.get("/admin/users", {"q": "Person 3"}).json()["items"]
    assert [item["username"] for item in found] == ["person3"]
    item = found[0]
    assert set(item) == {
        "id", "username", "email", "display_name", "is_active", "is_staff", "is_superuser",
        "date_joined", "last_login", "posts_count",
    }  # fmt: skip


def test_user_list_filters_banned_and_counts_posts(staff_user, target, target_post):
    api = Api(staff_user, "token")
    assert api.delete("/admin/users/target").status_code == 204
    banned = api.get("/admin/users", {"banned": "true"}).json()["items"]
    assert [(u["username"], u["is_active"], u["posts_count"]) for u in banned] == [
        ("target", False, 1)
    ]
    active = api.get("/admin/users", {"banned": "false"}).json()["items"]
    assert "target" not in {u["username"] for u in active}


def test_post_list_shows_every_post_with_constant_queries(
    staff_user, target, media_storage, list_queries
):
    make_post(target, caption="first")
    api = Api(staff_user, "session")
    _, one = list_queries(api, "/admin/posts")
    private = UserFactory(username="hermit", is_private=True)
    for index in range(4):
        make_post(private, caption=f"quiet {index}", visibility="followers")
    body, many = list_queries(api, "/admin/posts")
    assert many == one
    assert len(body["items"]) == 5
    item = body["items"][0]
    assert item["author"]["username"] == "hermit" and item["image_count"] == 1
    assert item["visibility"] == "followers" and item["author_banned"] is False
    found = api.get("/admin/posts", {"q": "quiet 2"}).json()["items"]
    assert [p["caption"] for p in found] == ["quiet 2"]
    by_author = api.get("/admin/posts", {"author": "target"}).json()["items"]
    assert [p["caption"] for p in by_author] == ["first"]


def test_bad_cursor_and_limit_are_400(staff_user):
    api = Api(staff_user, "token")
    assert error_of(api.get("/admin/users", {"cursor": "forged"}))["code"] == "invalid_cursor"
    assert api.get("/admin/posts", {"limit": 500}).status_code == 400


# --- ban, unban ---------------------------------------------------------------------------


def test_ban_signs_out_everywhere_hides_content_and_keeps_it(
    staff_user, target, target_post, django_capture_on_commit_callbacks
):
    follower = UserFactory(username="fan")
    from accounts.models import Follow

    Follow.objects.create(follower=follower, following=target)
    browser = Client()
    browser.force_login(target)
    _, raw = api_token_create(user=target)
    fan = Api(follower, "token")
    assert fan.get(f"/posts/{target_post.pk}").status_code == 200

    api = Api(staff_user, "token")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("/admin/users/TARGET", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 204
    target.refresh_from_db()
    assert target.is_active is False
    assert browser.get(f"{API}/auth/me").status_code == 401
    assert Client().get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert not ApiToken.objects.filter(user=target).exists()
    # hidden from everyone else, kept in the database
    assert fan.get(f"/posts/{target_post.pk}").status_code == 404
    assert fan.get("/users/target").status_code == 404
    assert target_post.pk not in {p["id"] for p in fan.get("/feed").json()["items"]}
    assert Post.objects.filter(pk=target_post.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_username, entry.action) == (staff_user, "operator", "user.ban")
    assert (entry.target_type, entry.target_id, entry.target_repr) == (
        "accounts.user",
        str(target.pk),
        "target",
    )
    assert entry.ip == "203.0.113.9"

    # unban: they may sign in again and their post is back
    assert api.post("/admin/users/target/unban", REMOTE_ADDR="203.0.113.10").status_code == 204
    target.refresh_from_db()
    assert target.is_active
    assert fan.get(f"/posts/{target_post.pk}").status_code == 200
    assert AuditEntry.objects.filter(action="user.unban", ip="203.0.113.10").count() == 1


def test_unknown_user_or_post_is_404_and_writes_nothing(staff_user):
    api = Api(staff_user, "token")
    assert api.delete("/admin/users/nobody").status_code == 404
    assert api.post("/admin/users/nobody/unban").status_code == 404
    assert api.delete("/admin/posts/not-a-uuid").status_code == 404
    assert api.delete("/admin/posts/7f1c0d47-2a3e-4a53-9a55-1b8f7d1b9d00").status_code == 404
    assert not AuditEntry.objects.exists()


def test_you_cannot_ban_yourself(staff_user):
    response = Api(staff_user, "token").delete("/admin/users/operator")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "ban_refused" and "yourself" in error["message"]
    staff_user.refresh_from_db()
    assert staff_user.is_active and not AuditEntry.objects.exists()


def test_the_last_superuser_cannot_be_banned(superuser):
    second = UserFactory(username="chief2", is_staff=True, is_superuser=True)
    api = Api(second, "token")
    # two superusers: one may ban the other…
    assert api.delete("/admin/users/chief").status_code == 204
    # …but not the last one (here, by an operator promoted meanwhile)
    promoted = UserFactory(username="deputy", is_staff=True, is_superuser=True)
    User.objects.filter(pk=promoted.pk).update(is_superuser=False)
    response = Api(promoted, "token").delete("/admin/users/chief2")
    assert response.status_code == 403
    assert "superuser" in error_of(response)["message"]
    second.refresh_from_db()
    assert second.is_active


def test_no_last_superuser_even_by_a_superuser(superuser):
    """The only active superuser's account cannot be banned by another superuser whose
    own account is… themselves: covered above; here the last one is someone else."""
    other = UserFactory(username="chief2", is_staff=True, is_superuser=True)
    User.objects.filter(pk=superuser.pk).update(is_active=False)  # banned earlier
    operator = UserFactory(username="ops", is_staff=True)
    response = Api(operator, "token").delete("/admin/users/chief2")
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.is_active


def test_staff_cannot_ban_a_superuser(staff_user, superuser):
    UserFactory(username="chief2", is_staff=True, is_superuser=True)
    response = Api(staff_user, "token").delete("/admin/users/chief")
    assert response.status_code == 403
    assert "Only a superuser" in error_of(response)["message"]


# --- removing a post ----------------------------------------------------------------------


def test_removing_a_post_deletes_rows_now_and_files_by_a_task(
    staff_user, target, media_storage, django_capture_on_commit_callbacks
):
    post = make_post(target, caption="spam", visibility="followers")
    image = post.images.get()
    keys = image.storage_keys()
    assert all((media_storage / key).exists() for key in keys)
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(staff_user, "token").delete(
            f"/admin/posts/{post.pk}", REMOTE_ADDR="198.51.100.7"
        )
    assert response.status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Image.objects.filter(pk=image.pk).exists()
    # the files go by the task queued on the broker, run here as a worker would
    queued = queued_tasks()
    assert [name for name, _ in queued] == ["media.files_delete"]
    assert sorted(queued[0][1][0]) == sorted(keys)
    files_delete_task.run(*queued[0][1])
    assert not any((media_storage / key).exists() for key in keys)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.ip) == (
        "post.remove",
        str(post.pk),
        "198.51.100.7",
    )
    assert entry.detail["author"] == "target"


def test_the_openapi_document_describes_the_admin_routes(db):
    paths = Client().get(f"{API}/openapi.json").json()["paths"]
    assert "delete" in paths[f"{API}/admin/users/{{username}}"]
    for path in ("/admin/users", "/admin/posts", "/admin/stats", "/admin/users/{username}/unban"):
        assert f"{API}{path}" in paths
    stats = paths[f"{API}/admin/stats"]["get"]["responses"]["200"]
    assert stats["content"]["application/json"]["schema"]["$ref"].endswith("/StatsOut")
