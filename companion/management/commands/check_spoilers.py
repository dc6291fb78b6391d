"""`manage.py check_spoilers [SHOW]`: every gated text that names a character before they appear."""

from django.core.management.base import BaseCommand, CommandError

from companion.models import CharacterState, Recap, ReviewerNote, Show, early_mentions


class Command(BaseCommand):
    help = "List recaps, notes and states that name a character before their first appearance."

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
