from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from companion.content import ContentError, load_show
from companion.models import (
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    Season,
    Show,
    SpoilerReport,
    Watch,
)

DEMO_FILE = settings.SITE_DIR / "fixtures" / "for-all-mankind.yaml"
DEMO_SLUG = "for-all-mankind"
DEMO_ACCOUNTS: dict[str, dict[str, Any]] = {
    "viewer": {"password": "watching-at-3x10", "is_staff": False},
    "editor": {"password": "editing-the-show", "is_staff": True},
}


# What an editor works on: the content and the spoiler reports. Not accounts, watch histories or
# login records, which only a superuser may read.
EDITOR_MODELS = [
    "show",
    "season",
    "episode",
    "character",
    "characterstate",
    "recap",
    "reviewernote",
    "spoilerreport",
]


def editors_group() -> Group:
    group, _ = Group.objects.get_or_create(name="Editors")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="companion", content_type__model__in=EDITOR_MODELS
        )
    )
    return group


def demo_rows() -> dict[type[models.Model], dict[int, dict]]:
    """Every row of the demo show's content and reports, by model and primary key."""
    querysets: list[models.QuerySet] = [
        Show.objects.filter(slug=DEMO_SLUG),
        Season.objects.filter(show__slug=DEMO_SLUG),
        Episode.objects.filter(show__slug=DEMO_SLUG),
        Character.objects.filter(show__slug=DEMO_SLUG),
        CharacterState.objects.filter(character__show__slug=DEMO_SLUG),
        Recap.objects.filter(episode__show__slug=DEMO_SLUG),
        ReviewerNote.objects.filter(episode__show__slug=DEMO_SLUG),
        SpoilerReport.objects.filter(reporter_safe_point__show__slug=DEMO_SLUG),
    ]
    rows: dict[type[models.Model], dict[int, dict]] = {}
    for qs in querysets:
        rows[qs.model] = {}
        for row in qs.values():
            # The show's content_version moves with any edit, so it is no edit of its own.
            row.pop("content_version", None)
            rows[qs.model][row.pop("id")] = row
    return rows


class _DryRun(Exception):
    """Raised to roll back a trial import once its effect is counted."""


def count(n: int, model: type[models.Model]) -> str:
    meta = model._meta
    return f"{n} {meta.verbose_name if n == 1 else meta.verbose_name_plural}"


class Command(BaseCommand):
    help = (
        "Load For All Mankind and a demo viewer and editor into a database that has neither; "
        "--reset re-imports the show over an editor's changes, after saying what it removes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="re-import the demo show from its file, undoing editors' changes to it",
        )
        parser.add_argument(
            "--yes", action="store_true", help="with --reset, do not ask for confirmation"
        )

    def handle(self, *args, reset: bool, yes: bool, **options):
        found = self.existing()
        if found and not reset:
            # `make run` calls this on every start: starting the site must never undo an edit.
            self.stdout.write(
                f"The demo is already loaded ({', '.join(found)}); nothing changed. "
                "To re-import the show from its file, run `manage.py load_demo --reset` "
                "(or `make demo-reset`)."
            )
            self.list_accounts()
            return
        if reset and Show.objects.filter(slug=DEMO_SLUG).exists():
            self.confirm(yes)
        with transaction.atomic():
            show = self.load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {show.title}: {show.episodes.count()} episodes, "
                f"{show.characters.count()} characters."
            )
        )
        self.list_accounts()

    def existing(self) -> list[str]:
        found = []
        if Show.objects.filter(slug=DEMO_SLUG).exists():
            found.append("the show For All Mankind")
        accounts = get_user_model().objects.filter(username__in=DEMO_ACCOUNTS)
        found += [f"the account {name!r}" for name in accounts.values_list("username", flat=True)]
        return found

    def confirm(self, yes: bool) -> None:
        removed, changed = self.trial()
        if not removed and not changed:
            self.stdout.write(
                "The demo show already matches its file; re-importing it removes nothing."
            )
            return
        self.stdout.write(f"Re-importing the demo show from {DEMO_FILE.name} will")
        if removed:
            self.stdout.write("  remove " + ", ".join(count(n, m) for m, n in removed.items()))
        if changed:
            self.stdout.write(
                "  undo edits to " + ", ".join(count(n, m) for m, n in changed.items())
            )
        if yes:
            return
        try:
            answer = input("Type 'yes' to go on: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("Nothing changed. (Pass --yes to re-import without asking.)")

    def trial(self) -> tuple[dict, dict]:
        """What re-importing would remove and change, found by importing and rolling back."""
        before = demo_rows()
        try:
            with transaction.atomic():
                self.load()
                after = demo_rows()
                raise _DryRun
        except _DryRun:
            pass
        removed, changed = {}, {}
        for model, rows in before.items():
            gone = rows.keys() - after[model].keys()
            edited = [
                pk for pk in rows.keys() & after[model].keys() if rows[pk] != after[model][pk]
            ]
            if gone:
                removed[model] = len(gone)
            if edited:
                changed[model] = len(edited)
        return removed, changed

    def load(self) -> Show:
        try:
            show = load_show(DEMO_FILE.read_text(encoding="utf-8"))
        except ContentError as error:
            raise CommandError(
                "The demo show was not imported; nothing changed.\n" + "\n".join(error.problems)
            ) from None
        User = get_user_model()
        for username, spec in DEMO_ACCOUNTS.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "is_staff": spec["is_staff"]},
            )
            if created:
                user.set_password(spec["password"])
                user.save()
            if spec["is_staff"]:
                user.groups.add(editors_group())
        viewer = User.objects.get(username="viewer")
        tenth = Episode.objects.get(show__slug=DEMO_SLUG, season_number=3, number=10)
        Watch.objects.mark_watched_up_to(user=viewer, episode=tenth)
        return show

    def list_accounts(self) -> None:
        self.stdout.write("Demo accounts (username / password):")
        for username, spec in DEMO_ACCOUNTS.items():
            role = (
                "editor, can use /admin/" if spec["is_staff"] else "viewer, has watched up to 3x10"
            )
            self.stdout.write(f"  {username} / {spec['password']}  ({role})")
