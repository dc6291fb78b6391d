"""Migrations carry frozen copies of what they compute with, never live model code."""

import datetime as dt
import importlib
import random

from companion.models import Episode, story_order
from tests.helpers import REPO

rule_at_its_edges = importlib.import_module("companion.migrations.0005_rule_at_its_edges")


def test_the_frozen_story_order_puts_episodes_where_story_order_does_without_airs_after():
    rng = random.Random(25)
    for _ in range(200):
        episodes = []
        for pk in range(1, rng.randint(2, 14)):
            season = rng.choice([0, 1, 1, 2, 3])
            aired = rng.choice([None, dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 99))])
            episodes.append(
                Episode(pk=pk, season_number=season, number=pk, air_date=aired, airs_after_id=None)
            )
        frozen = rule_at_its_edges.story_order_then(episodes)
        assert [e.pk for e in frozen] == [e.pk for e in story_order(episodes)]


def test_no_migration_imports_live_model_code():

    for path in (REPO / "companion" / "migrations").glob("0*.py"):
        text = path.read_text()
        # A field's serialized default or validator is a reference, not code that migrate runs.
        calls = [line for line in text.splitlines() if "companion.models." in line]
        assert all("default=" in line or "validators=" in line for line in calls), (
            path.name,
            calls,
        )
