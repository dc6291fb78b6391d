"""A viewer's rows_version moves on with every change to their own rows, by any route, and never back.

The page cache keys pages on the user row, so a change these triggers missed would serve a page
made before it: after an unmark, content the viewer is no longer safe for.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from companion.models import Follow, Party, Watch
from tests.factories import episode, make_user, watch_by_sql

User = get_user_model()


def version(user) -> int:
    return User.objects.values_list("rows_version", flat=True).get(pk=user.pk)


def mark(alice, show):
    Watch.objects.mark_watched(user=alice, episode=episode(show, "1x04"))


def bulk_insert(alice, show):
    Watch.objects.bulk_create([Watch(user=alice, episode=episode(show, "2x01"))])


def raw_insert(alice, show):
    watch_by_sql(alice, show, "2x02")


def unmark(alice, show):
    Watch.objects.unmark(user=alice, episode=episode(show, "1x03"))


def delete_all(alice, show):
    Watch.objects.filter(user=alice).delete()


def move_a_watch_in_place(alice, show):
    # What the admin's change form for a watch does: same row, another episode.
    Watch.objects.filter(user=alice, episode=episode(show, "1x03")).update(
        episode=episode(show, "2x05")
    )


def follow(alice, show):
    Follow.objects.unfollow(user=alice, show=show)
    before = version(alice)
    Follow.objects.follow(user=alice, shows=[show])
    assert version(alice) > before


def unfollow(alice, show):
    Follow.objects.follow(user=alice, shows=[show])
    before = version(alice)
    Follow.objects.unfollow(user=alice, show=show)
    assert version(alice) > before


def join_party(alice, show):
    Party.objects.create(show=show, name="Crew", created_by=alice).members.add(alice)


ROUTES = [
    mark,
    bulk_insert,
    raw_insert,
    unmark,
    delete_all,
    move_a_watch_in_place,
    follow,
    unfollow,
    join_party,
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.__name__)
def test_every_route_that_changes_a_viewers_rows_moves_their_version_on(alice, show, route):
    before = version(alice)
    route(alice, show)
    assert version(alice) > before


def test_a_party_renamed_or_left_moves_on_each_members_version(alice, bob, show):
    party = Party.objects.create(show=show, name="Crew", created_by=alice)
    party.members.add(alice, bob)
    carol = make_user("carol")
    before = {user.pk: version(user) for user in (alice, bob, carol)}
    party.name = "Renamed crew"
    party.save()
    assert version(alice) > before[alice.pk] and version(bob) > before[bob.pk]
    assert version(carol) == before[carol.pk]
    before_leaving = version(bob)
    party.members.remove(bob)
    assert version(bob) > before_leaving


def test_another_viewers_change_leaves_a_version_alone(alice, bob, show):
    before = version(alice)
    Watch.objects.unmark(user=bob, episode=episode(show, "1x01"))
    assert version(alice) == before


def test_a_user_saved_from_a_stale_copy_never_takes_the_version_back(alice, show):
    stale = User.objects.get(pk=alice.pk)
    mark(alice, show)
    moved = version(alice)
    stale.first_name = "Alice"
    stale.save()
    assert version(alice) == moved
    assert User.objects.get(pk=alice.pk).first_name == "Alice"


def test_a_viewer_with_rows_can_still_be_deleted(alice, show):
    Party.objects.create(show=show, name="Crew", created_by=alice).members.add(alice)
    pk = alice.pk
    alice.delete()
    assert not User.objects.filter(pk=pk).exists()
    assert not Watch.objects.filter(user_id=pk).exists()


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall() if "rows_version" in name}


def test_migrate_puts_back_triggers_a_table_rebuild_dropped(alice, show):
    # SQLite alters a table by rebuilding it, which drops its triggers; migrate reinstalls them.
    installed = trigger_names()
    assert len(installed) == 11
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TRIGGER {Watch._meta.db_table}_insert_moves_rows_version"
            + (f" ON {Watch._meta.db_table}" if connection.vendor == "postgresql" else "")
        )
    before = version(alice)
    mark(alice, show)
    assert version(alice) == before
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert trigger_names() == installed
    Watch.objects.mark_watched(user=alice, episode=episode(show, "1x05"))
    assert version(alice) > before
