from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "stories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks as account_hooks
        from media.registry import purpose_register
        from notifications.registry import BY_TARGET, Kind, target_register
        from posts import hooks
        from stories.models import IMAGE_PURPOSE, Story
        from stories.rings import home_tray
        from stories.selectors import (
            stories_export_section,
            story_image_visible,
            story_notification_targets,
        )
        from stories.services import stories_account_deleting

        # a story photo: seen by whoever may see its story (Story.objects.visible_to);
        # nothing to do when it is settled — the story shows to others once it is ready
        purpose_register(IMAGE_PURPOSE, may_see=story_image_visible)
        # the tray at the top of the home page (posts' page: it asks, never imports us),
        # as rings: a ring needs the person, seen or not and where to start, not the photos
        hooks.home_sections.append(home_tray)
        # "ana replied to your story": shown while the story lives (the author's view of it)
        target_register(
            "story",
            visible_to=lambda viewer, now: Story.objects.visible_to(viewer, now=now),
            describe=story_notification_targets,
            kinds=[Kind("story_reply", "{actors} replied to your {target}", group=BY_TARGET)],
        )
        # leaving: live stories in the export; the person's stories and views go with them
        account_hooks.export_sections.register("stories", stories_export_section, order=30)
        account_hooks.account_deleting.register("stories", stories_account_deleting, order=30)
