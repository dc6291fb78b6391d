"""Trigram indexes so search (icontains) does not read every note on PostgreSQL.

Django's icontains is UPPER(column) LIKE UPPER('%term%'); a GIN trigram index on UPPER(column)
serves it. SQLite has no such index and does not need one at our sizes, so this does nothing there.
"""

from django.db import migrations

INDEXES = [
    ("companion_reviewernote", "text", "note_text_trgm"),
    ("companion_recap", "text", "recap_text_trgm"),
    ("companion_characterstate", "description", "state_description_trgm"),
    ("companion_character", "name", "character_name_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, _, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("companion", "0003_parties_and_spoiler_reports")]
    operations = [migrations.RunPython(create, drop)]
