"""Posts and ratings on episodes: posts are gated content, read only through `visible_at`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from companion.models import Episode, GatedContent, GatedQuerySet, Party, SafePoint

MAX_POST_LENGTH = 5000
# Per writer, counted in the database so every worker shares one count and a cache outage lifts
# no limit: enough for a lively evening, not for a flood.
POSTS_PER_HOUR = 20
CHARACTERS_PER_DAY = 30_000


class PostingRefused(Exception):
    """Why a writer may not post now, as a message for them."""


class SuspensionQuerySet(models.QuerySet["Suspension"]):
    def in_force(self):
        now = timezone.now()
        return self.filter(Q(until__isnull=True) | Q(until__gt=now))


class Suspension(models.Model):
    """An editor's stop on a writer's posting (reading goes on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posting_suspension"
    )
    until = models.DateTimeField(null=True, blank=True, help_text="Leave blank until lifted.")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuspensionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user} suspended" + (
            f" until {self.until:%Y-%m-%d %H:%M}" if self.until else ""
        )


class PostQuerySet(GatedQuerySet["Post"]):
    def readable_at(self, point: SafePoint, reader=None):
        """What a reader at the point may read: posts the rule reveals there, not hidden by an
        editor (nor under a hidden post), and none the reader reported."""
        posts = (
            self.visible_at(point)
            .filter(hidden=False)
            .filter(Q(parent__isnull=True) | Q(parent__hidden=False))
        )
        if getattr(reader, "is_authenticated", False):
            posts = posts.exclude(reports__reporter=reader).exclude(
                parent__reports__reporter=reader
            )
        return posts

    def in_thread(self, *, episode: Episode | None = None, party: Party | None = None):
        """An episode's own thread (party=None) or a watch party's."""
        posts = self.filter(party=party)
        return posts.filter(episode=episode) if episode is not None else posts

    @transaction.atomic
    def write(
        self: PostQuerySet,
        *,
        author,
        episode: Episode,
        text: str,
        parent: Post | None = None,
        party: Party | None = None,
    ) -> Post:
        """A new post or reply, unless the writer is suspended or past their limits."""
        refusal = Post.refusal_for(author, len(text))
        if refusal:
            raise PostingRefused(refusal)
        return self.create(author=author, episode=episode, text=text, parent=parent, party=party)


class Post(GatedContent):
    """A viewer's post (or reply) on an episode, revealed at that episode or later."""

    show_path = "episode__show"

    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="posts", help_text="What it is about."
    )
    reveal_at = models.ForeignKey(
        Episode,
        on_delete=models.PROTECT,
        related_name="+",
        blank=True,
        help_text="Defaults to the episode. Move it later if the post spoils a later one.",
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="posts",
        help_text="Set for a watch party's own thread.",
    )
    # A reply to a deleted post stays, as a post of its own.
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    # An account's deletion deletes its posts (accounts/delete.html says so).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    text = models.TextField(max_length=MAX_POST_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(
        "hidden by editors", default=False, help_text="Nobody sees it, its writer included."
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "public_id"]
        # A thread is found through the episodes revealed at the reader's point and then the
        # episode, both in these indexes: posts revealed later are never read.
        indexes = [
            models.Index(fields=["episode", "reveal_at"], name="post_by_episode_and_reveal"),
            models.Index(fields=["party", "reveal_at"], name="post_by_party_and_reveal"),
            models.Index(fields=["author", "created_at"], name="post_by_author_and_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), MAX_POST_LENGTH),
                name="post_length_bounded",
            )
        ]

    def __str__(self) -> str:
        return f"Post on {self.episode.code} by {self.author.shown_name}"

    def save(self, *args, **kwargs):
        """A post is never revealed before its episode, nor a reply before what it answers;
        moving a post later moves its replies along."""
        later = [self.episode_id and self.episode, self.reveal_at_id and self.reveal_at]
        if self.parent_id:
            later.append(self.parent.reveal_at)
        self.reveal_at = max((e for e in later if e), key=lambda e: e.sequence)
        with transaction.atomic():
            super().save(*args, **kwargs)
            earlier = self.replies.filter(reveal_at__sequence__lt=self.reveal_at.sequence)
            for reply in earlier:
                reply.reveal_at = self.reveal_at
                reply.save(update_fields=["reveal_at"])

    def clean(self):
        episode = self.episode if self.episode_id else None
        self.check_reveal_point("reveal_at", getattr(self, "reveal_at", None), not_before=episode)

    @staticmethod
    def refusal_for(author, length: int) -> str | None:
        """Why the writer may not post `length` more characters now, or None."""
        if Suspension.objects.in_force().filter(user=author).exists():
            return "An editor has suspended your posting. You can still read."
        # Under the writer's row lock: posts at once cannot all see room for one more.
        get_user_model().objects.select_for_update().filter(pk=author.pk).exists()
        now = timezone.now()
        recent = Post.objects.filter(author=author, created_at__gte=now - timedelta(days=1))
        counts = recent.aggregate(
            last_hour=Count("pk", filter=Q(created_at__gte=now - timedelta(hours=1))),
            characters=Sum(Length("text")),
        )
        if counts["last_hour"] >= POSTS_PER_HOUR:
            return f"You have posted {POSTS_PER_HOUR} times in the last hour. Try again later."
        if (counts["characters"] or 0) + length > CHARACTERS_PER_DAY:
            return f"You have written close to {CHARACTERS_PER_DAY:,} characters today. Try again tomorrow."
        return None

    @property
    def spoiler_text(self) -> str:
        """What the editors' check (`manage.py check_spoilers`) reads: the text outside spoiler
        marks, which every reader of the post receives."""
        from .markup import MarkupError, parse

        try:
            return " ".join(part.text for part in parse(self.text) if part.up_to is None)
        except MarkupError:
            return self.text


class PostReport(models.Model):
    """A reader's flag that a post spoiled something at their point; they see it no more."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_reports"
    )
    reporter_safe_point = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["resolved", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="one_report_per_post")
        ]

    def __str__(self) -> str:
        return f"Post reported by {self.reporter} at {self.reporter_safe_point.code}"

    @transaction.atomic
    def move_reveal_after_reporter(self) -> Episode | None:
        """Reveal the post just after the reporter's point (no earlier than now); the new point."""
        after = (
            Episode.objects.filter(show_id=self.reporter_safe_point.show_id)
            .after(SafePoint(self.reporter_safe_point))
            .first()
        )
        if after is None:
            return None
        post = self.post
        if post.reveal_at.sequence < after.sequence:
            post.reveal_at = after
            post.save()
        PostReport.objects.filter(post=post).update(resolved=True)
        return post.reveal_at


class RatingQuerySet(models.QuerySet["Rating"]):
    def summary(self, episode: Episode, user) -> dict:
        """The episode's average and count, and this user's own stars: one query. Only for a
        viewer whose point reveals the episode (the views check `is_revealed` first)."""
        mine = Q(user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
        found = self.filter(episode=episode).aggregate(
            average=Avg("stars"), count=Count("pk"), mine=models.Max("stars", filter=mine)
        )
        if found["average"] is not None:
            found["average"] = round(found["average"], 1)
        return found

    def rate(self, *, user, episode: Episode, stars: int) -> None:
        self.update_or_create(user=user, episode=episode, defaults={"stars": stars})


class Rating(models.Model):
    """One viewer's 1 to 5 stars for an episode they have watched."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings"
    )
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="ratings")
    stars = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rated_at = models.DateTimeField(default=timezone.now)

    objects = RatingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "episode"], name="one_rating_per_episode"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="stars_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.user} rated {self.episode} {self.stars}/5"
