"""The spoiler rule: a viewer's safe point, and what is revealed at it. Written once, here."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, TypeVar

from django.core.exceptions import EmptyResultSet, ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q


def new_public_id() -> str:
    # Gated things leave the server under this random id, never their creation-ordered key.
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class SafePoint:
    """How far a viewer can safely read a show.

    `episode` is the last regular episode of the unbroken run of watched ones from the first.
    `specials` are the specials placed after it, before the next unwatched regular episode, that
    the viewer has watched: what they reveal is safe too. A special placed earlier is passed.
    """

    episode: Episode | None = None
    specials: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return self.episode is not None or bool(self.specials)

    @property
    def sequence(self) -> int:
        return self.episode.sequence if self.episode else 0

    @property
    def code(self) -> str:
        return self.episode.code if self.episode else ""

    @property
    def short_label(self) -> str:
        return self.episode.short_label if self.episode else ""

    @property
    def cache_key(self) -> str:
        base = str(self.episode.pk) if self.episode else "0"
        return "+".join([base, *map(str, sorted(self.specials))])


NOTHING_SAFE = SafePoint()


class Run(NamedTuple):
    """What a viewer has watched of one show: their safe point; every special they watched, as
    (id, the season whose list holds it on the show page), in order; whether they watched a
    regular episode past their run (then they have a gap); and the season of the first regular
    episode they have not watched, and that episode, the one up next (None when there is none);
    and the content stamp of what the point reveals (Show.content_stamp_at), read with the run.
    NOTHING_WATCHED, a visitor's, says nothing of what is up next."""

    point: SafePoint
    specials: tuple[tuple[int, int], ...] = ()
    past_run: bool = False
    next_season: int | None = None
    up_next: Episode | None = None
    content_stamp: int = 0


NOTHING_WATCHED = Run(NOTHING_SAFE)


# Specials are season 0; every other season is a regular one.
SPECIALS_SEASON = 0


def run_length(places: Sequence[int], watched: Sequence[int]) -> int:
    """How many episodes the run holds: the unbroken run of watched regular episodes from the
    first, which a safe point ends. `places` are the places (Episode.sequence) of a show's
    regular episodes in story order, `watched` those of the ones the viewer watched, in order.

    The viewer's n-th watched place is the show's n-th only when none before it was skipped, so
    the run's length is found by bisection, without walking the run."""
    low, high = 0, min(len(places), len(watched))
    while low < high:
        middle = (low + high + 1) // 2
        if watched[middle - 1] == places[middle - 1]:
            low = middle
        else:
            high = middle - 1
    return low


def signed_in_id(user) -> int | None:
    """The user's id, or None for a visitor: in SQL, `w.user_id = NULL` matches no watch."""
    return user.pk if getattr(user, "is_authenticated", False) else None


def revealed_q(point: SafePoint, field: str = "", *, joined: bool = False) -> Q:
    """Filter for rows whose reveal episode (reached through `field`) is safe at `point`.

    Through `field`, the row's reveal episode must be one of the episodes revealed at the point,
    given as a subquery: the database walks those episodes and looks up only the rows they
    reveal, so rows past the point are never read and cost no time (issue 24). `joined` states
    the same through a join on the reveal episode instead, for a query ordered by its place: the
    database then walks the revealed episodes in story order and can stop at a limit.
    """
    if field and not joined:
        episodes = Episode.objects.filter(revealed_q(point)).values("pk")
        return Q(**{f"{field}__in": episodes})
    at = f"{field}__" if field else ""
    revealed = Q(**{f"{at}pk__in": []})
    if point.episode is not None:
        revealed |= Q(
            **{f"{at}show_id": point.episode.show_id, f"{at}sequence__lte": point.sequence}
        )
    if point.specials:
        revealed |= Q(**{f"{at}pk__in": sorted(point.specials)})
    return revealed


class RevealedSql(NamedTuple):
    """The ids of the episodes revealed at a point, as the SQL of a subquery and its parameters."""

    sql: str
    params: tuple


def revealed_sql(point: SafePoint) -> RevealedSql | None:
    """revealed_q compiled by the ORM, for the statements of companion/sql.py, which state no rule
    of their own; None when nothing is revealed (the ORM then asks the database nothing either)."""
    shape = _compiled_shape(point.episode is not None, len(point.specials))
    if shape is None:
        return None
    sql, places = shape
    values = stand_in_values(point)
    return RevealedSql(sql, tuple(values[place] for place in places))


# Stand-ins, distinct and in every field's range, compiled in the place of a point's show, place
# and specials: a point's SQL is its shape's with its own values put in for them, so the ORM
# compiles each shape once (that took longer than most statements that use it, and every first
# look is at a new point).
_SHOW, _SEQUENCE = 1, 2
# The show a statement compiled for a stand-in point is about (stand_in_values() puts in its own).
STAND_IN_SHOW = _SHOW
_SPECIALS = range(3, 100_000)


def stand_in_point(has_episode: bool, specials: int) -> SafePoint:
    """A point of this shape made of stand-ins, to compile a statement for every point like it."""
    return SafePoint(
        Episode(show_id=_SHOW, sequence=_SEQUENCE) if has_episode else None,
        frozenset(_SPECIALS[:specials]),
    )


def stand_in_values(point: SafePoint, show_id: int | None = None) -> dict[int, int | None]:
    """What each stand-in of stand_in_point() stands for at this point (of the show `show_id`)."""
    episode = point.episode
    return {
        _SHOW: episode.show_id if episode is not None else show_id,
        _SEQUENCE: point.sequence,
        **dict(zip(_SPECIALS, sorted(point.specials), strict=False)),
    }


@lru_cache(maxsize=64)
def _compiled_shape(has_episode: bool, specials: int) -> tuple[str, tuple[int, ...]] | None:
    point = stand_in_point(has_episode, specials)
    try:
        sql, params = (
            Episode.objects.filter(revealed_q(point))
            .order_by()
            .values("pk")
            .query.sql_with_params()
        )
    except EmptyResultSet:
        return None
    assert set(params) <= set(stand_in_values(point)), params
    return sql, tuple(params)


class Place(NamedTuple):
    """Where an episode sits, without the episode: all is_revealed() reads of one."""

    pk: int
    show_id: int
    sequence: int


def is_revealed(episode: Episode | Place, point: SafePoint) -> bool:
    """The same rule as revealed_q, for one episode already in memory (or its Place)."""
    if episode.pk in point.specials:
        return True
    return (
        point.episode is not None
        and episode.show_id == point.episode.show_id
        and episode.sequence <= point.sequence
    )


_Gated = TypeVar("_Gated", bound="GatedContent")


class GatedQuerySet(models.QuerySet[_Gated]):
    """Content with a reveal point; `visible_at` is the only way views read it."""

    def visible_at(self, point: SafePoint):
        """Rows of the point's show revealed at the point. Not to be combined with for_show():
        its index would lead the database through rows past the point."""
        visible = Q()
        for reveal in self.model.reveal_fields:
            visible &= revealed_q(point, reveal)
        return self.filter(visible)

    def visible_in_story_order(self, point: SafePoint):
        """As visible_at, ordered by the reveal episode's place: read in that order, up to a limit,
        and no further (a search that lists the first few of thousands stops there)."""
        (reveal,) = self.model.reveal_fields
        place = f"{reveal}__sequence"
        ordering = [place, *(field for field in self.model._meta.ordering or () if field != place)]
        return self.filter(revealed_q(point, reveal, joined=True)).order_by(*ordering)

    def of_episodes(self, *episodes: Episode):
        """The visible rows about these episodes, picked out row by row from what the rule found:
        through the episode's own index the database would read rows past the point too."""
        unindexed = models.F("episode_id") + 0
        return self.alias(about_episode=unindexed).filter(
            about_episode__in=[episode.pk for episode in episodes]
        )

    def for_show(self, show: Show):
        """Every row of the show, revealed or not: for editors' checks, never for viewers."""
        return self.filter(**{self.model.show_path: show})


class GatedContent(models.Model):
    """Content behind a reveal point, found under a random public id, owned by one show."""

    # Where the owning show is reached from a row, and which episode reveals it: declared once per
    # model, used by validation, lookups, cache invalidation and reports.
    show_path = "show"
    reveal_field = "reveal_at"
    # Every episode that must be revealed before a row is: its own reveal point, and for what
    # names a character, that character's first appearance (a special can come before it).
    reveal_fields: tuple[str, ...] = ("reveal_at",)

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)

    class Meta:
        abstract = True

    def owning_show_id(self) -> int | None:
        obj = self
        *steps, last = self.show_path.split("__")
        for step in steps:
            # A parent not saved yet (a character added with its states) is reached through the
            # relation, which holds it, where its id is still None.
            try:
                obj = getattr(obj, step)
            except ObjectDoesNotExist:
                return None
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)

    def check_reveal_point(
        self, field: str, episode: Episode | None, *, not_before: Episode | None = None
    ):
        if episode is None:
            return
        show_id = self.owning_show_id()
        if show_id is not None and episode.show_id != show_id:
            show = Show.objects.get(pk=show_id)
            raise ValidationError(
                {
                    field: f"{episode} belongs to {episode.show}, not {show}. Pick an episode of {show}."
                }
            )
        if not_before is not None and episode.sequence < not_before.sequence:
            raise ValidationError(
                {field: f"The reveal point cannot be earlier than {not_before.code}."}
            )


# Imported last: these modules import this one, and the names are used only inside functions.
from .catalogue import Episode, Show  # noqa: E402
