"""Search indexes: pg_trgm and GIN trigram indexes for people (username, display name) and
hashtags (name). They serve prefix (LIKE 'q%' / ILIKE) and similarity (%>, word
similarity) lookups. PostgreSQL only: on SQLite the search falls back to plain
startswith/icontains and these operations do nothing.

The indexes on accounts_user are created here, with the search that needs them, as plain
SQL (not in the User model's state), so the accounts app's migrations are not touched.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("accounts_user_username_trgm", "accounts_user", "username"),
    ("accounts_user_display_name_trgm", "accounts_user", "display_name"),
    ("posts_hashtag_name_trgm", "posts_hashtag", "name"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0001_initial"),
        ("accounts", "0002_graph_circles_session_epoch"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
