"""A character's state line as HTML, built in Python: the episode page shows one for each
character in the episode, Story so far and Who's who one for each character listed, and
including companion/_state.html for each was the largest part of rendering those lists.
tests/companion/test_states.py holds the two to the same bytes; _state.html is the readable
form of what state_html() builds."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from companion.models import CharacterState

register = template.Library()


def state_html(state: CharacterState) -> str:
    """companion/_state.html for this state; it must escape everything it puts in."""
    report = (
        f'<a class="report-link" href="{escape(state.report_url)}" rel="nofollow">'
        "Report a spoiler</a>"
    )
    location = (
        f'<span class="meta" title="Where">· {escape(state.location)}</span>'
        if state.location
        else ""
    )
    affiliation = (
        f'<span class="meta" title="With">· {escape(state.affiliation)}</span>'
        if state.affiliation
        else ""
    )
    described = f"<p>{escape(state.description)} {report}</p>" if state.description else report
    return (
        f'<span class="badge status-{escape(state.status)}">'
        f"{escape(state.get_status_display())}</span>\n"
        f"{location}\n{affiliation}\n"
        f'<span class="muted">· as of {escape(state.reveal_at.short_label)}</span>\n'
        f"{described}\n"
    )


@register.simple_tag(name="state")
def state_tag(state: CharacterState) -> SafeString:
    return mark_safe(state_html(state))
