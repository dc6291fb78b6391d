"""Previously on: a catch-up before the next episode."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import conditional_escape, escape, linebreaks
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of
from ..models import CharacterState, Recap, ReviewerNote
from ..viewing import Viewing
from .shows import render_at_point

PREVIOUSLY_EPISODES = 3


PREVIOUSLY_NOTES_PER_EPISODE = 3


PREVIOUSLY_CHANGES_PER_EPISODE = 5


STATUS_LABELS = dict(CharacterState.Status.choices)


# How much of a recap and of a note the catch-up shows, in words.
RECAP_OPENING_WORDS = 60


NOTE_OPENING_WORDS = 30


@require_safe
def previously(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Catch-up before the next episode: for each of the last few watched, the recap's opening,
    who changed (a line each) and a few notes, with links to the rest; about a phone screen each."""
    viewing = viewing_of(request, slug)

    def context() -> dict:
        return {"show": viewing.show, "viewing": viewing, "body": previously_body(viewing)}

    # Shared whole by everyone at the point with the same title preference.
    return render_at_point(
        request, viewing, "companion/previously.html", context, (viewing.hide_titles,)
    )


def previously_body(viewing: Viewing) -> str:
    """The catch-up, shared by everyone at the same safe point with the same title preference:
    the recent episodes are revealed, so only the one up next has a title to hide."""
    if not viewing.safe_point:
        return ""
    return viewing.cached_fragment(
        "previously:titles-hidden" if viewing.hide_titles else "previously",
        "companion/previously.html#previously-body",
        lambda: previously_context(viewing),
    )


def entry_html(entry: dict) -> str:
    """One recent episode's catch-up: the recap's opening, a line per change, a few notes and a
    link to the rest. Built in Python: the template took most of a first look's time for its
    few hundred lookups and filters. Everything put in is escaped here."""
    episode = entry["episode"]
    url, label = escape(episode.get_absolute_url()), escape(episode.short_label)
    parts = [
        f'<article class="story-entry previously-entry" aria-labelledby="previously-{episode.pk}">'
        f'<h2 id="previously-{episode.pk}"><a href="{url}"><span class="code">{label}</span>'
        f" {escape(episode.shown_title)}</a></h2>"
    ]
    if entry["recap"]:
        parts.append(opening(entry["recap"].text, RECAP_OPENING_WORDS))
    if entry["changes"]:
        parts.append('<ul class="plain changes">')
        for change in entry["changes"]:
            place = f" · {escape(change['location'])}" if change["location"] else ""
            parts.append(
                f'<li><a href="{escape(change["url"])}">{escape(change["name"])}</a>'
                f' <span class="badge status-{escape(change["status"])}">'
                f"{escape(change['status_label'])}</span>{place}</li>"
            )
        parts.append("</ul>")
    for note in entry["notes"]:
        parts.append(
            f'<blockquote class="note short-note">{opening(note.text, NOTE_OPENING_WORDS)}'
            f"<footer>— {conditional_escape(note.citation)}</footer></blockquote>"
        )
    if entry["recap"] or entry["changes"] or entry["notes"]:
        more = "".join(
            f", {count} more {noun}{pluralize(count)}"
            for count, noun in ((entry["more_changes"], "change"), (entry["more_notes"], "note"))
            if count
        )
        parts.append(f'<p><a href="{url}">The whole recap{more} and who is who in {label}</a></p>')
    else:
        parts.append(f'<p class="muted">Nothing is written for {label} yet.</p>')
    parts.append("</article>")
    return "\n".join(parts)


def opening(text: str, words: int) -> str:
    """The text's first words, in paragraphs, escaped: truncatewords then linebreaks."""
    return linebreaks(Truncator(text).words(words, truncate=" …"), autoescape=True)


def previously_context(viewing: Viewing) -> dict:
    """The last few regular episodes up to the point, each with its recap, changes and notes."""
    show, safe = viewing.show, viewing.safe_point
    recent = show.last_revealed(safe, PREVIOUSLY_EPISODES)
    upcoming = viewing.upcoming
    recaps = Recap.objects.of_episodes_at(safe, *recent)
    # A line each: who (linked to their page under Who's who), their status and where they are.
    cast_url = reverse("cast", args=[show.slug])
    changes: dict[int, list[dict]] = {}
    for change in CharacterState.objects.changes_at(safe, *recent):
        changes.setdefault(change.reveal_at_id, []).append(
            {
                "name": change.character_name,
                "url": f"{cast_url}{change.character_slug}/",
                "status": change.status,
                "status_label": STATUS_LABELS.get(change.status, change.status),
                "location": change.location,
            }
        )
    notes, totals = ReviewerNote.objects.first_of(safe, PREVIOUSLY_NOTES_PER_EPISODE, *recent)
    first_notes: dict[int, list[ReviewerNote]] = {}
    for note in notes:
        first_notes.setdefault(note.episode_id, []).append(note)
    entries = [
        {
            "episode": episode,
            "recap": recaps.get(episode.pk),
            "changes": changes.get(episode.pk, [])[:PREVIOUSLY_CHANGES_PER_EPISODE],
            "more_changes": max(
                0, len(changes.get(episode.pk, [])) - PREVIOUSLY_CHANGES_PER_EPISODE
            ),
            "notes": first_notes.get(episode.pk, []),
            "more_notes": totals.get(episode.pk, 0) - len(first_notes.get(episode.pk, [])),
        }
        for episode in viewing.decorate(recent)
    ]
    return {
        "recent": recent,
        "upcoming": upcoming,
        "entries": [mark_safe(entry_html(entry)) for entry in entries],
    }
