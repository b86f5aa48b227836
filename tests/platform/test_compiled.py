"""circles.compiled: a queryset compiled once and run with other values gives what the
queryset built for those values gives — rows, order, select_related objects, annotations —
for every viewer of the visibility matrix, and refuses what it cannot compile once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from circles.compiled import CompiledQuery
from posts.models import Like, Post, Visibility
from tests.factories import UserFactory
from tests.feed.conftest import block, follow, make_circle, quick_post

pytestmark = pytest.mark.django_db


def visible_page(viewer, ids, limit):
    """The feed's kind of query: the rule, a fixed list of ids, select_related and an
    annotation that depends on the viewer."""
    liked = Exists(Like.objects.filter(post=OuterRef("pk"), user=viewer))
    posts = Post.objects.visible_to(viewer).filter(pk__in=ids).annotate(liked=liked)
    return posts.select_related("author", "circle").order_by("-created_at", "-pk")[:limit]


def shown(posts) -> list[tuple]:
    return [
        (p.pk, p.caption, p.author.username, p.circle and p.circle.name, p.liked, p.like_count)
        for p in posts
    ]


@pytest.fixture
def matrix():
    """Posts of every kind and people in every relation to their authors."""
    author = UserFactory(username="author")
    private = UserFactory(username="private", is_private=True)
    people = {
        name: UserFactory(username=name)
        for name in ("follower", "stranger", "member", "blocked", "blocker")
    }
    follow(people["follower"], author, private)
    follow(people["member"], author)
    follow(people["blocked"], author)
    follow(people["blocker"], author)
    block(author, people["blocked"])
    block(people["blocker"], author)
    circle = make_circle(author, people["member"], name="Inner")
    posts = [
        quick_post(author, caption="public"),
        quick_post(author, caption="followers", visibility=Visibility.FOLLOWERS),
        quick_post(author, caption="circle", visibility=Visibility.CIRCLE, circle=circle),
        quick_post(private, caption="private account"),
        quick_post(author, caption="processing", status="processing"),
    ]
    Like.objects.create(post=posts[0], user=people["follower"])
    return {"author": author, "private": private, **people}, posts


def test_runs_match_the_queryset_built_for_each_viewer(matrix):
    people, posts = matrix
    ids = [post.pk for post in posts] + [post.pk for post in posts][:1]  # a repeat is harmless
    compiled = CompiledQuery(
        lambda viewer, ids: visible_page(User(pk=viewer), ids, 10),
        viewer="uuid",
        ids=("uuid", len(ids)),
    )
    seen = set()
    for viewer in people.values():
        expected = shown(visible_page(viewer, ids, 10))
        assert shown(compiled.run(viewer=viewer.pk, ids=ids)) == expected
        seen.add(len(expected))
    assert len(seen) > 2  # the viewers really see different pages
    assert shown(compiled.run(viewer=people["stranger"].pk, ids=ids))[0][1] == "public"


def test_the_limit_is_kept_and_instances_are_real_models(matrix):
    people, posts = matrix
    compiled = CompiledQuery(
        lambda viewer, ids: visible_page(User(pk=viewer), ids, 2),
        viewer="uuid",
        ids=("uuid", len(posts)),
    )
    got = compiled.run(viewer=people["author"].pk, ids=[post.pk for post in posts])
    assert len(got) == 2
    assert isinstance(got[0], Post) and got[0].author == people["author"]
    assert got[0].created_at.tzinfo is not None  # converters ran


def test_builds_once_and_runs_one_query(matrix):
    people, posts = matrix
    builds = []

    def build(viewer, ids):
        builds.append(viewer)
        return visible_page(User(pk=viewer), ids, 10)

    compiled = CompiledQuery(build, viewer="uuid", ids=("uuid", len(posts)))
    with CaptureQueriesContext(connection) as queries:
        for viewer in people.values():
            compiled.run(viewer=viewer.pk, ids=[post.pk for post in posts])
    assert len(builds) == 1 and people["author"].pk not in builds  # built with placeholders
    assert len(queries) == len(people)


def test_string_values(matrix):
    people, _ = matrix
    compiled = CompiledQuery(
        lambda name: User.objects.filter(username=name).order_by("pk"), name="string"
    )
    assert [u.pk for u in compiled.run(name="member")] == [people["member"].pk]
    assert compiled.run(name="nobody") == []
    assert compiled.run(name="x' OR '1'='1") == []  # a value, never SQL


def test_a_value_the_query_does_not_use_is_refused():
    with pytest.raises(ValueError, match="every value"):
        CompiledQuery(
            lambda viewer, other: User.objects.filter(pk=viewer), viewer="uuid", other="uuid"
        )


def test_values_list_rows_are_tuples_and_other_shapes_are_refused(matrix):
    people, _ = matrix
    compiled = CompiledQuery(
        lambda ids: User.objects.filter(pk__in=ids).order_by("username").values_list("username"),
        ids=("uuid", 2),
    )
    assert compiled.run(ids=[people["member"].pk, people["author"].pk]) == [
        ("author",),
        ("member",),
    ]
    with pytest.raises(ValueError, match="model instances or values_list"):
        CompiledQuery(lambda name: User.objects.filter(username=name).values("pk"), name="string")


def test_a_shorter_list_of_ids_is_padded_and_a_longer_one_refused(matrix):
    people, _ = matrix
    compiled = CompiledQuery(
        lambda ids: User.objects.filter(pk__in=ids).values_list("username"), ids=("uuid", 4)
    )
    assert compiled.run(ids=[people["member"].pk]) == [("member",)]
    with pytest.raises(ValueError, match="at most 4"):
        compiled.run(ids=[people["member"].pk] * 5)


def test_datetime_values(matrix):
    """A clock read per run (the stories rule's `now`): each run uses the instant given."""
    _, posts = matrix
    times = sorted(Post.objects.values_list("created_at", flat=True))
    compiled = CompiledQuery(
        lambda before: Post.objects.filter(created_at__lt=before).order_by("pk").values_list("pk"),
        before="datetime",
    )
    for before in (times[0], times[2], times[-1] + timedelta(seconds=1)):
        expected = Post.objects.filter(created_at__lt=before).order_by("pk").values_list("pk")
        assert compiled.run(before=before) == list(expected)


def test_a_generic_plan_query_answers_alike_and_leaves_the_planner_as_it_was(matrix):
    people, posts = matrix
    ids = [post.pk for post in posts]
    compiled = CompiledQuery(
        lambda viewer, ids: visible_page(User(pk=viewer), ids, 10),
        generic_plan=True,
        viewer="uuid",
        ids=("uuid", len(ids)),
    )
    for _ in range(4):  # past psycopg's prepare threshold: the prepared statement's plan
        for person in people.values():
            assert shown(compiled.run(viewer=person.pk, ids=ids)) == shown(
                visible_page(person, ids, 10)
            )
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)
