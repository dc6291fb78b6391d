from django import forms

from .models import MediaServer


class ServerForm(forms.Form):
    """Which media server a new URL or a revocation is for."""

    server = forms.ChoiceField(choices=MediaServer.choices)
