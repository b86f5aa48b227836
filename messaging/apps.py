from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import hooks
        from media.registry import purpose_register
        from messaging import selectors, services
        from messaging.models import IMAGE_PURPOSE, Conversation
        from messaging.selectors import conversation_notification_targets, message_image_visible
        from messaging.views import circle_chat_section, story_reply_url
        from notifications.registry import BY_ACTOR, Kind, target_register
        from stories.hooks import replies_register

        # a chat photo: seen by whoever may read its message; re-sent live once settled
        purpose_register(
            IMAGE_PURPOSE, may_see=message_image_visible, on_settled=services.message_image_settled
        )
        # a circle's group chat holds exactly its members, and goes with it
        hooks.circle_members_changed.register(services.circle_conversation_sync)
        hooks.circle_deleting.register(services.circle_conversation_close)
        # the circle page's chat section: one tap away, with the unread count
        hooks.circle_sections.register("chat", circle_chat_section, order=5)
        # a block silences the two people's direct conversation until no block is left
        stop, resume = services.participant_events_stop, services.participant_events_resume
        hooks.block_created.register(lambda *, blocker, target: stop(user=blocker, other=target))
        hooks.block_lifted.register(lambda *, blocker, target: resume(user=blocker, other=target))
        # the story viewer offers a reply box where its viewer may message the author
        replies_register(messageable=selectors.user_ids_messageable, url=story_reply_url)
        # notifications about conversations: shown while the recipient may read it
        target_register(
            "conversation",
            visible_to=lambda viewer, now: Conversation.objects.readable_by(viewer),
            describe=conversation_notification_targets,
            kinds=[Kind("group_added", "{actors} added you to {target}", group=BY_ACTOR)],
        )
        # leaving: conversations in the export; messages become "deleted account"
        hooks.export_sections.register("messages", selectors.messages_export_section, order=50)
        hooks.account_deleting.register("messages", services.messages_account_deleting, order=50)
