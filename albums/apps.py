from django.apps import AppConfig


class AlbumsConfig(AppConfig):
    name = "albums"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from albums import services
        from albums.models import IMAGE_PURPOSE
        from albums.selectors import album_image_visible
        from albums.views import circle_albums_section
        from media.registry import purpose_register

        # an album upload: seen by whoever may see an album that holds it. Nothing to do
        # when it settles: the album page shows each photo's state as it is.
        purpose_register(IMAGE_PURPOSE, may_see=album_image_visible)
        # a circle's albums go with it; photos a leaver uploaded stay, owned by the circle
        hooks.circle_deleting.register(services.albums_circle_deleting)
        hooks.circle_members_changed.register(services.album_uploads_rehome)
        # the circle page's albums section
        hooks.circle_sections.register("albums", circle_albums_section, order=20)
