"""Watch history import (Trakt JSON, TV Time CSV) and export in the same two formats.

An import is parsed and checked in full before anything is written: `parse` turns the file into
rows or raises HistoryError naming each bad line or JSON path, `match` sorts the rows into what
would be newly marked, what is already watched and what did not match, and `apply` writes the
matched episodes in one transaction. Between the preview and the confirmation the matched
episodes travel in a signed token, so a viewer can only confirm what we showed them.

Episodes are named by show title, season and number only: an episode title can be a spoiler.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from companion.models import Episode, Follow, Show, Watch

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 50_000
# A file full of mistakes gets the first few explained, not a page of thousands.
MAX_PROBLEMS = 20
# A preview is confirmed within minutes; an old one might no longer say what the file meant.
TOKEN_MAX_AGE = timedelta(hours=1)
TOKEN_SALT = "accounts.history.import"
# SQLite allows 999 variables per statement in older builds; look ids up in chunks below that.
ID_CHUNK = 900
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TVTIME_COLUMNS = ("tv_show_name", "episode_season_number", "episode_number", "updated_at")
REQUIRED_COLUMNS = TVTIME_COLUMNS[:3]
FORMATS = [("auto", "Detect from the file"), ("trakt", "Trakt (JSON)"), ("tvtime", "TV Time (CSV)")]


class HistoryError(Exception):
    """A file or confirmation that cannot be used; `problems` says why, one line each."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Row:
    """One watched episode as the file names it; `where` is a line number or a JSON path."""

    where: str
    show_title: str
    season: int
    number: int
    watched_at: datetime | None


@dataclass(frozen=True)
class Unmatched:
    where: str
    entry: str
    reason: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)


@dataclass
class ShowPreview:
    show: Show
    new: list[tuple[int, int]] = field(default_factory=list)
    already: list[tuple[int, int]] = field(default_factory=list)

    @property
    def new_codes(self) -> list[str]:
        return code_ranges(self.new)

    @property
    def already_codes(self) -> list[str]:
        return code_ranges(self.already)


@dataclass
class ImportPreview:
    """What confirming would do: `watches` maps each newly marked episode's id to its watched_at."""

    rows: int
    shows: list[ShowPreview]
    unmatched: list[Unmatched]
    watches: dict[int, datetime | None]

    UNMATCHED_SHOWN = 200

    @property
    def new_count(self) -> int:
        return len(self.watches)

    @property
    def already_count(self) -> int:
        return sum(len(show.already) for show in self.shows)

    @property
    def unmatched_shown(self) -> list[Unmatched]:
        return self.unmatched[: self.UNMATCHED_SHOWN]

    @property
    def unmatched_hidden(self) -> int:
        return max(0, len(self.unmatched) - self.UNMATCHED_SHOWN)


# --- Parsing -------------------------------------------------------------------------------------


def parse(data: bytes, fmt: str = "auto") -> Parsed:
    """Read a Trakt JSON or TV Time CSV file; raises HistoryError for anything malformed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HistoryError(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read)."
        ) from None
    if not text.strip():
        raise HistoryError("The file is empty.")
    if fmt == "auto":
        fmt = "trakt" if text.lstrip()[0] in "[{" else "tvtime"
    if fmt == "trakt":
        return parse_trakt(text)
    if fmt == "tvtime":
        return parse_tvtime(text)
    raise HistoryError(f"Unknown format {fmt!r}.")


class _Problems:
    """Collects what is wrong with a file and stops once there is enough to act on."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, problem: str) -> None:
        self.found.append(problem)
        if len(self.found) >= MAX_PROBLEMS:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.found:
            more = (
                [f"Stopped after {MAX_PROBLEMS} problems."]
                if len(self.found) >= MAX_PROBLEMS
                else []
            )
            raise HistoryError(self.found + more)


def _too_many_rows() -> HistoryError:
    return HistoryError(
        f"The file has more than {MAX_ROWS:,} episodes; split it into smaller files."
    )


def parse_when(value, where: str, problems: _Problems) -> datetime | None:
    """An ISO 8601 date or date-time; one without a UTC offset is taken as UTC. Blank means unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when = None
    if isinstance(value, str):
        try:
            when = parse_datetime(value.strip())
        except ValueError:
            when = None
    if when is None:
        problems.add(f"{where}: {_shown(value)} is not a date and time like 2024-01-02T20:00:00Z.")
        return None
    return when.replace(tzinfo=UTC) if timezone.is_naive(when) else when


def _shown(value) -> str:
    if value is None or value == "":
        return "nothing"
    return json.dumps(value, ensure_ascii=False)[:60]


def _whole_number(value, where: str, problems: _Problems) -> int | None:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    problems.add(f"{where}: expected a whole number, not {_shown(value)}.")
    return None


def _title(value, where: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    problems.add(f"{where}: expected the show's title, not {_shown(value)}.")
    return None


def parse_trakt(text: str) -> Parsed:
    """Trakt's watched-shows export, or its history export (movies in it are reported, not imported)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise HistoryError(
            "Not valid JSON: a number is too long or the file is nested too deeply."
        ) from None
    if not isinstance(data, list):
        raise HistoryError(
            "The JSON should be a list of shows (Trakt's export), not a single object or value."
        )
    parsed, problems = Parsed(), _Problems()
    for i, item in enumerate(data):
        where = f"[{i}]"
        if not isinstance(item, dict):
            problems.add(f"{where}: expected an object, not {_shown(item)}.")
        elif "seasons" in item:
            _trakt_watched_show(item, where, parsed, problems)
        elif "movie" in item or item.get("type") == "movie":
            movie = item.get("movie")
            name = movie.get("title") if isinstance(movie, dict) else None
            parsed.unmatched.append(
                Unmatched(where, str(name or "a movie"), "a movie, not a TV episode")
            )
        elif "episode" in item:
            _trakt_history_entry(item, where, parsed, problems)
        else:
            problems.add(
                f'{where}: expected a watched show (with "show" and "seasons") '
                'or a history entry (with "show" and "episode").'
            )
    problems.raise_if_any()
    return parsed


def _trakt_title(item: dict, where: str, problems: _Problems) -> str | None:
    show = item.get("show")
    return _title(
        show.get("title") if isinstance(show, dict) else None, f"{where}.show.title", problems
    )


def _add_row(
    parsed: Parsed,
    where: str,
    title: str | None,
    season: int | None,
    number: int | None,
    when: datetime | None,
) -> None:
    """Keep the row if its title and numbers are valid (problems with them are already recorded)."""
    if title is not None and season is not None and number is not None:
        if len(parsed.rows) >= MAX_ROWS:
            raise _too_many_rows()
        parsed.rows.append(Row(where, title, season, number, when))


def _trakt_watched_show(item: dict, where: str, parsed: Parsed, problems: _Problems) -> None:
    """{"show": {"title"}, "seasons": [{"number", "episodes": [{"number", "last_watched_at"}]}]}"""
    title = _trakt_title(item, where, problems)
    if not isinstance(item["seasons"], list):
        problems.add(f"{where}.seasons: expected a list of seasons.")
        return
    for j, season in enumerate(item["seasons"]):
        at = f"{where}.seasons[{j}]"
        if not isinstance(season, dict) or not isinstance(season.get("episodes"), list):
            problems.add(f"{at}: expected a season with a number and a list of episodes.")
            continue
        season_number = _whole_number(season.get("number"), f"{at}.number", problems)
        for k, episode in enumerate(season["episodes"]):
            ep_at = f"{at}.episodes[{k}]"
            if not isinstance(episode, dict):
                problems.add(f"{ep_at}: expected an episode with a number.")
                continue
            number = _whole_number(episode.get("number"), f"{ep_at}.number", problems)
            when = parse_when(episode.get("last_watched_at"), f"{ep_at}.last_watched_at", problems)
            _add_row(parsed, ep_at, title, season_number, number, when)


def _trakt_history_entry(item: dict, where: str, parsed: Parsed, problems: _Problems) -> None:
    """{"watched_at", "type": "episode", "episode": {"season", "number"}, "show": {"title"}}"""
    title = _trakt_title(item, where, problems)
    episode = item["episode"]
    if not isinstance(episode, dict):
        problems.add(f"{where}.episode: expected an episode with a season and a number.")
        return
    season_number = _whole_number(episode.get("season"), f"{where}.episode.season", problems)
    number = _whole_number(episode.get("number"), f"{where}.episode.number", problems)
    when = parse_when(item.get("watched_at"), f"{where}.watched_at", problems)
    _add_row(parsed, where, title, season_number, number, when)


def parse_tvtime(text: str) -> Parsed:
    """CSV with the columns tv_show_name, episode_season_number, episode_number and, optionally, updated_at."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise HistoryError(f"Line 1: not valid CSV ({error}).") from None
    header_names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header_names]
    if missing:
        raise HistoryError(
            f"Line 1: the header lacks {', '.join(missing)}. Expected the columns {','.join(TVTIME_COLUMNS)} "
            f"(in any order; updated_at is optional)."
        )
    parsed, problems = Parsed(), _Problems()
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.add(f"Line {reader.line_num}: not valid CSV ({error}).")
            break
        if not any(value.strip() for value in record):
            continue
        where = f"Line {reader.line_num}"
        # A short row lacks its last cells: those read as None and are reported as missing.
        cell = dict(zip(header_names, record, strict=False))
        title = _title(cell.get("tv_show_name"), f"{where}, tv_show_name", problems)
        season = _whole_number(
            cell.get("episode_season_number"), f"{where}, episode_season_number", problems
        )
        number = _whole_number(cell.get("episode_number"), f"{where}, episode_number", problems)
        when = parse_when(cell.get("updated_at"), f"{where}, updated_at", problems)
        _add_row(parsed, where, title, season, number, when)
    problems.raise_if_any()
    return parsed


# --- Matching ------------------------------------------------------------------------------------


def normalise_title(title: str) -> str:
    return " ".join(title.split()).casefold()


def match(parsed: Parsed, *, user) -> ImportPreview:
    """Sort the rows into new, already watched and unmatched, in a fixed number of queries."""
    by_title: dict[str, list[Show]] = {}
    for candidate in Show.objects.all():
        by_title.setdefault(normalise_title(candidate.title), []).append(candidate)
    wanted = {normalise_title(row.show_title) for row in parsed.rows}
    shows = {key: found[0] for key, found in by_title.items() if key in wanted and len(found) == 1}
    matched = list(shows.values())
    episodes: dict[tuple[int, int, int], int] = {}
    for pk, show_id, season, number in Episode.objects.filter(show__in=matched).values_list(
        "pk", "show_id", "season_number", "number"
    ):
        episodes[show_id, season, number] = pk
    watched = set(
        user.watches.filter(episode__show__in=matched).values_list("episode_id", flat=True)
    )

    previews: dict[int, ShowPreview] = {}
    unmatched = list(parsed.unmatched)
    watches: dict[int, datetime | None] = {}
    seen: set[int] = set()
    for row in parsed.rows:
        key = normalise_title(row.show_title)
        entry = f"{row.show_title.strip()} S{row.season}E{row.number}"
        show = shows.get(key)
        if show is None:
            ambiguous = len(by_title.get(key, [])) > 1
            reason = "more than one show has this title" if ambiguous else "no show with this title"
            unmatched.append(Unmatched(row.where, entry, reason))
            continue
        pk = episodes.get((show.pk, row.season, row.number))
        if pk is None:
            unmatched.append(Unmatched(row.where, entry, f"{show.title} has no such episode"))
            continue
        preview = previews.setdefault(show.pk, ShowPreview(show))
        if pk in watched:
            if pk not in seen:
                preview.already.append((row.season, row.number))
        elif pk not in seen:
            preview.new.append((row.season, row.number))
            watches[pk] = row.watched_at
        else:
            # Watched more than once: keep when it was first seen.
            first = watches[pk]
            if row.watched_at and (first is None or row.watched_at < first):
                watches[pk] = row.watched_at
        seen.add(pk)
    for preview in previews.values():
        preview.new.sort()
        preview.already.sort()
    return ImportPreview(
        rows=len(parsed.rows) + len(parsed.unmatched),
        shows=sorted(previews.values(), key=lambda p: (p.show.title.casefold(), p.show.pk)),
        unmatched=unmatched,
        watches=watches,
    )


def code_ranges(pairs: list[tuple[int, int]]) -> list[str]:
    """[(1, 1), (1, 2), (1, 3), (2, 5)] -> ["S1E1–E3", "S2E5"]; pairs must be sorted."""
    out = []
    for season, group in groupby(pairs, key=lambda pair: pair[0]):
        numbers = [number for _, number in group]
        start = prev = numbers[0]
        for number in numbers[1:] + [None]:
            if number is not None and number == prev + 1:
                prev = number
                continue
            out.append(f"S{season}E{start}" + (f"–E{prev}" if prev != start else ""))
            if number is not None:
                start = prev = number
    return out


# --- Confirming ----------------------------------------------------------------------------------


def _micros(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def sign(preview: ImportPreview, *, user) -> str:
    """The preview's new watches, bound to this user, as a tamper-proof token for the confirm form."""
    watches = [
        [pk, None if when is None else _micros(when)] for pk, when in preview.watches.items()
    ]
    payload = {"u": user.pk, "w": watches}
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def unsign(token: str, *, user) -> dict[int, datetime | None]:
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise HistoryError(
            "This preview is more than an hour old. Upload the file again."
        ) from None
    except signing.BadSignature:
        raise HistoryError(
            "This confirmation was not one we made, so nothing was imported. Upload the file again."
        ) from None
    try:
        if payload["u"] != user.pk:
            raise ValueError
        return {
            int(pk): None if micros is None else EPOCH + timedelta(microseconds=int(micros))
            for pk, micros in payload["w"]
        }
    except (KeyError, TypeError, ValueError, OverflowError):
        raise HistoryError(
            "This confirmation does not belong to you, so nothing was imported."
        ) from None


def apply(token: str, *, user) -> int:
    """Mark the confirmed episodes watched in one transaction; returns how many were new."""
    watches = unsign(token, user=user)
    ids = list(watches)
    chunks = [ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]
    with transaction.atomic():
        existing = sum(Episode.objects.filter(pk__in=chunk).count() for chunk in chunks)
        if existing != len(ids):
            raise HistoryError(
                "Some of these episodes no longer exist, so nothing was imported. Upload the file again."
            )
        already = {
            pk
            for chunk in chunks
            for pk in user.watches.filter(episode_id__in=chunk).values_list("episode_id", flat=True)
        }
        now = timezone.now()
        new = [
            Watch(user=user, episode_id=pk, watched_at=when or now)
            for pk, when in watches.items()
            if pk not in already
        ]
        # ignore_conflicts: a watch marked in another tab since the preview stays as it was.
        Watch.objects.bulk_create(new, ignore_conflicts=True)
        Follow.objects.follow_shows_of(user=user, episode_ids=ids)
    return len(new)


# --- Export --------------------------------------------------------------------------------------


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _watch_rows(user):
    return user.watches.order_by(
        "episode__show__title", "episode__show_id", "episode__sequence"
    ).values_list(
        "episode__show_id",
        "episode__show__title",
        "episode__season_number",
        "episode__number",
        "watched_at",
    )


def export_trakt(user) -> str:
    """The viewer's watches as Trakt's watched-shows export: show title, numbers and dates only."""
    shows = []
    for _, group in groupby(_watch_rows(user), key=lambda row: row[0]):
        show_rows = list(group)
        seasons = []
        for season, season_rows in groupby(show_rows, key=lambda row: row[2]):
            seasons.append(
                {
                    "number": season,
                    "episodes": [
                        {
                            "number": number,
                            "plays": 1,
                            "last_watched_at": _iso(at),
                        }
                        for _, _, _, number, at in season_rows
                    ],
                }
            )
        shows.append(
            {
                "plays": len(show_rows),
                "last_watched_at": _iso(max(row[4] for row in show_rows)),
                "show": {"title": show_rows[0][1]},
                "seasons": seasons,
            }
        )
    return json.dumps(shows, indent=2, ensure_ascii=False)


def export_tvtime(user) -> str:
    """The viewer's watches as TV Time-style CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TVTIME_COLUMNS)
    for _, title, season, number, at in _watch_rows(user):
        writer.writerow([title, season, number, _iso(at)])
    return out.getvalue()
