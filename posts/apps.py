from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from media.registry import purpose_register
        from posts.models import IMAGE_PURPOSE
        from posts.selectors import post_image_visible, user_posts_count
        from posts.services import interactions_remove, post_image_settled
        from posts.views import circle_posts_section

        # a post photo: seen by whoever may see its post; its post publishes when it's ready
        purpose_register(IMAGE_PURPOSE, may_see=post_image_visible, on_settled=post_image_settled)
        # a block takes the blocked person's likes and comments off the blocker's posts
        hooks.block_created.register(
            lambda *, blocker, target: interactions_remove(author=blocker, other=target)
        )
        hooks.profile_counts["posts_count"] = user_posts_count
        # the circle page's posts section: newest first, growing as you scroll
        hooks.circle_sections.register("posts", circle_posts_section, order=10)
