"""The POSTs of a thread: a post or reply, a rating, a report. Errors are shown, never cut."""

from __future__ import annotations

from django import forms

from .markup import MarkupError, parse
from .models import MAX_POST_LENGTH
from .threads import Thread, spoiled_episodes, unmarked_names


class PostForm(forms.Form):
    text = forms.CharField(
        label="Your post",
        max_length=MAX_POST_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Plain text; links work. Mark a part that spoils a later episode as "
        "[spoiler 2x3]…[/spoiler]: readers who have not watched up to 2x3 do not receive it "
        "at all, not even that it is there.",
    )
    reply_to = forms.CharField(required=False, max_length=22, widget=forms.HiddenInput)

    def __init__(self, *args, thread: Thread, replying: bool = True, **kwargs):
        self.thread = thread
        super().__init__(*args, **kwargs)
        if not replying:
            # Editing a post: what it answers stays as it was.
            del self.fields["reply_to"]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        about = self.thread.writing_episode
        if about is None:
            raise forms.ValidationError("Watch an episode first.")
        try:
            parts = parse(text)
        except MarkupError as error:
            raise forms.ValidationError(str(error)) from error
        point = self.thread.point
        episodes = spoiled_episodes(about.show_id, {p.up_to for p in parts if p.up_to})
        for part in parts:
            if part.up_to is None:
                continue
            episode = episodes.get(part.up_to)
            label = "S{}E{}".format(*part.up_to)
            # Only up to the thread's own point: a span past it would be hidden from its writer too.
            if episode is None or not self.thread.viewing.is_revealed(episode):
                raise forms.ValidationError(
                    f"You can mark a spoiler only up to an episode this thread has reached "
                    f"({point.short_label or 'none yet'}), not {label}."
                )
            if episode.sequence <= about.sequence:
                raise forms.ValidationError(
                    f"{label} is not after {about.short_label}: nothing there needs marking. "
                    "Mark only what spoils a later episode."
                )
        problems = unmarked_names(parts, episodes, about, point)
        if problems:
            raise forms.ValidationError(problems)
        return text


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)],
        widget=forms.RadioSelect,
        label="Your rating",
    )


class PostReportForm(forms.Form):
    message = forms.CharField(
        label="What did it spoil? (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
