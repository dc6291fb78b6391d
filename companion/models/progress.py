"""What a viewer has watched and the shows they follow."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .catalogue import Episode, Season, Show
from .rule import signed_in_id

# SQLite allows 999 variables per statement in older builds; ids go in chunks below that.
ID_CHUNK = 900


class WatchQuerySet(models.QuerySet["Watch"]):
    # `self` is annotated because django-stubs copies these methods onto the generated manager,
    # where bulk_create would otherwise expect an unbound model type.
    def mark_watched(self: WatchQuerySet, *, user, episode: Episode) -> None:
        """Mark one episode watched; the viewer follows its show from then on. (mark_many's
        transaction is the only one: nested in another, it cost a savepoint's two statements.)"""
        self.mark_many(user=user, episodes={episode.pk: None}, shows=[episode.show_id])

    @transaction.atomic
    def mark_watched_up_to(self: WatchQuerySet, *, user, episode: Episode) -> int:
        """Mark every regular episode up to and including this one; returns how many were new."""
        prefix = (
            Episode.objects.filter(show_id=episode.show_id)
            .regular()
            .filter(sequence__lte=episode.sequence)
        )
        ids = list(prefix.values_list("pk", flat=True))
        if episode.is_special:
            ids.append(episode.pk)
        return self.mark_many(user=user, episodes=dict.fromkeys(ids), shows=[episode.show_id])

    @transaction.atomic
    def mark_season_watched(self: WatchQuerySet, *, user, season: Season) -> int:
        """Mark every episode of one season watched; returns how many were new."""
        ids = Episode.objects.filter(season=season).values_list("pk", flat=True)
        return self.mark_many(user=user, episodes=dict.fromkeys(ids), shows=[season.show_id])

    @transaction.atomic
    def mark_many(
        self: WatchQuerySet,
        *,
        user,
        episodes: dict[int, datetime | None],
        shows: list[int] | None = None,
    ) -> int:
        """Mark these episodes (ids) watched, each when given or now; returns how many were new.

        The one place watches are written: one episode, up to an episode, a season, and an
        imported history. Episodes already watched keep their first date; the viewer follows
        `shows`, or the shows of these episodes.
        """
        ids = list(episodes)
        already: set[int] = set()
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            already.update(
                self.filter(user=user, episode_id__in=chunk).values_list("episode_id", flat=True)
            )
        now = timezone.now()
        new = [
            Watch(user=user, episode_id=pk, watched_at=when or now)
            for pk, when in episodes.items()
            if pk not in already
        ]
        # ignore_conflicts: a watch marked meanwhile (a double click, two racing requests, another
        # tab) stays as it is, exactly one row.
        self.bulk_create(new, ignore_conflicts=True, batch_size=ID_CHUNK)
        if shows is None:
            Follow.objects.follow_shows_of(user=user, episode_ids=ids)
        else:
            Follow.objects.follow(user=user, shows=shows)
        return len(new)

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

    def follows(self, user, show: Show) -> bool:
        """Whether the viewer follows the show: SQL of its own, as every show page asks."""
        return sql.follows(user.pk, show.pk)

    def unfollow(self, *, user, show: Show) -> None:
        self.filter(user=user, show=show).delete()

    def shows_of(self, user):
        """The shows this viewer follows, by title."""
        if not getattr(user, "is_authenticated", False):
            return Show.objects.none()
        return Show.objects.filter(follows__user=user).order_by("title")

    def shows_listed_for(self, user) -> list[Show]:
        """As shows_of(), as a list: SQL of its own, as every home page asks."""
        if not getattr(user, "is_authenticated", False):
            return []
        return sql.followed_shows(user.pk)


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
    counts = sql.regular_counts(signed_in_id(user), [show.pk for show in shows])
    return {show.pk: progress_of(*counts.get(show.pk, (0, 0))) for show in shows}


def progress_of(watched: int, total: int) -> dict[str, int]:
    return {
        "watched": watched,
        "total": total,
        "percent": round(100 * watched / total) if total else 0,
    }


from .. import sql  # noqa: E402  (last: it reads this module's models)
