from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chorus", "0008_audit_chain")]

    operations = [
        migrations.CreateModel(
            name="SecurityPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "two_factor_required",
                    models.BooleanField(
                        default=False,
                        help_text=(
                            "Chaque utilisateur sans double authentification devra l’activer à sa prochaine "
                            "connexion, et aucun ne pourra la désactiver."
                        ),
                        verbose_name="double authentification obligatoire pour tous",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="dernière modification")),
            ],
            options={
                "verbose_name": "politique de sécurité",
                "verbose_name_plural": "politique de sécurité",
            },
        ),
    ]
