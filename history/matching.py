"""Matching parsed rows to our shows and episodes, the preview, and confirming it.

A file's show ids match first (TVDB, TMDB, IMDb, Trakt); then its title, ignoring case, spacing,
punctuation and a trailing "(2019)" or "(US)", with a year the file gives checked against the
show's first season's premiere. Never a guess: a title that fits two shows is reported, not
matched. Between the preview and the confirmation the matched episodes travel in a signed token,
so a viewer can only confirm what we showed them.

Episodes are named by show title, season and number only: an episode title can be a spoiler.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.core import signing
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from companion.models import Episode, Season, Show, Watch

from .parsers import EPOCH, HistoryError, Parsed, Row

# A preview is confirmed within minutes; an old one might no longer say what the file meant.
TOKEN_MAX_AGE = timedelta(hours=1)
TOKEN_SALT = "accounts.history.import"
# SQLite allows 999 variables per statement in older builds; look ids up in chunks below that.
ID_CHUNK = 900
# How many entries of each unmatched show the report lists.
EXAMPLES_SHOWN = 5
SHOW_ID_FIELDS = {"tvdb": "tvdb_id", "tmdb": "tmdb_id", "imdb": "imdb_id", "trakt": "trakt_id"}
# TVmaze's ids too, which the catalogue's imports fill in and Jellyfin's TVmaze plugin sends; kept
# out of SHOW_ID_FIELDS, which is also what an export writes in Trakt's format.
MATCHED_SHOW_IDS = {**SHOW_ID_FIELDS, "tvmaze": "tvmaze_id"}
EPISODE_ID_FIELDS = {"tvdb": "tvdb_id", "tmdb": "tmdb_id", "imdb": "imdb_id", "tvmaze": "tvmaze_id"}
TRAILING_PARENS = re.compile(r"\s*\(([^()]*)\)\s*$")


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
class UnmatchedGroup:
    """Entries left out for one reason, about one show: "Doctor Who (2005): 120 episodes, ..."."""

    label: str
    reason: str
    examples: list[str] = field(default_factory=list)
    count: int = 0
    noun: str = "episode"

    @property
    def hidden(self) -> int:
        return self.count - len(self.examples)


@dataclass
class ImportPreview:
    """What confirming would do: `watches` maps each newly marked episode's id to its watched_at."""

    rows: int
    files: list[str]
    shows: list[ShowPreview]
    unmatched: list[UnmatchedGroup]
    watches: dict[int, datetime | None]

    @property
    def new_count(self) -> int:
        return len(self.watches)

    @property
    def already_count(self) -> int:
        return sum(len(show.already) for show in self.shows)

    @property
    def unmatched_count(self) -> int:
        return sum(group.count for group in self.unmatched)


def normalise_title(title: str) -> tuple[str, int | None]:
    """("for all mankind", 2019) for "For All Mankind (2019)"; a country in parentheses is dropped."""
    year = None
    found = TRAILING_PARENS.search(title)
    if found:
        inner = found[1].strip()
        if re.fullmatch(r"\d{4}", inner):
            year = int(inner)
        title = title[: found.start()]
    cleaned = "".join(
        ch if not unicodedata.category(ch).startswith(("P", "S")) else " "
        for ch in unicodedata.normalize("NFKC", title)
    )
    return " ".join(cleaned.casefold().split()), year


class _Shows:
    """Every show indexed by id and by normalised title, read in one query."""

    def __init__(self):
        first_premiere = (
            Season.objects.filter(show=OuterRef("pk"), number__gte=1)
            .order_by("number")
            .values("premiere_date")[:1]
        )
        self.by_id: dict[tuple[str, str], Show] = {}
        self.by_title: dict[str, list[Show]] = {}
        self.year: dict[int, int | None] = {}
        for show in Show.objects.annotate(first_premiere=Subquery(first_premiere)).only(
            "title", "slug", *MATCHED_SHOW_IDS.values()
        ):
            self.year[show.pk] = show.first_premiere.year if show.first_premiere else None
            for service, field_name in MATCHED_SHOW_IDS.items():
                if value := _own_id(show, field_name):
                    self.by_id[service, _id_key(service, value)] = show
            self.by_title.setdefault(normalise_title(show.title)[0], []).append(show)
        self.cache: dict[tuple, tuple[Show | None, str]] = {}

    def find(self, row: Row) -> tuple[Show | None, str]:
        """The one show a row names, or None and why not."""
        key = (row.show_title, row.year, row.ids)
        if key not in self.cache:
            self.cache[key] = self.find_by(row.show_title, year=row.year, ids=row.ids)
        return self.cache[key]

    def find_by(
        self, show_title: str, *, year: int | None, ids: tuple[tuple[str, str], ...]
    ) -> tuple[Show | None, str]:
        by_id = {
            show.pk: show
            for service, value in ids
            if (show := self.by_id.get((service, _id_key(service, value))))
        }
        if len(by_id) == 1:
            return next(iter(by_id.values())), ""
        if len(by_id) > 1:
            return None, "its ids name different shows here"
        title, title_year = normalise_title(show_title)
        year = year or title_year
        # A show whose own id for a service differs from the file's is another show of that title.
        candidates = [
            show
            for show in self.by_title.get(title, [])
            if not any(
                (ours := _own_id(show, MATCHED_SHOW_IDS[service]))
                and _id_key(service, ours) != _id_key(service, value)
                for service, value in ids
            )
        ]
        if year:
            same = [show for show in candidates if self.year[show.pk] == year]
            unknown = [show for show in candidates if self.year[show.pk] is None]
            fitting = same or unknown
            if not fitting and candidates:
                ours = ", ".join(f"{s.title} ({self.year[s.pk]})" for s in candidates)
                return None, f"no show of this title from {year} here (we have {ours})"
            candidates = fitting
        if len(candidates) == 1:
            return candidates[0], ""
        if candidates:
            return None, "more than one show here has this title, so none was chosen"
        return None, "no such show here"


def find_show(
    title: str, *, year: int | None = None, ids: tuple[tuple[str, str], ...] = ()
) -> tuple[Show | None, str]:
    """The one show these ids or this title name, matched exactly as an imported row is."""
    return _Shows().find_by(title, year=year, ids=ids)


def find_episode_by_ids(ids: tuple[tuple[str, str], ...]) -> Episode | None:
    """The one episode these (service, id) pairs name, or None when they name none or several."""
    wanted = Q(pk__in=[])
    for service, value in ids:
        if service not in EPISODE_ID_FIELDS or not (key := _id_key(service, value)):
            continue
        if service == "tvmaze":
            # A number in the database: a lookup by text would not use its index.
            if key.isdigit():
                wanted |= Q(tvmaze_id=int(key))
        else:
            wanted |= Q(**{f"{EPISODE_ID_FIELDS[service]}__iexact": key})
    found = list(Episode.objects.filter(wanted).select_related("show")[:2])
    return found[0] if len(found) == 1 else None


def _own_id(show: Show, field_name: str) -> str:
    """A show's id for a service as text ("" for none): TVmaze's is a number, the others text."""
    return str(getattr(show, field_name) or "").strip()


def _id_key(service: str, value: str) -> str:
    value = value.strip().lower()
    return value if service == "imdb" else value.lstrip("0")


def _label(row: Row) -> str:
    title = row.show_title
    if row.year and not TRAILING_PARENS.search(title):
        title = f"{title} ({row.year})"
    return title


def match(parsed: Parsed, *, user) -> ImportPreview:
    """Sort the rows into new, already watched and unmatched, in a fixed number of queries."""
    shows = _Shows()
    found = [(row, *shows.find(row)) for row in parsed.rows]
    matched = {show.pk: show for _, show, _ in found if show is not None}
    episodes: dict[tuple[int, int, int], int] = {}
    for pk, show_id, season, number in Episode.objects.filter(show__in=list(matched)).values_list(
        "pk", "show_id", "season_number", "number"
    ):
        episodes[show_id, season, number] = pk
    watched = set(
        user.watches.filter(episode__show__in=list(matched)).values_list("episode_id", flat=True)
    )

    previews: dict[int, ShowPreview] = {}
    groups: dict[tuple[str, str], UnmatchedGroup] = {}

    def leave_out(label: str, reason: str, line: str, noun: str = "episode") -> None:
        group = groups.setdefault((label, reason), UnmatchedGroup(label, reason, noun=noun))
        group.count += 1
        if len(group.examples) < EXAMPLES_SHOWN:
            group.examples.append(line)

    for skipped in parsed.skipped:
        leave_out("Movies", skipped.reason, f"{skipped.where}: {skipped.entry}", noun="entry")
    watches: dict[int, datetime | None] = {}
    seen: set[int] = set()
    for row, show, reason in found:
        code = f"S{row.season}E{row.number}"
        if show is None:
            leave_out(_label(row), reason, f"{row.where}: {code}")
            continue
        episode_id = episodes.get((show.pk, row.season, row.number))
        if episode_id is None:
            leave_out(show.title, "no such episode here", f"{row.where}: {code}")
            continue
        pk = episode_id
        preview = previews.setdefault(show.pk, ShowPreview(show))
        if pk in watched:
            if pk not in seen:
                preview.already.append((row.season, row.number))
        elif pk not in seen:
            preview.new.append((row.season, row.number))
            watches[pk] = row.watched_at
        elif row.watched_at and ((first := watches[pk]) is None or row.watched_at < first):
            # Watched more than once: keep when it was first seen.
            watches[pk] = row.watched_at
        seen.add(pk)
    for preview in previews.values():
        preview.new.sort()
        preview.already.sort()
    return ImportPreview(
        rows=len(parsed.rows) + len(parsed.skipped),
        files=parsed.files,
        shows=sorted(previews.values(), key=lambda p: (p.show.title.casefold(), p.show.pk)),
        unmatched=sorted(groups.values(), key=lambda g: (-g.count, g.label.casefold())),
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


def to_micros(when: datetime | None) -> int | None:
    return None if when is None else (when - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=int(micros))


def sign(preview: ImportPreview, *, user) -> str:
    """The preview's new watches, bound to this user, as a tamper-proof token for the confirm form."""
    watches = [[pk, to_micros(when)] for pk, when in preview.watches.items()]
    return signing.dumps({"u": user.pk, "w": watches}, salt=TOKEN_SALT, compress=True)


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
        return {int(pk): from_micros(micros) for pk, micros in payload["w"]}
    except (KeyError, TypeError, ValueError, OverflowError):
        raise HistoryError(
            "This confirmation does not belong to you, so nothing was imported."
        ) from None


def apply(watches: dict[int, datetime | None], *, user) -> int:
    """Mark the confirmed episodes watched in one transaction; returns how many were new."""
    ids = list(watches)
    chunks = [ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]
    with transaction.atomic():
        existing = sum(Episode.objects.filter(pk__in=chunk).count() for chunk in chunks)
        if existing != len(ids):
            raise HistoryError(
                "Some of these episodes no longer exist, so nothing was imported. Upload the file again."
            )
        return Watch.objects.mark_many(user=user, episodes=watches)
