import django.db.models.functions.text
from django.db import migrations, models

# Substring search (icontains: UPPER(col) LIKE UPPER('%…%')) can only use a trigram index
# on the same expression. PostgreSQL only; built CONCURRENTLY so that a live table keeps
# taking writes (hence a non-atomic migration).
TRIGRAM_INDEXES = {
    "structure_company_name_trgm": "UPPER(company_name::text) gin_trgm_ops",
    "structure_identifier_trgm": "UPPER(identifier::text) gin_trgm_ops",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON structures_structure USING gin ({expression})"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("structures", "0005_two_factor_requirement")]

    operations = [
        migrations.AddIndex(
            model_name="structure",
            index=models.Index(
                django.db.models.functions.text.Upper("identifier"), name="structure_identifier_upper"
            ),
        ),
        migrations.AddIndex(
            model_name="structure",
            index=models.Index(fields=["company_name", "identifier"], name="structure_default_order"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
