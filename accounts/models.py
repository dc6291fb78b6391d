from django.contrib.auth.models import AbstractUser
from django.db import models


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
