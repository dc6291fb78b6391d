"""The whole-page cache is gone, and with it the column it keyed on and the triggers that moved it.

The triggers were installed after every migrate (not by a migration), so their names are written
out here as they were: a trigger left behind would write a column that no longer exists.
"""

from django.db import migrations

OWN_TABLES = ("companion_watch", "companion_follow", "companion_party_members")
TRIGGERS = [
    (f"{table}_{event}_moves_rows_version", table)
    for table in OWN_TABLES
    for event in ("insert", "delete", "update")
] + [
    ("companion_party_update_moves_rows_version", "companion_party"),
    ("accounts_user_rows_version_never_goes_back", "accounts_user"),
]
FUNCTIONS = (
    "spoilerfree_own_rows_changed",
    "spoilerfree_party_changed",
    "spoilerfree_keep_rows_version",
)


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for name, table in TRIGGERS:
            if connection.vendor == "postgresql":
                if table in tables:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if connection.vendor == "postgresql":
            for function in FUNCTIONS:
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_email_help"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="user", name="rows_version"),
    ]
