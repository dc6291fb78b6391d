from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac


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
    # What others see beside the viewer's posts: never the username's email or the email itself.
    display_name = models.CharField(
        max_length=50,
        blank=True,
        help_text="Shown beside your posts and replies. Leave blank to use your username.",
    )
    # Moved on by database triggers (pagecache/triggers.py) whenever a row of the viewer's own
    # changes: a watch, a follow, a watch party they are in. The user row is loaded on every
    # request anyway, so whatever is keyed on it (the page cache) sees every such change, by
    # whatever route it was made, without reading those rows.
    rows_version = models.BigIntegerField(default=0, editable=False)

    @property
    def shown_name(self) -> str:
        return self.display_name.strip() or self.username

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


# A person who lost their password needs one mail, maybe a second; more is someone else's doing.
RESET_MAILS_PER_ADDRESS = 3
# Enough for a household behind one address; not enough to mail a list of strangers.
RESET_MAILS_PER_CLIENT = 10
RESET_WINDOW = timedelta(hours=1)


def reset_digest(value: str) -> str:
    # Keyed with the secret key: the table holds neither an address nor a client in a form that
    # can be read back or guessed from a list of addresses.
    return salted_hmac("spoilerfree.password-reset", value, algorithm="sha256").hexdigest()


class PasswordResetRequestQuerySet(models.QuerySet["PasswordResetRequest"]):
    def admit(self, *, email: str, client: str | None) -> bool:
        """Whether a reset mail may go to this address for this client now; records it if so."""
        now = timezone.now()
        self.filter(requested_at__lt=now - RESET_WINDOW).delete()
        address, sender = reset_digest(email.strip().lower()), reset_digest(client or "")
        # Counted in the database, so every worker shares one count and a cache outage lifts no
        # limit. The row goes in (and commits) before the count: of requests at once, each one
        # sees every row put in before it counts, so no more than the limit ever get through.
        mine = self.create(address=address, client=sender, requested_at=now)
        counts = self.filter(requested_at__gte=now - RESET_WINDOW).aggregate(
            address=Count("pk", filter=Q(address=address)),
            client=Count("pk", filter=Q(client=sender)),
        )
        if counts["address"] > RESET_MAILS_PER_ADDRESS or counts["client"] > RESET_MAILS_PER_CLIENT:
            mine.delete()
            return False
        return True


class PasswordResetRequest(models.Model):
    """A password-reset request let through, kept for an hour to limit the next ones."""

    address = models.CharField(max_length=64, db_index=True)
    client = models.CharField(max_length=64, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = PasswordResetRequestQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Password reset requested at {self.requested_at:%Y-%m-%d %H:%M}"
