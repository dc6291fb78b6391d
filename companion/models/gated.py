"""Content behind a reveal point: characters and their states, recaps, reviewers' notes."""

from __future__ import annotations

import re

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from .catalogue import Episode, Show, image_url
from .rule import GatedContent, GatedQuerySet, SafePoint, revealed_q, revealed_sql

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

    def with_latest_state_at(
        self, point: SafePoint, *, start: int = 0, count: int | None = None
    ) -> list[Character]:
        """Every character visible at the point, by name (`count` of them from `start`, when
        given), each with `latest_states`: their newest state visible at the point, if any.

        SQL of its own (sql.characters_with_latest_state), with the rule compiled from
        revealed_q: it reads every visible character, so this queryset's own filters and order
        are not used. A state is visible when its episode is revealed and its character is.
        """
        revealed = revealed_sql(point)
        if revealed is None:
            return []
        return sql.characters_with_latest_state(revealed, start=start, count=count)

    def visible_by_slug(self, point: SafePoint, slug: str) -> Character | None:
        """The character with this slug if visible at the point, with their first appearance:
        one statement of our own (the ORM's took longer to build than to answer)."""
        revealed = revealed_sql(point)
        return None if revealed is None else sql.visible_character(revealed, slug)

    def count_at(self, point: SafePoint) -> int:
        """How many characters are visible at the point: one statement of our own."""
        revealed = revealed_sql(point)
        return 0 if revealed is None else sql.visible_characters(revealed)

    def cards_at(self, point: SafePoint, *, start: int, count: int) -> list[sql.CastCard]:
        """`count` of the characters visible at the point from `start`, by name, as Who's who's
        cards show them, in plain values: a card is built only when it is not rendered yet."""
        revealed = revealed_sql(point)
        return [] if revealed is None else sql.cast_cards(revealed, start=start, count=count)

    def in_episode(self, episode: Episode, point: SafePoint) -> list[Character]:
        """Visible characters who first appear or change in this episode, each with `states_then`:
        their latest state visible at the point up to this episode, the one the page shows, as a
        list of at most one. One statement of our own: the ORM took several times longer to build
        its two than the database took to answer them."""
        revealed = revealed_sql(point)
        rows = (
            []
            if revealed is None
            else sql.characters_in_episode(revealed, episode.pk, episode.sequence)
        )
        found = []
        for character, state, reveal in rows:
            # Their first appearance or a state places them in this episode's show: no join for it.
            character.show = episode.show
            if state is not None:
                assert reveal is not None  # a state's reveal episode is never missing
                reveal.show = episode.show
                state.reveal_at, state.character = reveal, character
            character.states_then = [] if state is None else [state]
            found.append(character)
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
    tvmaze_id = models.PositiveIntegerField("TVmaze character id", null=True, blank=True)
    # False for text an import brought in that no editor has looked at yet: a refresh from TVmaze
    # rewrites only those; once reviewed (or written by hand) the row is the editors'.
    reviewed = models.BooleanField(
        default=True, help_text="Untick while the text is as imported and not checked by an editor."
    )
    slug = models.SlugField(max_length=200)
    sources = sources_field()
    # The actor's photo from TVmaze (see Show.poster); shown only where the character is.
    photo = models.CharField(max_length=100, blank=True, editable=False)
    photo_source = models.URLField(max_length=300, blank=True, editable=False)

    objects = CharacterQuerySet.as_manager()

    # Set by CharacterQuerySet.with_states_at(), with_latest_state_at() and in_episode().
    safe_states: list[CharacterState]
    latest_states: list[CharacterState]
    states_then: list[CharacterState]

    class Meta:
        ordering = ["show", "name"]
        constraints = [
            models.UniqueConstraint(fields=["show", "slug"], name="unique_character_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # Built from the show's URL, as Episode.url is: Who's who and an episode's page link to
        # every character they list (companion/urls.py places the page so; test_models checks).
        return f"{self.show.url}cast/{self.slug}/"

    def clean(self):
        self.check_reveal_point("first_appearance", getattr(self, "first_appearance", None))

    @property
    def photo_url(self) -> str:
        return image_url(self.photo)

    @property
    def names(self) -> list[str]:
        return [self.name, *(alias.strip() for alias in self.aliases.split(",") if alias.strip())]

    @property
    def latest_state(self) -> CharacterState | None:
        """The newest state at the safe point; needs with_states_at() or with_latest_state_at()."""
        states = self.latest_states if "latest_states" in self.__dict__ else self.safe_states
        return states[-1] if states else None

    def states_at(self, point: SafePoint) -> list[CharacterState]:
        """The timeline: this character's states visible at the point, oldest first, each with its
        episode. SQL of its own (sql.character_states), with the rule compiled from revealed_q."""
        revealed = revealed_sql(point)
        if revealed is None:
            return []
        states = sql.character_states(revealed, self.pk)
        for state in states:
            state.character = self
            state.reveal_at.show = self.show
        return states

    @property
    def state_then(self) -> CharacterState | None:
        """The state as of the episode; needs in_episode()."""
        return self.states_then[-1] if self.states_then else None


class CharacterStateQuerySet(GatedQuerySet["CharacterState"]):
    def changes_at(self, point: SafePoint, *episodes: Episode) -> list[sql.Change]:
        """The changes visible at the point that these episodes reveal, in story order and by
        name, a line each: one statement of our own."""
        revealed = revealed_sql(point)
        found = [] if revealed is None else sql.changes_at(revealed, [e.pk for e in episodes])
        return found


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

    objects = CharacterStateQuerySet.as_manager()

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

    @property
    def report_url(self) -> str:
        """Where a viewer reports a spoiler in it: built, not reversed, as Episode.url is."""
        return f"{self.character.show.url}report/state/{self.public_id}/"


class RecapQuerySet(GatedQuerySet["Recap"]):
    def of_episodes_at(self, point: SafePoint, *episodes: Episode) -> dict[int, Recap]:
        """The recaps of these episodes visible at the point, by episode id: one statement of our
        own (the ORM took several times longer to build it than SQLite to answer)."""
        by_pk = {episode.pk: episode for episode in episodes}
        recaps = {}
        revealed = revealed_sql(point)
        for recap in [] if revealed is None else sql.recaps_of(revealed, list(by_pk)):
            recap.episode = by_pk[recap.episode_id]
            recaps[recap.episode_id] = recap
        return recaps

    def within_at(
        self, point: SafePoint, show: Show, start: int, before: int | None = None
    ) -> list[Recap]:
        """The recaps of the show's episodes placed from `start` (up to `before`), visible at the
        point, in story order, each with its episode: one statement of our own."""
        revealed = revealed_sql(point)
        recaps = [] if revealed is None else sql.recaps_within(revealed, show.pk, start, before)
        for recap in recaps:
            recap.episode.show = show
        return recaps


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

    objects = RecapQuerySet.as_manager()

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

    @property
    def report_url(self) -> str:
        """Where a viewer reports a spoiler in it: built, not reversed, as Episode.url is."""
        return f"{self.episode.show.url}report/recap/{self.public_id}/"


class ReviewerNoteQuerySet(GatedQuerySet["ReviewerNote"]):
    def first_within(
        self, point: SafePoint, show: Show, count: int, start: int, before: int | None = None
    ) -> tuple[list[ReviewerNote], dict[int, int]]:
        """At most `count` notes on each of the show's episodes placed from `start` (up to
        `before`) visible at the point, oldest first, in story order, each with its episode's
        place; and how many each episode has in all. Two statements of our own at any size: the
        ids of every note from the index, then only the notes shown (a window over them took
        three times as long on a long show's season)."""
        revealed = revealed_sql(point)
        if revealed is None:
            return [], {}
        ids: dict[int, list[int]] = {}
        for episode_id, pk in sql.note_ids_within(revealed, show.pk, start, before):
            ids.setdefault(episode_id, []).append(pk)
        notes = sql.notes_by_id([pk for pks in ids.values() for pk in sorted(pks)[:count]])
        for note in notes:
            note.episode.show = show
        return notes, {episode_id: len(pks) for episode_id, pks in ids.items()}

    def first_on(
        self, episode: Episode, point: SafePoint, count: int
    ) -> tuple[list[ReviewerNote], int]:
        """The first `count` notes on the episode visible at the point, and how many are visible
        in all: one statement of our own (the ORM took several times longer to build it)."""
        revealed = revealed_sql(point)
        found = [] if revealed is None else sql.first_notes_on(revealed, episode.pk, count)
        for note, _ in found:
            note.episode = episode
        return [note for note, _ in found], found[0][1] if found else 0

    def first_of(
        self, point: SafePoint, count: int, *episodes: Episode
    ) -> tuple[list[ReviewerNote], dict[int, int]]:
        """At most `count` notes on each of these episodes visible at the point, oldest first, in
        story order; and how many each has in all. One statement of our own."""
        by_pk = {episode.pk: episode for episode in episodes}
        notes, totals = [], {}
        revealed = revealed_sql(point)
        found = [] if revealed is None else sql.first_notes_of(revealed, list(by_pk), count)
        for note, total in found:
            note.episode = by_pk[note.episode_id]
            notes.append(note)
            totals[note.episode_id] = total
        return notes, totals


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
        """Who wrote it, where, and under what title: Author, <cite>Outlet</cite>: “Title”.
        Escaped part by part and joined, not through format_html: the story renders it for every
        note it shows."""
        by: list[str] = [escape(self.author)] if self.author else []
        if self.outlet:
            by.append(f"<cite>{escape(self.outlet)}</cite>")
        citation = ", ".join(by)
        if self.article_title:
            title = f"“{escape(self.article_title)}”"
            citation = f"{citation}: {title}" if by else title
        return mark_safe(citation)

    @property
    def spoiler_text(self) -> str:
        return self.text

    @property
    def report_url(self) -> str:
        """Where a viewer reports a spoiler in it: built, not reversed, as Episode.url is."""
        return f"{self.episode.show.url}report/note/{self.public_id}/"


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


from .. import sql  # noqa: E402  (last: it reads this module's models)
