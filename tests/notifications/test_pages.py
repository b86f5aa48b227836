"""The activity page, the badge on every page, "Mark all as read", retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_create, notifications_prune
from notifications.tasks import notifications_prune_task
from posts import services as posts
from tests.factories import UserFactory
from tests.notifications.conftest import publish_post, unread

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_lists_marks_read_and_the_badge_follows(
    committed, client_for, user, other_user, alice_post
):
    committed(posts.post_like, user=other_user, post=alice_post)
    alice = client_for(user)
    home = alice.get("/").content.decode()
    assert 'data-notifications-badge data-count="1">1<' in home
    assert "<title>(1) " in home
    page = alice.get("/notifications/").content.decode()
    assert "bob liked your photo" in page
    assert "Today" in page and 'class="activity-row unread"' in page
    assert f'href="/p/{alice_post.pk}/"' in page
    # seen: read now, so the badge on this very page and the next is empty
    assert unread(user) == 0
    assert 'data-notifications-badge data-count="0" hidden>0<' in page
    assert 'class="activity-row unread"' not in alice.get("/notifications/").content.decode()


def test_sections_today_this_week_earlier(client_for, user, other_user):
    ages = {"today": 0, "week": 3, "earlier": 30}
    for age in ages.values():
        post = publish_post(user)
        n = notification_create(
            actor=other_user, recipient=user, kind="post_like", target_id=post.pk
        )
        Notification.objects.filter(pk=n.pk).update(updated_at=timezone.now() - timedelta(days=age))
    page = client_for(user).get("/notifications/").content.decode()
    assert page.index(">Today<") < page.index(">This week<") < page.index(">Earlier<")


def test_mark_all_as_read(client_for, user, other_user):
    post = publish_post(user)
    notification_create(actor=other_user, recipient=user, kind="post_like", target_id=post.pk)
    alice = client_for(user)
    response = alice.post("/notifications/read/")
    assert response.status_code == 302 and unread(user) == 0
    post2 = publish_post(user)
    notification_create(actor=other_user, recipient=user, kind="post_like", target_id=post2.pk)
    response = alice.post("/notifications/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Trigger"] == '{"notifications:count": 0}'
    assert unread(user) == 0


def test_the_page_scrolls_on_with_htmx_and_costs_constant_queries(
    client_for, user, django_assert_max_num_queries
):
    for _ in range(25):
        post = publish_post(user)
        notification_create(
            actor=UserFactory(), recipient=user, kind="post_like", target_id=post.pk
        )
    alice = client_for(user)
    alice.get("/")  # the session's first load
    # session, the page (between a SET and a RESET of plan_cache_mode: its generic plan,
    # circles/compiled.py), its actors, the posts described, marking read (2), the badge
    # (anything unread? five are: then their count by the rule)
    with django_assert_max_num_queries(10):
        page = alice.get("/notifications/").content.decode()
    assert page.count('data-notification="') == 20
    cursor = page.split("?cursor=")[1].split('"')[0]
    from urllib.parse import unquote

    more = alice.get(f"/notifications/?cursor={unquote(cursor)}", HTTP_HX_REQUEST="true")
    html = more.content.decode()
    assert html.count('data-notification="') == 5 and "<html" not in html


def test_a_bad_cursor_on_the_page_shows_the_first_page(client_for, user):
    assert client_for(user).get("/notifications/?cursor=nope").status_code == 200


def test_prune_keeps_what_is_recent(user, other_user, settings):
    settings.NOTIFICATIONS_KEEP_READ_DAYS = 90
    settings.NOTIFICATIONS_KEEP_UNREAD_DAYS = 365
    now = timezone.now()

    def made(*, age_days, read):
        post = publish_post(user)
        n = notification_create(
            actor=other_user, recipient=user, kind="post_like", target_id=post.pk
        )
        Notification.objects.filter(pk=n.pk).update(
            updated_at=now - timedelta(days=age_days), read_at=now if read else None
        )
        return n.pk

    keep = {made(age_days=89, read=True), made(age_days=364, read=False)}
    made(age_days=91, read=True)
    made(age_days=366, read=False)
    assert notifications_prune() == 2
    assert set(Notification.objects.values_list("pk", flat=True)) == keep
    assert notifications_prune_task() == 0


def test_prune_takes_groups_emptied_by_an_undo_after_their_hour(
    committed, user, other_user, alice_post
):
    committed(posts.post_like, user=other_user, post=alice_post)
    committed(posts.post_unlike, user=other_user, post=alice_post)
    assert notifications_prune() == 0  # within the hour: kept, so a like again is no news
    Notification.objects.update(updated_at=timezone.now() - timedelta(hours=2))
    assert notifications_prune() == 1
