"""Page forms for messaging. They check shape (types, sizes); messaging.services checks
the rules."""

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError

from messaging.models import CLIENT_ID_MAX, GROUP_MAX_PEOPLE, MESSAGE_MAX, TITLE_MAX

REACTION_CHOICES = ("❤️", "😂", "😮", "😢", "👍", "🔥")


class TextField(forms.CharField):
    """Browser text: count CRLF line breaks as one character, like the service does."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class RefusalsMixin:
    def add_refusal(self, exc: Exception, message: str) -> None:
        """Show a service's refusal on its field, or above the form."""
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, message)


class ConversationStartForm(RefusalsMixin, forms.Form):
    usernames = forms.CharField(
        label="To",
        max_length=2000,
        help_text="One username for a direct conversation, several (separated by commas or "
        "spaces) for a group.",
    )
    title = forms.CharField(label="Group name (optional)", max_length=TITLE_MAX, required=False)

    def clean_usernames(self) -> list[str]:
        names = [n.lstrip("@") for n in re.split(r"[\s,]+", self.cleaned_data["usernames"]) if n]
        if not names:
            raise ValidationError("Name at least one person.")
        if len(names) > GROUP_MAX_PEOPLE - 1:
            raise ValidationError(f"A conversation has at most {GROUP_MAX_PEOPLE} people.")
        return names


class MessageForm(RefusalsMixin, forms.Form):
    """The composer. client_id is minted when the page is rendered, so submitting the same
    form twice (a double click, a reload that re-posts) sends one message."""

    content = TextField(
        label="Message",
        max_length=MESSAGE_MAX,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": "Message…"}),
    )
    image = forms.FileField(label="Photo", required=False)
    client_id = forms.CharField(max_length=CLIENT_ID_MAX, widget=forms.HiddenInput)

    @classmethod
    def fresh(cls):
        return cls(initial={"client_id": str(uuid.uuid4())})

    def clean(self):
        data = super().clean()
        empty = not (data.get("content") or "").strip() and not data.get("image")
        if empty and not self.errors:
            raise ValidationError("Write a message or attach a photo.")
        return data


class ReactionForm(forms.Form):
    emoji = forms.CharField(max_length=16)
    remove = forms.BooleanField(required=False)


class StoryReplyForm(forms.Form):
    """The story viewer's reply box; client_id is minted with the page (a double submit
    sends one message)."""

    content = TextField(label="Reply", max_length=MESSAGE_MAX, strip=False)
    client_id = forms.CharField(max_length=CLIENT_ID_MAX, required=False)
