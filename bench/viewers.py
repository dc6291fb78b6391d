"""Step 2b of the benchmark: many logged-in viewers, each at their own point, for bench.serve.

For each show, every viewer comes with a session of their own and the URLs of the pages as they
see them (their episode page is the last one they have watched, their season the one they are
in), and the episodes they will mark next, in order. bench.serve turns these into the request
lists that wrk replays.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.urls import reverse

from bench import BenchError
from bench.data import SEARCH_TERM, SLUG, SMALL_SLUG
from companion.models import Character, Episode, Show

DEMO_SEARCH_TERM = "Mars"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Episodes each viewer of the loop may mark, at most.
MARKS_AHEAD = 10
# Fewest episodes a pool viewer has watched, so every page (a character's too) is theirs to see.
MIN_WATCHED = 5


def session_key(user) -> str:
    """A session logged in as the site logs a viewer in, written straight to the session store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = MODEL_BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def pools(progress: dict[str, list], sizes: dict[str, int]) -> dict:
    """Disjoint groups of viewers (name: how many) with sessions, and each show's view of them.

    `progress` is bench.data's: where each synthetic viewer's run ends in each show. A viewer is
    in at most one group, so what one group does (marks) never turns another's miss into a hit.
    """
    shows = {slug: Show.objects.get(slug=slug) for slug in (SMALL_SLUG, SLUG)}
    regular = {
        slug: list(show.episodes.regular().select_related("show").order_by("sequence"))
        for slug, show in shows.items()
    }
    long_total = len(regular[SLUG])
    # Viewers with no episode watched past a gap: their next episode is the one after their run.
    eligible = sorted(
        name
        for name, (upto, ahead, small) in progress.items()
        if not ahead and MIN_WATCHED <= upto <= long_total - MARKS_AHEAD and small >= MIN_WATCHED
    )
    wanted = sum(sizes.values())
    if len(eligible) < wanted:
        raise BenchError(f"{len(eligible)} synthetic viewers fit, {wanted} are needed")
    users = get_user_model().objects.in_bulk(eligible[:wanted], field_name="username")
    characters = {
        slug: Character.objects.filter(
            show=show, first_appearance__sequence__lte=regular[slug][MIN_WATCHED - 1].sequence
        )
        .order_by("first_appearance__sequence", "slug")
        .first()
        for slug, show in shows.items()
    }
    groups: dict[str, list[dict]] = {}
    start = 0
    for group, size in sizes.items():
        groups[group] = []
        for name in eligible[start : start + size]:
            upto, _, small = progress[name]
            seen: dict[str, dict] = {}
            for slug, show in shows.items():
                watched = upto if slug == SLUG else small
                character = characters[slug]
                assert character is not None
                seen[slug] = {
                    "point": regular[slug][watched - 1].short_label,
                    "urls": urls(show, regular[slug][watched - 1], character),
                    "next": [marking(e) for e in regular[slug][watched : watched + MARKS_AHEAD]],
                }
            groups[group].append({"name": name, "session": session_key(users[name]), "shows": seen})
        start += size
    return {
        "groups": groups,
        "shows": [{"slug": slug, "title": show.title} for slug, show in shows.items()],
    }


def urls(show: Show, episode: Episode, character: Character) -> dict[str, str]:
    """The main pages as this viewer reaches them: their own episode and season."""
    term = SEARCH_TERM if show.slug == SLUG else DEMO_SEARCH_TERM
    return {
        "home": reverse("show-list"),
        "show": show.get_absolute_url(),
        "episode": episode.get_absolute_url(),
        "season": reverse("season-episodes", args=[show.slug, episode.season_number]),
        "cast": reverse("cast", args=[show.slug]),
        "character": character.get_absolute_url(),
        "story": reverse("story", args=[show.slug]),
        "previously": reverse("previously", args=[show.slug]),
        "search": reverse("search", args=[show.slug]) + f"?q={term}",
    }


def marking(episode: Episode) -> dict[str, str | int]:
    """What the show page's row sends to mark this episode, and the page the viewer reads next."""
    return {
        "watch": reverse(
            "episode-watch", args=[episode.show.slug, episode.season_number, episode.number]
        ),
        "episode": episode.get_absolute_url(),
        "season": episode.season_number,
        "pk": episode.pk,
    }
