from django.db import migrations, models

from core.trigram import trigram_indexes

# Agents search tickets by number or title (icontains): trigram indexes on the same
# expressions. PostgreSQL only, built CONCURRENTLY (non-atomic migration).
TRIGRAM_INDEXES = {
    "ticket_number_trgm": "UPPER(number::text) gin_trgm_ops",
    "ticket_title_trgm": "UPPER(title::text) gin_trgm_ops",
}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("support", "0004_chat_ended_without_agent")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["status", "last_activity_at", "id"], name="ticket_status_activity"),
        ),
        trigram_indexes("support_ticket", TRIGRAM_INDEXES),
    ]
