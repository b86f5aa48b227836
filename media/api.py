"""Media endpoints beyond the contract's image objects: signed URLs for clients that
cannot send a header with an image request."""

from ninja import Router

from media import selectors
from media.schemas import SignedUrlsIn, SignedUrlsOut
from media.signing import signed_renditions, signed_urls_expire_at

router = Router(tags=["media"])


@router.post("/signed-urls", response=SignedUrlsOut)
def signed_urls(request, payload: SignedUrlsIn):
    """Signed URLs of every rendition of the listed images you may see (the others are
    left out, as if they did not exist). Each URL works without a cookie or header until
    `expires_at`, and only while you may still see the image."""
    expires_at = signed_urls_expire_at()
    shown = selectors.images_visible(viewer=request.auth, image_ids=payload.image_ids)
    images = [
        {
            "id": str(image.pk),
            "renditions": signed_renditions(image=image, viewer_id=request.auth.pk),
        }
        for image in shown
    ]
    return {"expires_at": expires_at, "images": images}
