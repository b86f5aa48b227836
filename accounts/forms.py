"""Page forms for accounts. They check shape (types, lengths, two passwords alike);
accounts.services checks the rules (username format and reservation, uniqueness,
password strength, roles, blocks) and its ValidationErrors land on these fields."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.models import CircleRole

USERNAME_HELP = "3–30 characters: lowercase letters, digits and underscores."
AVATAR_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


class RefusalsMixin:
    """Put a service's refusal on the form: ValidationError({field: [...]}) on its
    fields (unknown fields above the form), anything else above the form."""

    def add_refusal(self, exc: Exception, message: str | None = None) -> None:
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        elif isinstance(exc, ValidationError):
            self.add_error(None, exc.messages)
        else:
            self.add_error(None, message or str(exc))


class TextField(forms.CharField):
    """Browser text: CRLF line breaks are counted and stored as LF."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


def _text(**attrs):
    return forms.TextInput(attrs=attrs)


# --- registration and sign-in -----------------------------------------------------------


class RegisterForm(RefusalsMixin, forms.Form):
    username = forms.CharField(
        max_length=30,
        help_text=USERNAME_HELP,
        widget=_text(autocomplete="username", autocapitalize="none", spellcheck="false"),
    )
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    display_name = forms.CharField(
        label="Display name",
        max_length=60,
        required=False,
        help_text="Optional: how your name appears to others.",
        widget=_text(autocomplete="name"),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # from the invitation link (a hidden field) or pasted (invite-only, no link)
    invite_token = forms.CharField(
        label="Invitation code",
        max_length=100,
        required=False,
        help_text="The last part of the invitation link a member sent you.",
        widget=_text(autocomplete="off", autocapitalize="none", spellcheck="false"),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") != data["password"]:
            self.add_error("password_again", "The two passwords differ.")
        return data

    def service_kwargs(self) -> dict:
        keys = ("username", "email", "password", "display_name", "invite_token")
        return {key: self.cleaned_data[key] for key in keys}


class LoginForm(RefusalsMixin, forms.Form):
    username = forms.CharField(
        max_length=254,
        widget=_text(autocomplete="username", autocapitalize="none", spellcheck="false"),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def _code_field(**kwargs):
    attrs = {
        "autocomplete": "one-time-code",
        "autocapitalize": "none",
        "spellcheck": "false",
        "inputmode": "text",  # recovery codes have letters
    }
    return forms.CharField(max_length=32, widget=_text(**attrs), **kwargs)


class CodeForm(RefusalsMixin, forms.Form):
    """A second-factor code: the authenticator's six digits (or a recovery code)."""

    otp_code = _code_field(
        label="Code",
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
    )


class ConfirmCodeForm(RefusalsMixin, forms.Form):
    otp_code = _code_field(
        label="Code from the app", help_text="The 6 digits it shows for Circles right now."
    )


class TwoFactorDisableForm(RefusalsMixin, forms.Form):
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    otp_code = _code_field(
        label="Code", help_text="From your authenticator app, or a recovery code."
    )


class InvitationForm(RefusalsMixin, forms.Form):
    note = forms.CharField(
        label="Who is it for?",
        max_length=60,
        required=False,
        help_text="Optional, for your list: only you see it.",
        widget=_text(autocomplete="off"),
    )


class PasswordChangeForm(RefusalsMixin, DjangoPasswordChangeForm):
    """Django's form checks the old password and the new one's strength and match; the
    view then calls services.user_password_set, which also ends the other sessions."""


# --- profile and settings -------------------------------------------------------------


class ProfileForm(RefusalsMixin, forms.Form):
    display_name = forms.CharField(
        label="Display name", max_length=60, required=False, widget=_text(autocomplete="name")
    )
    bio = TextField(
        max_length=150,
        required=False,
        help_text="Up to 150 characters.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 150}),
    )
    is_private = forms.BooleanField(
        label="Private account",
        required=False,
        help_text="Only people you approve see your posts and your follower lists.",
    )
    avatar = forms.FileField(
        label="Profile photo",
        required=False,
        help_text="JPEG, PNG, WebP or HEIC, up to 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": AVATAR_ACCEPT}),
    )

    def profile_kwargs(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("display_name", "bio", "is_private")}


class TokenForm(RefusalsMixin, forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=60,
        required=False,
        help_text="Optional: what uses it, such as “backup script”.",
    )


# --- circles ----------------------------------------------------------------------------


class CircleForm(RefusalsMixin, forms.Form):
    name = forms.CharField(max_length=60)
    description = TextField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )


class UsernameForm(RefusalsMixin, forms.Form):
    """Someone named by username: a circle invitation."""

    username = forms.CharField(
        max_length=30,
        widget=_text(autocapitalize="none", spellcheck="false", autocomplete="off"),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lstrip("@").lower()


class TransferForm(UsernameForm):
    """Hand a circle to one of its other members (chosen from a list)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "New owner"
        self.fields["username"].widget = forms.Select()

    def set_members(self, members) -> None:
        self.fields["username"].widget.choices = [
            (member.username, f"{member.name} (@{member.username})") for member in members
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(CircleRole.ADMIN, "Admin"), (CircleRole.MEMBER, "Member")])
