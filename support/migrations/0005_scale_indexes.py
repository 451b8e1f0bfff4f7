from django.db import migrations, models

# Agents search tickets by number or title (icontains): trigram indexes on the same
# expressions. PostgreSQL only, built CONCURRENTLY (non-atomic migration).
TRIGRAM_INDEXES = {
    "ticket_number_trgm": "UPPER(number::text) gin_trgm_ops",
    "ticket_title_trgm": "UPPER(title::text) gin_trgm_ops",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON support_ticket USING gin ({expression})"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("support", "0004_chat_ended_without_agent")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["status", "last_activity_at", "id"], name="ticket_status_activity"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
