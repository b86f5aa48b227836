from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from media.registry import purpose_register
        from notifications.registry import BY_ACTOR, BY_TARGET, Kind, target_register
        from posts.models import IMAGE_PURPOSE, Comment, Post
        from posts.selectors import (
            comment_notification_targets,
            post_image_visible,
            post_notification_targets,
            user_posts_count,
        )
        from posts.services import interactions_remove, post_image_settled
        from posts.views import circle_posts_section

        # a post photo: seen by whoever may see its post; its post publishes when it's ready
        purpose_register(IMAGE_PURPOSE, may_see=post_image_visible, on_settled=post_image_settled)
        # a block takes the blocked person's likes and comments off the blocker's posts
        hooks.block_created.register(
            lambda *, blocker, target: interactions_remove(author=blocker, other=target)
        )
        hooks.profile_counts["posts_count"] = user_posts_count
        # notifications about posts and comments: shown while the recipient may see them
        target_register(
            "post",
            visible_to=lambda viewer, now: Post.objects.visible_to(viewer),
            describe=post_notification_targets,
            kinds=[
                Kind("post_like", "{actors} liked your {target}", group=BY_TARGET),
                Kind("post_comment", "{actors} commented on your {target}", group=BY_TARGET),
                Kind("post_mention", "{actors} mentioned you in a {target}", group=BY_ACTOR),
            ],
        )
        target_register(
            "comment",
            visible_to=lambda viewer, now: Comment.objects.visible_to(viewer),
            describe=comment_notification_targets,
            kinds=[
                Kind("comment_like", "{actors} liked your {target}", group=BY_TARGET),
                Kind("comment_reply", "{actors} replied to your {target}", group=BY_TARGET),
                Kind("comment_mention", "{actors} mentioned you in a {target}", group=BY_ACTOR),
            ],
        )
        # the circle page's posts section: newest first, growing as you scroll
        hooks.circle_sections.register("posts", circle_posts_section, order=10)
