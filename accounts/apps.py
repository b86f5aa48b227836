from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from accounts.models import AVATAR_PURPOSE, DataExport, ExportState, User
        from accounts.people import user_summary
        from accounts.selectors import (
            account_export_section,
            block_exists_between_ids,
            circle_notification_targets,
            circles_for_notifications,
            data_export_notification_targets,
            user_avatar_visible,
            user_notification_targets,
        )
        from accounts.services import leaving, user_avatar_settled
        from media.registry import purpose_register
        from notifications import registry
        from notifications.registry import BY_ACTOR, BY_DAY, BY_TARGET, Kind

        # an avatar: seen by whoever may see the profile; current once it is ready
        purpose_register(
            AVATAR_PURPOSE, may_see=user_avatar_visible, on_settled=user_avatar_settled
        )
        # notifications: people as the API shows them, and no notification across a block
        registry.people_register(
            summary=user_summary,
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
        # "your data export is ready": shown while the export can still be downloaded
        registry.target_register(
            "data_export",
            visible_to=lambda viewer, now: DataExport.objects.filter(
                user=viewer, state=ExportState.READY, expires_at__gt=now
            ),
            describe=data_export_notification_targets,
            kinds=[
                Kind("export_ready", "Your {target} is ready to download", to_self=True),
            ],
        )
        # "Download your data": the profile, people and circles open the ZIP
        hooks.export_sections.register("account", account_export_section, order=0)
        # account deletion, around the content apps' steps (posts 20, stories 30,
        # albums 40, messaging 50): circles change hands before any content goes, are
        # left after it, then every image still owned goes (files first), then exports
        hooks.account_deleting.register("circles_hand_over", leaving.circles_hand_over, order=10)
        hooks.account_deleting.register("circles_leave", leaving.circles_leave_all, order=80)
        hooks.account_deleting.register("images", leaving.owned_images_purge, order=90)
        hooks.account_deleting.register("exports", leaving.exports_purge, order=95)
