from datetime import timedelta
from typing import ClassVar

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser, UserManager
from django.core import signing
from django.db import connection, models, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

# A confirmation link works for three days, and only while the account still has that address.
EMAIL_CONFIRMATION_SALT = "spoilerfree.email-confirmation"
EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)


class UserQuerySet(models.QuerySet["User"]):
    def with_confirmed_email(self):
        """Viewers whose address is the one they confirmed: the only ones mail is sent to."""
        return self.exclude(email="").filter(email=F("confirmed_email"))

    def confirming(self, token: str) -> "User | None":
        """The viewer a confirmation link was made for, while it is fresh and their address the same."""
        try:
            data = signing.loads(
                token, salt=EMAIL_CONFIRMATION_SALT, max_age=EMAIL_CONFIRMATION_MAX_AGE
            )
        except signing.BadSignature:
            return None
        return (
            self.exclude(email="")
            .filter(username=data.get("name"), email=data.get("email"))
            .first()
        )


class ViewerManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    # Migrations keep Django's own manager (0001): they must not import this module.
    use_in_migrations = False


class User(AbstractUser):
    """A viewer (or, with is_staff, an editor) and their spoiler preferences."""

    email = models.EmailField("email address", blank=True)
    # The address the viewer proved they read, by a link mailed to it. The address counts as
    # confirmed only while it is still this one, so a change by any route (the account page, the
    # admin, the shell) unconfirms it without anyone having to remember to.
    confirmed_email = models.EmailField(blank=True, editable=False)
    email_when_episode_airs = models.BooleanField(
        "Email me when an episode of a show I follow airs",
        default=False,
        help_text="Only to a confirmed address. Titles and synopses follow your preferences above.",
    )
    email_weekly_digest = models.BooleanField(
        "Email me a weekly digest of my shows",
        default=False,
        help_text="What aired, what is waiting for you and what is coming, once a week.",
    )
    hide_unwatched_titles = models.BooleanField(
        "Hide titles of unwatched episodes",
        default=False,
        help_text="Some titles give away what happens.",
    )
    # The calendar, the feed and the mails are read outside the show (a lock screen, an inbox
    # list), so there a title not yet aired waits to be asked for, whatever the site shows.
    show_upcoming_titles = models.BooleanField(
        "Show titles of episodes not yet aired in the calendar, the feed and email",
        default=False,
        help_text="Otherwise they read “For All Mankind · S5E3”. Hiding titles above hides "
        "them here too.",
    )
    hide_unwatched_synopses = models.BooleanField(
        "Hide synopses of unwatched episodes",
        default=True,
        help_text="Teasers can hint at what is coming.",
    )
    # A still of an episode past the viewer's point is never shown whatever this says; this also
    # takes away the blurred stand-in shown in its place.
    hide_unwatched_images = models.BooleanField(
        "Hide images of unwatched episodes",
        default=False,
        help_text="Stills appear only for episodes you have watched; this also leaves out the "
        "blurred picture shown in their place.",
    )
    # What others see beside the viewer's posts: never the username's email or the email itself.
    display_name = models.CharField(
        max_length=50,
        blank=True,
        help_text="Shown beside your posts and replies. Leave blank to use your username.",
    )

    objects: ClassVar[ViewerManager] = ViewerManager()

    @property
    def shown_name(self) -> str:
        return self.display_name.strip() or self.username

    @property
    def email_confirmed(self) -> bool:
        return bool(self.email) and self.email == self.confirmed_email

    def change_email(self, address: str) -> None:
        """Set a new address; it must be confirmed afresh, even one confirmed before."""
        if address != self.email:
            self.email = address
            self.confirmed_email = ""
            self.save(update_fields=["email", "confirmed_email"])

    def email_confirmation_token(self) -> str:
        return signing.dumps(
            # The username, not the creation-ordered id, which would tell how many came before.
            {"name": self.get_username(), "email": self.email},
            salt=EMAIL_CONFIRMATION_SALT,
            compress=True,
        )

    def confirm_email(self) -> None:
        self.confirmed_email = self.email
        self.save(update_fields=["confirmed_email"])

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
# The PostgreSQL advisory lock that lets one reset request at a time count and record itself.
RESET_LOCK = 0x5EF_2E5E7


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
        # limit; one request at a time, so requests at once can neither all pass nor all fail.
        # SQLite's transactions already take the write lock at BEGIN (IMMEDIATE, settings);
        # PostgreSQL's would each count before the others commit, so they wait for a lock of
        # their own. A reset is rare: one lock for every address costs nothing noticeable.
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RESET_LOCK])
            counts = self.filter(requested_at__gte=now - RESET_WINDOW).aggregate(
                address=Count("pk", filter=Q(address=address)),
                client=Count("pk", filter=Q(client=sender)),
            )
            if (
                counts["address"] >= RESET_MAILS_PER_ADDRESS
                or counts["client"] >= RESET_MAILS_PER_CLIENT
            ):
                return False
            self.create(address=address, client=sender, requested_at=now)
        return True


class PasswordResetRequest(models.Model):
    """A password-reset request let through, kept for an hour to limit the next ones."""

    address = models.CharField(max_length=64, db_index=True)
    client = models.CharField(max_length=64, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = PasswordResetRequestQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Password reset requested at {self.requested_at:%Y-%m-%d %H:%M}"
