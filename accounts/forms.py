from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserCreationForm

from config.middleware import client_ip

from .models import PasswordResetRequest, User


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False,
        help_text="Optional; to reset a forgotten password, and for the emails you ask for. "
        "We send it a link to confirm it first.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "display_name",
            "hide_unwatched_titles",
            "show_upcoming_titles",
            "hide_unwatched_synopses",
            "hide_unwatched_images",
            "email_when_episode_airs",
            "email_weekly_digest",
        ]


class PasswordConfirmedForm(forms.Form):
    """What only the account's holder may do: they type their password to confirm it."""

    password = forms.CharField(
        widget=forms.PasswordInput, help_text="Type your password to confirm."
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError("That is not your password.")
        return self.cleaned_data["password"]


class DeleteAccountForm(PasswordConfirmedForm):
    """Deleting the account asks for nothing but the password."""


class EmailForm(PasswordConfirmedForm):
    """A new address, behind the password: whoever holds the address can reset the password."""

    email = forms.EmailField(
        required=False, label="Email address", help_text="Leave blank to have no address."
    )
    field_order = ["email", "password"]


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending only a few mails an hour to one address or from one client."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Asked of every request, known address or not, and the view answers the same either way:
        # neither the limit nor its absence says whether an account exists.
        request = kwargs.get("request")
        if PasswordResetRequest.objects.admit(
            email=self.cleaned_data["email"], client=client_ip(request) if request else None
        ):
            super().save(*args, **kwargs)
