"""How a person is shown where the API's schemas are not used: their avatar URL and
their summary (UserSummaryOut's fields). Apart from accounts.schemas so that selectors,
events and the tray's cards write them without importing the API's framework, which the
Celery worker does without."""

from media.links import media_url_for_id


def avatar_url(user, rendition: str = "small") -> str | None:
    """A person's avatar URL (the checked media URL), or None. `avatar` is only ever set
    to an image whose renditions are ready."""
    return avatar_url_for_id(user.avatar_id, rendition)


def avatar_url_for_id(avatar_id, rendition: str = "small") -> str | None:
    if not avatar_id:
        return None
    return media_url_for_id(avatar_id, rendition, "jpeg")


def user_summary(user) -> dict:
    """What UserSummaryOut writes for user, without pydantic (notifications describe a
    page's people with it)."""
    return {
        "id": str(user.pk),
        "username": user.username,
        "display_name": user.display_name,
        "avatar": avatar_url(user),
    }
