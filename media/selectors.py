"""Who may see an image: its owner, or whoever its purpose's registered rule allows."""

from django.http import Http404

from circles.ids import uuid_or_404
from media import registry
from media.models import Image, ImageState


def image_get_visible(*, viewer, image_id) -> Image:
    """A ready image viewer may see; Http404 otherwise (also for an unregistered purpose:
    nobody wrote its rule, so nobody is served)."""
    image = Image.objects.filter(pk=uuid_or_404(image_id), state=ImageState.READY).first()
    purpose = registry.purpose_get(image.purpose) if image is not None else None
    if purpose is None:
        raise Http404
    if viewer is not None and viewer.is_authenticated and image.owner_id == viewer.pk:
        return image
    if not purpose.may_see(viewer, image):
        raise Http404
    return image


def images_visible(*, viewer, image_ids) -> list[Image]:
    """The ready images among image_ids that viewer may see, in the order asked."""
    found = []
    for image_id in dict.fromkeys(image_ids):
        try:
            found.append(image_get_visible(viewer=viewer, image_id=image_id))
        except Http404:
            continue
    return found
