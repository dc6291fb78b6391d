"""Shows, seasons and episodes, and the story order episodes are read in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.functional import cached_property

from .rule import (
    NOTHING_WATCHED,
    SPECIALS_SEASON,
    Place,
    Run,
    SafePoint,
    revealed_q,
    revealed_sql,
    signed_in_id,
)

# Season and episode numbers are bounded so that a code like "3x10" names exactly one episode.
MAX_NUMBER = 999
EPISODE_CODE = re.compile(r"^s?(\d{1,3})[xe](\d{1,3})$", re.ASCII | re.IGNORECASE)


def image_url(name: str) -> str:
    """Where the browser fetches a stored image: the storage's own URL for it, or ""."""
    return default_storage.url(name) if name else ""


def parse_code(code) -> tuple[int, int] | None:
    """ "3x10", "S3E10" -> (3, 10); None for anything that is not such a code."""
    match = EPISODE_CODE.match(str(code or "").strip())
    return (int(match[1]), int(match[2])) if match else None


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
    tvmaze_id = models.PositiveIntegerField("TVmaze id", null=True, blank=True, unique=True)
    premiere_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=30, blank=True, help_text="As TVmaze has it: Running, Ended…"
    )
    # False for text an import brought in that no editor has looked at yet: a refresh from TVmaze
    # rewrites only those; once reviewed (or written by hand) the row is the editors'.
    reviewed = models.BooleanField(
        default=True, help_text="Untick while the text is as imported and not checked by an editor."
    )
    # Bumped whenever the show's seasons or episodes change (what every viewer sees of it); cached
    # pages and fragments are keyed on it. It lives in the database, not the cache, so every worker
    # process sees an edit at once. Gated content has a stamp per reveal point instead
    # (Episode.content_stamp), so an edit past a viewer's point leaves their keys alone.
    content_version = models.PositiveIntegerField(default=0, editable=False)
    # Artwork from TVmaze, made small by the image job (catalogue/images.py) and stored under a
    # name keyed on its bytes: cacheable forever, and not to be guessed by anyone not shown it.
    # `*_source` is TVmaze's URL it was made from; a file name left blank is still to download.
    poster = models.CharField(max_length=100, blank=True, editable=False)
    poster_source = models.URLField(max_length=300, blank=True, editable=False)
    # A blurred landscape crop of the show's background art: what stands in for every still a
    # viewer may not see, the same for hidden and missing ones.
    stand_in = models.CharField(max_length=100, blank=True, editable=False)
    stand_in_source = models.URLField(max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.url

    @cached_property
    def url(self) -> str:
        return reverse("show-detail", args=[self.slug])

    @property
    def poster_url(self) -> str:
        return image_url(self.poster)

    @property
    def stand_in_url(self) -> str:
        return image_url(self.stand_in)

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
        revealed = revealed_sql(point)
        return 0 if revealed is None else sql.content_stamp(revealed)

    def last_revealed(self, point: SafePoint, count: int) -> list[Episode]:
        """The last `count` regular episodes revealed at the point, in story order: one statement
        of our own."""
        revealed = revealed_sql(point)
        found = [] if revealed is None else sql.last_regular_among(revealed, self.pk, count)
        for episode in found:
            episode.show = self
        return found[::-1]

    def season_starts(self) -> dict[int, tuple[int, int]]:
        """Per regular season number, in order: the place of its first episode and how many it
        has. SQL of its own: the story asks it on every look, and the ORM took longer to build
        the statement than the database to answer it."""
        return {number: (first, n) for number, first, n in sql.season_starts(self.pk)}

    @staticmethod
    def with_slug(slug: str) -> Show | None:
        """The show with this slug, if any: every page of a show (cached or not) starts here."""
        return sql.show_by_slug(slug)

    def season_numbered(self, number: int) -> Season | None:
        """The season with this number, if any: SQL of its own, as every unfolded season asks."""
        season = sql.season_of(self.pk, number)
        if season is not None:
            season.show = self
        return season

    def episode_at(self, season: int, number: int) -> Episode | None:
        return (
            # The related manager gives each episode this very show: no join for it.
            self.episodes.select_related("season")
            .filter(season_number=season, number=number)
            .first()
        )

    def episode_page(self, user, season: int, number: int, *, up_next_after: int) -> EpisodePage:
        """The episode at (season, number), its neighbours in story order and the regular episode
        up next after place `up_next_after`, each with `watched` for this user: one query."""
        found = {}
        if not (0 <= season <= MAX_NUMBER and 0 <= number <= MAX_NUMBER):
            # No such episode can exist, and a number from the URL may not fit the column.
            return EpisodePage(None, None, None, None)
        for episode in sql.episode_page(signed_in_id(user), self.pk, season, number, up_next_after):
            # The show is this very one: no join for it.
            episode.show = self
            found[episode.place] = episode
        return EpisodePage(
            episode=found.get(sql.HERE),
            previous=found.get(sql.PREVIOUS),
            next=found.get(sql.NEXT),
            up_next=found.get(sql.UP_NEXT),
        )

    def episode_page_of_run(self, season: int, number: int, run: Run) -> EpisodePage:
        """As episode_page, for a signed-in viewer whose marks are `run` and nothing past it:
        the episode and its neighbours as read once per process for this version of the show's
        content (sql.episode_page_of_run), marked as the run says, and the run's episode up next
        (the first regular one past its point). No statement of its own, once read."""
        if not (0 <= season <= MAX_NUMBER and 0 <= number <= MAX_NUMBER):
            return EpisodePage(None, None, None, None)
        read = sql.episode_page_of_run(self.pk, self.content_version, season, number)
        mark_from_run(run, read)
        found = {}
        for episode in read:
            episode.show = self
            found[episode.place] = episode
        return EpisodePage(
            episode=found.get(sql.HERE),
            previous=found.get(sql.PREVIOUS),
            next=found.get(sql.NEXT),
            up_next=run.up_next,
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
        """Each show's safe point for this user, in one query however many shows there are."""
        return {pk: run.point for pk, run in Show.runs_for(user, shows).items()}

    @staticmethod
    def runs_for(user, shows) -> dict[int, Run]:
        """Each show's safe point for this user and what else they watched of it, in one query
        however many shows there are: where the run of watched regular episodes ends
        (`run_length`) and the last regular episode before that, and the specials watched and
        the regular episodes watched past the run. The specials watched on the way, after the
        run's last regular episode and before its gap, are safe too."""
        shows = list(shows)
        if not getattr(user, "is_authenticated", False) or not shows:
            return {show.pk: NOTHING_WATCHED for show in shows}
        by_pk = {show.pk: show for show in shows}
        gaps: dict[int, int | None] = {}
        up_next: dict[int, Episode] = {}
        found: dict[int, Episode] = {}
        stamps: dict[int, int] = {}
        runs = sql.runs_of(user.pk, {show.pk: show.content_version for show in shows})
        for show_id, last_of_run, at_gap, stamp in runs.ends:
            gaps[show_id], stamps[show_id] = None, stamp
            for episode in (last_of_run, at_gap):
                if episode is not None:
                    episode.show = by_pk[show_id]
            if last_of_run is not None:
                found[show_id] = last_of_run
            if at_gap is not None:
                at_gap.watched, at_gap.listed_in = False, at_gap.season_number
                gaps[show_id], up_next[show_id] = at_gap.sequence, at_gap
        ends = {pk: found[pk].sequence if pk in found else 0 for pk in gaps}
        specials: dict[int, list[tuple[int, int]]] = {}
        on_the_way: dict[int, set[int]] = {}
        past_run: set[int] = set()
        for mark in runs.beyond:
            if mark.regular:
                past_run.add(mark.show_id)
                continue
            specials.setdefault(mark.show_id, []).append((mark.episode_id, mark.listed_in))
            gap = gaps[mark.show_id]
            if mark.sequence > ends[mark.show_id] and (gap is None or mark.sequence < gap):
                on_the_way.setdefault(mark.show_id, set()).add(mark.episode_id)
                stamps[mark.show_id] += mark.content_stamp
        return {
            show.pk: Run(
                SafePoint(found.get(show.pk), frozenset(on_the_way.get(show.pk, ()))),
                tuple(sorted(specials.get(show.pk, ()))),
                show.pk in past_run,
                up_next[show.pk].season_number if show.pk in up_next else None,
                up_next.get(show.pk),
                stamps.get(show.pk, 0),
            )
            for show in shows
        }

    def episodes_with_marks(
        self,
        user,
        *,
        seasons: list[Season] | None = None,
        with_specials: bool = False,
        regular_after: int | None = None,
        limit: int | None = None,
    ) -> list[Episode]:
        """The episodes of these seasons (and the specials), or the regular ones placed after
        `regular_after`, in story order, each with `watched` for this user: one query of its own,
        for the paths every mark runs."""
        found = sql.episodes_with_marks(
            signed_in_id(user),
            self.pk,
            season_ids=[season.pk for season in seasons or []],
            with_specials=with_specials,
            regular_after=regular_after,
            limit=limit,
        )
        for row in found:
            row.show = self
            row.watched = bool(row.watched)
        return found

    def listed_episodes(self, seasons: list[Season], run: Run) -> list[Episode]:
        """As episodes_with_marks(seasons=..., with_specials=True), for a viewer whose marks are
        `run` and nothing past it (no gap): each episode's `watched` is the run's, so a list
        built from them shows exactly what it is keyed on (the run), even while a mark lands.

        The episodes themselves are read once per process for each version of the show's
        content (sql.listed_episodes): every show page built at a new point lists its season."""
        found = sql.listed_episodes(
            self.pk, self.content_version, [season.pk for season in seasons]
        )
        mark_from_run(run, found)
        for episode in found:
            episode.show = self
        return found

    def gap_for(self, user, point: SafePoint) -> Gap | None:
        """What the viewer skipped, when they have watched past their safe point; one query.

        Read as plain rows, not models: every mark that skips ahead runs it over what lies between.
        """
        if not getattr(user, "is_authenticated", False):
            return None
        places = sql.regular_places_to_furthest_watched(user.pk, self.pk, point.sequence)
        if not places:
            return None

        def stand_in(place: sql.Place) -> Episode:
            return Episode(
                pk=place.episode_id,
                show=self,
                season_number=place.season_number,
                number=place.number,
                sequence=place.sequence,
            )

        runs: list[tuple[Episode, Episode]] = []
        first = last = None
        for place in [*places[:-1], None]:
            if place is not None and not place.watched:
                first, last = first or place, place
            elif first is not None and last is not None:
                runs.append((stand_in(first), stand_in(last)))
                first = last = None
        return Gap(point=point, furthest=stand_in(places[-1]), runs=runs)

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


def mark_from_run(run: Run, episodes: list[Episode]) -> None:
    """Give each episode `watched` as the run says, for a viewer with nothing watched past it: a
    regular episode up to its point, a special if it is one of theirs."""
    end = run.point.sequence
    specials = {pk for pk, _ in run.specials}
    for episode in episodes:
        episode.watched = episode.pk in specials if episode.is_special else episode.sequence <= end


@dataclass
class EpisodePage:
    """An episode and the episodes its page links to or names (Show.episode_page)."""

    episode: Episode | None
    previous: Episode | None
    next: Episode | None
    up_next: Episode | None


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
    def heads(
        self, user, show: Show, only: Season | None = None, *, run: Run | None = None
    ) -> list[Season]:
        """The show's seasons (or only `only`) in order, each with where its in-universe period is
        revealed (its set point, else its first episode), how many episodes it has (`total`)
        and how many of them this user `watched`. One query, in SQL of its own: every mark runs it.

        With `run` (the user's, read earlier in the request) the counts are of the marks it
        says the user has, not of their watches as they are now: a page keyed on the run shows
        what its key says even if a mark lands meanwhile. A run with a regular episode watched
        past it says too little, so its counts are read from the watches.
        """
        if run is not None and not run.past_run:
            specials = [pk for pk, _ in run.specials]
            seasons = sql.season_heads_of_run(
                show.pk,
                show.content_version,
                only.pk if only else None,
                run.point.sequence,
                specials,
            )
        else:
            seasons = sql.season_heads(signed_in_id(user), show.pk, only.pk if only else None)
        for head in seasons:
            head.show = show
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
    first: int | None
    last: int | None
    last_watched: int | None

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
        """Save; a renumbered season's episodes follow it (their places: Show.resequence())."""
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.episodes.exclude(season_number=self.number).update(season_number=self.number)

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
    def period_reveal_point(self) -> Place | None:
        """Needs heads(): the place the period is revealed at. Not an Episode: every show page
        and mark asks it of every season, and building a model instance cost more than the rule."""
        if self.period_reveal_id is None or self.period_reveal_sequence is None:
            return None
        return Place(self.period_reveal_id, self.show_id, self.period_reveal_sequence)


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
        """The episode at this place in the show with this slug, with its show and season: one
        statement of our own (every mark starts here)."""
        return sql.episode_at(slug, season, number)

    def after(self, point: SafePoint):
        """Regular episodes past the safe point, in order: the first is what is up next."""
        return self.regular().filter(sequence__gt=point.sequence).order_by("sequence")

    def past(self, points: dict[int, SafePoint]):
        """Regular episodes past each show's point (show id -> point), however many shows."""
        after_each = Q(pk__in=[])
        for show_id, point in points.items():
            after_each |= Q(show_id=show_id, sequence__gt=point.sequence)
        return self.regular().filter(after_each)

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
    tvmaze_id = models.PositiveIntegerField("TVmaze id", null=True, blank=True, unique=True)
    airtime = models.TimeField("air time", null=True, blank=True, help_text="Local to the network.")
    runtime = models.PositiveSmallIntegerField("runtime (minutes)", null=True, blank=True)
    # Gated like the episode's content: only Viewing.episode_view() turns it into a URL, and only
    # at a point that reveals the episode (see Show.poster for the name).
    still = models.CharField(max_length=100, blank=True, editable=False)
    still_source = models.URLField(max_length=300, blank=True, editable=False)
    # False for text an import brought in that no editor has looked at yet: a refresh from TVmaze
    # rewrites only those; once reviewed (or written by hand) the row is the editors'.
    reviewed = models.BooleanField(
        default=True, help_text="Untick while the text is as imported and not checked by an editor."
    )
    # The episode's place in story order (1, 2, 3, ...), recomputed by Show.resequence().
    sequence = models.PositiveIntegerField(editable=False)
    # Moved on by every edit of gated content revealed here (companion/signals.py): the part of a
    # cache key that changes only with what a viewer at or past this episode can see.
    content_stamp = models.PositiveBigIntegerField(default=0, editable=False)

    objects = EpisodeQuerySet.as_manager()

    # Set by EpisodeQuerySet.with_watched() or by the views. What a viewer is shown of an
    # episode is not kept here: Viewing.decorate() makes an EpisodeView of it.
    watched: bool
    # Set by Show.episode_page(): where the row stands to the episode asked for.
    place: int
    # Set by Show.episodes_with_marks(): the season whose list on the show page holds it.
    listed_in: int

    class Meta:
        ordering = ["show", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="unique_episode_number"),
            models.UniqueConstraint(fields=["show", "sequence"], name="one_episode_per_place"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=MAX_NUMBER), name="episode_number_bounded"
            ),
        ]
        # Every show page and mark counts each season's episodes (sql.season_heads), and finds
        # its first: read from this index alone, not from every episode's row.
        indexes = [models.Index(fields=["season", "sequence"], name="episode_season_place")]

    def __str__(self) -> str:
        return f"{self.show} {self.code}"

    def save(self, *args, **kwargs):
        """Save; a new episode waits at the end of the show until the writer calls
        Show.resequence(), once, after all its changes."""
        self._take_position_from_season()
        if self.pk is None:
            last = Episode.objects.filter(show_id=self.show_id).aggregate(m=models.Max("sequence"))[
                "m"
            ]
            self.sequence = (last or 0) + 1
        super().save(*args, **kwargs)

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
        # Built from the show's URL, not reversed: a season's rows link to every episode and post
        # to actions beneath each, and reversing them all cost more than the rest of a row.
        # companion/urls.py places them so; tests/companion/test_models.py checks it.
        return f"{self.show.url}s{self.season_number}/e{self.number}/"

    @property
    def watch_url(self) -> str:
        return f"{self.url}watch/"

    @property
    def unwatch_url(self) -> str:
        return f"{self.url}unwatch/"

    @property
    def watch_up_to_url(self) -> str:
        return f"{self.url}watch-up-to/"

    @property
    def confirm_up_to_url(self) -> str:
        return f"{self.url}watch-up-to/confirm/"

    @property
    def notes_url(self) -> str:
        return f"{self.url}notes/"

    @property
    def show_anyway_url(self) -> str:
        return f"{self.url}show-anyway/"

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


# Imported last: these modules import this one, and the names are used only inside functions.
from .. import sql  # noqa: E402  (last: it reads this module's and progress's models)
from .gated import CharacterState, Recap, ReviewerNote  # noqa: E402
from .progress import Watch  # noqa: E402
