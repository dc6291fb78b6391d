"""The content of a show, what a viewer has watched, and the one spoiler rule that joins them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

# An episode's place in canonical order is season * SEASON_STRIDE + number, so one integer
# comparison (and one index) answers "is this at or before that?".
SEASON_STRIDE = 1000
EPISODE_CODE = re.compile(r"^(\d+)x(\d+)$", re.ASCII | re.IGNORECASE)


def sequence_from_code(code) -> int | None:
    """ "3x10" -> 3010; None for anything that is not such a code."""
    match = EPISODE_CODE.match(str(code or "").strip())
    return int(match[1]) * SEASON_STRIDE + int(match[2]) if match else None


# --- The spoiler rule -------------------------------------------------------------------------
# A viewer's safe point is an Episode (or None: nothing is safe). Gated content is visible only
# when its reveal point is an episode of the same show at or before the safe point. These two
# functions are the only place that rule is written; everything else calls them.


def revealed_q(safe_point: Episode | None, field: str = "") -> Q:
    """Filter for rows whose reveal episode (reached through `field`) is at or before the safe point."""
    if safe_point is None:
        return Q(pk__in=[])
    prefix = f"{field}__" if field else ""
    return Q(
        **{f"{prefix}show_id": safe_point.show_id, f"{prefix}sequence__lte": safe_point.sequence}
    )


def is_revealed(episode: Episode, safe_point: Episode | None) -> bool:
    """The same rule as revealed_q, for one episode already in memory."""
    return (
        safe_point is not None
        and episode.show_id == safe_point.show_id
        and episode.sequence <= safe_point.sequence
    )


class GatedQuerySet(models.QuerySet):
    """Content with a reveal point; `visible_at` is the only way views read it."""

    reveal_field = "reveal_at"

    def visible_at(self, safe_point: Episode | None):
        return self.filter(revealed_q(safe_point, self.reveal_field))


class GatedContent(models.Model):
    """Shared validation: a reveal point must belong to the content's own show."""

    class Meta:
        abstract = True

    def show_for_validation(self) -> Show | None:
        raise NotImplementedError

    def check_reveal_point(
        self, field: str, episode: Episode | None, *, not_before: Episode | None = None
    ):
        if episode is None:
            return
        show = self.show_for_validation()
        if show is not None and episode.show_id != show.pk:
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
    # Bumped whenever any of the show's content changes; cached fragments are keyed on it. It lives
    # in the database, not the cache, so every worker process sees an edit at once.
    content_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def url(self) -> str:
        return reverse("show-detail", args=[self.slug])

    def get_absolute_url(self) -> str:
        return self.url

    def content_changed(self) -> None:
        Show.objects.filter(pk=self.pk).update(content_version=models.F("content_version") + 1)

    def safe_point_for(self, user, *, as_of: Episode | None = None) -> Episode | None:
        """The last episode of the unbroken run of watched regular episodes from the first one.

        `as_of` looks at the show from an earlier point (rewatch mode, or an editor's preview): a
        viewer can only move back from their real safe point; staff may preview any point.
        """
        if as_of is not None and as_of.show_id == self.pk and getattr(user, "is_staff", False):
            return as_of
        real = Show.safe_points_for(user, [self])[self.pk]
        if (
            as_of is not None
            and as_of.show_id == self.pk
            and real is not None
            and as_of.sequence <= real.sequence
        ):
            return as_of
        return real

    @staticmethod
    def safe_points_for(user, shows) -> dict[int, Episode | None]:
        """Each show's safe point for this user, in two queries however many shows there are."""
        shows = list(shows)
        if not getattr(user, "is_authenticated", False) or not shows:
            return {show.pk: None for show in shows}
        regular = Episode.objects.regular().filter(show__in=shows)
        first_gaps = dict(
            regular.exclude(watches__user=user)
            .order_by()
            .values_list("show_id")
            .annotate(first=models.Min("sequence"))
        )
        before_gap = Q(pk__in=[])
        for show in shows:
            gap = first_gaps.get(show.pk)
            before_gap |= (
                Q(show_id=show.pk, sequence__lt=gap) if gap is not None else Q(show_id=show.pk)
            )
        latest_first = Window(
            RowNumber(), partition_by=[F("show_id")], order_by=[F("sequence").desc()]
        )
        found = {
            episode.show_id: episode
            for episode in Episode.objects.regular()
            .filter(before_gap)
            .select_related("show")
            .annotate(rank_in_show=latest_first)
            .filter(rank_in_show=1)
        }
        return {show.pk: found.get(show.pk) for show in shows}


class Season(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="seasons")
    number = models.PositiveSmallIntegerField(
        help_text="0 holds specials, which never block progress."
    )
    period = models.CharField("in-universe period", max_length=100, blank=True)
    premiere_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["show", "number"]
        constraints = [
            models.UniqueConstraint(fields=["show", "number"], name="unique_season_number")
        ]

    def __str__(self) -> str:
        return f"{self.show} season {self.number}" if self.number else f"{self.show} specials"


class EpisodeQuerySet(models.QuerySet):
    def regular(self):
        return self.filter(sequence__gte=SEASON_STRIDE)

    def visible_at(self, safe_point: Episode | None):
        return self.filter(revealed_q(safe_point))

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
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True, help_text="Leave blank if unknown.")
    synopsis = models.TextField(
        blank=True, help_text="A teaser that spoils nothing of this episode."
    )
    air_date = models.DateField(null=True, blank=True)
    sequence = models.PositiveIntegerField(editable=False)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["show", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="unique_episode_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="episode_number_from_one"),
        ]
        indexes = [models.Index(fields=["show", "sequence"], name="episode_show_sequence")]

    def __str__(self) -> str:
        return f"{self.show} {self.code}"

    def _derive_position(self) -> None:
        if self.season_id and self.number:
            self.show_id = self.season.show_id
            self.sequence = self.season.number * SEASON_STRIDE + self.number

    def clean_fields(self, exclude=None):
        self._derive_position()
        super().clean_fields(exclude)

    def save(self, *args, **kwargs):
        self._derive_position()
        super().save(*args, **kwargs)

    @cached_property
    def url(self) -> str:
        # Reversed once per object: a season's rows link here and post to actions beneath it.
        return reverse("episode-detail", args=[self.show.slug, self.season_number, self.number])

    def get_absolute_url(self) -> str:
        return self.url

    @property
    def season_number(self) -> int:
        return self.sequence // SEASON_STRIDE

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
        return self.season_number == 0


# --- Gated content ------------------------------------------------------------------------------


class CharacterQuerySet(GatedQuerySet):
    reveal_field = "first_appearance"

    def with_states_at(self, safe_point: Episode | None):
        """Visible characters, each with `safe_states`: its states visible at the safe point, oldest first."""
        states = (
            CharacterState.objects.visible_at(safe_point)
            .select_related("reveal_at")
            .order_by("reveal_at__sequence")
        )
        return (
            self.visible_at(safe_point)
            .select_related("first_appearance", "show")
            .prefetch_related(models.Prefetch("states", queryset=states, to_attr="safe_states"))
        )


class Character(GatedContent):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="characters")
    name = models.CharField(max_length=200)
    actor = models.CharField(max_length=200, blank=True)
    first_appearance = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who has not appeared yet is itself a spoiler: the character is hidden until then.",
    )
    slug = models.SlugField(max_length=200)

    objects = CharacterQuerySet.as_manager()

    class Meta:
        ordering = ["show", "name"]
        constraints = [
            models.UniqueConstraint(fields=["show", "slug"], name="unique_character_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("character-detail", args=[self.show.slug, self.slug])

    @property
    def latest_state(self) -> CharacterState | None:
        """The newest state at the safe point; needs with_states_at()."""
        return self.safe_states[-1] if self.safe_states else None

    def show_for_validation(self):
        return self.show if self.show_id else None

    def clean(self):
        self.check_reveal_point("first_appearance", getattr(self, "first_appearance", None))


class CharacterState(GatedContent):
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

    def show_for_validation(self):
        return self.character.show if self.character_id else None

    def clean(self):
        first = self.character.first_appearance if self.character_id else None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=first)


class RecapQuerySet(GatedQuerySet):
    def for_show(self, show: Show):
        return self.filter(episode__show=show).select_related("episode__show")


class Recap(GatedContent):
    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="recap")
    reveal_at = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        blank=True,
        help_text="Defaults to the episode itself.",
    )
    text = models.TextField()

    objects = RecapQuerySet.as_manager()

    class Meta:
        ordering = ["episode__sequence"]

    def __str__(self) -> str:
        return f"Recap of {self.episode}"

    def save(self, *args, **kwargs):
        if not self.reveal_at_id:
            self.reveal_at_id = self.episode_id
        super().save(*args, **kwargs)

    def show_for_validation(self):
        return self.episode.show if self.episode_id else None

    def clean(self):
        episode = self.episode if self.episode_id else None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=episode)


class ReviewerNoteQuerySet(GatedQuerySet):
    def for_show(self, show: Show):
        return self.filter(episode__show=show).select_related("episode__show", "reveal_at")

    def first_per_episode(self, count: int):
        """At most `count` notes for each episode discussed, oldest first (one query, any size)."""
        rank = Window(RowNumber(), partition_by=[F("episode_id")], order_by=[F("pk").asc()])
        return self.annotate(rank_in_episode=rank).filter(rank_in_episode__lte=count)

    def count_per_episode(self) -> dict[int, int]:
        return dict(self.order_by().values_list("episode_id").annotate(n=Count("pk")))


class ReviewerNote(GatedContent):
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

    objects = ReviewerNoteQuerySet.as_manager()

    class Meta:
        ordering = ["reveal_at__sequence", "episode__sequence", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outlet="", author="", article_title=""), name="note_has_source"
            )
        ]

    def __str__(self) -> str:
        return f"Note on {self.episode} ({self.source})"

    @property
    def source(self) -> str:
        return ", ".join(part for part in (self.outlet, self.author) if part) or self.article_title

    def show_for_validation(self):
        return self.episode.show if self.episode_id else None

    def clean(self):
        if not (self.outlet or self.author or self.article_title):
            raise ValidationError(
                "Give the note a source: an outlet, an author or an article title."
            )
        episode = self.episode if self.episode_id else None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=episode)


# --- Progress -----------------------------------------------------------------------------------


class WatchQuerySet(models.QuerySet):
    def mark_watched(self, *, user, episode: Episode) -> None:
        # ignore_conflicts makes a double click or two racing requests leave exactly one row.
        self.bulk_create([Watch(user=user, episode=episode)], ignore_conflicts=True)

    @transaction.atomic
    def mark_watched_up_to(self, *, user, episode: Episode) -> int:
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


def progress_for(user, shows) -> dict[int, dict]:
    """Per show: episodes watched, the total and the percentage, in two queries for any number of shows."""
    totals = dict(
        Episode.objects.regular()
        .filter(show__in=shows)
        .values_list("show_id")
        .annotate(n=Count("pk"))
    )
    watched = {}
    if getattr(user, "is_authenticated", False):
        watched = dict(
            Watch.objects.filter(
                user=user, episode__show__in=shows, episode__sequence__gte=SEASON_STRIDE
            )
            .values_list("episode__show_id")
            .annotate(n=Count("pk"))
        )
    progress = {}
    for show in shows:
        done, total = watched.get(show.pk, 0), totals.get(show.pk, 0)
        progress[show.pk] = {
            "watched": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
        }
    return progress


# --- Watch parties ------------------------------------------------------------------------------

PARTY_SIZE_LIMIT = 12


def _invite_token() -> str:
    import secrets

    return secrets.token_urlsafe(16)


class Party(models.Model):
    """Friends watching a show together; the party sees only what is safe for every member."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
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

    def progress(self) -> tuple[Episode | None, list[dict]]:
        """The party's safe point (the lowest of its members') and each member's standing."""
        members = list(self.members.order_by("username"))
        points = {member.pk: self.show.safe_point_for(member) for member in members}
        positions = dict(
            (sequence, index + 1)
            for index, sequence in enumerate(
                self.show.episodes.regular().order_by("sequence").values_list("sequence", flat=True)
            )
        )
        standing = [
            {
                "member": m,
                "safe_point": points[m.pk],
                "watched": positions.get(points[m.pk].sequence, 0) if points[m.pk] else 0,
            }
            for m in members
        ]
        leader = max((s["watched"] for s in standing), default=0)
        for s in standing:
            s["behind"] = leader - s["watched"]
        lowest = min(standing, key=lambda s: s["watched"], default=None)
        return (lowest["safe_point"] if lowest else None), standing


# --- Spoiler reports ----------------------------------------------------------------------------


class SpoilerReport(models.Model):
    """A viewer's flag that some content spoiled something at their point."""

    class Kind(models.TextChoices):
        RECAP = "recap", "Recap"
        NOTE = "note", "Reviewer note"
        STATE = "state", "Character state"

    MODELS = {Kind.RECAP: Recap, Kind.NOTE: ReviewerNote, Kind.STATE: CharacterState}

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

    def move_reveal_after_reporter(self) -> Episode | None:
        """Push the content's reveal point to just after the reporter's point; returns the new point."""
        content = self.content
        after = (
            Episode.objects.filter(
                show_id=self.reporter_safe_point.show_id,
                sequence__gt=self.reporter_safe_point.sequence,
            )
            .regular()
            .order_by("sequence")
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
