"""A leak proof: random shows and viewers, every URL the app serves, nothing past the safe point."""

from __future__ import annotations

import datetime as dt
import difflib
import importlib
import re
from dataclasses import dataclass, field, replace
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from companion.models import (
    Character,
    CharacterState,
    Episode,
    Follow,
    Party,
    Recap,
    ReviewerNote,
    Season,
    Show,
    SpoilerReport,
    Watch,
)
from discussion.models import Post, PostReport, Rating
from tests.crawl import Fetched, crawl, urls_from_urlconf
from tests.factories import make_user
from tests.helpers import form_values, mask_csrf
from upcoming.models import CalendarFeed

# Half a minute of generated shows and viewers: `make test-fast` leaves it out, `make test` runs it.
pytestmark = pytest.mark.slow

# Every gated text is one word like "zqalpharecap3qz": lower-case letters and digits, so it survives
# escaping, linebreaks and truncatewords unchanged, and is a valid slug. "qz" ends it, so no marker
# is a substring of another.
MARKER = re.compile(r"zq[a-z0-9]+?qz")
# Typed into every GET form: never a whole marker, so echoing the query ("Nothing found for ...")
# cannot look like a leak. "zq" matches every marker at once (a show holds fewer than 20 of a
# kind, search's page size); "z" is too short to search; "absent" finds nothing.
SEARCH_TERMS = ["zq", "z", "absent"]
# The calendar and its feed tell episodes by their air dates around today: the clock is stopped at
# noon of this day for every request, so the same show airs the same way in every run.
TODAY = dt.date(2026, 12, 9)
NOON = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def short_pages(monkeypatch):
    """Who's who two to a page, so the crawl follows its pages on these small shows too: the pages
    must be counted from what the viewer may see, or a hidden character would add one."""
    characters = importlib.import_module("companion.views.characters")
    monkeypatch.setattr(characters, "CAST_PAGE_SIZE", 2)


def frozen_clock():
    return mock.patch("django.utils.timezone.now", return_value=NOON)


def marker(show: str, kind: str, *ids: int) -> str:
    return f"zq{show}{kind}{'x'.join(map(str, ids))}qz"


def still_of(show: str, index: int) -> str:
    """Every episode has a still, stored under a name holding its marker: wherever its URL is
    served (a page, an og:image, the API), the crawl sees it."""
    return f"images/{marker(show, 'still', index)}.jpg"


@dataclass
class ShowSpec:
    """A show's shape and gated content, by index into its episodes in story order.

    Specials (season 0) sit among the regular episodes: each airs after the regular episode before
    it in the list, or, when it comes after the last one, is left to the default place (the end).
    """

    slug: str
    episodes: list[tuple[int, int]]  # (season, number) in story order; season 0 holds the specials
    titled: list[bool]
    synopsised: list[bool]
    recaps: list[tuple[int, int]] = field(default_factory=list)  # (episode, reveal point)
    characters: list[tuple[int, int]] = field(default_factory=list)  # (id, first appearance)
    states: list[tuple[int, int]] = field(default_factory=list)  # (character id, reveal point)
    notes: list[tuple[int, int, int]] = field(default_factory=list)  # (id, episode, reveal point)
    # (id, episode, reveal point, id of the post it answers or None, the episode a spoiler span in
    # it spoils up to or None, whether it is in the watch party's thread), all written by the friend
    posts: list[tuple[int, int, int, int | None, int | None, bool]] = field(default_factory=list)
    ratings: list[tuple[int, int]] = field(default_factory=list)  # (episode, stars), by the friend
    watched: set[int] = field(default_factory=set)

    @property
    def regular(self) -> list[int]:
        return [index for index, (season, _) in enumerate(self.episodes) if season]

    def safe_index(self) -> int:
        """The last episode of the unbroken run of watched regular episodes from the first; -1 for none."""
        safe = -1
        for index in self.regular:  # specials never block the run
            if index not in self.watched:
                break
            safe = index
        return safe

    def party_safe_index(self, friend_run: int) -> int:
        """The watch party's point: the lower of the viewer's and the friend's run (regular
        episodes only, as Party.progress reads them)."""
        friend = self.regular[min(friend_run, len(self.regular)) - 1] if friend_run else -1
        return min(self.safe_index(), friend)

    def follows(self, index: int) -> int:
        """The regular episode a special airs after (-1 for none)."""
        return max((r for r in self.regular if r < index), default=-1)

    def revealed(self, index: int) -> bool:
        """What this episode reveals is safe: it is at or before the safe point, or it is a special
        the viewer watched with every regular episode before its place."""
        safe = self.safe_index()
        if index <= safe:
            return True
        special = self.episodes[index][0] == 0
        return special and index in self.watched and self.follows(index) <= safe


@dataclass
class Viewer:
    signed_in: bool
    hide_titles: bool
    hide_synopses: bool
    # A friend in a watch party with the viewer has watched this many regular episodes of alpha.
    friend_run: int = 0


def gated_markers(spec: ShowSpec, viewer: Viewer) -> dict[str, tuple[int, ...] | None]:
    """Every marker of the show and the episodes that must all be revealed before it is (None: not
    gated for this viewer). A state names its character, so it waits for their first appearance
    too: with specials, a state at a watched special can follow a first appearance in an unwatched
    one."""
    s = spec.slug
    markers: dict[str, tuple[int, ...] | None] = {}
    for index in range(len(spec.episodes)):
        if spec.titled[index]:
            markers[marker(s, "title", index)] = (index,) if viewer.hide_titles else None
        if spec.synopsised[index]:
            markers[marker(s, "syn", index)] = (index,) if viewer.hide_synopses else None
        # Gated whatever the preferences say.
        markers[marker(s, "still", index)] = (index,)
    for index, reveal in spec.recaps:
        markers[marker(s, "recap", index)] = (reveal,)
    first_of = dict(spec.characters)
    for k, first in spec.characters:
        for kind in ("name", "actor", "slug"):
            markers[marker(s, kind, k)] = (first,)
    for k, reveal in spec.states:
        for kind in ("desc", "loc", "aff"):
            markers[marker(s, kind, k, reveal)] = (reveal, first_of[k])
    for j, _, reveal in spec.notes:
        markers[marker(s, "note", j)] = (reveal,)
    for j, _, reveal, _, span, in_party in spec.posts:
        if not in_party:
            markers[marker(s, "post", j)] = (reveal,)
            if span is not None:
                markers[marker(s, "span", j)] = (reveal, span)
    return markers


def party_markers(spec: ShowSpec, viewer: Viewer) -> dict[str, bool]:
    """The party thread's markers, each with whether the party's point reveals it to the viewer."""
    if spec.slug != "alpha":
        return {}
    party = spec.party_safe_index(viewer.friend_run) if viewer.signed_in else -1
    markers = {}
    for j, _, reveal, _, span, in_party in spec.posts:
        if in_party:
            markers[marker(spec.slug, "post", j)] = reveal <= party
            if span is not None:
                markers[marker(spec.slug, "span", j)] = max(reveal, span) <= party
    return markers


def split_markers(specs: list[ShowSpec], viewer: Viewer) -> tuple[set[str], set[str]]:
    """(spoilers, safe) over all shows: a marker is a spoiler when revealed after the viewer's safe point."""
    spoilers: set[str] = set()
    safe: set[str] = set()
    for spec in specs:
        for text, reveals in gated_markers(spec, viewer).items():
            hidden = reveals is not None and not (
                viewer.signed_in and all(spec.revealed(reveal) for reveal in reveals)
            )
            (spoilers if hidden else safe).add(text)
        # The party's point is at or before the viewer's own.
        for text, revealed in party_markers(spec, viewer).items():
            (safe if revealed else spoilers).add(text)
    return spoilers, safe


# --- Building the database from a spec ------------------------------------------------------------


def air_date(index: int, count: int, *, special: bool = False) -> dt.date | None:
    """Every other day around TODAY, in story order, so a show has aired episodes on both sides of
    the viewer's point and episodes still to air; every fifth regular episode has no date yet.
    A special always has one: two specials after the same episode are placed by their dates, and
    an undated one would go after a dated one, out of the spec's order."""
    if index % 5 == 4 and not special:
        return None
    return TODAY + dt.timedelta(days=2 * (index - count // 2))


def build_show(spec: ShowSpec) -> list[Episode]:
    show = Show.objects.create(
        title=spec.slug.title(),
        slug=spec.slug,
        premise="It spoils nothing.",
        poster=f"images/poster-of-{spec.slug}.jpg",
        stand_in=f"images/stand-in-of-{spec.slug}.jpg",
    )
    numbers = sorted({season for season, _ in spec.episodes})
    seasons = {n: Season.objects.create(show=show, number=n) for n in numbers}
    episodes: list[Episode] = []
    last_regular = spec.regular[-1]
    for index, (season, number) in enumerate(spec.episodes):
        follows = spec.follows(index) if season == 0 and index < last_regular else -1
        episodes.append(
            Episode.objects.create(
                season=seasons[season],
                number=number,
                airs_after=episodes[follows] if follows >= 0 else None,
                title=marker(spec.slug, "title", index) if spec.titled[index] else "",
                synopsis=marker(spec.slug, "syn", index) if spec.synopsised[index] else "",
                air_date=air_date(index, len(spec.episodes), special=season == 0),
                airtime=dt.time(21, 0) if index % 2 else None,
                still=still_of(spec.slug, index),
            )
        )
    show.resequence()
    places = dict(show.episodes.values_list("pk", "sequence"))
    # What the tests expect is worked out from the spec's order: the show must be in it.
    assert [places[built.pk] for built in episodes] == list(range(1, len(episodes) + 1))
    for built in episodes:
        built.sequence = places[built.pk]
    return episodes


def add_gated(
    slug: str,
    episodes: list[Episode],
    *,
    recaps=(),
    characters=(),
    states=(),
    notes=(),
    posts=(),
    ratings=(),
    party=None,
):
    """Create the gated content (posts and ratings by the friend); returns it, last created first."""
    created: list = []
    for index, reveal in recaps:
        created.append(
            Recap.objects.create(
                episode=episodes[index],
                reveal_at=episodes[reveal],
                text=marker(slug, "recap", index),
            )
        )
    for k, first in characters:
        created.append(
            Character.objects.create(
                show=episodes[0].show,
                name=marker(slug, "name", k),
                slug=marker(slug, "slug", k),
                actor=marker(slug, "actor", k),
                first_appearance=episodes[first],
            )
        )
    for k, reveal in states:
        created.append(
            CharacterState.objects.create(
                character=Character.objects.get(
                    show=episodes[0].show, slug=marker(slug, "slug", k)
                ),
                reveal_at=episodes[reveal],
                status=CharacterState.Status.values[
                    (k + reveal) % len(CharacterState.Status.values)
                ],
                description=marker(slug, "desc", k, reveal),
                location=marker(slug, "loc", k, reveal),
                affiliation=marker(slug, "aff", k, reveal),
            )
        )
    for j, index, reveal in notes:
        created.append(
            ReviewerNote.objects.create(
                episode=episodes[index],
                reveal_at=episodes[reveal],
                text=marker(slug, "note", j),
                outlet="The Test Review",
                author="A. Critic",
                article_title="A review",
            )
        )
    if posts or ratings:
        friend = get_user_model().objects.get(username="friend")
    for j, index, reveal, parent, span, in_party in posts:
        text = marker(slug, "post", j)
        if span is not None:
            season, number = episodes[span].season_number, episodes[span].number
            text += f" [spoiler {season}x{number}]{marker(slug, 'span', j)}[/spoiler]"
        answered = None
        if parent is not None:
            answered = Post.objects.get(text__startswith=marker(slug, "post", parent) + " ")
        created.append(
            Post.objects.create(
                episode=episodes[index],
                reveal_at=episodes[reveal],
                author=friend,
                text=text + " ",
                parent=answered,
                party=party if in_party else None,
            )
        )
    for index, stars in ratings:
        created.append(Rating.objects.create(user=friend, episode=episodes[index], stars=stars))
    return created[::-1]


def build(
    spec: ShowSpec, viewer: Viewer, *, user, friend, first=None
) -> tuple[list[Episode], list]:
    """Build the show; `first` is gated content created before the spec's own, so it takes the
    lower ids and every later id moves. Returns the episodes and that content."""
    episodes = build_show(spec)
    party = None
    if spec.slug == "alpha":
        # One party the viewer is in (it sees only what is safe for both), one they are not.
        show = episodes[0].show
        party = Party.objects.create(show=show, name="Viewing party", created_by=friend)
        party.members.add(friend, *([user] if user else []))
        Party.objects.create(show=show, name="Another party", created_by=friend).members.add(friend)
    extra = first(spec, episodes) if first else {}
    # States of characters the spec itself creates can only follow them; replies, their posts.
    own = {k for k, _ in spec.characters}
    late_states = [state for state in extra.get("states", []) if state[0] in own]
    late_posts = [post for post in extra.get("posts", []) if post[3] is not None]
    early = extra | {
        "states": [state for state in extra.get("states", []) if state[0] not in own],
        "posts": [post for post in extra.get("posts", []) if post[3] is None],
    }
    created_first = add_gated(spec.slug, episodes, party=party, **early) if extra else []
    add_gated(
        spec.slug,
        episodes,
        recaps=spec.recaps,
        characters=spec.characters,
        states=spec.states,
        notes=spec.notes,
        posts=spec.posts,
        ratings=spec.ratings,
        party=party,
    )
    late = add_gated(spec.slug, episodes, states=late_states, posts=late_posts, party=party)
    created_first = late + created_first
    if user is not None:
        Watch.objects.bulk_create(
            Watch(user=user, episode=episodes[i]) for i in sorted(spec.watched)
        )
        # Followed whatever the progress, so the home page's cards and up next are crawled too.
        Follow.objects.follow(user=user, shows=[episodes[0].show])
    if spec.slug == "alpha":
        run = spec.regular[: viewer.friend_run]
        Watch.objects.bulk_create(Watch(user=friend, episode=episodes[i]) for i in run)
    return episodes, created_first


# A small second show the viewer is one episode into, so a rule that forgets which show a reveal
# point belongs to, or a query that forgets its show, shows up too.
BETA = ShowSpec(
    slug="beta",
    episodes=[(1, 1), (1, 2), (1, 3)],
    titled=[True, True, True],
    synopsised=[True, True, True],
    recaps=[(0, 0), (1, 1), (2, 2)],
    characters=[(0, 0), (1, 1)],
    states=[(0, 0), (0, 2), (1, 1)],
    notes=[(0, 0, 0), (1, 0, 2), (2, 1, 1)],
    watched={0},
)


def feed_tokens(user) -> tuple[str, ...]:
    """The secret of the viewer's calendar feed, for the crawl to read it as their calendar app does."""
    return () if user is None else (CalendarFeed.objects.issue(user=user)[1],)


def sign_in(viewer: Viewer):
    client = Client()
    friend = make_user("friend")
    if not viewer.signed_in:
        return None, friend, client
    user = make_user(
        "viewer",
        hide_unwatched_titles=viewer.hide_titles,
        hide_unwatched_synopses=viewer.hide_synopses,
    )
    client.force_login(user)
    return user, friend, client


# --- Random shows and viewers ---------------------------------------------------------------------


def later_or_same(draw, index: int, last: int) -> int:
    """A reveal point at or after the episode; usually the episode itself, like most real content."""
    return draw(st.one_of(st.just(index), st.integers(index, last)))


@st.composite
def show_specs(draw, *, part_watched: bool = False, specials_first: bool = False) -> ShowSpec:
    """A random show; `part_watched` keeps something after the viewer's run of watched episodes;
    `specials_first` gives it several specials, where its characters first appear and change,
    and a viewer who has watched some of them."""
    specials = draw(st.integers(2, 4) if specials_first else st.integers(0, 2))
    lengths = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    if part_watched and sum(lengths) < 2:
        lengths[0] = 2
    episodes = [
        (season, n) for season, length in enumerate(lengths, 1) for n in range(1, length + 1)
    ]
    # Each special airs after a random regular episode (the last one: the end of the show).
    places = sorted(draw(st.integers(1, len(episodes))) for _ in range(specials))
    for n, place in enumerate(places, 1):
        episodes.insert(place + n - 1, (0, n))
    last = len(episodes) - 1
    mostly = st.sampled_from([True, True, True, False])
    spec = ShowSpec(
        slug="alpha",
        episodes=episodes,
        titled=[draw(mostly) for _ in episodes],
        synopsised=[draw(mostly) for _ in episodes],
    )
    spec.recaps = [(i, later_or_same(draw, i, last)) for i in range(len(episodes)) if draw(mostly)]
    special_places = [i for i, (season, _) in enumerate(episodes) if season == 0]
    for k in range(draw(st.integers(1, 4) if specials_first else st.integers(0, 4))):
        if specials_first:
            first = draw(st.sampled_from(special_places))
            later = [i for i in special_places if i >= first] + [last]
            reveals = draw(st.sets(st.sampled_from(later), min_size=1, max_size=3))
        else:
            first = draw(st.integers(0, last))
            reveals = draw(st.sets(st.integers(first, last), max_size=3))
        spec.characters.append((k, first))
        spec.states += [(k, reveal) for reveal in sorted(reveals)]
    for j in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, last))
        spec.notes.append((j, index, later_or_same(draw, index, last)))
    for j in range(draw(st.integers(0, 5))):
        spec.posts.append(draw(a_post(spec, j, range(last + 1))))
    spec.ratings = [(i, draw(st.integers(1, 5))) for i in range(last + 1) if draw(st.booleans())]
    # An unbroken run from the first regular episode (of any length, evenly: integers() would favour
    # none at all), then anything else: gaps, stray specials.
    longest = len(spec.regular) - 1 if part_watched and len(spec.regular) > 1 else len(spec.regular)
    spec.watched = set(spec.regular[: draw(st.sampled_from(range(int(part_watched), longest + 1)))])
    spec.watched |= draw(st.sets(st.integers(0, last), max_size=len(episodes)))
    if specials_first:
        spec.watched |= draw(st.sets(st.sampled_from(special_places), min_size=1))
    return spec


@st.composite
def a_post(draw, spec: ShowSpec, j: int, reveals) -> tuple:
    """A post by the friend, revealed at one of `reveals` (at or after its episode and what it
    answers): sometimes a reply, sometimes with a spoiler span, sometimes in the party's thread."""
    last = len(spec.episodes) - 1
    in_party = spec.slug == "alpha" and draw(st.booleans())
    reveal = draw(st.sampled_from(list(reveals)))
    index = draw(st.integers(0, reveal))
    answerable = [
        (k, r)
        for k, i, r, parent, _, party in spec.posts
        if i == index and parent is None and party == in_party and r <= reveal
    ]
    parent = draw(st.sampled_from([None, *answerable]))
    span = draw(st.none() | st.integers(index + 1, last)) if index < last else None
    return (j, index, reveal, parent[0] if parent else None, span, in_party)


@st.composite
def viewers(draw) -> Viewer:
    friend_run = draw(st.integers(0, 15))
    if draw(st.sampled_from([True, True, True, False])):
        hide_titles, hide_synopses = draw(st.booleans()), draw(st.booleans())
        return Viewer(
            True, hide_titles=hide_titles, hide_synopses=hide_synopses, friend_run=friend_run
        )
    # A visitor who is not signed in has no preferences: they get a new account's defaults.
    return Viewer(signed_in=False, hide_titles=False, hide_synopses=True, friend_run=friend_run)


@st.composite
def past_the_safe_point(draw, spec: ShowSpec, signed_in: bool) -> dict:
    """Extra content, all hidden from the viewer: recaps, characters, states and notes."""
    last = len(spec.episodes) - 1
    hidden = [i for i in range(last + 1) if not (signed_in and spec.revealed(i))]

    def after(start: int):
        later = [i for i in hidden if i >= start]
        return draw(st.sampled_from(later)) if later else None

    with_recap = {index for index, _ in spec.recaps}
    recaps = [
        (i, reveal)
        for i in range(last + 1)
        if i not in with_recap and draw(st.booleans()) and (reveal := after(i)) is not None
    ]
    characters = [
        (len(spec.characters) + n, first)
        for n in range(draw(st.integers(0, 2)))
        if (first := after(0)) is not None
    ]
    states: list[tuple[int, int]] = []
    for k, first in spec.characters + characters:
        for _ in range(draw(st.integers(0, 2))):
            reveal = after(first)
            if reveal is not None and (k, reveal) not in spec.states + states:
                states.append((k, reveal))
    notes = []
    for n in range(draw(st.integers(1, 3))):
        # Often a late note on an episode already watched: the one that sits beside visible content.
        index = draw(st.integers(0, max(spec.safe_index(), 0)) | st.integers(0, last))
        reveal = after(index)
        if reveal is not None:
            notes.append((len(spec.notes) + n, index, reveal))
    # Posts and replies revealed past the point: often on an episode already watched, answering
    # a post the viewer reads. Ratings of episodes the viewer has not reached.
    posts = []
    for n in range(draw(st.integers(1, 3))):
        if hidden:
            post = draw(a_post(spec, len(spec.posts) + n, hidden))
            posts.append(post)
    rated = {index for index, _ in spec.ratings}
    ratings = [
        (i, draw(st.integers(1, 5))) for i in hidden if i not in rated and draw(st.booleans())
    ]
    return {
        "recaps": recaps,
        "characters": characters,
        "states": states,
        "notes": notes,
        "posts": posts,
        "ratings": ratings,
    }


# --- Crawling -------------------------------------------------------------------------------------


def route_values(show: Show | None, feed_tokens: tuple[str, ...]) -> dict[str, list]:
    """What to plug into each route parameter: the keys of everything in the database, and of nothing."""
    # Calendar feeds by their secret: the viewer's own, and one that is nobody's.
    feeds = [*feed_tokens, "sfc_none"]
    if show is None:
        return {
            "slug": ["nope"],
            "character_slug": ["nobody"],
            "season": [{"season": 1, "number": 1}],
            "number": [1],
            "kind": [{"kind": "recap", "public_id": "none"}],
            "pk": [0],
            "uidb64": ["MQ"],
            "token": ["none"],
            "public_id": ["none"],
            "server": ["jellyfin", "plex", "emby", "nope"],
            "secret": ["sfm_none"],
            "feed_token": feeds,
            "name": ["images/" + "0" * 40 + ".jpg"],
        }
    positions = list(show.episodes.values_list("season__number", "number")) + [(9, 1), (1, 99)]
    return {
        "slug": [show.slug],
        "character_slug": list(Character.objects.values_list("slug", flat=True)) + ["nobody"],
        "season": [{"season": season, "number": number} for season, number in positions],
        "number": list(show.seasons.values_list("number", flat=True)) + [99],
        "kind": [
            {"kind": kind, "public_id": public_id}
            for kind, model in SpoilerReport.MODELS.items()
            for public_id in model.objects.values_list("public_id", flat=True)
        ]
        + [{"kind": "recap", "public_id": "none"}, {"kind": "nope", "public_id": "none"}],
        "pk": list(Party.objects.values_list("pk", flat=True)) + [0],
        "uidb64": ["MQ"],
        "token": list(Party.objects.values_list("invite_token", flat=True)) + ["not-a-token"],
        # The API's gated items, by public id, whichever kind: a recap's id under /notes/ is missing.
        "public_id": [
            public_id
            for model in SpoilerReport.MODELS.values()
            for public_id in model.objects.values_list("public_id", flat=True)
        ]
        + list(Character.objects.values_list("public_id", flat=True))
        + list(Post.objects.values_list("public_id", flat=True))
        + ["none"],
        # Webhook URLs take only POSTs from media servers; the crawler's GETs get a JSON 405.
        "server": ["jellyfin", "plex", "emby", "nope"],
        "secret": ["sfm_none"],
        "feed_token": feeds,
        # Stored images by name: the show's art (not gated). A still's name is never guessed; the
        # differential below proves none is served where its episode is hidden.
        "name": [show.poster, show.stand_in],
    }


API_ITEM = re.compile(r"^/api/v1/shows/[^/]+/(recaps|notes|characters)/([^/]+)/$")


def seeds(feed_tokens: tuple[str, ...] = ()) -> list[str]:
    """The home page, the show page, and every route with the keys of every object plugged in.

    An API item route gets the ids of its own kind and one that is not there: another kind's id
    is a missing id to it, which `tests/companion/test_rule_edges.py` compares with a hidden one.
    """
    urls = ["/", "/shows/alpha/"]
    for show in [*Show.objects.all(), None]:
        urls += urls_from_urlconf(route_values(show, feed_tokens))
    kind_of = {
        **dict.fromkeys(Recap.objects.values_list("public_id", flat=True), "recaps"),
        **dict.fromkeys(ReviewerNote.objects.values_list("public_id", flat=True), "notes"),
        **dict.fromkeys(Character.objects.values_list("public_id", flat=True), "characters"),
    }

    def worth_asking(url: str) -> bool:
        item = API_ITEM.match(url)
        return item is None or kind_of.get(item[2], item[1]) == item[1]

    return [url for url in dict.fromkeys(urls) if worth_asking(url)]


def everything_served(client, start: list[str]) -> dict[tuple[str, bool], Fetched]:
    return crawl(client, start, referer="/shows/alpha/", terms=SEARCH_TERMS)


def api_seeds(start: list[str]) -> list[str]:
    """The API's URLs among the seeds, and its search with the crawler's terms."""
    api = [url for url in start if url.startswith("/api/")]
    searches = [url for url in api if url.endswith("/search/")]
    return api + [f"{url}?{urlencode({'q': term})}" for url in searches for term in SEARCH_TERMS]


def served_to_a_token(user, start: list[str]) -> dict[tuple[str, bool], Fetched]:
    """The API as the viewer's app calls it: a personal token, no session."""
    from api.models import ApiToken

    raw = ApiToken.objects.issue(user=user, name="leak proof")[1]
    fetched = crawl(
        Client(HTTP_AUTHORIZATION=f"Bearer {raw}"),
        api_seeds(start),
        referer="/api/v1/",
        terms=SEARCH_TERMS,
    )
    # A token opens the API only: the site pages its docs link to are fetched without a session,
    # as an anonymous visitor with other preferences, so they are not this viewer's pages.
    return {key: response for key, response in fetched.items() if response.url.startswith("/api/")}


def leaks(fetched: dict[tuple[str, bool], Fetched], spoilers: set[str]) -> list[str]:
    """Responses holding a spoiler, or crashing: a 500 hides what the page would have shown."""
    found = []
    for (url, _), response in fetched.items():
        if response.status >= 500:
            found.append(response.label)
        # A hidden character's slug in a URL was typed by the crawler; the page may echo its URL.
        leaked = (set(MARKER.findall(response.everything())) & spoilers) - set(MARKER.findall(url))
        if leaked:
            found.append(f"{response.label}: {sorted(leaked)}")
    return found


def changeable_state() -> tuple:
    """What a viewer's requests could change: watches, parties, reports, accounts."""
    return (
        sorted(Watch.objects.values_list("user_id", "episode_id")),
        sorted(Party.members.through.objects.values_list("party_id", "user_id")),
        SpoilerReport.objects.count(),
        sorted(Post.objects.values_list("pk", "text", "reveal_at_id", "hidden")),
        sorted(Rating.objects.values_list("user_id", "episode_id", "stars")),
        PostReport.objects.count(),
        sorted(get_user_model().objects.values_list("pk", "password", "hide_unwatched_titles")),
    )


HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Each example is a crawl of a few hundred requests: shrinking a failure took up to ten minutes,
    # and the report already names the URLs and the markers that leaked.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def looked_back_spoilers(spec: ShowSpec, viewer: Viewer, look_back: int) -> set[str]:
    """The show's markers revealed after the episode the viewer looks back at (rewatch mode)."""
    return {
        text
        for text, reveals in gated_markers(spec, viewer).items()
        if reveals is not None and max(reveals) > look_back
    }


@settings(HYPOTHESIS, max_examples=10)
@given(spec=show_specs(), viewer=viewers(), data=st.data())
def test_no_response_anywhere_holds_anything_past_the_safe_point(db, spec, viewer, data):
    """No page, fragment or header holds a marker revealed after the safe point; every safe one is served.

    Some viewers look back at an earlier episode (rewatch mode): then the show's own pages hold
    nothing past that episode either, while the banner still offers every point up to their own.
    The places the rule was taken out to prove this test can fail, and what failed, are listed
    under "Mutations tried" in SECURITY.md.
    """
    with transaction.atomic(), frozen_clock():
        cache.clear()
        user, friend, client = sign_in(viewer)
        for each in (spec, BETA):
            build(each, viewer, user=user, friend=friend)
        feeds = feed_tokens(user)
        spoilers, safe = split_markers([spec, BETA], viewer)
        before = changeable_state()
        watched_run = [i for i in spec.regular if i <= spec.safe_index()]
        look_back = None
        if user is not None and watched_run and data.draw(st.booleans(), label="looks back"):
            look_back = data.draw(st.sampled_from(watched_run), label="at")
            season, number = spec.episodes[look_back]
            client.post("/shows/alpha/as-of/", {"episode": f"{season}x{number}"})
            # Home, browse, parties and the API keep to what the viewer has really watched and may
            # show what lies between the two points; only what is safe at both must be served.
            safe -= looked_back_spoilers(spec, viewer, look_back)

        start = seeds(feeds)
        fetched = everything_served(client, start)
        if user is not None:
            by_token = served_to_a_token(user, start)
            assert any(r.status == 200 for r in by_token.values()), "the token was refused"
            fetched |= {(f"{url} [token]", htmx): r for (url, htmx), r in by_token.items()}

        assert changeable_state() == before, "a GET changed something"
        found = leaks(fetched, spoilers)
        assert not found, "spoilers served:\n" + "\n".join(found[:20])
        if look_back is not None:
            show_pages = {k: r for k, r in fetched.items() if k[0].startswith("/shows/alpha/")}
            assert any("Back to my progress" in r.body for r in show_pages.values())
            found = leaks(show_pages, looked_back_spoilers(spec, viewer, look_back))
            assert not found, f"looking back at {look_back}, served:\n" + "\n".join(found[:20])
        served = set().union(
            *(MARKER.findall(response.everything()) for response in fetched.values())
        )
        assert safe <= served, f"safe content the crawl never saw: {sorted(safe - served)}"
        transaction.set_rollback(True)


@settings(HYPOTHESIS, max_examples=6)
@given(spec=show_specs(specials_first=True), viewer=viewers(), data=st.data())
def test_a_character_who_first_appears_in_an_unwatched_special_is_never_named(
    db, spec, viewer, data
):
    """The same crawl over shows whose characters first appear and change in specials, some
    watched: a state revealed at a watched special still waits for its character's first
    appearance, on every page, fragment, search and API answer."""
    test_no_response_anywhere_holds_anything_past_the_safe_point.hypothesis.inner_test(
        db, spec, viewer, data
    )


# Set from the clock, not from the database.
CLOCK_HEADERS = {"Date", "Expires"}


def comparable(response: Fetched) -> tuple:
    """Status, headers and body, without the clock and the per-response CSRF token and CSP nonce."""
    return (
        response.status,
        tuple((name, value) for name, value in response.headers if name not in CLOCK_HEADERS),
        re.sub(r'nonce="[^"]*"', 'nonce=""', mask_csrf(response.body)),
    )


class CountingQueries:
    """A test client that counts the queries of each GET: a page served from the cache makes fewer."""

    def __init__(self, client):
        self.client = client
        self.queries: dict[tuple[str, bool], int] = {}

    def get(self, url, **headers):
        # The log keeps the last 9000 queries: full, it would count every request as none.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url, **headers)
        self.queries[url, "HTTP_HX_REQUEST" in headers] = len(captured)
        return response


def differential(spec, viewer, data, *, warm_cache: bool = False) -> None:
    """Serve everything with hidden content in the database, delete it, serve it again, compare.

    With `warm_cache`, the cache is kept across the deletion, an editor's edit past the point: no
    page may be rendered afresh for it (a slow first look would tell), so every request makes as
    many queries as when it was asked again before the edit.
    """
    with transaction.atomic(), frozen_clock():
        cache.clear()
        user, friend, client = sign_in(viewer)
        drawn = {}

        def hidden_content(spec, episodes):
            drawn.update(data.draw(past_the_safe_point(spec, viewer.signed_in), label="extra"))
            return drawn

        # The hidden content is created first, so it takes the lowest ids and every visible row's
        # id and position moves; the crawl also asks for the hidden ids. Then it is deleted, and
        # the same URLs are asked again, where those ids do not exist.
        _, added = build(spec, viewer, user=user, friend=friend, first=hidden_content)
        build(BETA, viewer, user=user, friend=friend)
        extra = drawn
        start = seeds(feed_tokens(user))
        # Exports and the feed stamp the time: the clock stopped, both databases are looked at in
        # the same instant.
        with_extra = everything_served(client, start)
        if warm_cache:
            again = CountingQueries(client)
            everything_served(again, start)
        for content in added:
            content.delete()
        # And the stills of the episodes hidden from the viewer: as if they had none.
        for each in (spec, BETA):
            hidden = [
                still_of(each.slug, index)
                for index in range(len(each.episodes))
                if not (viewer.signed_in and each.revealed(index))
            ]
            Episode.objects.filter(still__in=hidden).update(still="")
        if warm_cache:
            after_edit = CountingQueries(client)
            without = everything_served(after_edit, start)
        else:
            cache.clear()
            without = everything_served(client, start)

        full = replace(spec, **{key: getattr(spec, key) + items for key, items in extra.items()})
        found = leaks(with_extra, split_markers([full, BETA], viewer)[0])
        assert not found, "spoilers served:\n" + "\n".join(found[:20])
        assert with_extra.keys() == without.keys(), (
            f"reached only once: {with_extra.keys() ^ without.keys()}"
        )
        for key, response in with_extra.items():
            before, after = comparable(without[key]), comparable(response)
            if before != after:
                lines = before[2].splitlines(), after[2].splitlines()
                diff = "\n".join(difflib.unified_diff(*lines, "without", "with", lineterm="", n=1))
                headers = sorted(set(before[1]) ^ set(after[1]))
                raise AssertionError(
                    f"{response.label} changed when content past the safe point was added "
                    f"(status without it: {before[0]}):\n{diff[:3000]}\nheaders that differ: {headers}"
                )
        if warm_cache:
            rendered_again = {
                f"{url}{' [htmx]' if htmx else ''}": (n, after_edit.queries[url, htmx])
                for (url, htmx), n in again.queries.items()
                if after_edit.queries.get((url, htmx)) != n
            }
            assert not rendered_again, (
                f"an edit past the point changed the work (queries before, after): {rendered_again}"
            )
        transaction.set_rollback(True)


@settings(HYPOTHESIS, max_examples=7)
@given(spec=show_specs(part_watched=True), viewer=viewers(), data=st.data())
def test_content_past_the_safe_point_changes_no_byte_of_any_response(db, spec, viewer, data):
    """Two databases that differ only past the safe point serve the same status, headers and bytes.

    This catches counts, lengths, ordering, ids and "not found" that differs from "hidden": the
    hidden content is created before the visible content, so ids and positions move. Mutations it
    caught are listed in SECURITY.md.
    """
    differential(spec, viewer, data)


@settings(HYPOTHESIS, max_examples=4)
@given(spec=show_specs(part_watched=True, specials_first=True), viewer=viewers(), data=st.data())
def test_content_past_the_point_in_specials_changes_no_byte(db, spec, viewer, data):
    """The same, over shows whose characters first appear and change in specials."""
    differential(spec, viewer, data)


@settings(HYPOTHESIS, max_examples=4)
@given(spec=show_specs(part_watched=True), viewer=viewers(), data=st.data())
def test_an_edit_past_the_point_renders_no_cached_page_afresh(db, spec, viewer, data):
    """With the cache warm, an edit past the viewer's point changes neither bytes nor work."""
    differential(spec, viewer, data, warm_cache=True)


# --- Random admin edits ----------------------------------------------------------------------------


@st.composite
def admin_edits(draw) -> tuple:
    """One edit an editor could make in the admin, by index into what exists when it is made."""
    # Moving episodes is what can break the order, so it is drawn most often.
    kind = draw(st.sampled_from(["episode", "episode", "episode", "season", "reveal", "special"]))
    if kind == "episode":
        return kind, draw(st.integers(0, 99)), draw(st.integers(0, 3)), draw(st.integers(1, 12))
    if kind == "season":
        return kind, draw(st.integers(0, 9)), draw(st.integers(0, 5))
    if kind == "reveal":
        model = draw(st.sampled_from(["recap", "reviewernote", "characterstate"]))
        return kind, model, draw(st.integers(0, 99)), draw(st.integers(0, 99))
    return kind, draw(st.integers(0, 99)), draw(st.integers(1, 9))


def apply_admin_edit(client, show: Show, edit: tuple) -> int:
    """Submit the edit through the admin's own forms; returns the status code of the POST."""
    from django.urls import reverse

    def pick(items, index):
        return items[index % len(items)]

    episodes = list(show.episodes.order_by("sequence"))
    kind = edit[0]
    if kind == "episode":
        _, index, season_number, number = edit
        season = Season.objects.filter(show=show, number=season_number).first()
        if season is None:
            return 200
        url = reverse("admin:companion_episode_change", args=[pick(episodes, index).pk])
        changes = {"season": season.pk, "number": number}
    elif kind == "season":
        _, index, number = edit
        url = reverse(
            "admin:companion_season_change", args=[pick(list(show.seasons.all()), index).pk]
        )
        changes = {"number": number}
    elif kind == "reveal":
        _, model, index, reveal = edit
        items = list(
            {
                "recap": Recap.objects.for_show(show),
                "reviewernote": ReviewerNote.objects.for_show(show),
                "characterstate": CharacterState.objects.for_show(show),
            }[model].order_by("pk")
        )
        if not items:
            return 200
        url = reverse(f"admin:companion_{model}_change", args=[pick(items, index).pk])
        changes = {"reveal_at": pick(episodes, reveal).pk}
    else:
        _, after, number = edit
        specials, _ = Season.objects.get_or_create(show=show, number=0)
        url = reverse("admin:companion_episode_add")
        regular = [e for e in episodes if not e.is_special]
        if not regular:  # earlier edits moved every episode into the specials
            return 200
        changes = {"season": specials.pk, "number": number, "airs_after": pick(regular, after).pk}
    data = form_values(client.get(url).content.decode()) | {k: str(v) for k, v in changes.items()}
    return client.post(url, data).status_code


def order_holds(show: Show) -> bool:
    """No content before its own episode, no state before its character's first appearance."""
    places = dict(show.episodes.values_list("pk", "sequence"))
    pairs = [
        *Recap.objects.for_show(show).values_list("reveal_at", "episode"),
        *ReviewerNote.objects.for_show(show).values_list("reveal_at", "episode"),
        *CharacterState.objects.for_show(show).values_list(
            "reveal_at", "character__first_appearance"
        ),
    ]
    return all(places[reveal] >= places[anchor] for reveal, anchor in pairs)


@settings(HYPOTHESIS, max_examples=12)
@given(spec=show_specs(part_watched=True), edits=st.lists(admin_edits(), min_size=2, max_size=6))
def test_no_admin_edit_breaks_the_order_or_any_page(db, spec, edits):
    """Random renumbering, moved reveal points and new specials, made through the admin: none is
    answered with a 500, the order never puts content before its episode, and afterwards no page
    serves a 500 or anything past the viewer's safe point."""
    viewer = Viewer(signed_in=True, hide_titles=False, hide_synopses=True)
    with transaction.atomic():
        cache.clear()
        user, friend, client = sign_in(viewer)
        build(spec, viewer, user=user, friend=friend)
        show = Show.objects.get(slug="alpha")
        editor = make_user("editor-on-duty", is_staff=True, is_superuser=True)
        editing = Client()
        editing.force_login(editor)
        for edit in edits:
            status = apply_admin_edit(editing, show, edit)
            assert status < 500, f"{edit} -> {status}"
            assert order_holds(show), f"{edit} put content before its own episode"
        cache.clear()
        # The pages (the API reads through the same querysets, and has its own crawl above).
        fetched = everything_served(client, [url for url in seeds() if not url.startswith("/api/")])
        broken = [response.label for response in fetched.values() if response.status >= 500]
        assert not broken, "pages that failed after the edits:\n" + "\n".join(broken[:20])
        # What the viewer may see now follows the edited order: check it against the rule itself.
        point = show.safe_point_for(user)
        hidden = [
            *Recap.objects.for_show(show).exclude(pk__in=Recap.objects.visible_at(point)),
            *ReviewerNote.objects.for_show(show).exclude(
                pk__in=ReviewerNote.objects.visible_at(point)
            ),
        ]
        texts = {item.text for item in hidden}
        served = "\n".join(response.everything() for response in fetched.values())
        assert not [text for text in texts if text in served], (
            "hidden content served after the edits"
        )
        transaction.set_rollback(True)
