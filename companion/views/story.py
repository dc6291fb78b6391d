"""Story so far: the recaps, notes and where everyone stands, safe at the viewer's point."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.html import escape, linebreaks
from django.views.decorators.http import require_safe

from ..http import HtmxHttpRequest
from ..lookups import viewing_of
from ..models import Character, Recap, ReviewerNote
from ..renders import build_each
from ..templatetags.notes import note_html
from ..viewing import Viewing
from .shows import render_at_point

STORY_NOTES_PER_EPISODE = 3


# A show longer than this tells its story a season at a time.
STORY_BY_SEASON_FROM = 60


def note_facts(note: ReviewerNote) -> tuple:
    """Everything _note.html shows of a note, to key its shared render on."""
    episode = note.episode
    return (
        note.pk,
        note.public_id,
        note.text,
        note.author,
        note.outlet,
        note.article_title,
        note.url,
        episode.show.slug,
        episode.season_number,
        episode.number,
    )


def entry_facts(entry: dict) -> tuple:
    """Everything the shared part of a story entry shows: the recap, its episode as this viewing
    names it, and the first notes. How many more notes there are is left out: it moves with
    nearly every point, while the rest reads the same for many."""
    recap, episode = entry["recap"], entry["episode"]
    return (
        recap.pk,
        recap.text,
        episode.show.slug,
        episode.season_number,
        episode.number,
        episode.shown_title,
        [note_facts(note) for note in entry["notes"]],
    )


def entry_html(entry: dict) -> str:
    """A story entry up to its count of more notes (which moves at nearly every point): its
    episode's heading, the recap and the first notes. story-body adds the count and closes the
    article."""
    episode = entry["episode"]
    notes = "".join(note_html(note) for note in entry["notes"])
    return (
        '\n    <article class="story-entry">\n'
        f'      <h3><a href="{escape(episode.get_absolute_url())}">'
        f"{escape(episode.short_label)} {escape(episode.shown_title)}</a></h3>\n"
        f"      {linebreaks(entry['recap'].text, autoescape=True)}\n"
        f"      {notes}\n      "
    )


def story_context(viewing: Viewing, span: tuple[int, int | None] | None) -> dict:
    """Recaps in order with their notes, other notes, and where everyone stands: all safe at the
    viewing's point; only the recaps and notes on the episodes placed within `span` (from,
    before), and no one's standing, when given."""
    safe, show = viewing.safe_point, viewing.show
    start, before = span if span is not None else (0, None)
    first_notes, totals = ReviewerNote.objects.first_within(
        safe, show, STORY_NOTES_PER_EPISODE, start, before
    )
    notes_by_episode: dict[int, list] = {}
    for note in first_notes:
        notes_by_episode.setdefault(note.episode_id, []).append(note)
    recaps = Recap.objects.within_at(safe, show, start, before)
    # A recap may be revealed before its own episode is (an unwatched special's, at a later one
    # watched): its title then follows the viewer's preference, as everywhere else.
    shown = viewing.decorate(recap.episode for recap in recaps)
    entries = []
    for recap, episode in zip(recaps, shown, strict=True):
        notes = notes_by_episode.pop(recap.episode_id, [])
        more_notes = totals.get(recap.episode_id, 0) - len(notes)
        entries.append(
            {"recap": recap, "episode": episode, "notes": notes, "more_notes": more_notes}
        )
    return {
        "show": viewing.show,
        # An episode's entry reads the same at many points (until a later note about it is
        # revealed): rendered once for all of them.
        "entries": [
            {"html": html, "more_notes": entry["more_notes"], "episode": entry["episode"]}
            for html, entry in zip(
                build_each("story-entry", entries, entry_facts, entry_html), entries, strict=True
            )
        ],
        "other_notes": [note for notes in notes_by_episode.values() for note in notes],
        # Told a season at a time, the story leaves where everyone stands to Who's who, which
        # lists them a page at a time: hundreds of them beside each season would cost more to
        # render than the season's story, and tell nothing of that season.
        "characters": Character.objects.with_latest_state_at(safe) if span is None else None,
    }


def story_seasons(viewing: Viewing) -> dict[int, tuple[int, int | None]]:
    """A long show's story is told a season at a time: each regular season up to the viewer's own,
    with the places it spans (up to the next season's first episode, so the specials that air
    within it come with it; the first also takes any before it). Nothing for a short show."""
    point = viewing.safe_point.episode
    starts = viewing.show.season_starts()
    if point is None or sum(n for _, n in starts.values()) <= STORY_BY_SEASON_FROM:
        return {}
    numbers = list(starts)
    spans = {}
    for place, number in enumerate(numbers):
        if number > point.season_number:
            break
        following = starts[numbers[place + 1]][0] if place + 1 < len(numbers) else None
        spans[number] = (0 if place == 0 else starts[number][0], following)
    return spans


def story_body(
    viewing: Viewing, season: int | None = None, span: tuple[int, int | None] | None = None
) -> str:
    """The story safe for this viewing (one season's part of it, when given), shared by everyone
    at the same safe point."""
    if not viewing.safe_point:
        return ""
    name = "story" if season is None else f"story-season-{season}"
    return viewing.cached_fragment(
        f"{name}:titles-hidden" if viewing.hide_titles else name,
        "companion/story.html#story-body",
        lambda: story_context(viewing, span),
    )


@require_safe
def story(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    viewing = viewing_of(request, slug)
    asked = season_asked(request.GET.get("season", ""), viewing)

    def context() -> dict:
        seasons = story_seasons(viewing)
        # A season not told yet (or none at all) gets the viewer's own: the same page either way.
        season = asked if asked in seasons else max(seasons, default=None)
        return {
            "show": viewing.show,
            "viewing": viewing,
            "story_body": story_body(viewing, season, None if season is None else seasons[season]),
            "story_seasons": list(seasons),
            "story_season": season,
        }

    # Shared whole by everyone at the point who asks for the same season with the same title
    # preference: a look at a point someone has read already costs no season list and no render.
    return render_at_point(
        request, viewing, "companion/story.html", context, (asked, viewing.hide_titles)
    )


def season_asked(asked: str, viewing: Viewing) -> int | None:
    """The season the query names, if the viewer has reached it; else None, their own. Three
    digits at most: int() refuses a very long number, and no season has more."""
    if not (asked.isdecimal() and len(asked) <= 3):
        return None
    point = viewing.safe_point.episode
    number = int(asked)
    return number if point is not None and 0 < number <= point.season_number else None
