from django.core.management.base import BaseCommand

from catalogue.tasks import refresh_all_shows


class Command(BaseCommand):
    help = "Queue a refresh of every show imported from TVmaze (run it daily, from cron)."

    def handle(self, *args, **options):
        result = refresh_all_shows.enqueue()
        self.stdout.write(f"Refresh queued ({result.status}).")
