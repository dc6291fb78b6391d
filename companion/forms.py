"""Small forms for the POSTs viewers make; their errors are shown, never silently cut."""

from django import forms

from .models import parse_code


class PartyForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


class ReportForm(forms.Form):
    message = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AsOfForm(forms.Form):
    """An episode code like 2x5 to look back from, or "now" for the viewer's own progress."""

    episode = forms.CharField(max_length=20)

    def clean_episode(self):
        value = self.cleaned_data["episode"].strip()
        if value in ("", "now"):
            return None
        code = parse_code(value)
        if code is None:
            raise forms.ValidationError("Pick an episode like 2x5.")
        return code


class BrowseForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True, label="Find a show")


class FollowForm(forms.Form):
    action = forms.ChoiceField(choices=[("follow", "Follow"), ("unfollow", "Stop following")])


class FillGapForm(forms.Form):
    """The furthest episode the viewer has watched: every regular episode up to it is marked."""

    up_to = forms.CharField(max_length=20)

    def clean_up_to(self):
        code = parse_code(self.cleaned_data["up_to"])
        if code is None:
            raise forms.ValidationError("Pick an episode like 2x5.")
        return code


class ShowAnywayForm(forms.Form):
    """Which of an episode's texts hidden by preference to reveal."""

    part = forms.ChoiceField(choices=[("title", "Title"), ("synopsis", "Synopsis")])
