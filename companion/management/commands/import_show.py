from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from companion.content import ContentError, load_show


class Command(BaseCommand):
    help = "Import (or update) a show from a YAML or JSON content file, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        try:
            show = load_show(text)
        except ContentError as error:
            raise CommandError(
                f"{file} was not imported; nothing changed.\n" + "\n".join(error.problems)
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {show.title}: {show.episodes.count()} episodes, {show.characters.count()} characters."
            )
        )
