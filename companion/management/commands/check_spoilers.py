"""`manage.py check_spoilers [SHOW]`: every gated text that names a character before they appear."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from companion.models import (
    CharacterState,
    GatedContent,
    Recap,
    ReviewerNote,
    Show,
    early_mentions,
)

CHECKED = (Recap, ReviewerNote, CharacterState)


def other_texts() -> list[type[GatedContent]]:
    """Gated texts of other apps (viewers' posts): every GatedContent with a `spoiler_text`."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, GatedContent)
        and model not in CHECKED
        and hasattr(model, "spoiler_text")
    ]


class Command(BaseCommand):
    help = (
        "List recaps, notes, states and posts that name a character before their first appearance."
    )

    def add_arguments(self, parser):
        parser.add_argument("show", nargs="?", help="a show's slug; all shows if left out")

    def handle(self, *args, show=None, **options):
        shows = Show.objects.filter(slug=show) if show else Show.objects.all()
        if show and not shows:
            raise CommandError(f"No show with the slug {show!r}.")
        found = 0
        for each in shows:
            items = [
                *Recap.objects.for_show(each).select_related("episode__show", "reveal_at"),
                *ReviewerNote.objects.for_show(each).select_related("episode__show", "reveal_at"),
                *CharacterState.objects.for_show(each).select_related(
                    "character__show", "reveal_at"
                ),
                *(
                    item
                    for model in other_texts()
                    for item in model.objects.for_show(each).select_related(
                        model.show_path, "reveal_at"
                    )
                ),
            ]
            for item in items:
                for message in early_mentions(item):
                    found += 1
                    self.stdout.write(
                        f"{each.slug}: {item} (revealed at {item.reveal_at.code}) {message}"
                    )
        if found:
            raise CommandError(
                f"{found} mention{'s' if found != 1 else ''} of characters before they appear."
            )
        self.stdout.write(
            f"No early mentions in {len(shows)} show{'s' if len(shows) != 1 else ''}."
        )
