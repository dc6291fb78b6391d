from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction


class User(AbstractUser):
    """A viewer (or, with is_staff, an editor) and their spoiler preferences."""

    email = models.EmailField("email address", blank=True)
    hide_unwatched_titles = models.BooleanField(
        "Hide titles of unwatched episodes",
        default=False,
        help_text="Some titles give away what happens.",
    )
    hide_unwatched_synopses = models.BooleanField(
        "Hide synopses of unwatched episodes",
        default=True,
        help_text="Teasers can hint at what is coming.",
    )
    # Moved on by database triggers (companion/triggers.py) whenever a row of the viewer's own
    # changes: a watch, a follow, a watch party they are in. The user row is loaded on every
    # request anyway, so whatever is keyed on it (the page cache) sees every such change, by
    # whatever route it was made, without reading those rows.
    rows_version = models.BigIntegerField(default=0, editable=False)

    def login_records(self) -> dict[str, models.QuerySet]:
        """django-axes' records under this username: successful logins, failed ones, lockouts."""
        # Axes keys its records on the username typed, not on the account. Sign-up refuses a
        # username that differs from another only in case, so "Alice" typed names alice's account.
        # Records with no username (by address only) name nobody, and stay for the lockouts.
        named = {"username__iexact": self.username}
        return {
            "logins": AccessLog.objects.filter(**named).order_by("attempt_time"),
            "failed_logins": AccessAttempt.objects.filter(**named).order_by("attempt_time"),
            "failed_login_log": AccessFailureLog.objects.filter(**named).order_by("attempt_time"),
        }

    def delete_account(self) -> None:
        """Delete the viewer and every record that names them; their watch parties go on."""
        from companion.models import Party

        with transaction.atomic():
            for party in Party.objects.filter(
                models.Q(members=self) | models.Q(created_by=self)
            ).distinct():
                party.remove_member(self)
            for records in self.login_records().values():
                records.delete()
            self.delete()
