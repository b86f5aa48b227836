"""The one view that serves image bytes: /media/<image id>/<rendition>.<fmt>."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.views.decorators.http import require_GET

from circles.auth import accepts_bearer_token
from media import selectors, storage
from media.signing import PARAMETER, signed_viewer_id


def _viewer(request, image_id):
    """The signed URL's viewer when the URL is signed (an invalid signature is nobody),
    else whoever the request's credentials name: session cookie or bearer token."""
    token = request.GET.get(PARAMETER)
    if token is None:
        return request.user
    viewer_id = signed_viewer_id(image_id=image_id, token=token)
    viewer = get_user_model().objects.filter(pk=viewer_id, is_active=True).first()
    return viewer or AnonymousUser()


@require_GET
@accepts_bearer_token
def media_serve(request, image_id, rendition, fmt):
    """Every photo byte goes through here: the viewer is checked on every request, then
    the file is streamed (local disk) or redirected to a signed, expiring URL (S3)."""
    image = selectors.image_get_visible(viewer=_viewer(request, image_id), image_id=image_id)
    key = image.renditions[rendition][fmt]
    response = storage.media_response(key, fmt, request=request)
    # private: shared caches must never keep a photo another viewer could then get
    response["Cache-Control"] = "private, max-age=300"
    return response
