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
    # Moved on by database triggers (companion/triggers.py) whenever a row of the viewer's own
    # changes: a watch, a follow, a watch party they are in. The user row is loaded on every
    # request anyway, so whatever is keyed on it (the page cache) sees every such change, by
    # whatever route it was made, without reading those rows.
    rows_version = models.BigIntegerField(default=0, editable=False)
