"""Trigram indexes for substring search (icontains: UPPER(col) LIKE UPPER('%…%')), which
only a trigram index on the same expression can serve. PostgreSQL only: on SQLite the
operation does nothing. Built CONCURRENTLY so that a live table keeps taking writes,
which needs a non-atomic migration."""

from django.db import migrations


def trigram_indexes(table: str, indexes: dict[str, str]) -> migrations.RunPython:
    """A migration operation creating {index name: "UPPER(column::text) gin_trgm_ops"}."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in indexes.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin ({expression})"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
