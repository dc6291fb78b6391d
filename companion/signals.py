"""Edits move the versions that cached fragments are keyed on.

An edit of a season or an episode changes what every viewer of the show sees: it moves the show's
`content_version`. An edit of gated content changes only what viewers who can see it see: it moves
the `content_stamp` of each episode that reveals it, before and after the edit, so a viewer whose
point has not reached those episodes keeps their keys, and cannot tell from a slow first render
that something past their point changed.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from .models import Character, CharacterState, Episode, Recap, ReviewerNote, Season, Show


def bump_content_version(sender, instance, raw=False, **kwargs):
    if raw:
        return
    Show(pk=instance.show_id).content_changed()


def reveal_points(instance) -> set[int]:
    """The episode whose reveal makes this row visible (as it is in memory).

    Only the row's own reveal point: a state's also waits for its character's first appearance,
    but stamping that would move the keys of every viewer who knows the character when a state
    far past their point changes. Viewers at the state's own point know the character already,
    except where a watched special comes after an unwatched one that introduces them.
    """
    reveal = getattr(instance, f"{instance.reveal_field}_id", None)
    return {reveal} if reveal is not None else set()


def stamp(points: set[int]) -> None:
    if points:
        Episode.objects.filter(pk__in=points).update(content_stamp=F("content_stamp") + 1)


def stamp_old_points(sender, instance, raw=False, **kwargs):
    """Where the row was revealed before this save or delete: viewers there lose or change it."""
    if raw or instance.pk is None:
        return
    stored = sender.objects.filter(pk=instance.pk).first()
    if stored is not None:
        stamp(reveal_points(stored))


def stamp_new_points(sender, instance, raw=False, **kwargs):
    if not raw:
        stamp(reveal_points(instance))


# Connected per model, so saving anything else (sessions, login records) costs nothing here.
for catalogue in (Season, Episode):
    name = catalogue.__name__
    post_save.connect(bump_content_version, sender=catalogue, dispatch_uid=f"bump-{name}")
    post_delete.connect(bump_content_version, sender=catalogue, dispatch_uid=f"unbump-{name}")
for gated in (Character, CharacterState, Recap, ReviewerNote):
    name = gated.__name__
    pre_save.connect(stamp_old_points, sender=gated, dispatch_uid=f"stamp-old-{name}")
    post_save.connect(stamp_new_points, sender=gated, dispatch_uid=f"stamp-new-{name}")
    pre_delete.connect(stamp_old_points, sender=gated, dispatch_uid=f"unstamp-{name}")
