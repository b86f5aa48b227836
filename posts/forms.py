"""Page forms for posts. They check shape (types, sizes); posts.services checks the rules."""

import uuid

from django import forms
from django.core.exceptions import ValidationError

from media.models import ALT_MAX
from posts.models import (
    CAPTION_MAX,
    COMMENT_MAX,
    LOCATION_MAX,
    MAX_IMAGES_PER_POST,
    Visibility,
)

IDEMPOTENCY_KEY_MAX = 100


class TextField(forms.CharField):
    """Text from a browser: its line breaks arrive as CRLF; count and store them as LF so
    2,200 characters in the textarea are 2,200 characters on the server."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """`<input type=file multiple>`: a list of uploads, in the order the browser sent them."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if self.required and not files:
            raise ValidationError("Add at least one photo.", code="required")
        if len(files) > MAX_IMAGES_PER_POST:
            raise ValidationError(f"A post has at most {MAX_IMAGES_PER_POST} photos.")
        clean_one = super().clean
        return [clean_one(upload, initial) for upload in files]


class RefusalsMixin:
    def add_refusal(self, exc: Exception, message: str) -> None:
        """Show a service's refusal: a ValidationError({field: [msg]}) on its fields,
        anything else (too large, rate limited, storage down) above the form."""
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, message)

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


class PostCreateForm(RefusalsMixin, forms.Form):
    images = MultipleFileField(
        label="Photos",
        help_text=f"Up to {MAX_IMAGES_PER_POST} photos: JPEG, PNG, WebP or HEIC, 10 MB each.",
        widget=MultipleFileInput(
            attrs={
                "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif",
                "aria-describedby": "images-help",
            }
        ),
    )
    caption = TextField(
        required=False,
        max_length=CAPTION_MAX,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "data-counter-max": CAPTION_MAX,
                "aria-describedby": "caption-counter",
            }
        ),
    )
    location = forms.CharField(required=False, max_length=LOCATION_MAX)
    visibility = forms.ChoiceField(
        label="Who can see it", choices=Visibility.choices, initial=Visibility.PUBLIC
    )
    circle_id = forms.CharField(label="Circle", required=False, widget=forms.Select)
    idempotency_key = forms.CharField(
        required=False,
        max_length=IDEMPOTENCY_KEY_MAX,
        widget=forms.HiddenInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, circles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.circles = list(circles)
        self.fields["circle_id"].widget.choices = [("", "Choose a circle")] + [
            (str(circle.pk), circle.name) for circle in self.circles
        ]
        if not self.circles:  # circle posts need a circle of one's own
            self.fields["visibility"].choices = [
                c for c in Visibility.choices if c[0] != Visibility.CIRCLE
            ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        self.alts = self.data.getlist("alt") if hasattr(self.data, "getlist") else []

    def clean(self):
        data = super().clean()
        if data.get("visibility") != Visibility.CIRCLE:
            data["circle_id"] = ""  # the select stays in the page without JS; ignore it
        if any(len(alt) > ALT_MAX for alt in self.alts):
            raise ValidationError(f"Keep each photo description under {ALT_MAX} characters.")
        return data

    @property
    def alt_slots(self) -> list[tuple[int, str]]:
        """(number, text) of the per-photo descriptions the page offers without JS."""
        alts = self.alts + [""] * MAX_IMAGES_PER_POST
        return [(n + 1, alts[n]) for n in range(MAX_IMAGES_PER_POST)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "files": data["images"],
            "caption": data["caption"],
            "location": data["location"],
            "visibility": data["visibility"],
            "circle_id": data["circle_id"] or None,
            "alts": self.alts[: len(data["images"])],
            "idempotency_key": data["idempotency_key"] or None,
        }


class CommentForm(RefusalsMixin, forms.Form):
    content = TextField(
        label="Add a comment",
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": "Add a comment…"}),
        error_messages={"required": "Write something first."},
    )
    parent_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
