from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.models import AVATAR_PURPOSE
        from accounts.selectors import user_avatar_visible
        from accounts.services import user_avatar_settled
        from media.registry import purpose_register

        # an avatar: seen by whoever may see the profile; current once it is ready
        purpose_register(
            AVATAR_PURPOSE, may_see=user_avatar_visible, on_settled=user_avatar_settled
        )
