"""circles.links: a URL reversed once and filled in with an id is the URL reverse() gives."""

import uuid

import pytest
from django.urls import reverse

from circles.links import reverse_with_id

ID = uuid.UUID("6f1c2b9e-3d4a-4e5f-9a8b-7c6d5e4f3a2b")


@pytest.mark.parametrize("value", [ID, str(ID), str(ID).upper()])
def test_same_as_reverse(value):
    canonical = uuid.UUID(str(value))
    assert reverse_with_id("posts:like", "post_id", value) == reverse(
        "posts:like", kwargs={"post_id": canonical}
    )
    for rendition in ("thumbnail", "small"):
        assert reverse_with_id(
            "media:image", "image_id", value, rendition=rendition, fmt="jpeg"
        ) == reverse(
            "media:image",
            kwargs={"image_id": str(canonical), "rendition": rendition, "fmt": "jpeg"},
        )


def test_only_uuids_go_in():
    with pytest.raises(ValueError):
        reverse_with_id("posts:like", "post_id", "../../admin")


def test_nav_links_are_the_reversed_urls(rf):
    from circles.links import _NAV, nav

    links = nav(rf.get("/"))["nav"]
    assert links == {key: reverse(viewname) for key, viewname in _NAV.items()}
    assert links["settings"] == "/accounts/settings/"
