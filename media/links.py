"""The app's own, checked URL of an image's rendition (media.views serves it, asking the
image's purpose whether the viewer may see it). Apart from media.schemas, so that
selectors and services can write URLs without importing the API's framework."""

from circles.links import reverse_with_id


def media_url(image, rendition: str, fmt: str) -> str:
    """The app's own, checked URL for one rendition of an image."""
    return media_url_for_id(image.pk, rendition, fmt)


def media_url_for_id(image_id, rendition: str, fmt: str) -> str:
    return reverse_with_id("media:image", "image_id", image_id, rendition=rendition, fmt=fmt)
