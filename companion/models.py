"""The content of a show, what a viewer has watched, and the one spoiler rule that joins them."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import connection, models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe

# Season and episode numbers are bounded so that a code like "3x10" names exactly one episode.
MAX_NUMBER = 999
EPISODE_CODE = re.compile(r"^s?(\d{1,3})[xe](\d{1,3})$", re.ASCII | re.IGNORECASE)


def parse_code(code) -> tuple[int, int] | None:
    """ "3x10", "S3E10" -> (3, 10); None for anything that is not such a code."""
    match = EPISODE_CODE.match(str(code or "").strip())
    return (int(match[1]), int(match[2])) if match else None


def new_public_id() -> str:
    # Gated things leave the server under this random id, never their creation-ordered key.
    return secrets.token_urlsafe(12)


# --- The spoiler rule -------------------------------------------------------------------------
# Gated content is visible only when its reveal point is an episode of the same show at or before
# the viewer's safe point, or one of the specials the viewer has unlocked. `revealed_q` and
# `is_revealed` are the only place that rule is written; everything else calls them.


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
# Specials are season 0; every other season is a regular one.
SPECIALS_SEASON = 0


def sql_columns(model: type[models.Model], alias: str) -> str:
    """Every column of the model's table, for SQL of our own that reads whole rows into models."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


def signed_in_id(user) -> int | None:
    """The user's id, or None for a visitor: in SQL, `w.user_id = NULL` matches no watch."""
    return user.pk if getattr(user, "is_authenticated", False) else None


def revealed_q(point: SafePoint, field: str = "") -> Q:
    """Filter for rows whose reveal episode (reached through `field`) is safe at `point`.

    Through `field`, the row's reveal episode must be one of the episodes revealed at the point,
    given as a subquery: the database walks those episodes and looks up only the rows they
    reveal, so rows past the point are never read and cost no time (issue 24).
    """
    if field:
        episodes = Episode.objects.filter(revealed_q(point)).values("pk")
        return Q(**{f"{field}__in": episodes})
    revealed = Q(pk__in=[])
    if point.episode is not None:
        revealed |= Q(show_id=point.episode.show_id, sequence__lte=point.sequence)
    if point.specials:
        revealed |= Q(pk__in=sorted(point.specials))
    return revealed


def is_revealed(episode: Episode, point: SafePoint) -> bool:
    """The same rule as revealed_q, for one episode already in memory."""
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


SOURCE_KEYS = ("outlet", "title", "url")


def source_problems(value) -> list[tuple[str, str]]:
    """What is wrong with a list of sources, as (where in the list, problem); empty if nothing."""
    if not isinstance(value, list):
        return [("", "must be a list of sources, each with an outlet, a title and a url")]
    problems = []
    for index, source in enumerate(value):
        at = f"[{index}]"
        if not isinstance(source, dict):
            problems.append((at, "must be a mapping with outlet, title and url"))
            continue
        unknown = sorted(str(key) for key in source if key not in SOURCE_KEYS)
        if unknown:
            problems.append((at, f"has unknown fields ({', '.join(unknown)})"))
        if any(not isinstance(source.get(key, ""), str) for key in SOURCE_KEYS):
            problems.append((at, "outlet, title and url must be text"))
            continue
        if not (source.get("outlet", "").strip() or source.get("title", "").strip()):
            problems.append((at, "needs an outlet or a title"))
        if url := source.get("url", "").strip():
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                problems.append((f"{at}.url", f"is not an http(s) address: {url!r}"))
    return problems


def validate_sources(value) -> None:
    if problems := source_problems(value):
        raise ValidationError("; ".join(f"Source {at}: {problem}" for at, problem in problems))


def sources_field():
    """Where a gated item's facts come from; shown only beside the item itself."""
    return models.JSONField(
        default=list,
        blank=True,
        validators=[validate_sources],
        help_text='A list of sources, each {"outlet": ..., "title": ..., "url": ...}.',
    )


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


# --- Shows, seasons, episodes -------------------------------------------------------------------


class Show(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    network = models.CharField(max_length=100, blank=True)
    premise = models.TextField(
        blank=True, help_text="Spoiler-free: only what the first episode sets up."
    )
    # Other services' ids for the show, so imported histories and media servers match it exactly.
    tvdb_id = models.CharField("TVDB id", max_length=20, blank=True)
    tmdb_id = models.CharField("TMDB id", max_length=20, blank=True)
    imdb_id = models.CharField("IMDb id", max_length=20, blank=True)
    trakt_id = models.CharField("Trakt id", max_length=20, blank=True)
    # Bumped whenever the show's seasons or episodes change (what every viewer sees of it); cached
    # pages and fragments are keyed on it. It lives in the database, not the cache, so every worker
    # process sees an edit at once. Gated content has a stamp per reveal point instead
    # (Episode.content_stamp), so an edit past a viewer's point leaves their keys alone.
    content_version = models.PositiveIntegerField(default=0, editable=False)

    # Set by the show list for its template.
    progress: dict[str, int]
    safe_point: SafePoint
    upcoming: Episode | None

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.url

    @cached_property
    def url(self) -> str:
        return reverse("show-detail", args=[self.slug])

    def content_changed(self) -> None:
        Show.objects.filter(pk=self.pk).update(content_version=models.F("content_version") + 1)

    def listed_season(self, episode: Episode, starts: dict[int, tuple[int, int]]) -> int:
        """The number of the season whose list holds the episode on the show page: its own, or for
        a special the regular season it airs in (the first one, for a special before them all).

        `starts` is season_starts(), passed in so a list of episodes asks for it once.
        """
        if not episode.is_special:
            return episode.season_number
        aired_in = [number for number, (first, _) in starts.items() if first <= episode.sequence]
        return max(aired_in) if aired_in else min(starts, default=SPECIALS_SEASON)

    def content_stamp_at(self, point: SafePoint) -> int:
        """What the gated content revealed at the point has been through: grows with every edit of
        content revealed at one of its episodes, and with nothing revealed after them."""
        stamps = Episode.objects.visible_at(point).aggregate(total=models.Sum("content_stamp"))
        return stamps["total"] or 0

    def season_starts(self) -> dict[int, tuple[int, int]]:
        """Per regular season number, in order: the place of its first episode and how many it has."""
        rows = (
            self.episodes.regular()
            .order_by("season_number")
            .values_list("season_number")
            .annotate(first=models.Min("sequence"), n=Count("pk"))
        )
        return {number: (first, n) for number, first, n in rows}

    @staticmethod
    def with_slug(slug: str) -> Show | None:
        """The show with this slug, if any: in SQL of its own, since every page of a show (cached
        or not) starts here, and the ORM took as long to build the query as the database to answer."""
        found = Show.objects.raw(f"SELECT * FROM {Show._meta.db_table} WHERE slug = %s", [slug])
        return next(iter(found), None)

    def episode_at(self, season: int, number: int) -> Episode | None:
        return (
            self.episodes.select_related("show", "season")
            .filter(season_number=season, number=number)
            .first()
        )

    def safe_point_for(
        self, user, *, as_of: Episode | None = None, real: SafePoint | None = None
    ) -> SafePoint:
        """The viewer's safe point, or an earlier one they chose to look back from.

        `as_of` looks at the show from an earlier regular episode (rewatch mode, or an editor's
        preview): a viewer can only move back from their real safe point; staff may preview any.
        `real` is the viewer's own safe point when the caller has it already.
        """
        if as_of is not None and (as_of.show_id != self.pk or as_of.is_special):
            as_of = None
        if as_of is not None and getattr(user, "is_staff", False):
            return SafePoint(as_of)
        if real is None:
            real = Show.safe_points_for(user, [self])[self.pk]
        if as_of is not None and real.episode is not None and as_of.sequence <= real.sequence:
            return SafePoint(as_of)
        return real

    @staticmethod
    def safe_points_for(user, shows) -> dict[int, SafePoint]:
        """Each show's safe point for this user, in three queries however many shows there are.

        In SQL of its own: it runs for every page and twice for every mark, and building these
        queries through the ORM took ten times as long as the database took to answer them.
        """
        shows = list(shows)
        if not getattr(user, "is_authenticated", False) or not shows:
            return {show.pk: NOTHING_SAFE for show in shows}
        by_pk = {show.pk: show for show in shows}
        episode, watch = Episode._meta.db_table, Watch._meta.db_table
        first_gaps = {pk: gap for (_, pk), gap in Show.first_gaps([user.pk], list(by_pk)).items()}
        # Each show's episodes before its first gap; all of them when there is none.
        before_gap = " OR ".join(
            "(e.show_id = %s AND e.sequence < %s)" if pk in first_gaps else "e.show_id = %s"
            for pk in by_pk
        )
        params = [v for pk in by_pk for v in ((pk, first_gaps[pk]) if pk in first_gaps else (pk,))]
        columns = sql_columns(Episode, "e")
        # The last of them in each show, found from the end of the same index: one row per show.
        last_before_gap = " UNION ALL ".join(
            f"SELECT * FROM (SELECT {columns} FROM {episode} e WHERE e.show_id = %s"
            f" AND e.season_number > %s{' AND e.sequence < %s' if pk in first_gaps else ''}"
            " ORDER BY e.sequence DESC LIMIT 1) last_of_show"
            for pk in by_pk
        )
        latest = Episode.objects.raw(
            last_before_gap,
            [
                v
                for pk in by_pk
                for v in (
                    (pk, SPECIALS_SEASON, first_gaps[pk])
                    if pk in first_gaps
                    else (pk, SPECIALS_SEASON)
                )
            ],
        )
        found: dict[int, Episode] = {}
        for row in latest:
            row.show = by_pk[row.show_id]
            found[row.show_id] = row
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT e.show_id, e.id, e.sequence FROM {episode} e"
                f" JOIN {watch} w ON w.episode_id = e.id"
                f" WHERE w.user_id = %s AND e.season_number = %s AND ({before_gap})",
                [user.pk, SPECIALS_SEASON, *params],
            )
            watched_specials = cursor.fetchall()
        specials: dict[int, set[int]] = {}
        for show_id, pk, sequence in watched_specials:
            last = found.get(show_id)
            if last is None or sequence > last.sequence:
                specials.setdefault(show_id, set()).add(pk)
        return {
            show.pk: SafePoint(found.get(show.pk), frozenset(specials.get(show.pk, ())))
            for show in shows
        }

    @staticmethod
    def first_gaps(user_ids: list[int], show_ids: list[int]) -> dict[tuple[int, int], int]:
        """The sequence of the first regular episode each user has not watched, by (user, show):
        where every safe point starts. A pair with nothing left unwatched is left out. One query.
        """
        episode, watch = Episode._meta.db_table, Watch._meta.db_table
        # The ids as given, not looked up in the user table: a user deleted mid-request must
        # still come back with a gap at their first episode, not as having watched everything.
        users = " UNION ALL ".join(["SELECT CAST(%s AS BIGINT) AS id"] * len(user_ids))
        shows = ", ".join(["%s"] * len(show_ids))
        with connection.cursor() as cursor:
            # Walked in story order (the show's sequence index), stopping at the first one.
            cursor.execute(
                f"SELECT u.id, s.id, (SELECT e.sequence FROM {episode} e"
                " WHERE e.show_id = s.id AND e.season_number > %s"
                f" AND NOT EXISTS (SELECT 1 FROM {watch} w WHERE w.user_id = u.id"
                " AND w.episode_id = e.id) ORDER BY e.sequence LIMIT 1)"
                f" FROM ({users}) u, {Show._meta.db_table} s WHERE s.id IN ({shows})",
                [SPECIALS_SEASON, *user_ids, *show_ids],
            )
            return {(u, s): gap for u, s, gap in cursor.fetchall() if gap is not None}

    def marked_episodes(self, user, condition: str, params: list, limit: int | None = None):
        """This show's episodes that the SQL `condition` on `e` picks, in story order, each with
        `watched` for this user: one query of its own, for the paths every mark runs."""
        episode, watch = Episode._meta.db_table, Watch._meta.db_table
        columns = sql_columns(Episode, "e")
        user_id = signed_in_id(user)
        found = list(
            Episode.objects.raw(
                f"SELECT {columns}, w.id IS NOT NULL AS watched FROM {episode} e"
                f" LEFT JOIN {watch} w ON w.episode_id = e.id AND w.user_id = %s"
                f" WHERE e.show_id = %s AND ({condition}) ORDER BY e.sequence"
                + ("" if limit is None else f" LIMIT {int(limit)}"),
                [user_id, self.pk, *params],
            )
        )
        for row in found:
            row.show = self
            row.watched = bool(row.watched)
        return found

    def gap_for(self, user, point: SafePoint) -> Gap | None:
        """What the viewer skipped, when they have watched past their safe point; one query.

        Read as plain rows, not models: every mark that skips ahead runs it over what lies between.
        """
        if not getattr(user, "is_authenticated", False):
            return None
        episode, watch = Episode._meta.db_table, Watch._meta.db_table
        with connection.cursor() as cursor:
            # The regular episodes after the safe point up to the furthest one watched, each marked.
            cursor.execute(
                f"SELECT e.id, e.season_number, e.number, e.sequence, w.id IS NOT NULL"
                f" FROM {episode} e LEFT JOIN {watch} w ON w.episode_id = e.id AND w.user_id = %s"
                " WHERE e.show_id = %s AND e.season_number > %s AND e.sequence > %s"
                f" AND e.sequence <= (SELECT MAX(f.sequence) FROM {episode} f"
                f" JOIN {watch} v ON v.episode_id = f.id AND v.user_id = %s"
                " WHERE f.show_id = %s AND f.season_number > %s AND f.sequence > %s)"
                " ORDER BY e.sequence",
                [user.pk, self.pk, SPECIALS_SEASON, point.sequence] * 2,
            )
            rows = cursor.fetchall()
        if not rows:
            return None

        def stand_in(row) -> Episode:
            pk, season_number, number, sequence, _ = row
            return Episode(
                pk=pk, show=self, season_number=season_number, number=number, sequence=sequence
            )

        runs: list[tuple[Episode, Episode]] = []
        first = last = None
        for row in [*rows[:-1], None]:
            if row is not None and not row[4]:
                first, last = first or row, row
            elif first is not None:
                runs.append((stand_in(first), stand_in(last)))
                first = last = None
        return Gap(point=point, furthest=stand_in(rows[-1]), runs=runs)

    @transaction.atomic
    def resequence(self, *, check: bool = True) -> None:
        """Put every episode in its place in story order, in one transaction.

        Refused (ValidationError, nothing written) when the new order would put content before
        its own episode or a character's state before their first appearance. An import that
        replaces the content next passes check=False and checks once it is all in.
        """
        episodes = list(Episode.objects.filter(show=self).select_for_update())
        places = {episode.pk: place for place, episode in enumerate(story_order(episodes), 1)}
        moved = [episode for episode in episodes if episode.sequence != places[episode.pk]]
        if not moved:
            # Nothing changed place (a new episode at the end, an edited title): nothing to check.
            return
        problems = order_problems(self, places, {e.pk: e.code for e in episodes}) if check else []
        if problems:
            raise ValidationError(problems)
        # Out of the way first, so no two episodes share a place at any moment (it is unique).
        Episode.objects.filter(pk__in=[e.pk for e in moved]).update(
            sequence=F("sequence") + PLACE_OFFSET
        )
        for episode in moved:
            episode.sequence = places[episode.pk]
        Episode.objects.bulk_update(moved, ["sequence"])


@dataclass
class Gap:
    """Regular episodes a viewer skipped before the furthest one they watched."""

    point: SafePoint
    furthest: Episode
    # The regular episodes skipped between the safe point and the furthest watched one, as
    # (first, last) runs in order.
    runs: list[tuple[Episode, Episode]]

    MAX_RUNS = 3

    @property
    def missing_label(self) -> str:
        """ "S3E9–S4E4", "S1E4, S1E6", or the first few runs and how many more."""
        labels = [
            first.short_label if first == last else f"{first.short_label}–{last.short_label}"
            for first, last in self.runs
        ]
        rest = len(labels) - self.MAX_RUNS
        if rest > 0:
            return f"{', '.join(labels[: self.MAX_RUNS])} and {rest} more"
        return " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)


# Larger than any show's number of episodes: a place moved out of the way while re-sequencing.
PLACE_OFFSET = 1_000_000


def story_order(episodes: list[Episode]) -> list[Episode]:
    """Regular episodes by season and number, each special in the place it aired.

    A special airs after the regular episode an editor names. Without one it sits where its air
    date puts it (before the first regular episode known to have aired later), and without a date
    at the end of the show: never earlier than it could be.
    """
    regular = sorted(
        (e for e in episodes if not e.is_special), key=lambda e: (e.season_number, e.number)
    )
    specials = sorted(
        (e for e in episodes if e.is_special),
        key=lambda e: (e.air_date is None, e.air_date or dt.date.min, e.number),
    )
    index = {id(e): i for i, e in enumerate(regular)}
    by_pk: dict[int | None, Episode] = {e.pk: e for e in regular if e.pk is not None}
    after: dict[
        int, list[Episode]
    ] = {}  # index of the regular episode a special follows; -1: before all
    for special in specials:
        follows = by_pk.get(special.airs_after_id)
        if follows is not None:
            place = index[id(follows)]
        elif special.air_date is not None:
            later = next(
                (i for i, e in enumerate(regular) if e.air_date and e.air_date > special.air_date),
                len(regular),
            )
            place = later - 1
        else:
            place = len(regular) - 1
        after.setdefault(place, []).append(special)
    ordered = list(after.get(-1, []))
    for i, episode in enumerate(regular):
        ordered.append(episode)
        ordered.extend(after.get(i, []))
    return ordered


def order_problems(show: Show, places: dict[int, int], codes: dict[int, str]) -> list[str]:
    """What an order (episode pk -> place) would put before the episode it must follow."""
    problems = []

    def early(reveal_id, anchor_id) -> bool:
        return places.get(reveal_id, 0) < places.get(anchor_id, 0)

    for reveal, episode in Recap.objects.for_show(show).values_list("reveal_at", "episode"):
        if early(reveal, episode):
            problems.append(
                f"The recap of {codes[episode]} is revealed at {codes[reveal]}, which would come before {codes[episode]} itself."
            )
    for reveal, episode in ReviewerNote.objects.for_show(show).values_list("reveal_at", "episode"):
        if early(reveal, episode):
            problems.append(
                f"A note on {codes[episode]} is revealed at {codes[reveal]}, which would come before the episode it discusses."
            )
    states = CharacterState.objects.for_show(show).values_list(
        "reveal_at", "character__first_appearance", "character__name"
    )
    for reveal, first, name in states:
        if early(reveal, first):
            problems.append(
                f"{name}'s state as of {codes[reveal]} would come before {name}'s first appearance ({codes[first]})."
            )
    if problems:
        problems.append("Move that content to a later episode first, then change the order.")
    return problems


class SeasonQuerySet(models.QuerySet["Season"]):
    def heads(self, user, show: Show, only: Season | None = None) -> list[Season]:
        """The show's seasons (or only `only`) in order, each with where its in-universe period is
        revealed (its set point, else its first episode) and `progress`: how many episodes it has
        and how many of them this user watched. One query, in SQL of its own: every mark runs it.
        """
        season, episode, watch = Season._meta.db_table, Episode._meta.db_table, Watch._meta.db_table
        columns = sql_columns(Season, "s")
        first = (
            f"(SELECT f.{{}} FROM {episode} f WHERE f.season_id = s.id ORDER BY f.sequence LIMIT 1)"
        )
        user_id = signed_in_id(user)
        seasons = list(
            Season.objects.raw(
                f"SELECT {columns},"
                f" COALESCE(r.id, {first.format('id')}) AS period_reveal_id,"
                f" COALESCE(r.sequence, {first.format('sequence')}) AS period_reveal_sequence,"
                f" (SELECT COUNT(*) FROM {episode} e WHERE e.season_id = s.id) AS total,"
                f" (SELECT COUNT(*) FROM {episode} e JOIN {watch} w ON w.episode_id = e.id"
                " AND w.user_id = %s WHERE e.season_id = s.id) AS watched"
                f" FROM {season} s LEFT JOIN {episode} r ON r.id = s.period_revealed_at_id"
                " WHERE s.show_id = %s" + (" AND s.id = %s" if only else "") + " ORDER BY s.number",
                [user_id, show.pk, *([only.pk] if only else [])],
            )
        )
        for head in seasons:
            head.show = show
            head.progress = {"watched": head.watched, "total": head.total}
        return seasons


class Season(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="seasons")
    number = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(MAX_NUMBER)],
        help_text="0 holds specials, which never block progress.",
    )
    period = models.CharField("in-universe period", max_length=100, blank=True)
    period_revealed_at = models.ForeignKey(
        "Episode",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="When the period is safe to show. Defaults to the season's first episode; set it "
        "later (or earlier, such as the previous finale) if the period is itself a reveal.",
    )
    premiere_date = models.DateField(null=True, blank=True)

    objects = SeasonQuerySet.as_manager()

    # Set by heads().
    period_reveal_id: int | None
    period_reveal_sequence: int | None
    total: int
    watched: int
    # Set by the views for the templates: the in-universe period if safe, and the episode rows of
    # an open season (None while it is folded).
    shown_period: str
    rows: list[Episode] | None
    # Set by the show page: episodes watched of the season's total, whether all are, whether it
    # is the season the viewer is in (open, and where the page lands), and whether it is unfolded.
    progress: dict[str, int]
    finished: bool
    current: bool
    open: bool
    land: bool

    class Meta:
        ordering = ["show", "number"]
        constraints = [
            models.UniqueConstraint(fields=["show", "number"], name="unique_season_number"),
            models.CheckConstraint(
                condition=Q(number__lte=MAX_NUMBER), name="season_number_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.show} season {self.number}" if self.number else f"{self.show} specials"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            moved = self.episodes.exclude(season_number=self.number).update(
                season_number=self.number
            )
            if moved:
                self.show.resequence()

    def clean(self):
        if self.pk is None or not self.show_id:
            return
        if self.period_revealed_at is not None and self.period_revealed_at.show_id != self.show_id:
            raise ValidationError({"period_revealed_at": f"Pick an episode of {self.show}."})
        episodes = list(Episode.objects.filter(show_id=self.show_id))
        for episode in episodes:
            if episode.season_id == self.pk:
                episode.season_number = self.number
        check_new_order(self.show, episodes)

    @property
    def period_reveal_point(self) -> Episode | None:
        """Needs heads(): a stand-in episode at the place the period is revealed."""
        if self.period_reveal_id is None or self.period_reveal_sequence is None:
            return None
        return Episode(
            pk=self.period_reveal_id, show_id=self.show_id, sequence=self.period_reveal_sequence
        )


def check_new_order(show: Show, episodes: list[Episode]) -> None:
    """Raise the editor-facing ValidationError if this set of episodes' order breaks content."""
    places = {e.pk: place for place, e in enumerate(story_order(episodes), 1) if e.pk is not None}
    problems = order_problems(show, places, {e.pk: e.code for e in episodes if e.pk is not None})
    if problems:
        raise ValidationError(problems)


class EpisodeQuerySet(models.QuerySet["Episode"]):
    def regular(self):
        return self.filter(season_number__gt=SPECIALS_SEASON)

    def specials(self):
        return self.filter(season_number=SPECIALS_SEASON)

    def visible_at(self, point: SafePoint):
        return self.filter(revealed_q(point))

    def at(self, slug: str, season: int, number: int) -> Episode | None:
        """The episode at this place in the show with this slug, with its show and season: one query."""
        return (
            self.select_related("show", "season")
            .filter(show__slug=slug, season_number=season, number=number)
            .first()
        )

    def after(self, point: SafePoint):
        """Regular episodes past the safe point, in order: the first is what is up next."""
        return self.regular().filter(sequence__gt=point.sequence).order_by("sequence")

    def up_next(self, points: dict[int, SafePoint]) -> dict[int, Episode]:
        """Per show id, `after(point).first()` for each point, in one query however many shows."""
        after_each = Q(pk__in=[])
        for show_id, point in points.items():
            after_each |= Q(show_id=show_id, sequence__gt=point.sequence)
        first = Window(RowNumber(), partition_by=[F("show_id")], order_by=[F("sequence").asc()])
        found = (
            self.regular()
            .filter(after_each)
            .select_related("show")
            .annotate(rank_in_show=first)
            .filter(rank_in_show=1)
        )
        return {episode.show_id: episode for episode in found}

    def with_watched(self, user):
        """Annotate `watched` for this user (False for anonymous visitors)."""
        if not getattr(user, "is_authenticated", False):
            return self.annotate(watched=models.Value(False))
        return self.annotate(
            watched=Exists(Watch.objects.filter(user=user, episode=OuterRef("pk")))
        )


class Episode(models.Model):
    show = models.ForeignKey(
        Show, on_delete=models.CASCADE, related_name="episodes", editable=False
    )
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="episodes")
    # The season's number, kept here so an episode's code and URL need no join; Season.save keeps it.
    season_number = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_NUMBER)]
    )
    title = models.CharField(max_length=200, blank=True, help_text="Leave blank if unknown.")
    synopsis = models.TextField(
        blank=True, help_text="A teaser that spoils nothing of this episode."
    )
    air_date = models.DateField(null=True, blank=True)
    airs_after = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Specials only: the regular episode it airs after. Without it, a special sits "
        "where its air date puts it, or at the end of the show.",
    )
    tvdb_id = models.CharField("TVDB id", max_length=20, blank=True)
    tmdb_id = models.CharField("TMDB id", max_length=20, blank=True)
    imdb_id = models.CharField("IMDb id", max_length=20, blank=True)
    # The episode's place in story order (1, 2, 3, ...), recomputed by Show.resequence().
    sequence = models.PositiveIntegerField(editable=False)
    # Moved on by every edit of gated content revealed here (companion/signals.py): the part of a
    # cache key that changes only with what a viewer at or past this episode can see.
    content_stamp = models.PositiveBigIntegerField(default=0, editable=False)

    objects = EpisodeQuerySet.as_manager()

    # Set by EpisodeQuerySet.with_watched() or by the views; the rest by Viewing.decorate().
    watched: bool
    visible_recap: Recap | None
    revealed: bool
    shown_title: str
    title_hidden: bool
    shown_synopsis: str
    synopsis_hidden: bool

    class Meta:
        ordering = ["show", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="unique_episode_number"),
            models.UniqueConstraint(fields=["show", "sequence"], name="one_episode_per_place"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=MAX_NUMBER), name="episode_number_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.show} {self.code}"

    def save(self, *args, resequence: bool = True, **kwargs):
        """Save, then put every episode of the show back in story order (one transaction)."""
        self._take_position_from_season()
        with transaction.atomic():
            if self.pk is None:
                last = Episode.objects.filter(show_id=self.show_id).aggregate(
                    m=models.Max("sequence")
                )["m"]
                self.sequence = (last or 0) + 1
            super().save(*args, **kwargs)
            if resequence:
                self.show.resequence()
                self.sequence = Episode.objects.values_list("sequence", flat=True).get(pk=self.pk)

    def get_absolute_url(self) -> str:
        return self.url

    def _take_position_from_season(self) -> None:
        if self.season_id:
            self.show_id = self.season.show_id
            self.season_number = self.season.number

    def clean_fields(self, exclude=None):
        self._take_position_from_season()
        super().clean_fields(exclude)

    def clean(self):
        if not self.season_id:
            return
        if self.airs_after_id is not None:
            if not self.is_special:
                raise ValidationError({"airs_after": "Only a special airs after another episode."})
            if self.airs_after.show_id != self.show_id or self.airs_after.is_special:
                raise ValidationError({"airs_after": f"Pick a regular episode of {self.show}."})
        if self.pk is not None:
            episodes = [e for e in Episode.objects.filter(show_id=self.show_id) if e.pk != self.pk]
            check_new_order(self.show, [*episodes, self])

    @cached_property
    def url(self) -> str:
        # Reversed once per object: a season's rows link here and post to actions beneath it.
        return reverse("episode-detail", args=self._url_args)

    @cached_property
    def watch_url(self) -> str:
        return reverse("episode-watch", args=self._url_args)

    @cached_property
    def unwatch_url(self) -> str:
        return reverse("episode-unwatch", args=self._url_args)

    @cached_property
    def watch_up_to_url(self) -> str:
        return reverse("episode-watch-up-to", args=self._url_args)

    @cached_property
    def confirm_up_to_url(self) -> str:
        return reverse("episode-confirm-up-to", args=self._url_args)

    @cached_property
    def show_anyway_url(self) -> str:
        return reverse("episode-show-anyway", args=self._url_args)

    @property
    def _url_args(self) -> list[str | int]:
        return [self.show.slug, self.season_number, self.number]

    @property
    def code(self) -> str:
        return f"{self.season_number}x{self.number}"

    @property
    def short_label(self) -> str:
        return f"S{self.season_number}E{self.number}"

    @property
    def display_title(self) -> str:
        return self.title or f"Episode {self.number}"

    @property
    def is_special(self) -> bool:
        return self.season_number == SPECIALS_SEASON


# --- Gated content ------------------------------------------------------------------------------


class CharacterQuerySet(GatedQuerySet["Character"]):
    def with_states_at(self, point: SafePoint):
        """Visible characters, each with `safe_states`: its states visible at the point, oldest first."""
        states = (
            CharacterState.objects.visible_at(point)
            .select_related("reveal_at")
            .order_by("reveal_at__sequence")
        )
        return (
            self.visible_at(point)
            .select_related("first_appearance", "show")
            .prefetch_related(models.Prefetch("states", queryset=states, to_attr="safe_states"))
        )

    def in_episode(self, episode: Episode, point: SafePoint) -> list[Character]:
        """Visible characters who first appear or change in this episode, each with `states_then`:
        their states visible at the point up to this episode, oldest first. Two queries, always
        two (a prefetch would skip the second when nobody is in the episode)."""
        changed_here = CharacterState.objects.visible_at(point).filter(reveal_at=episode)
        characters = self.visible_at(point).filter(
            Q(first_appearance=episode) | Q(pk__in=changed_here.values("character_id"))
        )
        states: dict[int, list[CharacterState]] = {}
        for state in (
            CharacterState.objects.visible_at(point)
            .filter(
                character__in=characters.values("pk"), reveal_at__sequence__lte=episode.sequence
            )
            .select_related("reveal_at", "character__show")
            .order_by("reveal_at__sequence")
        ):
            states.setdefault(state.character_id, []).append(state)
        found = list(characters.select_related("first_appearance", "show"))
        for character in found:
            character.states_then = states.get(character.pk, [])
        return found

    def not_yet_at(self, point: SafePoint):
        """Characters who have not appeared by the point: naming them there is a spoiler."""
        return self.exclude(revealed_q(point, self.model.reveal_field))


class Character(GatedContent):
    reveal_field = "first_appearance"
    reveal_fields = ("first_appearance",)

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="characters")
    name = models.CharField(max_length=200)
    aliases = models.CharField(
        max_length=300,
        blank=True,
        help_text="Other names the text may use, separated by commas (for example: Dani). The "
        "spoiler check looks for these as well as the full name.",
    )
    actor = models.CharField(max_length=200, blank=True)
    first_appearance = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who has not appeared yet is itself a spoiler: the character is hidden until then.",
    )
    first_appearance_exact = models.BooleanField(
        "first appearance is known",
        default=True,
        help_text="Untick when the sources only show the character was there by this episode.",
    )
    slug = models.SlugField(max_length=200)
    sources = sources_field()

    objects = CharacterQuerySet.as_manager()

    # Set by CharacterQuerySet.with_states_at() and in_episode().
    safe_states: list[CharacterState]
    states_then: list[CharacterState]

    class Meta:
        ordering = ["show", "name"]
        constraints = [
            models.UniqueConstraint(fields=["show", "slug"], name="unique_character_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("character-detail", args=[self.show.slug, self.slug])

    def clean(self):
        self.check_reveal_point("first_appearance", getattr(self, "first_appearance", None))

    @property
    def names(self) -> list[str]:
        return [self.name, *(alias.strip() for alias in self.aliases.split(",") if alias.strip())]

    @property
    def latest_state(self) -> CharacterState | None:
        """The newest state at the safe point; needs with_states_at()."""
        return self.safe_states[-1] if self.safe_states else None

    @property
    def state_then(self) -> CharacterState | None:
        """The state as of the episode; needs in_episode()."""
        return self.states_then[-1] if self.states_then else None


class CharacterState(GatedContent):
    show_path = "character__show"
    reveal_fields = ("reveal_at", "character__first_appearance")

    class Status(models.TextChoices):
        ALIVE = "alive", "Alive"
        DEAD = "dead", "Dead"
        MISSING = "missing", "Missing"
        IMPRISONED = "imprisoned", "Imprisoned"
        UNKNOWN = "unknown", "Unknown"

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="states")
    reveal_at = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="+", verbose_name="as of"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.ALIVE)
    location = models.CharField(max_length=200, blank=True)
    affiliation = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    sources = sources_field()

    objects = GatedQuerySet.as_manager()

    class Meta:
        ordering = ["character", "reveal_at__sequence"]
        verbose_name = "character state"
        constraints = [
            models.UniqueConstraint(
                fields=["character", "reveal_at"], name="one_state_per_character_episode"
            )
        ]

    def __str__(self) -> str:
        return f"{self.character} as of {self.reveal_at.code}: {self.get_status_display()}"

    def clean(self):
        # Through the relation, not character_id: in the admin the character may be one being
        # added along with its states, not saved yet, and its first appearance one being changed.
        try:
            first = self.character.first_appearance
        except ObjectDoesNotExist:
            first = None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=first)

    @property
    def spoiler_text(self) -> str:
        return " ".join((self.location, self.affiliation, self.description))


class Recap(GatedContent):
    show_path = "episode__show"

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="recap")
    reveal_at = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        blank=True,
        help_text="Defaults to the episode itself.",
    )
    text = models.TextField()
    sources = sources_field()

    objects = GatedQuerySet.as_manager()

    class Meta:
        ordering = ["episode__sequence"]

    def __str__(self) -> str:
        return f"Recap of {self.episode}"

    def save(self, *args, **kwargs):
        if not self.reveal_at_id:
            self.reveal_at_id = self.episode_id
        super().save(*args, **kwargs)

    def clean(self):
        episode = self.episode if self.episode_id else None
        if episode is not None and not self.reveal_at_id:
            self.reveal_at = episode
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=episode)

    @property
    def spoiler_text(self) -> str:
        return self.text


class ReviewerNoteQuerySet(GatedQuerySet["ReviewerNote"]):
    def first_per_episode(self, count: int):
        """At most `count` notes for each episode discussed, oldest first (one query, any size)."""
        rank = Window(RowNumber(), partition_by=[F("episode_id")], order_by=[F("pk").asc()])
        return self.annotate(rank_in_episode=rank).filter(rank_in_episode__lte=count)

    def count_per_episode(self) -> dict[int, int]:
        return dict(self.order_by().values_list("episode_id").annotate(n=Count("pk")))


class ReviewerNote(GatedContent):
    show_path = "episode__show"

    episode = models.ForeignKey(
        Episode,
        on_delete=models.CASCADE,
        related_name="notes",
        help_text="The episode the note discusses.",
    )
    reveal_at = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="When it is safe to read: later than the episode if the note mentions later events.",
    )
    text = models.TextField()
    outlet = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    article_title = models.CharField(max_length=300, blank=True)
    url = models.CharField(
        "article URL",
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
    )

    objects = ReviewerNoteQuerySet.as_manager()

    class Meta:
        ordering = ["reveal_at__sequence", "episode__sequence", "pk"]
        # An episode's notes are found through the episodes revealed at the viewer's point and
        # then the episode, both in this index: notes revealed later are never read.
        indexes = [models.Index(fields=["episode", "reveal_at"], name="note_by_episode_and_reveal")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outlet="", author="", article_title=""), name="note_has_source"
            )
        ]

    def __str__(self) -> str:
        return f"Note on {self.episode} ({strip_tags(self.citation)})"

    def clean(self):
        if not (self.outlet or self.author or self.article_title):
            raise ValidationError(
                "Give the note a source: an outlet, an author or an article title."
            )
        episode = self.episode if self.episode_id else None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=episode)

    @property
    def citation(self) -> SafeString:
        """Who wrote it, where, and under what title: Author, <cite>Outlet</cite>: “Title”."""
        by = [conditional_escape(self.author)] if self.author else []
        if self.outlet:
            by.append(format_html("<cite>{}</cite>", self.outlet))
        citation = mark_safe(", ".join(by))
        if self.article_title:
            title = format_html("“{}”", self.article_title)
            citation = format_html("{}: {}", citation, title) if by else title
        return citation

    @property
    def spoiler_text(self) -> str:
        return self.text


def early_mentions(item: Recap | ReviewerNote | CharacterState) -> list[str]:
    """Characters a gated text names before they first appear, as messages for an editor."""
    show_id, reveal = item.owning_show_id(), getattr(item, "reveal_at", None)
    if show_id is None or reveal is None:
        return []
    text = item.spoiler_text
    found = []
    for character in (
        Character.objects.filter(show_id=show_id)
        .not_yet_at(SafePoint(reveal))
        .select_related("first_appearance")
    ):
        for name in character.names:
            # Case matters: names are proper nouns, and "Will" or "Miles" are words too.
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
                first = character.first_appearance.code
                found.append(
                    f"mentions {name}, who first appears at {first}; move the reveal to {first} or later"
                )
                break
    return found


# --- Progress -----------------------------------------------------------------------------------


class WatchQuerySet(models.QuerySet["Watch"]):
    # `self` is annotated because django-stubs copies these methods onto the generated manager,
    # where bulk_create would otherwise expect an unbound model type.
    @transaction.atomic
    def mark_watched(self: WatchQuerySet, *, user, episode: Episode) -> None:
        """Mark one episode watched; the viewer follows its show from then on."""
        # ignore_conflicts makes a double click or two racing requests leave exactly one row.
        self.bulk_create([Watch(user=user, episode=episode)], ignore_conflicts=True)
        Follow.objects.follow(user=user, shows=[episode.show_id])

    @transaction.atomic
    def mark_watched_up_to(self: WatchQuerySet, *, user, episode: Episode) -> int:
        """Mark every regular episode up to and including this one; returns how many were new."""
        prefix = (
            Episode.objects.filter(show_id=episode.show_id)
            .regular()
            .filter(sequence__lte=episode.sequence)
        )
        already = set(
            self.filter(user=user, episode__in=prefix).values_list("episode_id", flat=True)
        )
        wanted = [pk for pk in prefix.values_list("pk", flat=True) if pk not in already]
        if episode.is_special and episode.pk not in already:
            wanted.append(episode.pk)
        self.bulk_create([Watch(user=user, episode_id=pk) for pk in wanted], ignore_conflicts=True)
        Follow.objects.follow(user=user, shows=[episode.show_id])
        return len(wanted)

    @transaction.atomic
    def mark_season_watched(self: WatchQuerySet, *, user, season: Season) -> int:
        """Mark every episode of one season watched; returns how many were new."""
        episodes = Episode.objects.filter(season=season)
        already = set(
            self.filter(user=user, episode__in=episodes).values_list("episode_id", flat=True)
        )
        wanted = [pk for pk in episodes.values_list("pk", flat=True) if pk not in already]
        self.bulk_create([Watch(user=user, episode_id=pk) for pk in wanted], ignore_conflicts=True)
        Follow.objects.follow(user=user, shows=[season.show_id])
        return len(wanted)

    def unmark(self, *, user, episode: Episode) -> None:
        self.filter(user=user, episode=episode).delete()


class Watch(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="watches")
    watched_at = models.DateTimeField(default=timezone.now)

    objects = WatchQuerySet.as_manager()

    class Meta:
        ordering = ["watched_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "episode"], name="one_watch_per_episode")
        ]
        verbose_name_plural = "watches"

    def __str__(self) -> str:
        return f"{self.user} watched {self.episode}"


class FollowQuerySet(models.QuerySet["Follow"]):
    # `self` is annotated for django-stubs, as on WatchQuerySet.
    def follow(self: FollowQuerySet, *, user, shows) -> None:
        """Follow these shows (Show objects or ids); following one already followed changes nothing."""
        ids = {getattr(show, "pk", show) for show in shows}
        self.bulk_create(
            [Follow(user=user, show_id=pk) for pk in sorted(ids)], ignore_conflicts=True
        )

    def follow_shows_of(self, *, user, episode_ids) -> None:
        """Follow every show these episodes belong to (an imported history)."""
        ids = list(episode_ids)
        shows: set[int] = set()
        for start in range(0, len(ids), 500):  # SQLite limits the parameters of one query
            chunk = ids[start : start + 500]
            shows.update(Episode.objects.filter(pk__in=chunk).values_list("show_id", flat=True))
        self.follow(user=user, shows=shows)

    def unfollow(self, *, user, show: Show) -> None:
        self.filter(user=user, show=show).delete()

    def shows_of(self, user):
        """The shows this viewer follows, by title."""
        if not getattr(user, "is_authenticated", False):
            return Show.objects.none()
        return Show.objects.filter(follows__user=user).order_by("title")


class Follow(models.Model):
    """A show on a viewer's home page: started by marking an episode, or by hand."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    objects = FollowQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "show"], name="one_follow_per_show")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.show}"


def progress_for(user, shows) -> dict[int, dict]:
    """Per show: regular episodes watched, the total and the percentage, in one query for any number
    (SQL of its own: every mark runs it)."""
    shows = list(shows)
    counts: dict[int, tuple[int, int]] = {}
    if shows:
        episode, watch = Episode._meta.db_table, Watch._meta.db_table
        ids = ", ".join(["%s"] * len(shows))
        user_id = signed_in_id(user)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT e.show_id, COUNT(w.id), COUNT(*) FROM {episode} e"
                f" LEFT JOIN {watch} w ON w.episode_id = e.id AND w.user_id = %s"
                f" WHERE e.show_id IN ({ids}) AND e.season_number > %s GROUP BY e.show_id",
                [user_id, *(show.pk for show in shows), SPECIALS_SEASON],
            )
            counts = {pk: (done, total) for pk, done, total in cursor.fetchall()}
    progress = {}
    for show in shows:
        done, total = counts.get(show.pk, (0, 0))
        progress[show.pk] = {
            "watched": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
        }
    return progress


# --- Watch parties ------------------------------------------------------------------------------

PARTY_SIZE_LIMIT = 12


def _invite_token() -> str:
    return secrets.token_urlsafe(16)


class Party(models.Model):
    """Friends watching a show together; the party sees only what is safe for every member."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(max_length=100)
    # Who keeps the party: whoever started it, until they leave or delete their account, when it
    # passes to the longest-standing member left (`remove_member`). It grants no rights (every
    # member invites and leaves alike), so passing it on changes nobody's access. SET_NULL, not
    # CASCADE: one account's deletion, by whatever route, never takes the party from the others.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="kept by",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="parties")
    invite_token = models.CharField(
        max_length=32, unique=True, default=_invite_token, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return f"{self.name} ({self.show})"

    def get_absolute_url(self) -> str:
        return reverse("party-detail", args=[self.pk])

    def _lock(self) -> bool:
        """Lock the party's row until the transaction ends; False if it is gone."""
        # On SQLite the IMMEDIATE transaction already holds the database's one write lock.
        return Party.objects.select_for_update().filter(pk=self.pk).values_list("pk").exists()

    def add_member(self, user) -> bool:
        """Let the user in unless the party is full (or gone); True when they are a member."""
        with transaction.atomic():
            # Count and insert under the party's lock: joins at once cannot all see room for one.
            if not self._lock():
                return False
            if self.members.filter(pk=user.pk).exists():
                return True
            if self.members.count() >= PARTY_SIZE_LIMIT:
                return False
            self.members.add(user)
            return True

    def remove_member(self, user) -> None:
        """Take the user out; the party passes to its longest-standing member, or goes with the last."""
        with transaction.atomic():
            if not self._lock():
                return
            self.members.remove(user)
            # Join times are not recorded; the membership rows' ids are in join order.
            successor = (
                Party.members.through.objects.filter(party_id=self.pk)
                .order_by("pk")
                .values_list("user_id", flat=True)
                .first()
            )
            if successor is None:
                self.delete()
            elif self.created_by_id in (user.pk, None):
                self.created_by_id = successor
                self.save(update_fields=["created_by"])

    def progress(self) -> tuple[SafePoint, list[dict]]:
        """The party's safe point (the lowest of its members') and each member's standing.

        Three queries for any party size: the members, where each one's run of watched regular
        episodes ends (`Show.first_gaps`, as for any viewer) and the show's regular episodes.
        Specials are left out: the party reads the regular run only.
        """
        members = list(self.members.order_by("username"))
        gaps = Show.first_gaps([member.pk for member in members], [self.show_id]) if members else {}
        regular = list(
            Episode.objects.regular()
            .filter(show_id=self.show_id)
            .select_related("show")
            .order_by("sequence")
        )
        standing: list[dict[str, Any]] = []
        for member in members:
            gap = gaps.get((member.pk, self.show_id))
            run = [e for e in regular if gap is None or e.sequence < gap]
            standing.append(
                {
                    "member": member,
                    "safe_point": SafePoint(run[-1] if run else None),
                    "watched": len(run),
                }
            )
        leader = max((s["watched"] for s in standing), default=0)
        for s in standing:
            s["behind"] = leader - s["watched"]
        lowest = min(standing, key=lambda s: s["watched"], default=None)
        return (lowest["safe_point"] if lowest else NOTHING_SAFE), standing


# --- Spoiler reports ----------------------------------------------------------------------------


class SpoilerReport(models.Model):
    """A viewer's flag that some content spoiled something at their point."""

    class Kind(models.TextChoices):
        RECAP = "recap", "Recap"
        NOTE = "note", "Reviewer note"
        STATE = "state", "Character state"

    MODELS: dict[str, type[Recap] | type[ReviewerNote] | type[CharacterState]] = {
        Kind.RECAP: Recap,
        Kind.NOTE: ReviewerNote,
        Kind.STATE: CharacterState,
    }

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spoiler_reports"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    recap = models.ForeignKey(
        Recap, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    note = models.ForeignKey(
        ReviewerNote, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    state = models.ForeignKey(
        CharacterState, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reporter_safe_point = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["resolved", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="recap", recap__isnull=False, note__isnull=True, state__isnull=True)
                    | Q(kind="note", note__isnull=False, recap__isnull=True, state__isnull=True)
                    | Q(kind="state", state__isnull=False, recap__isnull=True, note__isnull=True)
                ),
                name="report_points_at_its_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reported by {self.reporter} at {self.reporter_safe_point.code}"

    @property
    def content(self):
        return getattr(self, self.kind)

    @transaction.atomic
    def move_reveal_after_reporter(self) -> Episode | None:
        """Push the content's reveal point to just after the reporter's point; returns the new point.

        Raises ValidationError, with nothing changed, when the move clashes with other content
        (a character's state already set at that episode)."""
        content = self.content
        after = (
            Episode.objects.filter(show_id=self.reporter_safe_point.show_id)
            .after(SafePoint(self.reporter_safe_point))
            .first()
        )
        if after is None:
            return None
        if content.reveal_at.sequence < after.sequence:
            content.reveal_at = after
            content.full_clean()
            content.save()
        SpoilerReport.objects.filter(kind=self.kind, **{self.kind: content}).update(resolved=True)
        return content.reveal_at
