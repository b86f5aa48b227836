"""Query counts constant in the number of photos and albums, on the API and the pages."""

import pytest

from albums import services
from tests.albums.conftest import add_photos

pytestmark = pytest.mark.django_db


def _count(django_assert_max_num_queries, call, limit=12) -> int:
    call()  # once first: per-session work done on a first request is not the page's
    with django_assert_max_num_queries(limit) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_album_detail_is_constant_in_photos(
    session_api, client_for, circle_album, member, django_assert_max_num_queries
):
    api, client = session_api(member), client_for(member)
    add_photos(circle_album, member, 2)
    few_api = _count(django_assert_max_num_queries, lambda: api.get(f"/albums/{circle_album.pk}"))
    few_page = _count(
        django_assert_max_num_queries, lambda: client.get(f"/albums/{circle_album.pk}/")
    )
    print("album detail queries", few_api, few_page)
    add_photos(circle_album, member, 6)
    assert len(api.get(f"/albums/{circle_album.pk}").json()["items"]) == 8
    assert (
        _count(django_assert_max_num_queries, lambda: api.get(f"/albums/{circle_album.pk}"))
        == few_api
    )
    assert (
        _count(django_assert_max_num_queries, lambda: client.get(f"/albums/{circle_album.pk}/"))
        == few_page
    )


def test_album_lists_are_constant_in_albums(
    session_api, client_for, circle, owner, member, django_assert_max_num_queries
):
    api, client = session_api(member), client_for(member)

    def more(n):
        for i in range(n):
            album = services.album_create(owner=owner, title=f"A{i}", circle_id=circle.pk)
            add_photos(album, member, 2)

    more(1)
    calls = {
        "api": lambda: api.get("/albums", {"circle_id": str(circle.pk)}),
        "list page": lambda: client.get("/albums/"),
        "circle page": lambda: client.get(f"/circles/{circle.pk}/"),
    }
    before = {name: _count(django_assert_max_num_queries, call, 25) for name, call in calls.items()}
    more(4)
    assert len(api.get("/albums", {"circle_id": str(circle.pk)}).json()["items"]) == 5
    after = {name: _count(django_assert_max_num_queries, call, 25) for name, call in calls.items()}
    assert after == before
    assert before["api"] <= 5 and before["circle page"] <= 10
    print("album list queries", before)
