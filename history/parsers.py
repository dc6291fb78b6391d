"""Reading other services' history exports: one parser per format, and the zip that holds them.

`read_uploads` takes every uploaded file (a zip or the CSV/JSON files in one), picks out the files
that hold watched episodes and returns their rows, or raises HistoryError naming each bad line,
JSON path or unsafe archive. Nothing here touches the database.

Where the shapes come from (see also tests/fixtures/history/README.md):
- TV Time's GDPR export is a zip of CSVs. Older ones hold `seen_episode.csv` (tv_show_name,
  episode_season_number, episode_number, created_at/updated_at); since 2024 episodes are rows of
  `tracking-prod-records-v2.csv` whose `key` starts with watch-episode/rewatch-episode (series_name,
  season_number, episode_number, created_at, s_id); older exports have `tracking-prod-records.csv`
  with a `type` column and epoch-second `watch_date`. The file names and columns are those read by
  lukearran/TvTimeToTrakt (TimeToTrakt.py) and by public TV Time conversion tools' test fixtures.
- Trakt's data export is a zip of JSON files: `watched-history-N.json` pages in the shape of the
  API's /sync/history (watched_at, type, episode.season/number, show.title/year/ids) and
  `watched-shows.json` in the shape of /sync/watched/shows (show, seasons[].episodes[]), which
  lacks `seasons` when exported without episode detail.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from django.utils import timezone
from django.utils.dateparse import parse_datetime

# A 20,000-play Trakt history is about 14 MB of JSON and zips to about 1 MB; a TV Time export of
# 20,000 rows is about 8 MB of CSV. These limits take several times that and stop there.
MAX_UPLOAD_BYTES = 40 * 1024 * 1024  # all files of one upload together, as sent
MAX_UNCOMPRESSED_BYTES = 80 * 1024 * 1024  # everything read out of zips, together
# Real exports compress about 10:1 (JSON with repeated keys up to ~30:1); a zip bomb, 1000:1.
MAX_RATIO = 100
MAX_ZIP_MEMBERS = 2_000
MAX_FILES = 50
MAX_ROWS = 100_000
# A file full of mistakes gets the first few explained, not a page of thousands.
MAX_PROBLEMS = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SEEN_EPISODE = "seen_episode.csv"
TRACKING_V2 = "tracking-prod-records-v2.csv"
TRACKING_V1 = "tracking-prod-records.csv"
WATCHED_SHOWS = "watched-shows.json"
HISTORY_PAGE = re.compile(r"^(?:watched-)?history(?:-\d+)?\.json$")
LOOKED_FOR = (
    f"TV Time's {SEEN_EPISODE}, {TRACKING_V2} or {TRACKING_V1}, "
    f"or Trakt's watched-history-1.json (and further pages) or {WATCHED_SHOWS}"
)
SUPPORTED = (
    "We read TV Time's and Trakt's exports: the .zip each service sends, or the .csv and .json "
    f"files inside it ({LOOKED_FOR})."
)
SEEN_COLUMNS = ("tv_show_name", "episode_season_number", "episode_number")
V2_COLUMNS = ("key", "series_name", "season_number", "episode_number")
V1_COLUMNS = ("type", "series_name", "season_number", "episode_number")
# tracking-prod-records.csv rows that name an episode without it having been watched.
V1_NOT_WATCHED = {"follow", "towatch", "unfollow", "for_later"}
ID_SERVICES = ("tvdb", "tmdb", "imdb", "trakt")


class HistoryError(Exception):
    """A file or confirmation that cannot be used; `problems` says why, one line each."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Row:
    """One watched episode as the file names it; `where` is a file and line or JSON path."""

    where: str
    show_title: str
    season: int
    number: int
    watched_at: datetime | None
    year: int | None = None
    # (service, id) pairs the file gives for the show, such as ("tvdb", "356202").
    ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry read but not imported, such as a movie."""

    where: str
    entry: str
    reason: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # watched-shows.json without "seasons": shows but no episodes.
    shows_without_seasons: int = 0


class _Problems:
    """Collects what is wrong with an upload and stops once there is enough to act on."""

    def __init__(self):
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


# --- Uploads and zips ----------------------------------------------------------------------------


def read_uploads(uploads: list[tuple[str, bytes]]) -> Parsed:
    """Every file of one upload, zips opened, merged into one Parsed; raises HistoryError."""
    # Each file is unzipped only when its turn comes, so one file's text is in memory at a time.
    files: list[tuple[str, Callable[[], bytes]]] = []
    budget = [MAX_UNCOMPRESSED_BYTES]
    for name, data in uploads:
        if data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
            files.extend(_unzip(name, data, budget))
        else:
            files.append((name, _already_read(data)))
    if len(files) > MAX_FILES:
        raise HistoryError(f"The upload holds {len(files)} files; the limit is {MAX_FILES}.")
    parsed, problems = Parsed(), _Problems()
    for name, load in files:
        _read_file(name, load(), parsed, problems)
    problems.raise_if_any()
    if not parsed.rows and not parsed.skipped and parsed.shows_without_seasons:
        raise HistoryError(
            f"{WATCHED_SHOWS} lists {parsed.shows_without_seasons} "
            f"show{'' if parsed.shows_without_seasons == 1 else 's'} but not their episodes "
            '(it was exported without "seasons"). Upload the watched-history-1.json, '
            "watched-history-2.json, … files from the same Trakt export, or the whole zip."
        )
    return parsed


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _already_read(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _unzip(name: str, data: bytes, budget: list[int]) -> list[tuple[str, Callable[[], bytes]]]:
    """The zip's usable files; refuses encrypted, corrupt, nested or oversized archives."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise HistoryError(
            f"{name}: the zip is damaged and cannot be opened. Download the export again."
        ) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise HistoryError(f"{name}: the zip holds more than {MAX_ZIP_MEMBERS:,} files.")
    if any(info.flag_bits & 0x1 for info in members):
        raise HistoryError(
            f"{name}: the zip is protected by a password. Unzip it yourself and upload the "
            f"files inside, or the zip without a password. {SUPPORTED}"
        )
    nested = [info.filename for info in members if info.filename.lower().endswith(".zip")]
    if nested:
        raise HistoryError(
            f"{name}: the zip holds another zip ({nested[0]}). Unzip the inner one and upload "
            f"it instead. {SUPPORTED}"
        )
    wanted = [info for info in members if _kind_by_name(_basename(info.filename))]
    if not wanted:
        found = ", ".join(_basename(info.filename) for info in members[:10]) or "nothing"
        more = f" and {len(members) - 10} more" if len(members) > 10 else ""
        raise HistoryError(
            f"{name}: the zip holds none of the files we read. We looked for {LOOKED_FOR}; "
            f"it holds {found}{more}."
        )
    return [
        (f"{name}/{info.filename}", partial(_read_member, name, archive, info, budget))
        for info in wanted
    ]


def _read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget) -> bytes:
    """Read in chunks, counting what really comes out: a zip's declared sizes can lie."""
    too_big = HistoryError(
        f"{name}: unzipped, the export is larger than {MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB "
        f"or expands more than {MAX_RATIO} times, which no real export does. {SUPPORTED}"
    )
    if info.file_size > budget[0] or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
        raise too_big
    limit = min(budget[0], MAX_RATIO * max(info.compress_size, 1024))
    chunks, size = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise too_big
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise HistoryError(
            f"{name}: {info.filename} is damaged inside the zip. Download the export again."
        ) from None
    except NotImplementedError:
        raise HistoryError(
            f"{name}: {info.filename} is compressed in a way we cannot read; "
            "zip it again with ordinary (deflate) compression."
        ) from None
    budget[0] -= size
    return b"".join(chunks)


def _kind_by_name(basename: str) -> str | None:
    lower = basename.lower()
    if lower == SEEN_EPISODE:
        return "seen"
    if lower == TRACKING_V2:
        return "v2"
    if lower == TRACKING_V1:
        return "v1"
    if lower == WATCHED_SHOWS or HISTORY_PAGE.match(lower):
        return "trakt"
    return None


def _read_file(name: str, data: bytes, parsed: Parsed, problems: _Problems) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HistoryError(
            f"{name}: the file is not UTF-8 text (byte {error.start + 1} cannot be read). {SUPPORTED}"
        ) from None
    if not text.strip():
        raise HistoryError(f"{name}: The file is empty.")
    parsed.files.append(name)
    kind = _kind_by_name(_basename(name))
    if kind is None:
        kind = "trakt" if text.lstrip()[0] in "[{" else _csv_kind(name, text)
    {
        "trakt": parse_trakt,
        "seen": parse_seen_episode,
        "v2": parse_tracking_v2,
        "v1": parse_tracking_v1,
    }[kind](name, text, parsed, problems)


def _csv_kind(name: str, text: str) -> str:
    """A CSV not named as TV Time names it, recognised by its header."""
    header = {cell.strip().lower() for cell in next(csv.reader(io.StringIO(text)), [])}
    if "key" in header and "series_name" in header:
        return "v2"
    if "type" in header and "series_name" in header:
        return "v1"
    if "tv_show_name" in header or len(header) > 1:
        return "seen"
    raise HistoryError(f"{name}: this is not a file we can read. {SUPPORTED}")


def _too_many_rows() -> HistoryError:
    return HistoryError(
        f"The upload has more than {MAX_ROWS:,} episodes; split it into smaller uploads."
    )


def _add_row(
    parsed: Parsed,
    where: str,
    title: str | None,
    season: int | None,
    number: int | None,
    when: datetime | None,
    year: int | None,
    ids: tuple[tuple[str, str], ...],
) -> None:
    """Keep the row if its show, season and number could be read (else a problem was noted)."""
    if title is None or season is None or number is None:
        return
    if len(parsed.rows) >= MAX_ROWS:
        raise _too_many_rows()
    parsed.rows.append(Row(where, title, season, number, when, year, ids))


# --- Values --------------------------------------------------------------------------------------


def _shown(value) -> str:
    if value is None or value == "":
        return "nothing"
    return json.dumps(value, ensure_ascii=False)[:60]


def parse_when(value, where: str, problems: _Problems) -> datetime | None:
    """ISO 8601 or TV Time's "2024-01-02 20:00:00"; no offset means UTC; blank means unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when = None
    if isinstance(value, str):
        if value.strip().startswith("0001-01-01"):
            return None  # TV Time's "no date"
        try:
            when = parse_datetime(value.strip())
        except ValueError:
            when = None
    if when is None:
        problems.add(f"{where}: {_shown(value)} is not a date and time like 2024-01-02T20:00:00Z.")
        return None
    return when.replace(tzinfo=UTC) if timezone.is_naive(when) else when


def _epoch(value: str, where: str, problems: _Problems) -> datetime | None:
    """tracking-prod-records.csv's watch_date: seconds (or milliseconds) since 1970."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        return parse_when(value, where, problems)
    seconds = int(value)
    if seconds > 10**11:
        seconds //= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None
    except (OverflowError, OSError, ValueError):
        problems.add(f"{where}: {_shown(value)} is not a date.")
        return None


def _whole_number(value, where: str, problems: _Problems) -> int | None:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    problems.add(f"{where}: expected a whole number, not {_shown(value)}.")
    return None


def _title(value, where: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        # PostgreSQL cannot store or compare text holding NUL; no export has one.
        problems.add(f"{where}: the title holds a NUL character.")
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    problems.add(f"{where}: expected the show's title, not {_shown(value)}.")
    return None


def _id(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and "\x00" in value:
        return None  # as no id at all: PostgreSQL cannot compare text holding NUL
    if isinstance(value, int | str) and str(value).strip() not in ("", "0"):
        return str(value).strip()
    return None


# --- Trakt ---------------------------------------------------------------------------------------


def parse_trakt(name: str, text: str, parsed: Parsed, problems: _Problems) -> None:
    """A history page, a watched-shows file, or Spoilerfree's own Trakt-shaped export."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"{name}: Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise HistoryError(
            f"{name}: Not valid JSON: a number is too long or the file is nested too deeply."
        ) from None
    if not isinstance(data, list):
        raise HistoryError(
            f"{name}: the JSON should be a list of shows or plays (Trakt's export), "
            "not a single object or value."
        )
    for i, item in enumerate(data):
        where = f"{name} [{i}]"
        if not isinstance(item, dict):
            problems.add(f"{where}: expected an object, not {_shown(item)}.")
        elif "seasons" in item:
            _trakt_watched_show(item, where, parsed, problems)
        elif "movie" in item or item.get("type") == "movie":
            movie = item.get("movie")
            title = movie.get("title") if isinstance(movie, dict) else None
            parsed.skipped.append(
                Skipped(where, str(title or "a movie"), "a movie, not a TV episode")
            )
        elif "episode" in item:
            _trakt_history_entry(item, where, parsed, problems)
        elif isinstance(item.get("show"), dict):
            parsed.shows_without_seasons += 1
        else:
            problems.add(
                f'{where}: expected a watched show (with "show" and "seasons") '
                'or a history entry (with "show" and "episode").'
            )


def _trakt_show(item: dict, where: str, problems: _Problems):
    found = item.get("show")
    show: dict = found if isinstance(found, dict) else {}
    title = _title(show.get("title"), f"{where}.show.title", problems)
    year = show.get("year") if isinstance(show.get("year"), int) else None
    given = show.get("ids")
    raw_ids: dict = given if isinstance(given, dict) else {}
    ids = tuple(
        (service, value)
        for service in ID_SERVICES
        if (value := _id(raw_ids.get(service))) is not None
    )
    return title, year, ids


def _trakt_watched_show(item: dict, where: str, parsed: Parsed, problems: _Problems) -> None:
    """{"show": {"title", "year", "ids"}, "seasons": [{"number", "episodes": [{"number", "last_watched_at"}]}]}"""
    title, year, ids = _trakt_show(item, where, problems)
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
            _add_row(parsed, ep_at, title, season_number, number, when, year, ids)


def _trakt_history_entry(item: dict, where: str, parsed: Parsed, problems: _Problems) -> None:
    """{"watched_at", "type": "episode", "episode": {"season", "number"}, "show": {"title", "year", "ids"}}"""
    title, year, ids = _trakt_show(item, where, problems)
    episode = item["episode"]
    if not isinstance(episode, dict):
        problems.add(f"{where}.episode: expected an episode with a season and a number.")
        return
    season_number = _whole_number(episode.get("season"), f"{where}.episode.season", problems)
    number = _whole_number(episode.get("number"), f"{where}.episode.number", problems)
    when = parse_when(item.get("watched_at"), f"{where}.watched_at", problems)
    _add_row(parsed, where, title, season_number, number, when, year, ids)


# --- TV Time -------------------------------------------------------------------------------------


def _csv_records(name: str, text: str, required: tuple[str, ...], problems: _Problems):
    """(line, {column: cell}) for each non-blank record; the header must name `required`."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise HistoryError(f"{name} line 1: not valid CSV ({error}).") from None
    names = [cell.strip().lower() for cell in header]
    missing = [column for column in required if column not in names]
    if missing:
        raise HistoryError(
            f"{name} line 1: the header lacks {', '.join(missing)}. Expected the columns "
            f"{', '.join(required)} (in any order; other columns are ignored). {SUPPORTED}"
        )
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(f"{name} line {reader.line_num}: not valid CSV ({error}).")
            return
        if any(value.strip() for value in record):
            # A short row lacks its last cells: those read as None and are reported as missing.
            yield f"{name} line {reader.line_num}", dict(zip(names, record, strict=False))


def _tvtime_row(where, cell, title_col, season_col, id_col, when, parsed, problems) -> None:
    title = _title(cell.get(title_col), f"{where}, {title_col}", problems)
    season = _whole_number(cell.get(season_col), f"{where}, {season_col}", problems)
    number = _whole_number(cell.get("episode_number"), f"{where}, episode_number", problems)
    # TV Time's show ids are TheTVDB's series ids.
    tvdb = _id(cell.get(id_col))
    ids = (("tvdb", tvdb),) if tvdb and tvdb.isdigit() else ()
    _add_row(parsed, where, title, season, number, when, None, ids)


def parse_seen_episode(name: str, text: str, parsed: Parsed, problems: _Problems) -> None:
    """seen_episode.csv (and Spoilerfree's own TV Time-style export): one watched episode a row."""
    for where, cell in _csv_records(name, text, SEEN_COLUMNS, problems):
        column = "created_at" if cell.get("created_at", "").strip() else "updated_at"
        when = parse_when(cell.get(column), f"{where}, {column}", problems)
        _tvtime_row(
            where,
            cell,
            "tv_show_name",
            "episode_season_number",
            "tv_show_id",
            when,
            parsed,
            problems,
        )


def parse_tracking_v2(name: str, text: str, parsed: Parsed, problems: _Problems) -> None:
    """tracking-prod-records-v2.csv: every kind of record; watches have a watch-episode key."""
    for where, cell in _csv_records(name, text, V2_COLUMNS, problems):
        key = (cell.get("key") or "").strip()
        if not key.startswith(("watch-episode", "rewatch-episode")):
            continue
        when = parse_when(cell.get("created_at"), f"{where}, created_at", problems)
        _tvtime_row(where, cell, "series_name", "season_number", "s_id", when, parsed, problems)


def parse_tracking_v1(name: str, text: str, parsed: Parsed, problems: _Problems) -> None:
    """tracking-prod-records.csv: rows of many types; one naming an episode is a watch."""
    for where, cell in _csv_records(name, text, V1_COLUMNS, problems):
        kind = (cell.get("type") or "").strip().lower()
        if (
            kind in V1_NOT_WATCHED
            or not (cell.get("series_name") or "").strip()
            or not (cell.get("episode_number") or "").strip()
        ):
            continue  # follows, movies, counters
        when = _epoch(cell.get("watch_date") or "", f"{where}, watch_date", problems)
        if when is None:
            when = parse_when(cell.get("created_at"), f"{where}, created_at", problems)
        _tvtime_row(
            where, cell, "series_name", "season_number", "series_id", when, parsed, problems
        )
