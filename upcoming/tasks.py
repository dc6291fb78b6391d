"""Scheduled mail about followed shows, queued by `manage.py send_show_mail` from cron.

Dates travel as ISO strings: a task's arguments are stored as JSON in production.
"""

from __future__ import annotations

from datetime import date

from django_tasks import task

from . import mail


@task()
def send_aired_mails(today: str) -> int:
    """Mail subscribers the episodes of their shows that aired since the last run."""
    return mail.send_aired_mails(date.fromisoformat(today))


@task()
def send_weekly_digests(today: str) -> int:
    """Mail subscribers their weekly digest, once a week each."""
    return mail.send_weekly_digests(date.fromisoformat(today))
