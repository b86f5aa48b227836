from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "stories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from media.registry import purpose_register
        from posts import hooks
        from stories.models import IMAGE_PURPOSE
        from stories.selectors import story_image_visible, story_list_for_tray

        # a story photo: seen by whoever may see its story (Story.objects.visible_to);
        # nothing to do when it is settled — the story shows to others once it is ready
        purpose_register(IMAGE_PURPOSE, may_see=story_image_visible)
        # the tray at the top of the home page (posts' page: it asks, never imports us)
        hooks.home_sections.append(
            lambda *, viewer: {"story_tray": story_list_for_tray(viewer=viewer)}
        )
