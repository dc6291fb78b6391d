from django.core.management.base import BaseCommand, CommandError

from companion.content import dump_yaml
from companion.models import Show


class Command(BaseCommand):
    help = "Print a show's content in the import format (YAML)."

    def add_arguments(self, parser):
        parser.add_argument("show", help="the show's slug")

    def handle(self, *args, show: str, **options):
        try:
            found = Show.objects.get(slug=show)
        except Show.DoesNotExist:
            raise CommandError(f"No show with the slug {show!r}.") from None
        self.stdout.write(dump_yaml(found), ending="")
