import django.db.models.functions.text
from django.db import migrations, models

from core.trigram import trigram_indexes

# Substring search (icontains: UPPER(col) LIKE UPPER('%…%')) can only use a trigram index
# on the same expression. PostgreSQL only; built CONCURRENTLY so that a live table keeps
# taking writes (hence a non-atomic migration).
TRIGRAM_INDEXES = {
    "structure_company_name_trgm": "UPPER(company_name::text) gin_trgm_ops",
    "structure_identifier_trgm": "UPPER(identifier::text) gin_trgm_ops",
}


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
        trigram_indexes("structures_structure", TRIGRAM_INDEXES),
    ]
