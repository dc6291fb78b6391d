from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import history
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


class HistoryImportForm(forms.Form):
    file = forms.FileField(
        label="Watch history file",
        help_text="A Trakt JSON export or a TV Time-style CSV, up to 2 MB.",
        widget=forms.FileInput(attrs={"accept": ".json,.csv,application/json,text/csv"}),
    )
    format = forms.ChoiceField(choices=history.FORMATS, initial="auto")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > history.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{history.MAX_UPLOAD_BYTES // 1024 // 1024} MB. Split it into smaller files."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if "file" in cleaned and "format" in cleaned:
            try:
                cleaned["parsed"] = history.parse(cleaned["file"].read(), cleaned["format"])
            except history.HistoryError as error:
                self.add_error("file", error.problems)
        return cleaned
