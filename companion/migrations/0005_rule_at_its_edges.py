"""Specials in their aired place, public ids, an order the database enforces, gated season periods.

Episodes get a stored season number and a `sequence` that is their place in story order
(1, 2, 3...) instead of season * 1000 + number, which put every special before 1x01. Existing
specials have no `airs_after`, so they move to where their air date puts them, or to the end of
the show: later than before, never earlier.
"""

import datetime
import secrets

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import companion.models


def new_public_id():
    return secrets.token_urlsafe(12)


def story_order_then(episodes):
    """Story order as it was when this migration was written, frozen here so that changing the
    live `story_order` can never change what a fresh migrate computes. No special had an
    `airs_after` yet: each sits where its air date puts it, or at the end."""
    regular = sorted(
        (e for e in episodes if not e.is_special), key=lambda e: (e.season_number, e.number)
    )
    specials = sorted(
        (e for e in episodes if e.is_special),
        key=lambda e: (e.air_date is None, e.air_date or datetime.date.min, e.number),
    )
    after = {}
    for special in specials:
        if special.air_date is not None:
            later = next(
                (i for i, e in enumerate(regular) if e.air_date and e.air_date > special.air_date),
                len(regular),
            )
            place = later - 1
        else:
            place = len(regular) - 1
        after.setdefault(place, []).append(special)
    ordered = list(after.get(-1, []))
    for i, episode in enumerate(regular):
        ordered.append(episode)
        ordered.extend(after.get(i, []))
    return ordered


def fill(apps, schema_editor):
    Episode = apps.get_model("companion", "Episode")
    Show = apps.get_model("companion", "Show")
    for name in ("Character", "CharacterState", "Recap", "ReviewerNote"):
        model = apps.get_model("companion", name)
        rows = list(model.objects.only("pk"))
        for row in rows:
            row.public_id = new_public_id()
        model.objects.bulk_update(rows, ["public_id"], batch_size=1000)
    for show in Show.objects.all():
        episodes = list(Episode.objects.filter(show=show).select_related("season"))
        for episode in episodes:
            episode.season_number = episode.season.number
            episode.is_special = episode.season_number == 0
            episode.airs_after_id = None
        for place, episode in enumerate(story_order_then(episodes), 1):
            episode.sequence = place
        Episode.objects.bulk_update(episodes, ["season_number", "sequence"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("companion", "0004_postgres_trigram_search")]

    operations = [
        *[
            migrations.AddField(
                model_name=model,
                name=name,
                field=models.CharField(blank=True, max_length=20, verbose_name=label),
            )
            for model in ("show", "episode")
            for name, label in (
                ("tvdb_id", "TVDB id"),
                ("tmdb_id", "TMDB id"),
                ("imdb_id", "IMDb id"),
            )
        ],
        migrations.AddField(
            model_name="show",
            name="trakt_id",
            field=models.CharField(blank=True, max_length=20, verbose_name="Trakt id"),
        ),
        migrations.AddField(
            model_name="episode",
            name="season_number",
            field=models.PositiveSmallIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="episode",
            name="airs_after",
            field=models.ForeignKey(
                blank=True,
                help_text="Specials only: the regular episode it airs after. Without it, a special sits where its air date puts it, or at the end of the show.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="companion.episode",
            ),
        ),
        migrations.AddField(
            model_name="season",
            name="period_revealed_at",
            field=models.ForeignKey(
                blank=True,
                help_text="When the period is safe to show. Defaults to the season's first episode; set it later (or earlier, such as the previous finale) if the period is itself a reveal.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="companion.episode",
            ),
        ),
        migrations.AddField(
            model_name="character",
            name="aliases",
            field=models.CharField(
                blank=True,
                help_text="Other names the text may use, separated by commas (for example: Dani). The spoiler check looks for these as well as the full name.",
                max_length=300,
            ),
        ),
        migrations.AddField(
            model_name="character",
            name="first_appearance_exact",
            field=models.BooleanField(
                default=True,
                help_text="Untick when the sources only show the character was there by this episode.",
                verbose_name="first appearance is known",
            ),
        ),
        *[
            migrations.AddField(
                model_name=model,
                name="public_id",
                field=models.CharField(editable=False, max_length=22, null=True),
            )
            for model in ("character", "characterstate", "recap", "reviewernote")
        ],
        migrations.RunPython(fill, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=model,
                name="public_id",
                field=models.CharField(
                    default=companion.models.new_public_id,
                    editable=False,
                    max_length=22,
                    unique=True,
                ),
            )
            for model in ("character", "characterstate", "recap", "reviewernote")
        ],
        migrations.AlterField(
            model_name="episode",
            name="season_number",
            field=models.PositiveSmallIntegerField(editable=False),
        ),
        migrations.AlterField(
            model_name="episode",
            name="number",
            field=models.PositiveSmallIntegerField(
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(999),
                ]
            ),
        ),
        migrations.AlterField(
            model_name="season",
            name="number",
            field=models.PositiveSmallIntegerField(
                help_text="0 holds specials, which never block progress.",
                validators=[django.core.validators.MaxValueValidator(999)],
            ),
        ),
        migrations.AlterField(
            model_name="episode",
            name="sequence",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.RemoveConstraint(model_name="episode", name="episode_number_from_one"),
        # The unique place below is indexed, so the old (show, sequence) index is redundant.
        migrations.RemoveIndex(model_name="episode", name="episode_show_sequence"),
        migrations.AddConstraint(
            model_name="episode",
            constraint=models.UniqueConstraint(
                fields=("show", "sequence"), name="one_episode_per_place"
            ),
        ),
        migrations.AddConstraint(
            model_name="episode",
            constraint=models.CheckConstraint(
                condition=models.Q(("number__gte", 1), ("number__lte", 999)),
                name="episode_number_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="season",
            constraint=models.CheckConstraint(
                condition=models.Q(("number__lte", 999)), name="season_number_bounded"
            ),
        ),
    ]
