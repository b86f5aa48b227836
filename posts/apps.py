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
        from posts.selectors.export import posts_export_section
        from posts.services import interactions_remove, post_image_settled, posts_account_deleting
        from posts.views import circle_posts_section

        # a post photo: seen by whoever may see its post; its post publishes when it's ready
        purpose_register(IMAGE_PURPOSE, may_see=post_image_visible, on_settled=post_image_settled)
        # a block takes each one's likes and comments off the other's posts: the blocked
        # person's off the blocker's (as Instagram), and the blocker's off the blocked
        # person's, whose author could otherwise neither see nor delete them
        hooks.block_created.register(
            lambda *, blocker, target: interactions_remove(author=blocker, other=target)
        )
        hooks.block_created.register(
            lambda *, blocker, target: interactions_remove(author=target, other=blocker)
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
        # leaving: the person's posts and marks in their export, and gone with the account
        hooks.export_sections.register("posts", posts_export_section, order=20)
        hooks.account_deleting.register("posts", posts_account_deleting, order=20)
