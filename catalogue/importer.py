"""A show from TVmaze into the catalogue: created the first time, brought up to date after.

Everything is read from TVmaze first, then written in one transaction, so a show is never left
half imported. What TVmaze provides arrives marked unreviewed (`reviewed=False`); once an editor
has reviewed a row (or wrote it by hand), a refresh leaves it exactly as it is and only adds what
is new. Episodes are written in bulk and put in story order once, by `Show.resequence()`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.text import slugify

from companion.models import MAX_NUMBER, Character, Episode, Season, Show
from companion.signals import stamp

from .mapping import (
    PlannedCharacter,
    PlannedEpisode,
    backdrop_url,
    picture,
    plan_characters,
    plan_episodes,
    poster_url,
    show_values,
)
from .tvmaze import Client, TVmazeNotFound

log = logging.getLogger(__name__)

# Show fields an editor may rewrite: a refresh leaves them alone once the show is reviewed.
SHOW_TEXT = ("title", "network", "premise")
# Facts about the show that follow TVmaze even once it is reviewed.
SHOW_FACTS = ("status", "premiere_date")
EPISODE_FIELDS = ("title", "synopsis", "air_date", "airtime", "runtime")
# Far past any real place in a show: new episodes wait there until resequence() places them.
PARKED = 900_000


@dataclass
class Fetched:
    """Everything an import reads from TVmaze, read before anything is written."""

    show: dict[str, Any]
    episodes: list[dict[str, Any]]
    guest_casts: dict[int, list[dict[str, Any]]]
    images: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass
class ImportReport:
    show: Show
    created: bool
    episodes_added: int
    episodes_updated: int
    characters_added: int

    def __str__(self) -> str:
        return (
            f"{self.show.title}: {'imported' if self.created else 'refreshed'}, "
            f"{self.episodes_added} episodes added, {self.episodes_updated} updated, "
            f"{self.characters_added} characters added"
        )


def fetch(client: Client, tvmaze_id: int, *, known_episodes: set[int] | None = None) -> Fetched:
    """Read the show, its episodes with specials, the guest cast of each episode not yet known,
    and the show's posters and backgrounds."""
    show = client.show(tvmaze_id)
    episodes = client.episodes(tvmaze_id)
    guest_casts = {
        int(item["id"]): client.guest_cast(int(item["id"]))
        for item in episodes
        if int(item["id"]) not in (known_episodes or set())
    }
    try:
        images = client.images(tvmaze_id)
    except TVmazeNotFound:
        images = []
    return Fetched(show=show, episodes=episodes, guest_casts=guest_casts, images=images)


def import_show(tvmaze_id: int, *, client: Client | None = None) -> ImportReport:
    """Import the TVmaze show, or refresh it if it is here already."""
    existing = Show.objects.filter(tvmaze_id=tvmaze_id).first()
    known = {
        tvmaze
        for tvmaze in (existing.episodes.values_list("tvmaze_id", flat=True) if existing else [])
        if tvmaze is not None
    }
    with client or Client() as tvmaze:
        fetched = fetch(tvmaze, tvmaze_id, known_episodes=known)
    return write(fetched)


@transaction.atomic
def write(fetched: Fetched) -> ImportReport:
    values = show_values(fetched.show)
    planned = plan_episodes(fetched.episodes)
    beyond = [p for p in planned if max(p.season, p.number or 0) > MAX_NUMBER]
    if beyond:
        # Daily shows number seasons by year and episodes by day: no code like "3x10" fits them.
        raise ValidationError(
            f"TVmaze numbers {values['title']}'s episodes up to {beyond[0].season}x"
            f"{beyond[0].number}; seasons and episodes here go up to {MAX_NUMBER}, so it "
            "cannot be imported."
        )
    show, created = _show(values)
    _artwork(show, fetched)
    added, updated = _episodes(show, planned)
    show.resequence()
    characters = plan_characters(
        (fetched.show.get("_embedded") or {}).get("cast") or [], fetched.guest_casts
    )
    characters_added = _characters(show, characters)
    show.content_changed()
    return ImportReport(show, created, added, updated, characters_added)


def _show(values: dict[str, Any]) -> tuple[Show, bool]:
    """The show with this TVmaze id, else one an editor made with the same TVDB or IMDb id."""
    same_ids = Q(tvmaze_id=values["tvmaze_id"])
    for field in ("tvdb_id", "imdb_id"):
        if values[field]:
            same_ids |= Q(**{field: values[field]})
    show = Show.objects.filter(same_ids).order_by("tvmaze_id").first()
    if show is None:
        show = Show(**values, slug=_free_slug(values["title"]), reviewed=False)
        show.save()
        return show, True
    changes = {key: values[key] for key in SHOW_FACTS if values[key]}
    if not show.reviewed:
        changes |= {key: values[key] for key in SHOW_TEXT}
    # Ids fill blanks; an editor's id for another service is theirs.
    changes |= {key: values[key] for key in ("tvdb_id", "imdb_id") if not getattr(show, key)}
    changes["tvmaze_id"] = values["tvmaze_id"]
    changed = [key for key, value in changes.items() if getattr(show, key) != value]
    for key in changed:
        setattr(show, key, changes[key])
    if changed:
        show.save(update_fields=changed)
    return show, False


def _artwork(show: Show, fetched: Fetched) -> None:
    """Where the show's poster and stand-in come from; a changed source clears the file, so the
    image job makes it anew. Artwork follows TVmaze even once the show is reviewed."""
    poster = picture(fetched.show.get("image"), "medium") or poster_url(fetched.images)
    backdrop = backdrop_url(fetched.images) or picture(fetched.show.get("image"), "original")
    changed = []
    for name, source in (("poster", poster), ("stand_in", backdrop)):
        if getattr(show, f"{name}_source") != source:
            setattr(show, f"{name}_source", source)
            setattr(show, name, "")
            changed += [name, f"{name}_source"]
    if changed:
        show.save(update_fields=changed)


def _free_slug(title: str) -> str:
    base = slugify(title)[:45] or "show"
    slug, n = base, 1
    while Show.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _episodes(show: Show, planned: list[PlannedEpisode]) -> tuple[int, int]:
    """Create what is new and update what is unreviewed, in bulk; returns (added, updated)."""
    seasons = {season.number: season for season in show.seasons.all()}
    Season.objects.bulk_create(
        Season(
            show=show,
            number=number,
            premiere_date=min(
                (p.air_date for p in planned if p.season == number and p.air_date), default=None
            )
            if number
            else None,
        )
        for number in sorted({p.season for p in planned} - set(seasons))
    )
    seasons = {season.number: season for season in show.seasons.all()}
    existing = list(show.episodes.all())
    by_tvmaze = {e.tvmaze_id: e for e in existing if e.tvmaze_id is not None}
    # Episodes an editor entered by hand are matched by their place (specials by title).
    by_place = {(e.season_number, e.number): e for e in existing if e.tvmaze_id is None}
    special_by_title = {
        e.title.casefold(): e for e in existing if e.tvmaze_id is None and e.is_special
    }
    next_special = (show.episodes.specials().aggregate(last=Max("number"))["last"] or 0) + 1
    next_place = (show.episodes.aggregate(last=Max("sequence"))["last"] or 0) + PARKED

    new: list[Episode] = []
    changed: dict[Episode, list[str]] = {}
    for item in planned:
        episode = by_tvmaze.get(item.tvmaze_id)
        if episode is None and item.number is not None:
            episode = by_place.get((item.season, item.number))
        if episode is None and item.is_special:
            episode = special_by_title.get(item.title.casefold())
        if episode is None:
            number = item.number
            if number is None:
                number, next_special = next_special, next_special + 1
            episode = Episode(
                show=show,
                season=seasons[item.season],
                season_number=item.season,
                number=number,
                sequence=next_place + len(new),
                tvmaze_id=item.tvmaze_id,
                reviewed=False,
                still_source=item.image_url,
                **{key: getattr(item, key) or _blank(key) for key in EPISODE_FIELDS},
            )
            new.append(episode)
            continue
        fields = [] if episode.tvmaze_id == item.tvmaze_id else ["tvmaze_id"]
        episode.tvmaze_id = item.tvmaze_id
        if episode.still_source != item.image_url:
            episode.still_source, episode.still = item.image_url, ""
            fields += ["still_source", "still"]
        if not episode.reviewed:
            for key in EPISODE_FIELDS:
                value = getattr(item, key) or _blank(key)
                if getattr(episode, key) != value:
                    setattr(episode, key, value)
                    fields.append(key)
        if fields:
            changed[episode] = fields
    Episode.objects.bulk_create(new)
    for key in ("tvmaze_id", "still_source", "still", *EPISODE_FIELDS):
        rows = [episode for episode, fields in changed.items() if key in fields]
        if rows:
            Episode.objects.bulk_update(rows, [key])
    _place_specials(show, planned)
    ids_and_images = {"tvmaze_id", "still_source", "still"}
    return len(new), len([f for f in changed.values() if not set(f) <= ids_and_images])


def _blank(key: str):
    return "" if key in ("title", "synopsis") else None


def _place_specials(show: Show, planned: list[PlannedEpisode]) -> None:
    """Each unreviewed special airs after the regular episode TVmaze's airstamps put before it."""
    ids = {e.tvmaze_id: e for e in show.episodes.exclude(tvmaze_id=None)}
    moved = []
    for item in planned:
        special = ids.get(item.tvmaze_id)
        if not item.is_special or special is None or special.reviewed:
            continue
        follows = ids.get(item.follows) if item.follows else None
        if special.airs_after_id != (follows.pk if follows else None):
            special.airs_after = follows
            moved.append(special)
    if moved:
        Episode.objects.bulk_update(moved, ["airs_after"])


def _characters(show: Show, planned: list[PlannedCharacter]) -> int:
    """Add the characters not here yet; fill an unreviewed one's actor. Never move a first
    appearance: the states an editor wrote hang on it."""
    episodes = {e.tvmaze_id: e for e in show.episodes.exclude(tvmaze_id=None)}
    first_regular = show.episodes.regular().order_by("sequence").first()
    existing = list(show.characters.all())
    by_tvmaze = {c.tvmaze_id: c for c in existing if c.tvmaze_id is not None}
    by_name = {c.name.casefold(): c for c in existing if c.tvmaze_id is None}
    slugs = {c.slug for c in existing}
    new: list[Character] = []
    for item in planned:
        character = by_tvmaze.get(item.tvmaze_id) or by_name.get(item.name.casefold())
        if character is not None:
            fields = [] if character.tvmaze_id == item.tvmaze_id else ["tvmaze_id"]
            character.tvmaze_id = item.tvmaze_id
            if not character.reviewed and item.actor and character.actor != item.actor:
                character.actor = item.actor
                fields.append("actor")
            if character.photo_source != item.photo_url:
                character.photo_source, character.photo = item.photo_url, ""
                fields += ["photo_source", "photo"]
            if fields:
                character.save(update_fields=fields)
            continue
        credited = [episodes[i] for i in item.credited_in if i in episodes]
        first = min(credited, key=lambda e: e.sequence) if credited else first_regular
        if first is None:
            continue
        slug = base = slugify(item.name)[:190] or "character"
        n = 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        new.append(
            Character(
                show=show,
                name=item.name,
                slug=slug,
                actor=item.actor,
                first_appearance=first,
                first_appearance_exact=bool(credited),
                tvmaze_id=item.tvmaze_id,
                reviewed=False,
                photo_source=item.photo_url,
            )
        )
    Character.objects.bulk_create(new)
    # What the save signal would do for each: viewers at those episodes see someone new.
    stamp({character.first_appearance_id for character in new})
    return len(new)
