"""Our own SQL, where a measurement earned it (docs/PERFORMANCE.md): the statements every page and
every mark runs, where building the ORM's query took longer than the database took to answer it.

Each statement is a named function with typed arguments. What comes out is whole rows of one
table, as model instances (with any extra column named in the docstring), or NamedTuples of plain
values: nothing else, and no SQL text goes in. This is the only module that imports `connection`.
The ORM states the same definitions for
everything else: `EpisodeQuerySet.regular()` is `regular()` below. Where a viewer's run of
watched episodes ends, which every safe point (a viewer's, a party's) starts from, is not SQL but
`run_length()` in the rule's own module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache, lru_cache, partial
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models import signals
from django.db.models.base import ModelState

from .models.catalogue import Episode, Season, Show
from .models.gated import Character, CharacterState, Recap, ReviewerNote
from .models.parties import Party
from .models.progress import Follow, Watch
from .models.rule import SPECIALS_SEASON, RevealedSql, run_length

EPISODE, SEASON, SHOW, WATCH = (model._meta.db_table for model in (Episode, Season, Show, Watch))
CHARACTER, STATE = Character._meta.db_table, CharacterState._meta.db_table
NOTE, RECAP = ReviewerNote._meta.db_table, Recap._meta.db_table

_Model = TypeVar("_Model", bound=models.Model)
# The revealed episodes' ids, in a statement that has them as `WITH seen AS (...)`.
SEEN = "SELECT pk FROM seen"
FOLLOW, PARTY = Follow._meta.db_table, Party._meta.db_table
MEMBERS = Party.members.through._meta.db_table


def regular(alias: str) -> str:
    """A regular episode (not a special), as a condition on the episode table under `alias`."""
    return f"{alias}.season_number > {int(SPECIALS_SEASON)}"


def listed_season(alias: str) -> str:
    """The number of the season whose list on the show page holds the episode under `alias`
    (Show.listed_season): its own, or for a special the last regular season begun at or before
    it (the first, for one before them all)."""
    # Regular seasons follow one another in story order: a special's is the season of the last
    # regular episode before it, found by walking back along (show, sequence).
    return (
        f"CASE WHEN {regular(alias)} THEN {alias}.season_number ELSE COALESCE("
        f"(SELECT r.season_number FROM {EPISODE} r WHERE r.show_id = {alias}.show_id"
        f" AND r.sequence <= {alias}.sequence AND {regular('r')}"
        " ORDER BY r.sequence DESC LIMIT 1),"
        f" (SELECT r.season_number FROM {EPISODE} r WHERE r.show_id = {alias}.show_id"
        f" AND {regular('r')} ORDER BY r.sequence LIMIT 1), {int(SPECIALS_SEASON)}) END"
    )


def columns(model: type[models.Model], alias: str) -> str:
    """Every column of the model's table, to read whole rows into models."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


@cache
def converters(model: type[models.Model]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Per column of columns(model) that the database returns in a type of its own (a date as
    text, a boolean as 0 or 1 on SQLite): its place, and what turns the value into the field's.
    Once per process, which has one database: asking the connection which took longer than
    converting a row."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for at, field in enumerate(model._meta.concrete_fields):
        col = field.get_col(model._meta.db_table)
        steps = [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]
        if steps:
            found.append((at, partial(_apply, steps, col)))
    return found


def _apply(steps: list, expression, value):
    for step in steps:
        value = step(value, expression, connection)
    return value


def placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def season_of(show_id: int, number: int) -> Season | None:
    found = whole_rows(
        Season,
        f"SELECT {columns(Season, 's')} FROM {SEASON} s WHERE s.show_id = %s AND s.number = %s",
        [show_id, number],
    )
    return found[0] if found else None


def episode_at(slug: str, season: int, number: int) -> Episode | None:
    """The episode at this place in the show with this slug, with its show and season."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Episode, 'e')}, {columns(Show, 's')}, {columns(Season, 'n')}"
            f" FROM {EPISODE} e JOIN {SHOW} s ON s.id = e.show_id"
            f" JOIN {SEASON} n ON n.id = e.season_id"
            " WHERE s.slug = %s AND e.season_number = %s AND e.number = %s",
            [slug, season, number],
        )
        found = _rows(cursor, Episode, Show, Season)
    if not found:
        return None
    episode, show, its_season = found[0]
    episode.show, episode.season = show, its_season
    return episode


def show_by_slug(slug: str) -> Show | None:
    found = whole_rows(Show, f"SELECT {columns(Show, 's')} FROM {SHOW} s WHERE slug = %s", [slug])
    return found[0] if found else None


def whole_rows(model: type[_Model], statement: str, params: list) -> list[_Model]:
    """The model's rows a statement reads as columns(model): built from the rows directly, as
    every page's first look asks for its show and safe point, and a raw queryset's machinery
    cost more than those statements."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return [found for row in rows if (found := from_row(model, list(row))) is not None]


def content_stamp(revealed: RevealedSql) -> int:
    """The sum of the revealed episodes' content stamps (Show.content_stamp_at)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(e.content_stamp) FROM {EPISODE} e WHERE e.id IN ({revealed.sql})",
            revealed.params,
        )
        (total,) = cursor.fetchone()
        return total or 0


def season_starts(show_id: int) -> list[tuple[int, int, int]]:
    """Per regular season of the show, in order: its number, the place of its first episode and
    how many it has (Show.season_starts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.season_number, MIN(e.sequence), COUNT(*) FROM {EPISODE} e"
            f" WHERE e.show_id = %s AND {regular('e')} GROUP BY e.season_number"
            " ORDER BY e.season_number",
            [show_id],
        )
        return cursor.fetchall()


class MarkBeyondRun(NamedTuple):
    """A watched episode that is not part of the viewer's run: a special, or a regular episode
    placed past the run's end (then the viewer has a gap)."""

    show_id: int
    episode_id: int
    sequence: int
    regular: bool
    # The season whose list on the show page holds it (listed_season()).
    listed_in: int
    # Its episode's Episode.content_stamp.
    content_stamp: int


class RunEnd(NamedTuple):
    """Where a user's run of one show ends: its last regular episode, the episode at its gap (up
    next), and the sum of the content stamps of the episodes placed up to its last one."""

    show_id: int
    last: Episode | None
    at_gap: Episode | None
    content_stamp: int


class Runs(NamedTuple):
    """What runs_of() finds: where each show's run ends, and every mark beyond the runs."""

    ends: list[RunEnd]
    beyond: list[MarkBeyondRun]


def runs_of(user_id: int, versions: dict[int, int]) -> Runs:
    """Where the user's run of watched regular episodes ends in each of these shows (id: its
    content version), as run_length() finds it: the run's last episode and the one at its gap,
    up next; every mark beyond each run (the specials watched, and the regular episodes watched
    past the run's end); and the content stamps that key the viewer's cached fragments
    (Show.content_stamp_at): per show, the sum over the episodes placed up to the run's end; per
    mark, its episode's own (the specials watched on the way add theirs).

    One statement: the marks, with their stamps and places, and the stamps of
    every special (a point reveals every special placed before its end, watched or not). The
    shows' episodes are kept per process for each version of their content (as listed_episodes
    keeps its reads) and never supply a stamp: an edit of gated content moves an episode's
    stamp, not the show's version. The statement reads the versions too. Where a show's episodes
    are not kept yet, or it was edited since this request read it, everything is read afresh in
    one statement instead (and kept, outside a transaction): a first look at many shows costs
    no more statements than a look at one."""
    if not versions:
        return Runs([], [])
    kept = None if connection.in_atomic_block else _kept_shows_of(versions)
    if kept is not None:
        shows = kept
        marks, now = _marks(user_id, shows)
    if kept is None or now != versions:
        shows, marks = _episodes_with_all_marks(user_id, list(versions))
        if not connection.in_atomic_block:
            _keep_shows(versions, shows)
    ends, beyond = [], []
    for show_id in versions:
        end, past = _run_end(show_id, shows.get(show_id, NO_EPISODES), marks.get(show_id, []))
        ends.append(end)
        beyond += past
    return Runs(ends, beyond)


class ShowEpisodes(NamedTuple):
    """Every episode of a show, each with `listed_in` (listed_season()), by id; and its regular
    episodes in story order, with their places."""

    by_pk: dict[int, Episode]
    regular: tuple[Episode, ...]
    places: tuple[int, ...]
    special_ids: tuple[int, ...]


NO_EPISODES = ShowEpisodes({}, (), (), ())


# A row that a run's end is worked out from: an episode the user watched, or a special. Plain
# tuples, not NamedTuples: a long show's viewer has hundreds, and runs_of() is on every page.
# (show id, place, episode id, content stamp, watched, regular)
MarkRow = tuple[int, int, int, int, bool, bool]


def _run_end(
    show_id: int, episodes: ShowEpisodes, marks: list[MarkRow]
) -> tuple[RunEnd, list[MarkBeyondRun]]:
    """runs_of() for one show, from its episodes and its mark rows."""
    watched = sorted(
        (place, pk, stamp) for _, place, pk, stamp, seen, regular in marks if seen and regular
    )
    length = run_length(episodes.places, [place for place, _, _ in watched])
    last = episodes.regular[length - 1] if length else None
    at_gap = episodes.regular[length] if length < len(episodes.regular) else None
    end = last.sequence if last is not None else 0
    # A special watched is read twice, watched and as a special: by id, once, watched if so.
    specials: dict[int, tuple[int, int, bool]] = {}
    for _, place, pk, stamp, seen, regular in marks:
        if not regular and not specials.get(pk, (0, 0, False))[2]:
            specials[pk] = (place, stamp, bool(seen))
    stamp = sum(stamp for _, _, stamp in watched[:length]) + sum(
        stamp for place, stamp, _ in specials.values() if place <= end
    )
    past = [(place, pk, stamp, True) for place, pk, stamp in watched[length:]] + [
        (place, pk, stamp, False) for pk, (place, stamp, seen) in specials.items() if seen
    ]
    found = RunEnd(
        show_id,
        None if last is None else copy_of(last),
        None if at_gap is None else copy_of(at_gap),
        stamp,
    )
    return found, [
        MarkBeyondRun(show_id, pk, place, regular, episodes.by_pk[pk].listed_in, stamp)
        for place, pk, stamp, regular in past
    ]


def _show_episodes(rows: list[tuple]) -> dict[int, ShowEpisodes]:
    """ShowEpisodes per show id from rows of (episode, its listed season, ...) in story order."""
    found: dict[int, list[Episode]] = {}
    for episode, listed_in, *_ in rows:
        episode.listed_in = listed_in
        found.setdefault(episode.show_id, []).append(episode)
    shows = {}
    for show_id, episodes in found.items():
        regular = tuple(episode for episode in episodes if not episode.is_special)
        shows[show_id] = ShowEpisodes(
            {episode.pk: episode for episode in episodes},
            regular,
            tuple(episode.sequence for episode in regular),
            tuple(episode.pk for episode in episodes if episode.is_special),
        )
    return shows


# Each show's episodes for its content version, oldest use first. A show of 500 episodes is
# about 0.7 MB of them; most shows are a tenth of that.
_kept_shows: OrderedDict[tuple[int, int], ShowEpisodes] = OrderedDict()
_kept_shows_lock = threading.Lock()
KEPT_SHOWS = 256


def _kept_shows_of(versions: dict[int, int]) -> dict[int, ShowEpisodes] | None:
    """The kept episodes of every one of these shows (id: content version); None if any is not
    kept. Never handed on as they are: runs_of() hands on copies (copy_of)."""
    with _kept_shows_lock:
        found = {}
        for key in versions.items():
            if key not in _kept_shows:
                return None
            _kept_shows.move_to_end(key)
            found[key[0]] = _kept_shows[key]
        return found


def _keep_shows(versions: dict[int, int], shows: dict[int, ShowEpisodes]) -> None:
    """Keep these shows' episodes, read after their versions were: a version's are never older
    than it."""
    with _kept_shows_lock:
        for key in versions.items():
            _kept_shows[key] = shows.get(key[0], NO_EPISODES)
            _kept_shows.move_to_end(key)
        while len(_kept_shows) > KEPT_SHOWS:
            _kept_shows.popitem(last=False)


def _marks(
    user_id: int, shows: dict[int, ShowEpisodes]
) -> tuple[dict[int, list[MarkRow]], dict[int, int]]:
    """The user's marks of these shows and their specials, by show; and each show's content
    version as the statement found it."""
    show_ids = list(shows)
    special_ids = [pk for episodes in shows.values() for pk in episodes.special_ids]
    specials = (
        f" UNION ALL SELECT e.show_id, e.sequence, e.id, e.content_stamp, 0, {regular('e')}"
        f" FROM {EPISODE} e"
        f" WHERE e.id IN ({placeholders(special_ids)})"
        if special_ids
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.show_id, e.sequence, e.id, e.content_stamp, 1, {regular('e')}"
            f" FROM {WATCH} w CROSS JOIN {EPISODE} e WHERE e.id = w.episode_id"
            f" AND w.user_id = %s AND e.show_id IN ({placeholders(show_ids)}){specials}"
            f" UNION ALL SELECT s.id, NULL, NULL, s.content_version, NULL, NULL FROM {SHOW} s"
            f" WHERE s.id IN ({placeholders(show_ids)})",
            [user_id, *show_ids, *special_ids, *show_ids],
        )
        rows = cursor.fetchall()
    marks: dict[int, list[MarkRow]] = {}
    versions = {}
    for row in rows:
        if row[2] is None:
            versions[row[0]] = row[3]
        else:
            marks.setdefault(row[0], []).append(row)
    return marks, versions


def _episodes_with_all_marks(
    user_id: int, show_ids: list[int]
) -> tuple[dict[int, ShowEpisodes], dict[int, list[MarkRow]]]:
    """What runs_of() reads, read afresh in one statement: every episode of these shows with
    whether the user watched it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Episode, 'e')}, {listed_season('e')}, w.id IS NOT NULL"
            f" FROM {EPISODE} e LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s"
            f" WHERE e.show_id IN ({placeholders(show_ids)}) ORDER BY e.show_id, e.sequence",
            [user_id, *show_ids],
        )
        rows = _rows(cursor, Episode)
    marks: dict[int, list[MarkRow]] = {}
    for episode, _, watched in rows:
        if watched or episode.is_special:
            marks.setdefault(episode.show_id, []).append(
                (
                    episode.show_id,
                    episode.sequence,
                    episode.pk,
                    episode.content_stamp,
                    watched,
                    not episode.is_special,
                )
            )
    return _show_episodes(rows), marks


def episodes_with_marks(
    user_id: int | None,
    show_id: int,
    *,
    season_ids: list[int] | None = None,
    with_specials: bool = False,
    regular_after: int | None = None,
    limit: int | None = None,
) -> list[Episode]:
    """The show's episodes of these seasons (and its specials), or its regular ones placed after
    `regular_after`, in story order; each with `watched` (0 or 1) for this user and `listed_in`,
    the season whose list on the show page holds it (Show.listed_season): its own, or for a
    special the last regular season begun at or before it (the first, for one before them all)."""
    conditions, params = [], []
    if season_ids:
        conditions.append(f"e.season_id IN ({placeholders(season_ids)})")
        params += season_ids
    if with_specials:
        conditions.append(f"NOT {regular('e')}")
    if regular_after is not None:
        conditions.append(f"({regular('e')} AND e.sequence > %s)")
        params.append(regular_after)
    if not conditions:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Episode, 'e')}, w.id IS NOT NULL,"
            f" {listed_season('e')} FROM {EPISODE} e"
            f" LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s"
            f" WHERE e.show_id = %s AND ({' OR '.join(conditions)}) ORDER BY e.sequence"
            + ("" if limit is None else f" LIMIT {int(limit)}"),
            [user_id, show_id, *params],
        )
        rows = _rows(cursor, Episode)
    episodes = []
    for episode, watched, listed_in in rows:
        episode.watched, episode.listed_in = watched, listed_in
        episodes.append(episode)
    return episodes


def listed_episodes(show_id: int, content_version: int, season_ids: list[int]) -> list[Episode]:
    """The show's episodes of these seasons and its specials, in story order, each with
    `listed_in` (as episodes_with_marks reads them, without marks): copies of their own, of a
    read kept per process for this version of the show's content. An edit of a season or an
    episode moves the version (companion/signals.py) after it is written, so an old read is
    never used for the new version. Within a transaction the read is not kept: what it read may
    never be committed (and on SQLite, once rolled back, a new show may take its id)."""
    return kept(read_listed_episodes, show_id, content_version, tuple(season_ids))


# A few dozen shows' lists, a few kB each: the old versions of a show's fall out as it is used.
@lru_cache(maxsize=256)
def read_listed_episodes(
    show_id: int, content_version: int, season_ids: tuple[int, ...]
) -> tuple[Episode, ...]:
    return tuple(
        episodes_with_marks(None, show_id, season_ids=list(season_ids), with_specials=True)
    )


def forget_kept_reads() -> None:
    """Empty this process's kept reads (listed_episodes, season_heads_of_run, episode_page_of_run,
    runs_of)."""
    read_listed_episodes.cache_clear()
    read_season_places.cache_clear()
    read_episode_page.cache_clear()
    with _kept_shows_lock:
        _kept_shows.clear()


def kept(read: Callable[..., tuple[_Model, ...]], *key: Any) -> list[_Model]:
    """Copies of what `read` (an lru_cache) keeps for `key`, or inside a transaction of what it
    reads afresh without keeping it."""
    found = read.__wrapped__(*key) if connection.in_atomic_block else read(*key)  # type: ignore[attr-defined]
    return [copy_of(model) for model in found]


def copy_of(made: _Model) -> _Model:
    """A model read by from_row, as another instance: what one request sets on it stays its own."""
    copy = type(made).__new__(type(made))
    copy.__dict__.update(made.__dict__)
    copy._state = ModelState()
    copy._state.adding = False
    copy._state.db = DEFAULT_DB_ALIAS
    return copy


def season_heads_of_run(
    show_id: int, content_version: int, season_id: int | None, end: int, specials: list[int]
) -> list[Season]:
    """As season_heads(marks=(end, specials)), from the seasons and their episodes' places read
    once per process for this version of the show's content (as listed_episodes keeps its
    reads): each head is a copy of its own, counted here from the marks."""
    if connection.in_atomic_block:
        return season_heads(None, show_id, season_id, marks=(end, specials))
    watched_specials = set(specials)
    heads = []
    for season, places in read_season_places(show_id, content_version):
        if season_id is not None and season.pk != season_id:
            continue
        head = copy_of(season)
        if season.number == SPECIALS_SEASON:
            marked = [sequence for pk, sequence in places if pk in watched_specials]
        else:
            marked = [sequence for _, sequence in places if sequence <= end]
        head.watched = len(marked)
        head.last_watched = marked[-1] if marked else None
        heads.append(head)
    return heads


@lru_cache(maxsize=256)
def read_season_places(
    show_id: int, content_version: int
) -> tuple[tuple[Season, tuple[tuple[int, int], ...]], ...]:
    """The show's season heads with nothing watched, each with its episodes' (id, place) in
    story order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.season_id, e.id, e.sequence FROM {EPISODE} e WHERE e.show_id = %s"
            " ORDER BY e.sequence",
            [show_id],
        )
        places: dict[int, list[tuple[int, int]]] = {}
        for season_pk, pk, sequence in cursor.fetchall():
            places.setdefault(season_pk, []).append((pk, sequence))
    return tuple(
        (season, tuple(places.get(season.pk, ())))
        for season in season_heads(None, show_id, marks=(0, []))
    )


class Place(NamedTuple):
    """An episode's place in a show, and whether the user watched it."""

    episode_id: int
    season_number: int
    number: int
    sequence: int
    watched: bool


def regular_places_to_furthest_watched(user_id: int, show_id: int, after: int) -> list[Place]:
    """The regular episodes placed after `after`, up to the furthest one the user watched."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.season_number, e.number, e.sequence, w.id IS NOT NULL"
            f" FROM {EPISODE} e LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s"
            f" WHERE e.show_id = %s AND {regular('e')} AND e.sequence > %s"
            f" AND e.sequence <= (SELECT MAX(f.sequence) FROM {EPISODE} f"
            f" JOIN {WATCH} v ON v.episode_id = f.id AND v.user_id = %s"
            f" WHERE f.show_id = %s AND {regular('f')} AND f.sequence > %s)"
            " ORDER BY e.sequence",
            [user_id, show_id, after] * 2,
        )
        return [
            Place(pk, season, number, sequence, bool(seen))
            for pk, season, number, sequence, seen in cursor.fetchall()
        ]


def season_heads(
    user_id: int | None,
    show_id: int,
    season_id: int | None = None,
    *,
    marks: tuple[int, list[int]] | None = None,
) -> list[Season]:
    """The show's seasons (or only one) in order, each with `period_reveal_id` and
    `period_reveal_sequence` (its set point, else its first episode), `total` episodes and how
    many of them the user `watched`, the places of its `first` and `last` episodes and of the last
    one the user watched (`last_watched`), or None.

    Each season's episodes are counted in one pass, read from the (season, sequence) index
    alone: a subquery per season and figure read each season's episodes seven times over, and
    reading the rows cost a long show 0.7 ms on SQLite against 0.3. `marks` counts the user's
    marks from what the caller says they are, not from the watches: the place where their run
    ends, and the ids of the specials they watched (for a user with no regular episode watched
    past the run)."""
    marked, marked_params = "w.id IS NOT NULL", []
    watches = f" LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s"
    watches_params: list = [user_id]
    if marks is not None:
        end, specials = marks
        # An episode's season number is its season's: the specials' season is not regular.
        marked = f"(s.number > {int(SPECIALS_SEASON)} AND e.sequence <= %s)"
        marked_params = [end]
        if specials:
            marked = f"({marked} OR e.id IN ({placeholders(specials)}))"
            marked_params += specials
        watches, watches_params = "", []
    only, only_params = ("", []) if season_id is None else (" AND s.id = %s", [season_id])
    first_id = (
        f"(SELECT f.id FROM {EPISODE} f WHERE f.season_id = s.id ORDER BY f.sequence LIMIT 1)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Season, 's')},"
            f" COALESCE(r.id, {first_id}), COALESCE(r.sequence, MIN(e.sequence)),"
            f" COUNT(e.id), COUNT(CASE WHEN {marked} THEN 1 END),"
            " MIN(e.sequence), MAX(e.sequence),"
            f" MAX(CASE WHEN {marked} THEN e.sequence END)"
            f" FROM {SEASON} s LEFT JOIN {EPISODE} r ON r.id = s.period_revealed_at_id"
            f" LEFT JOIN {EPISODE} e ON e.season_id = s.id{watches}"
            f" WHERE s.show_id = %s{only} GROUP BY s.id, r.id, r.sequence ORDER BY s.number",
            [*marked_params, *marked_params, *watches_params, show_id, *only_params],
        )
        rows = _rows(cursor, Season)
    heads = []
    for season, *figures in rows:
        (
            season.period_reveal_id,
            season.period_reveal_sequence,
            season.total,
            season.watched,
            season.first,
            season.last,
            season.last_watched,
        ) = figures
        heads.append(season)
    return heads


class Counts(NamedTuple):
    watched: int
    total: int


def regular_counts(user_id: int | None, show_ids: list[int]) -> dict[int, Counts]:
    """Per show id: the regular episodes this user watched, and all of them."""
    if not show_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.show_id, COUNT(w.id), COUNT(*) FROM {EPISODE} e"
            f" LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s"
            f" WHERE e.show_id IN ({placeholders(show_ids)}) AND {regular('e')}"
            " GROUP BY e.show_id",
            [user_id, *show_ids],
        )
        return {pk: Counts(done, total) for pk, done, total in cursor.fetchall()}


def follows(user_id: int, show_id: int) -> bool:
    """Whether the user follows the show."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {FOLLOW} WHERE user_id = %s AND show_id = %s LIMIT 1",
            [user_id, show_id],
        )
        return cursor.fetchone() is not None


def parties_of(user_id: int, show_id: int) -> list[Party]:
    """The user's watch parties for the show, by name."""
    return whole_rows(
        Party,
        f"SELECT {columns(Party, 'p')} FROM {PARTY} p JOIN {MEMBERS} m ON m.party_id = p.id"
        " WHERE m.user_id = %s AND p.show_id = %s ORDER BY p.name",
        [user_id, show_id],
    )


def followed_shows(user_id: int) -> list[Show]:
    """The shows this user follows, by title."""
    return whole_rows(
        Show,
        f"SELECT {columns(Show, 's')} FROM {SHOW} s JOIN {FOLLOW} f ON f.show_id = s.id"
        " WHERE f.user_id = %s ORDER BY s.title",
        [user_id],
    )


def parties_of_member(user_id: int) -> list[Party]:
    """The user's watch parties, of every show, by name; each with its `show`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Party, 'p')}, {columns(Show, 's')} FROM {PARTY} p"
            f" JOIN {MEMBERS} m ON m.party_id = p.id JOIN {SHOW} s ON s.id = p.show_id"
            " WHERE m.user_id = %s ORDER BY p.name, p.id",
            [user_id],
        )
        found = _rows(cursor, Party, Show)
    for party, show in found:
        party.show = show
    return [party for party, _ in found]


# Where each row of episode_page() stands to the episode asked for.
HERE, PREVIOUS, NEXT, UP_NEXT = 0, -1, 1, 2


def episode_page(
    user_id: int | None, show_id: int, season: int, number: int, up_next_after: int
) -> list[Episode]:
    """What an episode's page needs of the episode table, in one statement: the episode at
    (season, number), the episodes just before and after it in story order, and the regular one
    up next after place `up_next_after`; each with `place` (HERE, PREVIOUS, NEXT or UP_NEXT) and
    `watched` (0 or 1) for this user. None of them for an episode that does not exist."""
    fields = [field.attname for field in Episode._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH here AS (SELECT h.id, h.sequence FROM {EPISODE} h"
            " WHERE h.show_id = %s AND h.season_number = %s AND h.number = %s)"
            f" SELECT {columns(Episode, 'e')}, p.place, w.id IS NOT NULL FROM ("
            f"SELECT id, {HERE} AS place FROM here"
            f" UNION ALL SELECT (SELECT b.id FROM {EPISODE} b, here WHERE b.show_id = %s"
            f" AND b.sequence < here.sequence ORDER BY b.sequence DESC LIMIT 1), {PREVIOUS}"
            f" UNION ALL SELECT (SELECT a.id FROM {EPISODE} a, here WHERE a.show_id = %s"
            f" AND a.sequence > here.sequence ORDER BY a.sequence LIMIT 1), {NEXT}"
            f" UNION ALL SELECT (SELECT u.id FROM {EPISODE} u, here WHERE u.show_id = %s"
            f" AND {regular('u')} AND u.sequence > %s ORDER BY u.sequence LIMIT 1), {UP_NEXT}"
            f") p JOIN {EPISODE} e ON e.id = p.id"
            f" LEFT JOIN {WATCH} w ON w.episode_id = e.id AND w.user_id = %s",
            [show_id, season, number, show_id, show_id, show_id, up_next_after, user_id],
        )
        rows = cursor.fetchall()
    # Built from the rows directly: a raw queryset's machinery cost more than the statement.
    found = []
    for *values, place, watched in rows:
        for at, convert in converters(Episode):
            values[at] = convert(values[at])
        episode = Episode.from_db(DEFAULT_DB_ALIAS, fields, values)
        episode.place, episode.watched = place, bool(watched)
        found.append(episode)
    return found


# Past every place: the episode page read for keeping asks for no episode up next.
NO_PLACE = 2**31 - 1


def episode_page_of_run(
    show_id: int, content_version: int, season: int, number: int
) -> list[Episode]:
    """As episode_page, without marks or the episode up next: copies of a read kept per process
    for this version of the show's content (as listed_episodes keeps its reads)."""
    return kept(read_episode_page, show_id, content_version, season, number)


# An episode and its two neighbours each: the episodes viewers read lately.
@lru_cache(maxsize=1024)
def read_episode_page(
    show_id: int, content_version: int, season: int, number: int
) -> tuple[Episode, ...]:
    return tuple(episode_page(None, show_id, season, number, NO_PLACE))


def characters_with_latest_state(
    revealed: RevealedSql, *, start: int = 0, count: int | None = None
) -> list[Character]:
    """The characters visible among the revealed episodes, by name (`count` of
    them from `start`, when given), each with its `show` and `latest_states`: its newest state
    revealed there, as a list of at most one, whose `reveal_at` holds only its episode's place.

    One statement: a character's states are looked up one by one from their (character, episode)
    index; the ORM's three queries for the same took twice as long to build as to run.
    """
    page = "" if count is None else " LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS ({revealed.sql}),"
            f" page AS (SELECT {columns(Character, 'c')} FROM {CHARACTER} c"
            f" WHERE {visible_among(Character, 'c', SEEN)} ORDER BY c.name, c.id{page})"
            f" SELECT page.*, {columns(Show, 'sh')}, {columns(CharacterState, 's')},"
            " e.season_number, e.number, e.sequence"
            f" FROM page JOIN {SHOW} sh ON sh.id = page.show_id"
            f" LEFT JOIN {STATE} s ON s.id = (SELECT n.id FROM {STATE} n"
            f" JOIN {EPISODE} ne ON ne.id = n.reveal_at_id WHERE n.character_id = page.id"
            f" AND {visible_among(CharacterState, 'n', SEEN)}"
            " ORDER BY ne.sequence DESC, n.id DESC LIMIT 1)"
            f" LEFT JOIN {EPISODE} e ON e.id = s.reveal_at_id ORDER BY page.name, page.id",
            [*revealed.params, *([] if count is None else [count, start])],
        )
        rows = cursor.fetchall()
    found = []
    shows: dict[int, Show] = {}
    widths = [len(model._meta.concrete_fields) for model in (Character, Show, CharacterState)]
    for row in rows:
        character = from_row(Character, list(row[: widths[0]]))
        show = row[widths[0] : widths[0] + widths[1]]
        state = from_row(CharacterState, list(row[widths[0] + widths[1] : -3]))
        assert character is not None
        # One show object for all its characters, as the related manager would give them.
        if character.show_id not in shows:
            found_show = from_row(Show, list(show))
            assert found_show is not None
            shows[character.show_id] = found_show
        character.show = shows[character.show_id]
        character.latest_states = []
        if state is not None:
            season_number, number, sequence = row[-3:]
            state.character = character
            state.reveal_at = Episode(
                pk=state.reveal_at_id,
                show=character.show,
                season_number=season_number,
                number=number,
                sequence=sequence,
            )
            character.latest_states = [state]
        found.append(character)
    return found


class CardState(NamedTuple):
    """What a Who's who card shows of a character's newest state."""

    id: int
    public_id: str
    status: str
    location: str
    affiliation: str
    description: str
    season_number: int
    number: int


class CastCard(NamedTuple):
    """What a Who's who card shows of a character, and of their newest state if any."""

    id: int
    slug: str
    name: str
    actor: str
    photo: str
    state: CardState | None


def visible_character(revealed: RevealedSql, slug: str) -> Character | None:
    """The character with this slug visible among the revealed episodes (of one show, so one at
    most), with `first_appearance`, its episode; None for one hidden and for one that does not
    exist alike. Found from the revealed episodes: a hidden character's row is never read."""
    condition, params = visible(Character, "c", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Character, 'c')}, {columns(Episode, 'e')} FROM {CHARACTER} c"
            f" JOIN {EPISODE} e ON e.id = c.first_appearance_id"
            f" WHERE {condition} AND c.slug = %s",
            [*params, slug],
        )
        rows = _rows_of(cursor.fetchall(), Character, Episode)
    if not rows:
        return None
    character, first = rows[0]
    assert isinstance(character, Character) and isinstance(first, Episode)
    character.first_appearance = first
    return character


def visible_characters(revealed: RevealedSql) -> int:
    """How many characters are visible among the revealed episodes."""
    condition, params = visible(Character, "c", revealed)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {CHARACTER} c WHERE {condition}", params)
        (count,) = cursor.fetchone()
        return count


def cast_cards(revealed: RevealedSql, *, start: int, count: int) -> list[CastCard]:
    """`count` of the characters visible among the revealed episodes from `start`, by name, as
    their cards show them: the few columns shown, as plain values, with their newest state
    revealed there (as characters_with_latest_state finds it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS ({revealed.sql}),"
            f" page AS (SELECT c.id, c.slug, c.name, c.actor, c.photo FROM {CHARACTER} c"
            f" WHERE {visible_among(Character, 'c', SEEN)} ORDER BY c.name, c.id"
            " LIMIT %s OFFSET %s)"
            " SELECT page.*, s.id, s.public_id, s.status, s.location, s.affiliation,"
            " s.description, e.season_number, e.number"
            f" FROM page LEFT JOIN {STATE} s ON s.id = (SELECT n.id FROM {STATE} n"
            f" JOIN {EPISODE} ne ON ne.id = n.reveal_at_id WHERE n.character_id = page.id"
            f" AND {visible_among(CharacterState, 'n', SEEN)}"
            " ORDER BY ne.sequence DESC, n.id DESC LIMIT 1)"
            f" LEFT JOIN {EPISODE} e ON e.id = s.reveal_at_id ORDER BY page.name, page.id",
            [*revealed.params, count, start],
        )
        return [
            CastCard(
                id=row[0],
                slug=row[1],
                name=row[2],
                actor=row[3],
                photo=row[4],
                state=None if row[5] is None else CardState(*row[5:]),
            )
            for row in cursor.fetchall()
        ]


def character_states(revealed: RevealedSql, character_id: int) -> list[CharacterState]:
    """The character's states visible among the revealed episodes, oldest first; each with
    `reveal_at`, its episode."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS ({revealed.sql})"
            f" SELECT {columns(CharacterState, 's')}, {columns(Episode, 'e')} FROM {STATE} s"
            f" JOIN {EPISODE} e ON e.id = s.reveal_at_id"
            f" WHERE s.character_id = %s AND {visible_among(CharacterState, 's', SEEN)}"
            " ORDER BY e.sequence",
            [*revealed.params, character_id],
        )
        rows = cursor.fetchall()
    width = len(CharacterState._meta.concrete_fields)
    found = []
    for row in rows:
        state = from_row(CharacterState, list(row[:width]))
        episode = from_row(Episode, list(row[width:]))
        assert state is not None and episode is not None
        state.reveal_at = episode
        found.append(state)
    return found


def from_row(model: type[_Model], values: list) -> _Model | None:
    """A model from its columns as columns(model) reads them; None for a row a LEFT JOIN left empty."""
    if values[0] is None:
        return None
    for at, convert in converters(model):
        values[at] = convert(values[at])
    if not _plain(model):
        return model.from_db(DEFAULT_DB_ALIAS, attnames(model), values)
    # What from_db() makes, without __init__'s work field by field: a first look builds some
    # fifty rows so, and __init__ took most of the time of the statements that read them.
    made = model.__new__(model)
    made.__dict__.update(zip(attnames(model), values, strict=True))
    made._state = ModelState()
    made._state.adding = False
    made._state.db = DEFAULT_DB_ALIAS
    return made


@cache
def _plain(model: type[models.Model]) -> bool:
    """Whether from_row may skip __init__: nothing listens to the model's init signals (an image
    field with dimension fields would) and from_db() is Django's own."""
    return (
        not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
        and model.from_db.__func__ is models.Model.from_db.__func__  # type: ignore[attr-defined]
    )


@cache
def attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def visible(model: type[models.Model], alias: str, revealed: RevealedSql) -> tuple[str, list]:
    """The condition that a row of `model` under `alias` is revealed: each of its reveal fields
    (GatedContent.reveal_fields, direct or through a relation) among the revealed episodes."""
    fields = model.reveal_fields  # type: ignore[attr-defined]
    return visible_among(model, alias, revealed.sql), list(revealed.params) * len(fields)


def visible_among(model: type[models.Model], alias: str, ids: str) -> str:
    """As visible(), against `ids`, a subquery that takes no parameters (a WITH table's)."""
    fields = model.reveal_fields  # type: ignore[attr-defined]
    return " AND ".join(_among(model, alias, name.split("__"), ids) for name in fields)


def _among(model: type[models.Model], alias: str, path: list[str], ids: str) -> str:
    """`path` from the row of `model` under `alias` leads to an episode among `ids`."""
    field = model._meta.get_field(path[0])
    assert isinstance(field, models.ForeignKey)
    if len(path) == 1:
        return f"{alias}.{field.column} IN ({ids})"
    target: Any = field.related_model
    inner = f"{alias}_{len(path)}"
    return (
        f"{alias}.{field.column} IN (SELECT {inner}.{target._meta.pk.column}"
        f" FROM {target._meta.db_table} {inner} WHERE {_among(target, inner, path[1:], ids)})"
    )


def _rows(cursor, *shapes: type[models.Model]) -> list[tuple]:
    """The cursor's rows, each the columns() of these models in turn (an instance each, or None
    for a left join that found nothing) and then any extra columns."""
    return _rows_of(cursor.fetchall(), *shapes)


def _rows_of(rows: list[tuple], *shapes: type[models.Model]) -> list[tuple]:
    widths = [(model, len(attnames(model))) for model in shapes]
    found = []
    for row in rows:
        at, made = 0, []
        for model, width in widths:
            made.append(from_row(model, list(row[at : at + width])))
            at += width
        found.append((*made, *row[at:]))
    return found


def first_notes_on(
    revealed: RevealedSql, episode_id: int, count: int
) -> list[tuple[ReviewerNote, int]]:
    """The first `count` notes on the episode visible among the revealed episodes, in
    ReviewerNote's order (by reveal, then as written), each with how many are visible in all.
    From the index of notes by episode and reveal: notes revealed later are never read."""
    condition, params = visible(ReviewerNote, "n", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(ReviewerNote, 'n')}, COUNT(*) OVER () FROM {NOTE} n"
            f" JOIN {EPISODE} r ON r.id = n.reveal_at_id"
            f" WHERE n.episode_id = %s AND {condition} ORDER BY r.sequence, n.id LIMIT %s",
            [episode_id, *params, count],
        )
        return _rows(cursor, ReviewerNote)


def recaps_of(revealed: RevealedSql, episode_ids: list[int]) -> list[Recap]:
    """The recaps of these episodes visible among the revealed episodes. Picked out of the recaps the rule finds,
    as GatedQuerySet.of_episodes() does: through the episode's own index a hidden one would be read."""
    if not episode_ids:
        return []
    condition, params = visible(Recap, "r", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Recap, 'r')} FROM {RECAP} r WHERE {condition}"
            f" AND r.episode_id + 0 IN ({placeholders(episode_ids)})",
            [*params, *episode_ids],
        )
        return [recap for (recap,) in _rows(cursor, Recap)]


def placed_within(alias: str, before: int | None) -> str:
    """The episode under `alias` is the show's (%s) and placed from %s (up to `before`, if any)."""
    return f"{alias}.show_id = %s AND {alias}.sequence >= %s" + (
        "" if before is None else f" AND {alias}.sequence < %s"
    )


# The revealed episodes placed from %s on (a WITH table's, after `seen`): content about an episode
# is never revealed before it (GatedContent.check_reveal_point; Show.resequence refuses an order
# that would do so), so what is about a span's episodes is revealed at one of these.
REVEALED_FROM = f"SELECT f.id FROM {EPISODE} f WHERE f.id IN ({SEEN}) AND f.sequence >= %s"


def recaps_within(
    revealed: RevealedSql, show_id: int, start: int, before: int | None
) -> list[Recap]:
    """The recaps visible among the revealed episodes of the show's episodes placed from `start`
    (up to `before`, if any), in story order, each with `episode`, its whole row. One statement,
    led by the revealed episodes from the span's start (CROSS JOIN keeps SQLite to that order):
    a recap not revealed yet is never read."""
    condition = visible_among(Recap, "r", SEEN)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS ({revealed.sql}), late AS ({REVEALED_FROM})"
            f" SELECT {columns(Recap, 'r')}, {columns(Episode, 'e')}"
            f" FROM late CROSS JOIN {RECAP} r CROSS JOIN {EPISODE} e"
            f" WHERE r.reveal_at_id = late.id AND e.id = r.episode_id"
            f" AND {placed_within('e', before)} AND {condition} ORDER BY e.sequence",
            [*revealed.params, start, show_id, start, *([] if before is None else [before])],
        )
        found = _rows(cursor, Recap, Episode)
    for recap, episode in found:
        recap.episode = episode
    return [recap for recap, _ in found]


def note_ids_within(
    revealed: RevealedSql, show_id: int, start: int, before: int | None
) -> list[tuple[int, int]]:
    """(episode id, note id) of every note visible among the revealed episodes on the show's
    episodes placed from `start` (up to `before`, if any). Only ids, from the index of notes by
    episode and reveal, looked up for each episode of the span and each revealed episode from
    its start: no note revealed later is read, and the revealed episodes before the span are
    not tried (on a long show's late season, most of them)."""
    condition = visible_among(ReviewerNote, "a", SEEN)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS ({revealed.sql}), late AS ({REVEALED_FROM})"
            f" SELECT a.episode_id, a.id FROM {EPISODE} e JOIN {NOTE} a ON a.episode_id = e.id"
            f" WHERE {placed_within('e', before)} AND a.reveal_at_id IN (SELECT id FROM late)"
            f" AND {condition}",
            [*revealed.params, start, show_id, start, *([] if before is None else [before])],
        )
        return cursor.fetchall()


def notes_by_id(note_ids: list[int]) -> list[ReviewerNote]:
    """These notes in story order, each with `episode` holding only its episode's place (id,
    show id, season, number, sequence), one object per episode: what a note's footer links to."""
    if not note_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(ReviewerNote, 'n')}, e.show_id, e.season_number, e.number,"
            f" e.sequence FROM {NOTE} n JOIN {EPISODE} e ON e.id = n.episode_id"
            f" WHERE n.id IN ({placeholders(note_ids)}) ORDER BY e.sequence, n.id",
            note_ids,
        )
        found = []
        episodes: dict[int, Episode] = {}
        for note, show_id, season_number, number, sequence in _rows(cursor, ReviewerNote):
            if note.episode_id not in episodes:
                episodes[note.episode_id] = Episode(
                    pk=note.episode_id,
                    show_id=show_id,
                    season_number=season_number,
                    number=number,
                    sequence=sequence,
                )
            note.episode = episodes[note.episode_id]
            found.append(note)
        return found


def last_regular_among(revealed: RevealedSql, show_id: int, count: int) -> list[Episode]:
    """The show's last `count` regular episodes among the revealed episodes, the latest first:
    from the end of the show's sequence index."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Episode, 'e')} FROM {EPISODE} e WHERE e.show_id = %s"
            f" AND {regular('e')} AND e.id IN ({revealed.sql}) ORDER BY e.sequence DESC LIMIT %s",
            [show_id, *revealed.params, count],
        )
        return [episode for (episode,) in _rows(cursor, Episode)]


class Change(NamedTuple):
    """A character's state as a line of Previously on shows it: who, and where they stand."""

    reveal_at_id: int
    character_name: str
    character_slug: str
    status: str
    location: str


def changes_at(revealed: RevealedSql, episode_ids: list[int]) -> list[Change]:
    """The states visible among the revealed episodes that are revealed at these episodes, by
    their place and the character's name: only what a line names, not the descriptions."""
    if not episode_ids:
        return []
    condition, params = visible(CharacterState, "s", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.reveal_at_id, c.name, c.slug, s.status, s.location"
            f" FROM {STATE} s JOIN {CHARACTER} c ON c.id = s.character_id"
            f" JOIN {EPISODE} e ON e.id = s.reveal_at_id"
            f" WHERE s.reveal_at_id IN ({placeholders(episode_ids)}) AND {condition}"
            " ORDER BY e.sequence, c.name",
            [*episode_ids, *params],
        )
        return [Change(*row) for row in cursor.fetchall()]


def first_notes_of(
    revealed: RevealedSql, episode_ids: list[int], count: int
) -> list[tuple[ReviewerNote, int]]:
    """The first `count` notes as written on each of these episodes visible among the revealed episodes, in
    story order, each with how many its episode has visible in all. The window reads only ids,
    from the index of notes by episode and reveal, and whole rows are read for the few shown."""
    if not episode_ids:
        return []
    condition, params = visible(ReviewerNote, "a", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(ReviewerNote, 'n')}, f.total FROM (SELECT a.id,"
            " ROW_NUMBER() OVER (PARTITION BY a.episode_id ORDER BY a.id) AS place,"
            " COUNT(*) OVER (PARTITION BY a.episode_id) AS total"
            f" FROM {NOTE} a WHERE a.episode_id IN ({placeholders(episode_ids)}) AND {condition}"
            f") f JOIN {NOTE} n ON n.id = f.id JOIN {EPISODE} e ON e.id = n.episode_id"
            " WHERE f.place <= %s ORDER BY e.sequence, n.id",
            [*episode_ids, *params, count],
        )
        return _rows(cursor, ReviewerNote)


def characters_in_episode(
    revealed: RevealedSql, episode_id: int, sequence: int
) -> list[tuple[Character, CharacterState | None, Episode | None]]:
    """The characters visible among the revealed episodes who first appear in the episode (at `sequence`) or
    have a visible state revealed at it, by name; each with their newest state visible at the
    revealed episodes up to the episode, if any, and that state's reveal episode. One statement."""
    character, character_params = visible(Character, "c", revealed)
    changed, changed_params = visible(CharacterState, "h", revealed)
    state, state_params = visible(CharacterState, "l", revealed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Character, 'c')}, {columns(CharacterState, 's')},"
            f" {columns(Episode, 'e')} FROM {CHARACTER} c"
            # Only each one's newest: their whole history would be read to show one line.
            f" LEFT JOIN {STATE} s ON s.id = (SELECT l.id FROM {STATE} l"
            f" JOIN {EPISODE} p ON p.id = l.reveal_at_id WHERE l.character_id = c.id"
            f" AND p.sequence <= %s AND {state} ORDER BY p.sequence DESC, l.id DESC LIMIT 1)"
            f" LEFT JOIN {EPISODE} e ON e.id = s.reveal_at_id"
            f" WHERE {character} AND (c.first_appearance_id = %s OR c.id IN ("
            f"SELECT h.character_id FROM {STATE} h WHERE h.reveal_at_id = %s AND {changed}))"
            " ORDER BY c.name",
            [
                sequence,
                *state_params,
                *character_params,
                episode_id,
                episode_id,
                *changed_params,
            ],
        )
        return _rows(cursor, Character, CharacterState, Episode)
