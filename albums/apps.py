from django.apps import AppConfig


class AlbumsConfig(AppConfig):
    name = "albums"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from albums import services
        from albums.models import IMAGE_PURPOSE, Album
        from albums.selectors import (
            album_image_visible,
            album_notification_targets,
            albums_export_section,
        )
        from albums.views import circle_albums_section
        from media.registry import purpose_register
        from notifications.registry import BY_ACTOR, BY_TARGET, Kind, target_register

        # an album upload: seen by whoever may see an album that holds it. Nothing to do
        # when it settles: the album page shows each photo's state as it is.
        purpose_register(IMAGE_PURPOSE, may_see=album_image_visible)
        # a circle's albums go with it; photos a leaver uploaded stay, owned by the circle
        hooks.circle_deleting.register(services.albums_circle_deleting)
        hooks.circle_members_changed.register(services.album_uploads_rehome)
        # the circle page's albums section
        hooks.circle_sections.register("albums", circle_albums_section, order=20)
        # notifications about albums: shown while the recipient may see the album
        target_register(
            "album",
            visible_to=lambda viewer, now: Album.objects.visible_to(viewer),
            describe=album_notification_targets,
            kinds=[
                Kind("album_created", "{actors} made the album {target}", group=BY_ACTOR),
                Kind("album_photos", "{actors} added photos to {target}", group=BY_TARGET),
                Kind("album_like", "{actors} liked your album {target}", group=BY_TARGET),
            ],
        )
        # leaving: albums in the export; the person's photos and albums go with them
        hooks.export_sections.register("albums", albums_export_section, order=40)
        hooks.account_deleting.register("albums", services.albums_account_deleting, order=40)
