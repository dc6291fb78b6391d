"""Watch parties: friends who read a show at the point of the member furthest behind."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from .catalogue import Episode, Show
from .progress import Watch
from .rule import NOTHING_SAFE, SafePoint, run_length

PARTY_SIZE_LIMIT = 12


def _invite_token() -> str:
    return secrets.token_urlsafe(16)


class PartyQuerySet(models.QuerySet["Party"]):
    def of_member(self, user, show: Show) -> list[Party]:
        """The user's watch parties for the show, by name: SQL of its own, as every show page
        asks."""
        return sql.parties_of(user.pk, show.pk)

    def of_member_everywhere(self, user) -> list[Party]:
        """The user's watch parties of every show, by name, each with its show."""
        return sql.parties_of_member(user.pk)


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

    objects = PartyQuerySet.as_manager()

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

        Three queries for any party size: the members, the show's regular episodes and the
        places of the members' marks of them; where each one's run ends is run_length's, as for
        any viewer. Specials are left out: the party reads the regular run only.
        """
        members = list(self.members.order_by("username"))
        regular = list(
            Episode.objects.regular()
            .filter(show_id=self.show_id)
            .select_related("show")
            .order_by("sequence")
        )
        watched: dict[int, list[int]] = {member.pk: [] for member in members}
        if members:
            for user_id, place in (
                Watch.objects.filter(
                    user__in=members,
                    episode__in=Episode.objects.regular().filter(show_id=self.show_id),
                )
                .order_by("episode__sequence")
                .values_list("user_id", "episode__sequence")
            ):
                watched[user_id].append(place)
        places = [episode.sequence for episode in regular]
        standing: list[dict[str, Any]] = []
        for member in members:
            length = run_length(places, watched[member.pk])
            standing.append(
                {
                    "member": member,
                    "safe_point": SafePoint(regular[length - 1] if length else None),
                    "watched": length,
                }
            )
        leader = max((s["watched"] for s in standing), default=0)
        for s in standing:
            s["behind"] = leader - s["watched"]
        lowest = min(standing, key=lambda s: s["watched"], default=None)
        return (lowest["safe_point"] if lowest else NOTHING_SAFE), standing


from .. import sql  # noqa: E402  (last: it reads this module's models)
