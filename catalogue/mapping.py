"""TVmaze's JSON read into the catalogue's terms: pure functions, no database and no network."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import strip_tags

PARAGRAPH_END = re.compile(r"</p\s*>|<br\s*/?>", re.IGNORECASE)
# TVmaze episode types; the two specials are numbered null, in the season they aired in.
REGULAR = "regular"


def clean_summary(summary: str | None) -> str:
    """TVmaze's HTML summary as plain text: tags gone, entities decoded, one paragraph a line."""
    if not summary:
        return ""
    paragraphs = PARAGRAPH_END.split(summary)
    texts = [" ".join(html.unescape(strip_tags(part)).split()) for part in paragraphs]
    return "\n\n".join(text for text in texts if text)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _time(value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value) if value else None
    except ValueError:
        return None


def _stamp(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def show_values(data: dict[str, Any]) -> dict[str, Any]:
    """The Show fields TVmaze fills, by field name."""
    externals = data.get("externals") or {}
    channel = data.get("network") or data.get("webChannel") or {}
    return {
        "title": (data.get("name") or "").strip()[:200],
        "network": (channel.get("name") or "")[:100],
        "premise": clean_summary(data.get("summary")),
        "premiere_date": _date(data.get("premiered")),
        "status": (data.get("status") or "")[:30],
        "tvmaze_id": int(data["id"]),
        "tvdb_id": str(externals.get("thetvdb") or ""),
        "imdb_id": str(externals.get("imdb") or ""),
    }


@dataclass
class PlannedEpisode:
    """One episode as TVmaze has it; specials get season 0 and a number when imported."""

    tvmaze_id: int
    season: int
    number: int | None
    title: str
    synopsis: str
    air_date: dt.date | None
    airtime: dt.time | None
    runtime: int | None
    image_url: str = ""
    aired_at: dt.datetime | None = None
    # For a special: the TVmaze id of the last regular episode aired before it, if any.
    follows: int | None = None

    @property
    def is_special(self) -> bool:
        return self.season == 0


def plan_episodes(episodes: list[dict[str, Any]]) -> list[PlannedEpisode]:
    """Regular episodes by season and number, then the specials in the order they aired, each
    following the last regular episode aired before it (by TVmaze's airstamp, so a special shown
    after a finale on the same evening follows that finale)."""
    regular: list[PlannedEpisode] = []
    specials: list[PlannedEpisode] = []
    for item in episodes:
        is_regular = item.get("type", REGULAR) == REGULAR and item.get("number") is not None
        planned = PlannedEpisode(
            tvmaze_id=int(item["id"]),
            season=int(item.get("season") or 0) if is_regular else 0,
            number=int(item["number"]) if is_regular else None,
            title=(item.get("name") or "").strip()[:200],
            synopsis=clean_summary(item.get("summary")),
            air_date=_date(item.get("airdate")),
            airtime=_time(item.get("airtime")),
            runtime=item.get("runtime") if isinstance(item.get("runtime"), int) else None,
            image_url=picture(item.get("image"), "original"),
            aired_at=_stamp(item.get("airstamp")),
        )
        if is_regular and planned.season > 0:
            regular.append(planned)
        elif not is_regular:
            specials.append(planned)
    regular.sort(key=lambda e: (e.season, e.number or 0))
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    specials.sort(key=lambda e: (e.aired_at or never, e.tvmaze_id))
    for special in specials:
        if special.aired_at is None:
            continue
        before = [e for e in regular if e.aired_at is not None and e.aired_at <= special.aired_at]
        special.follows = before[-1].tvmaze_id if before else None
    return [*regular, *specials]


@dataclass
class PlannedCharacter:
    """A character of the show's cast or a recurring guest, with their actor."""

    tvmaze_id: int
    name: str
    actor: str
    photo_url: str = ""
    # TVmaze ids of the episodes whose guest cast credits them, in story order once resolved.
    credited_in: list[int] = field(default_factory=list)


def plan_characters(
    cast: list[dict[str, Any]], guest_casts: dict[int, list[dict[str, Any]]]
) -> list[PlannedCharacter]:
    """The main cast, and every guest character credited in two episodes or more (a one-off guest
    is not someone a viewer needs in Who's who). `guest_casts` maps episode ids to their credits."""
    found: dict[int, PlannedCharacter] = {}

    def read(credit: dict[str, Any]) -> PlannedCharacter | None:
        character, person = credit.get("character") or {}, credit.get("person") or {}
        if not character.get("id") or not (character.get("name") or "").strip():
            return None
        if character["id"] not in found:
            found[character["id"]] = PlannedCharacter(
                tvmaze_id=int(character["id"]),
                name=character["name"].strip()[:200],
                actor=(person.get("name") or "").strip()[:200],
                photo_url=picture(person.get("image"), "medium"),
            )
        return found[character["id"]]

    main = {planned.tvmaze_id for credit in cast if (planned := read(credit))}
    for episode_id, credits in guest_casts.items():
        for credit in credits:
            if (planned := read(credit)) and episode_id not in planned.credited_in:
                planned.credited_in.append(episode_id)
    return [c for c in found.values() if c.tvmaze_id in main or len(c.credited_in) >= 2]


def picture(image: dict[str, Any] | None, size: str) -> str:
    """The URL of a show's, episode's or person's `image: {medium, original}` in this size, else
    the other one, else "". Posters and photos are shown small: their medium file is enough."""
    image = image or {}
    other = "original" if size == "medium" else "medium"
    return image.get(size) or image.get(other) or ""


def _resolution(image: dict[str, Any], size: str) -> str:
    return ((image.get("resolutions") or {}).get(size) or {}).get("url") or ""


def _of_type(images: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    found = [image for image in images if image.get("type") == kind]
    found.sort(key=lambda image: not image.get("main"))
    return found


def poster_url(images: list[dict[str, Any]]) -> str:
    """The main poster's original file, else any poster's, else ""."""
    for image in _of_type(images, "poster"):
        if url := _resolution(image, "original"):
            return url
    return ""


def backdrop_url(images: list[dict[str, Any]]) -> str:
    """The main background's original file (landscape), else any background's, else ""."""
    for image in _of_type(images, "background"):
        if url := _resolution(image, "original"):
            return url
    return ""
