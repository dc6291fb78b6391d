"""Any edit to a show's content invalidates the fragments cached for it."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Character, CharacterState, Episode, Recap, ReviewerNote, Season, Show


def _show_of_episode(episode_id):
    # After a cascade the episode may be gone; its own post_delete has bumped the version then.
    return Episode.objects.filter(pk=episode_id).values_list("show_id", flat=True).first()


SHOW_OF = {
    Season: lambda obj: obj.show_id,
    Episode: lambda obj: obj.show_id,
    Character: lambda obj: obj.show_id,
    CharacterState: lambda obj: (
        Character.objects.filter(pk=obj.character_id).values_list("show_id", flat=True).first()
    ),
    Recap: lambda obj: _show_of_episode(obj.episode_id),
    ReviewerNote: lambda obj: _show_of_episode(obj.episode_id),
}


@receiver(post_save)
@receiver(post_delete)
def bump_content_version(sender, instance, raw=False, **kwargs):
    if raw or sender not in SHOW_OF:
        return
    show_id = SHOW_OF[sender](instance)
    if show_id is not None:
        Show(pk=show_id).content_changed()
