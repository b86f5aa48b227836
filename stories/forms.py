"""Page forms for stories. They check shape (types, sizes); stories.services checks the
rules (the audience, the circle, the photo)."""

import uuid

from django import forms

from stories.models import IDEMPOTENCY_KEY_MAX, Audience

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


class StoryCreateForm(forms.Form):
    image = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG, WebP or HEIC, up to 10 MB. Shown for 24 hours.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "Add a photo."},
    )
    audience = forms.ChoiceField(
        label="Who sees it",
        choices=[(Audience.FOLLOWERS, "Your followers"), (Audience.CIRCLE, "One circle")],
        initial=Audience.FOLLOWERS,
        widget=forms.RadioSelect,
    )
    circle_id = forms.ChoiceField(label="Circle", required=False)
    idempotency_key = forms.CharField(
        max_length=IDEMPOTENCY_KEY_MAX, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, circles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.circles = list(circles)
        self.fields["circle_id"].choices = [("", "Choose a circle")] + [
            (str(circle.pk), circle.name) for circle in self.circles
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "file": data["image"],
            "audience": data["audience"],
            "circle_id": data["circle_id"] or None,
            "idempotency_key": data["idempotency_key"] or None,
        }

    def add_refusal(self, exc, message: str) -> None:
        """A service's refusal on its field (the form's names), or above the form."""
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, message)
