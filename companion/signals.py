"""Any edit to a show's content invalidates the fragments cached for it."""

from django.db.models.signals import post_delete, post_save

from .models import Character, CharacterState, Episode, Recap, ReviewerNote, Season, Show


def bump_content_version(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # After a cascade the parent may be gone; its own post_delete has bumped the version then.
    try:
        show_id = instance.show_id if hasattr(instance, "show_id") else instance.owning_show_id()
    except (Episode.DoesNotExist, Character.DoesNotExist):
        return
    if show_id is not None:
        Show(pk=show_id).content_changed()


# Connected per model, so saving anything else (sessions, login records) costs nothing here.
for model in (Season, Episode, Character, CharacterState, Recap, ReviewerNote):
    post_save.connect(bump_content_version, sender=model, dispatch_uid=f"bump-{model.__name__}")
    post_delete.connect(bump_content_version, sender=model, dispatch_uid=f"unbump-{model.__name__}")
