from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand

from companion.models import Episode, Watch

DEMO_FILE = settings.SITE_DIR / "fixtures" / "for-all-mankind.yaml"
DEMO_ACCOUNTS = {
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


class Command(BaseCommand):
    help = "Load For All Mankind and a demo viewer and editor (safe to run again)."

    def handle(self, *args, **options):
        call_command("import_show", str(DEMO_FILE), stdout=self.stdout)
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
        fifth = Episode.objects.get(show__slug="for-all-mankind", season_number=3, number=10)
        Watch.objects.mark_watched_up_to(user=viewer, episode=fifth)
        self.stdout.write("Demo accounts (username / password):")
        for username, spec in DEMO_ACCOUNTS.items():
            role = (
                "editor, can use /admin/" if spec["is_staff"] else "viewer, has watched up to 3x10"
            )
            self.stdout.write(f"  {username} / {spec['password']}  ({role})")
