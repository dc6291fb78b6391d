from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False, help_text="Optional; only used to reset a forgotten password."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["hide_unwatched_titles", "hide_unwatched_synopses"]


class DeleteAccountForm(forms.Form):
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
