"""Who may see and do what with albums, on every path: API, pages, media URLs."""

import pytest
from django.test import Client

from accounts import services as accounts
from accounts.models import Block, Follow
from albums import services
from albums.models import Album, AlbumItem, AlbumLike
from media.links import media_url
from media.models import Image
from tests.albums.conftest import add_photos, order_of
from tests.factories import UserFactory
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


def _sees(user, album) -> bool:
    return Album.objects.visible_to(user).filter(pk=album.pk).exists()


def test_circle_album_is_for_members_only(api_for, circle_album, owner, admin, member, stranger):
    for person in (owner, admin, member):
        assert api_for(person).get(f"/albums/{circle_album.pk}").status_code == 200
    response = api_for(stranger).get(f"/albums/{circle_album.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api_for(None, "session").get(f"/albums/{circle_album.pk}").status_code == 401


def test_personal_album_follows_its_audience(owner, stranger):
    album = services.album_create(owner=owner, title="Mine")
    follower, blocked = UserFactory(username="fay"), UserFactory(username="bo")
    Follow.objects.create(follower=follower, following=owner)
    Follow.objects.create(follower=blocked, following=owner)
    Block.objects.create(blocker=owner, blocked=blocked)
    assert album.audience == "followers"
    assert [_sees(u, album) for u in (owner, follower, stranger, blocked)] == [
        True, True, False, False,
    ]  # fmt: skip


def test_personal_album_shown_to_one_circle(circle, owner, member, stranger):
    album = services.album_create(owner=owner, title="Mine", circle_id=circle.pk, kind="personal")
    assert (album.kind, album.audience) == ("personal", "circle")
    assert _sees(member, album) and not _sees(stranger, album)
    # only its owner adds to a personal album
    with pytest.raises(Exception, match="Only the album's owner"):
        add_photos(album, member)
    assert not AlbumItem.objects.exists()


def test_removal_takes_effect_everywhere_at_once(circle_album, owner, member):
    (item,) = add_photos(circle_album, member)
    image = Image.objects.get(pk=item.image_id)
    url = media_url(image, "large", "jpeg")
    client = Client()
    client.force_login(member)
    assert client.get(url).status_code == 200
    assert client.get(f"/albums/{circle_album.pk}/").status_code == 200
    accounts.circle_member_remove(actor=owner, circle=circle_album.circle, user=member)
    # the album, its page, the photo they added themselves: all gone for them
    assert not _sees(member, circle_album)
    assert client.get(f"/albums/{circle_album.pk}/").status_code == 404
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/albums", {"circle_id": circle_album.circle_id}).status_code == 404
    # their photo stays in the album, the circle's now
    assert AlbumItem.objects.filter(pk=item.pk, added_by=member).exists()
    image.refresh_from_db()
    assert image.owner_id == owner.pk
    owner_client = Client()
    owner_client.force_login(owner)
    assert owner_client.get(url).status_code == 200


def test_member_adds_and_removes_own_photo_only(api_for, circle_album, owner, admin, member):
    (mine,) = add_photos(circle_album, member)
    (theirs,) = add_photos(circle_album, owner)
    api = api_for(member)
    response = api.delete(f"/albums/{circle_album.pk}/items/{theirs.pk}")
    assert response.status_code == 403
    assert "remove the photos you added" in response.json()["error"]["message"]
    assert api.delete(f"/albums/{circle_album.pk}/items/{mine.pk}").status_code == 204
    assert list(AlbumItem.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert not Image.objects.filter(pk=mine.image_id).exists()  # an upload goes with it
    # an admin removes anything
    assert api_for(admin).delete(f"/albums/{circle_album.pk}/items/{theirs.pk}").status_code == 204


def test_rename_and_delete_are_for_managers(api_for, circle_album, admin, member):
    response = api_for(member).patch(f"/albums/{circle_album.pk}", {"title": "Mine now"})
    assert response.status_code == 403
    assert api_for(member).delete(f"/albums/{circle_album.pk}").status_code == 403
    circle_album.refresh_from_db()
    assert circle_album.title == "Summer"
    response = api_for(admin).patch(f"/albums/{circle_album.pk}", {"title": "  Summer '26 "})
    assert response.status_code == 200 and response.json()["title"] == "Summer '26"
    (item,) = add_photos(circle_album, member)
    assert api_for(admin).delete(f"/albums/{circle_album.pk}").status_code == 204
    assert not Album.objects.exists()
    assert not Image.objects.filter(pk=item.image_id).exists()


def test_outsider_gets_404_on_every_action(api_for, circle_album, member, stranger):
    (item,) = add_photos(circle_album, member)
    api = api_for(stranger)
    base = f"/albums/{circle_album.pk}"
    calls = [
        api.patch(base, {"title": "x"}),
        api.delete(base),
        api.post(f"{base}/like"),
        api.delete(f"{base}/items/{item.pk}"),
        api.post(f"{base}/items/{item.pk}/move", {"after_id": None}),
        api.post(f"{base}/posts", {"post_id": str(item.pk)}),
        api._send("put", f"{base}/cover", {"item_id": str(item.pk), "aspect": "1:1", "crop": {}}),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    assert AlbumItem.objects.count() == 1 and not AlbumLike.objects.exists()
    circle_album.refresh_from_db()
    assert circle_album.title == "Summer"


def test_album_of_a_circle_you_are_not_in_cannot_be_made(api_for, circle, stranger):
    response = api_for(stranger).post("/albums", {"title": "Sneaky", "circle_id": str(circle.pk)})
    assert response.status_code == 404
    assert not Album.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "ok", "kind": "circle"}, "circle_id"),
        ({"title": "ok", "kind": "group"}, "kind"),
    ],
)
def test_bad_album_input(api_for, owner, body, field):
    response = api_for(owner).post("/albums", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Album.objects.exists()


def test_like_is_idempotent(api_for, circle_album, member, owner):
    api = api_for(member)
    for _ in range(2):
        assert api.post(f"/albums/{circle_album.pk}/like").json() == {
            "liked": True,
            "like_count": 1,
        }
    api_for(owner).post(f"/albums/{circle_album.pk}/like")
    detail = api.get(f"/albums/{circle_album.pk}").json()
    assert (detail["like_count"], detail["liked"]) == (2, True)
    for _ in range(2):
        assert api.delete(f"/albums/{circle_album.pk}/like").json() == {
            "liked": False, "like_count": 1,
        }  # fmt: skip


# --- adding never widens who sees a photo -------------------------------------------------


def test_followers_only_photo_refused_into_circle_album_with_non_followers(
    api_for, circle_album, owner, member
):
    post = make_post(owner, visibility="followers")  # member does not follow owner
    response = api_for(owner).post(f"/albums/{circle_album.pk}/posts", {"post_id": str(post.pk)})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "audience_wider"
    assert "followers only" in error["message"] and "@mia" in error["message"]
    assert not AlbumItem.objects.exists()


def test_followers_only_photo_goes_in_when_every_member_may_see_it(
    api_for, circle_album, owner, member
):
    Follow.objects.create(follower=member, following=owner)
    post = make_post(owner, visibility="followers")
    response = api_for(owner).post(f"/albums/{circle_album.pk}/posts", {"post_id": str(post.pk)})
    assert response.status_code == 201
    (item,) = response.json()["items"]
    stored = AlbumItem.objects.get(pk=item["id"])
    assert stored.image.purpose == "post" and stored.post_id == post.pk  # the same image row
    # someone who joins later and may not see the post doesn't get it through the album
    newcomer = UserFactory(username="nina")
    accounts.circle_invite(actor=owner, circle=circle_album.circle, invitee=newcomer)
    invite = newcomer.circle_invites.get()
    accounts.circle_invite_accept(user=newcomer, invite_id=invite.pk)
    assert api_for(newcomer).get(f"/albums/{circle_album.pk}").json()["items"] == []
    client = Client()
    client.force_login(newcomer)
    assert client.get(media_url(stored.image, "large", "jpeg")).status_code == 404


def test_circle_post_goes_into_its_own_circle_album_only(api_for, circle, circle_album, owner):
    post = make_post(owner, visibility="circle", circle_id=str(circle.pk))
    api = api_for(owner)
    assert (
        api.post(f"/albums/{circle_album.pk}/posts", {"post_id": str(post.pk)}).status_code == 201
    )
    personal = services.album_create(owner=owner, title="Followers")
    response = api.post(f"/albums/{personal.pk}/posts", {"post_id": str(post.pk)})
    assert response.status_code == 400 and response.json()["error"]["code"] == "audience_wider"
    # a photo only once per album
    again = api.post(f"/albums/{circle_album.pk}/posts", {"post_id": str(post.pk)})
    assert again.status_code == 409
    assert AlbumItem.objects.count() == 1


def test_only_your_own_posts_can_be_picked(api_for, circle_album, owner, member):
    post = make_post(owner, visibility="public")
    response = api_for(member).post(f"/albums/{circle_album.pk}/posts", {"post_id": str(post.pk)})
    assert response.status_code == 404
    assert not AlbumItem.objects.exists()


# --- order ----------------------------------------------------------------------------------


def test_move_writes_one_row_and_bad_ids_change_nothing(api_for, circle_album, member):
    a, b, c = add_photos(circle_album, member, 3)
    api = api_for(member)
    before = dict(AlbumItem.objects.values_list("pk", "position"))
    response = api.post(f"/albums/{circle_album.pk}/items/{c.pk}/move", {"after_id": str(a.pk)})
    assert response.status_code == 200
    after = dict(AlbumItem.objects.values_list("pk", "position"))
    assert [pk for pk in before if before[pk] != after[pk]] == [c.pk]
    assert order_of(circle_album) == [a.pk, c.pk, b.pk]
    api.post(f"/albums/{circle_album.pk}/items/{b.pk}/move", {"after_id": None})
    assert order_of(circle_album) == [b.pk, a.pk, c.pk]
    # ids not in the album
    other = services.album_create(owner=member, title="Other")
    (foreign,) = add_photos(other, member)
    bad = api.post(f"/albums/{circle_album.pk}/items/{a.pk}/move", {"after_id": str(foreign.pk)})
    assert bad.status_code == 400 and "after_id" in bad.json()["error"]["fields"]
    missing = api.post(f"/albums/{circle_album.pk}/items/{foreign.pk}/move", {"after_id": None})
    assert missing.status_code == 404
    junk = api.post(f"/albums/{circle_album.pk}/items/{a.pk}/move", {"after_id": "nope"})
    assert junk.status_code == 400
    assert order_of(circle_album) == [b.pk, a.pk, c.pk]


def test_moves_without_room_renumber_once_and_keep_the_order(circle_album, member):
    items = add_photos(circle_album, member, 4)
    first = items[0]
    # squeeze: move the last photo between the first two over and over
    for _ in range(40):
        current = order_of(circle_album)
        services.album_item_move(
            actor=member, album=circle_album, item_id=current[-1], after_id=first.pk
        )
    final = order_of(circle_album)
    assert final[0] == first.pk and sorted(final) == sorted(i.pk for i in items)
    positions = list(AlbumItem.objects.values_list("position", flat=True))
    assert len(set(positions)) == 4


# --- cover ----------------------------------------------------------------------------------


def test_cover_stores_the_crop_box(api_for, circle_album, member):
    (item,) = add_photos(circle_album, member, size=(600, 600))
    crop = {"x": 0.2, "y": 0, "width": 2 / 3, "height": 1}
    response = api_for(member)._send(
        "put", f"/albums/{circle_album.pk}/cover",
        {"item_id": str(item.pk), "aspect": "2:3", "crop": crop},
    )  # fmt: skip
    assert response.status_code == 200
    cover = response.json()["cover"]
    assert cover["aspect"] == "2:3" and cover["image"]["id"] == str(item.image_id)
    assert cover["crop"] == pytest.approx(crop, abs=1e-5)


@pytest.mark.parametrize(
    ("aspect", "crop", "field"),
    [
        ("3:4", {"x": 0, "y": 0, "width": 1, "height": 1}, "aspect"),
        ("1:1", {"x": 0.5, "y": 0, "width": 1, "height": 1}, "crop"),
        ("1:1", {"x": 0, "y": 0, "width": 0, "height": 0}, "crop"),
        ("16:9", {"x": 0, "y": 0, "width": 1, "height": 1}, "crop"),  # a square box
        ("1:1", {"x": "a", "y": 0, "width": 1, "height": 1}, "crop.x"),
        ("1:1", [1, 2], "crop"),
    ],
)
def test_bad_cover_is_refused_and_changes_nothing(
    api_for, circle_album, member, aspect, crop, field
):
    (item,) = add_photos(circle_album, member, size=(600, 600))
    response = api_for(member)._send(
        "put", f"/albums/{circle_album.pk}/cover",
        {"item_id": str(item.pk), "aspect": aspect, "crop": crop},
    )  # fmt: skip
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    circle_album.refresh_from_db()
    assert circle_album.cover_item_id is None


def test_cover_from_another_album_is_refused(api_for, circle_album, member):
    other = services.album_create(owner=member, title="Other")
    (foreign,) = add_photos(other, member)
    crop = {"x": 0, "y": 0, "width": 1, "height": 1}
    response = api_for(member)._send(
        "put", f"/albums/{circle_album.pk}/cover",
        {"item_id": str(foreign.pk), "aspect": "1:1", "crop": crop},
    )  # fmt: skip
    assert response.status_code == 400 and "item_id" in response.json()["error"]["fields"]


def test_removing_the_cover_photo_clears_the_cover(circle_album, member):
    (item,) = add_photos(circle_album, member, size=(600, 600))
    crop = {"x": 0, "y": 0, "width": 1, "height": 1}
    services.album_cover_set(
        actor=member, album=circle_album, item_id=item.pk, aspect="1:1", crop=crop
    )
    services.album_item_remove(actor=member, album=circle_album, item_id=item.pk)
    circle_album.refresh_from_db()
    assert circle_album.cover_item_id is None and circle_album.cover_aspect == ""


def test_deleting_the_circle_deletes_its_albums_and_uploads(circle_album, owner, member):
    (item,) = add_photos(circle_album, member)
    accounts.circle_delete(actor=owner, circle=circle_album.circle)
    assert not Album.objects.exists()
    assert not Image.objects.filter(pk=item.image_id).exists()


def test_a_cover_from_a_post_shows_only_to_who_may_see_the_post(api_for, circle_album, owner):
    Follow.objects.create(
        follower=circle_album.circle.memberships.exclude(user=owner).first().user, following=owner
    )
    post = make_post(owner, visibility="followers")
    (item,) = services.album_posts_add(actor=owner, album=circle_album, post_id=post.pk)
    crop = {"x": 0.125, "y": 0, "width": 0.75, "height": 1}
    services.album_cover_set(
        actor=owner, album=circle_album, item_id=item.pk, aspect="1:1", crop=crop
    )
    newcomer = UserFactory(username="nina")
    accounts.circle_invite(actor=owner, circle=circle_album.circle, invitee=newcomer)
    accounts.circle_invite_accept(user=newcomer, invite_id=newcomer.circle_invites.get().pk)
    assert api_for(owner).get(f"/albums/{circle_album.pk}").json()["cover"]["aspect"] == "1:1"
    assert api_for(newcomer).get(f"/albums/{circle_album.pk}").json()["cover"] is None
