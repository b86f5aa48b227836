"""circles.jinja: the feed's cards and buttons are Jinja2 templates inside Django pages —
their forms carry a working CSRF field, what people wrote is escaped, and {% jinja %}
renders them with the page's context."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from posts import services
from posts.models import Like
from tests.feed.conftest import follow
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db

FIELD = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_feed_cards_like_form_works_without_javascript(viewer, friend):
    follow(viewer, friend)
    post = make_post(friend)
    client = signed_in(viewer)
    html = client.get("/").content.decode()
    like = reverse("posts:like", kwargs={"post_id": post.pk})
    form = html[html.index(f'action="{like}"') :]
    form = form[: form.index("</form>")]
    token = FIELD.search(form).group(1)
    assert client.post(like).status_code == 403  # no token: refused
    assert not Like.objects.filter(user=viewer, post=post).exists()
    answer = client.post(like, {"csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and Like.objects.filter(user=viewer, post=post).exists()


def test_one_csrf_field_for_every_form_of_a_render(viewer, friend):
    follow(viewer, friend)
    for _ in range(3):
        make_post(friend)
    html = signed_in(viewer).get("/").content.decode()
    cards = html[html.index('role="feed"') :]
    assert len(FIELD.findall(cards)) == 6 and len(set(FIELD.findall(cards))) == 1


def test_what_people_write_is_escaped_in_a_card(viewer, friend):
    follow(viewer, friend)
    post = make_post(friend, location='<img src=x onerror="alert(1)">')
    services.comment_create(author=friend, post=post, content="<script>alert('hi')</script>")
    html = signed_in(viewer).get("/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;" in html  # markupsafe's quotes
    assert "<script>alert('hi')</script>" in unescape(html)


def test_the_jinja_tag_renders_with_the_pages_context(viewer, friend):
    post = make_post(friend)
    services.post_like(user=viewer, post=post)
    html = signed_in(viewer).get(reverse("posts:detail", kwargs={"post_id": post.pk})).text
    unlike = reverse("posts:unlike", kwargs={"post_id": post.pk})
    assert f'action="{unlike}"' in html and 'aria-pressed="true" aria-label="Like"' in html
    assert len(FIELD.findall(html)) >= 2


def test_the_django_and_jinja2_parts_of_a_page_show_one_token_that_works(viewer, friend):
    follow(viewer, friend)
    post = make_post(friend)
    client = signed_in(viewer)
    html = client.get("/").content.decode()
    header = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
    assert set(FIELD.findall(html)) == {header}  # the shell's (Django) and the cards' (Jinja2)
    like = reverse("posts:like", kwargs={"post_id": post.pk})
    assert client.post(like, HTTP_X_CSRFTOKEN=header + "x").status_code == 403
    assert client.post(like, HTTP_X_CSRFTOKEN=header).status_code == 302
    assert Like.objects.filter(user=viewer, post=post).exists()


def test_a_new_csrf_secret_gets_a_token_of_its_own(rf):
    from django.middleware.csrf import rotate_token

    from circles.jinja import request_csrf_token

    request = rf.get("/")
    first = request_csrf_token(request)
    assert request_csrf_token(request) == first  # made once
    rotate_token(request)  # as a sign-in does
    second = request_csrf_token(request)
    assert second != first and request.META["CSRF_COOKIE"]
