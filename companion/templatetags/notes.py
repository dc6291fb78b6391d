"""A reviewer's note as HTML, built in Python: the episode page shows five, the story up to three
an entry and twenty-five entries a season, and including companion/_note.html for each took most
of a first look's time. tests/companion/test_story.py holds the two to the same bytes;
_note.html is the readable form of what note_html() builds."""

from django import template
from django.utils.html import conditional_escape, escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

from companion.models import ReviewerNote

register = template.Library()


def note_html(note: ReviewerNote) -> str:
    """companion/_note.html for this note; it must escape everything it puts in."""
    episode = note.episode
    article = (
        f' (<a href="{escape(note.url)}" rel="nofollow noopener noreferrer">article</a>)'
        if note.url
        else ""
    )
    return (
        f'<blockquote class="note">\n  {linebreaks(note.text, autoescape=True)}\n'
        f"  <footer>— {conditional_escape(note.citation)}{article}"
        f' <span class="muted">on <a href="{escape(episode.get_absolute_url())}">'
        f"{escape(episode.short_label)}</a></span>"
        f' <a class="report-link" href="{escape(note.report_url)}" rel="nofollow">'
        "Report a spoiler</a></footer>\n</blockquote>\n"
    )


@register.simple_tag(name="note")
def note_tag(note: ReviewerNote) -> SafeString:
    return mark_safe(note_html(note))
