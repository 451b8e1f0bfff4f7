from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="approvalrequest",
            index=models.Index(
                condition=models.Q(status="EN_ATTENTE"),
                fields=["structure", "created_at"],
                name="approval_pending_inbox",
            ),
        ),
    ]
