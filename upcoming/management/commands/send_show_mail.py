from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from upcoming.tasks import send_aired_mails, send_weekly_digests

TASKS = {"aired": send_aired_mails, "digest": send_weekly_digests}


class Command(BaseCommand):
    help = (
        "Queue the mail about followed shows: `aired` (daily) for episodes aired since the last "
        "run, `digest` (weekly) for the weekly digest."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(TASKS))
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="The day to write as (YYYY-MM-DD); today in UTC if left out.",
        )

    def handle(self, *args, kind: str, today: date | None, **options):
        day = today or timezone.now().date()
        result = TASKS[kind].enqueue(day.isoformat())
        self.stdout.write(f"{kind} mail for {day} queued ({result.status}).")
