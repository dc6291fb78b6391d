"""Database triggers that move a viewer's `rows_version` on whenever a row of their own changes.

The page cache keys a viewer's pages on their user row (see `pages`), so every route that
changes what those pages are made from must change that row too: the site's forms, the API, an
import's bulk insert, a media server's webhook, the admin, a cascade, raw SQL. Triggers are the
one place no route can go around. They count changes to the viewer's watches, follows and watch
party memberships, and to any party they are in (its name shows on their pages); a user row saved
from a stale copy never takes the version back.

They are (re)installed after every `migrate`, not by a migration of their own: SQLite rebuilds a
table to alter it, and that drops the table's triggers with it.
"""

from __future__ import annotations

from typing import NamedTuple

from django.apps import apps
from django.db import connections, transaction


class Tables(NamedTuple):
    user: str
    own: list[str]  # the tables whose rows carry a user_id: watches, follows, party members
    party: str
    members: str


def table_names() -> Tables:
    party = apps.get_model("companion", "Party")
    members = party.members.through._meta.db_table
    own = [
        apps.get_model("companion", "Watch")._meta.db_table,
        apps.get_model("companion", "Follow")._meta.db_table,
        members,
    ]
    return Tables(
        apps.get_model("accounts", "User")._meta.db_table, own, party._meta.db_table, members
    )


def postgresql_statements(user: str, own: list[str], party: str, members: str) -> list[str]:
    bump = f"UPDATE {user} SET rows_version = rows_version + 1 WHERE id IN"
    statements = [
        # Statement-level, on the changed rows as a whole: a bulk insert of a whole history moves
        # each viewer's version once, not once per row.
        f"""CREATE OR REPLACE FUNCTION spoilerfree_own_rows_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'DELETE' THEN {bump} (SELECT user_id FROM new_rows); END IF;
            IF TG_OP <> 'INSERT' THEN {bump} (SELECT user_id FROM old_rows); END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION spoilerfree_party_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {bump} (SELECT m.user_id FROM {members} m JOIN new_rows p ON p.id = m.party_id);
            RETURN NULL;
        END $$""",
        """CREATE OR REPLACE FUNCTION spoilerfree_keep_rows_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.rows_version := OLD.rows_version;
            RETURN NEW;
        END $$""",
    ]
    for table in own:
        for event, transition in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            statements.append(
                f"CREATE OR REPLACE TRIGGER {table}_{event.lower()}_moves_rows_version "
                f"AFTER {event} ON {table} REFERENCING {transition} "
                "FOR EACH STATEMENT EXECUTE FUNCTION spoilerfree_own_rows_changed()"
            )
    statements += [
        f"CREATE OR REPLACE TRIGGER {party}_update_moves_rows_version AFTER UPDATE ON {party} "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION spoilerfree_party_changed()",
        f"CREATE OR REPLACE TRIGGER {user}_rows_version_never_goes_back "
        f"BEFORE UPDATE ON {user} FOR EACH ROW "
        "WHEN (NEW.rows_version < OLD.rows_version) "
        "EXECUTE FUNCTION spoilerfree_keep_rows_version()",
    ]
    return statements


def sqlite_statements(user: str, own: list[str], party: str, members: str) -> list[str]:
    bump = f"UPDATE {user} SET rows_version = rows_version + 1 WHERE id"
    triggers = []
    for table in own:
        for event, ids in (
            ("INSERT", "= NEW.user_id"),
            ("DELETE", "= OLD.user_id"),
            ("UPDATE", "IN (OLD.user_id, NEW.user_id)"),
        ):
            triggers.append(
                (
                    f"{table}_{event.lower()}_moves_rows_version",
                    f"AFTER {event} ON {table} BEGIN {bump} {ids}; END",
                )
            )
    triggers += [
        (
            f"{party}_update_moves_rows_version",
            f"AFTER UPDATE ON {party} BEGIN "
            f"{bump} IN (SELECT user_id FROM {members} WHERE party_id IN (OLD.id, NEW.id)); END",
        ),
        # SQLite cannot change NEW in a trigger, so the stale value is put back right after; its
        # own update does not fire this trigger again (recursive triggers are off).
        (
            f"{user}_rows_version_never_goes_back",
            f"AFTER UPDATE OF rows_version ON {user} WHEN NEW.rows_version < OLD.rows_version "
            f"BEGIN UPDATE {user} SET rows_version = OLD.rows_version WHERE id = NEW.id; END",
        ),
    ]
    return [
        statement
        for name, body in triggers
        for statement in (f"DROP TRIGGER IF EXISTS {name}", f"CREATE TRIGGER {name} {body}")
    ]


def migrated(connection, tables: Tables) -> bool:
    if not {tables.user, *tables.own, tables.party} <= set(connection.introspection.table_names()):
        return False
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, tables.user)
    return "rows_version" in {column.name for column in columns}


def install(using: str = "default") -> None:
    connection = connections[using]
    names = table_names()
    if not migrated(connection, names):
        return  # migrated only part of the way: the next full migrate installs them
    if connection.vendor == "postgresql":
        statements = postgresql_statements(*names)
    elif connection.vendor == "sqlite":
        statements = sqlite_statements(*names)
    else:
        raise NotImplementedError(
            f"The page cache needs the rows_version triggers, written for PostgreSQL and SQLite, "
            f"not {connection.vendor}."
        )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    install(using)
