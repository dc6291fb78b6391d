from django import forms

MAX_LIVE_TOKENS = 20


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, such as the app or the device that uses it.",
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        if self.user.api_tokens.filter(revoked=False).count() >= MAX_LIVE_TOKENS:
            raise forms.ValidationError(
                f"You have {MAX_LIVE_TOKENS} tokens in use. Revoke one you no longer need first."
            )
        return super().clean()
