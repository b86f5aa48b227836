from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.models import AVATAR_PURPOSE, User
        from accounts.schemas import UserSummaryOut
        from accounts.selectors import (
            block_exists_between_ids,
            circle_notification_targets,
            circles_for_notifications,
            user_avatar_visible,
            user_notification_targets,
        )
        from accounts.services import user_avatar_settled
        from media.registry import purpose_register
        from notifications import registry
        from notifications.registry import BY_ACTOR, BY_DAY, BY_TARGET, Kind

        # an avatar: seen by whoever may see the profile; current once it is ready
        purpose_register(
            AVATAR_PURPOSE, may_see=user_avatar_visible, on_settled=user_avatar_settled
        )
        # notifications: people as the API shows them, and no notification across a block
        registry.people_register(
            summary=lambda user: UserSummaryOut.from_orm(user).model_dump(),
            blocked_between=block_exists_between_ids,
        )
        # about people (follows, requests): shown while the recipient may see the profile
        registry.target_register(
            "user",
            visible_to=lambda viewer, now: User.objects.visible_to(viewer),
            describe=user_notification_targets,
            kinds=[
                Kind("follow", "{actors} started following you", group=BY_DAY),
                Kind("follow_request", "{actors} asked to follow you", group=BY_ACTOR),
                Kind("follow_approved", "{actors} approved your follow request", group=BY_ACTOR),
            ],
        )
        # about circles: shown while the recipient is a member or still invited
        registry.target_register(
            "circle",
            visible_to=lambda viewer, now: circles_for_notifications(viewer),
            describe=circle_notification_targets,
            kinds=[
                Kind("circle_invite", "{actors} invited you to {target}", group=BY_ACTOR),
                Kind("circle_joined", "{actors} joined {target}", group=BY_TARGET),
            ],
        )
