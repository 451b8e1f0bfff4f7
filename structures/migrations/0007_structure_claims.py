import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import structures.storage


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0006_scale_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StructureClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("explanation", models.TextField(max_length=5000, verbose_name="explication")),
                (
                    "proof",
                    models.FileField(
                        blank=True,
                        max_length=255,
                        upload_to=structures.storage.claim_proof_path,
                        verbose_name="justificatif",
                    ),
                ),
                (
                    "proof_name",
                    models.CharField(blank=True, max_length=50, verbose_name="nom du justificatif"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("EN_ATTENTE", "En attente"),
                            ("ACCEPTEE", "Acceptée"),
                            ("REJETEE", "Rejetée"),
                        ],
                        default="EN_ATTENTE",
                        max_length=12,
                        verbose_name="statut",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="déposée le")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="décidée le")),
                ("decision_comment", models.TextField(blank=True, verbose_name="commentaire de la décision")),
                (
                    "claimant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="structure_claims",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="demandeur",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="décidée par",
                    ),
                ),
                (
                    "manager_at_decision",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="gestionnaire principal lors de la décision",
                    ),
                ),
                (
                    "structure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="claims",
                        to="structures.structure",
                        verbose_name="structure",
                    ),
                ),
            ],
            options={
                "verbose_name": "revendication de structure",
                "verbose_name_plural": "revendications de structures",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "EN_ATTENTE")),
                        fields=("structure", "claimant"),
                        name="structure_claim_one_pending_per_claimant",
                        violation_error_message="Vous avez déjà revendiqué cette structure : la demande est en cours d’examen.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("decided_at__isnull", True),
                                ("decided_by__isnull", True),
                                ("status", "EN_ATTENTE"),
                            ),
                            models.Q(
                                ("status__in", ["ACCEPTEE", "REJETEE"]),
                                ("decided_at__isnull", False),
                                ("decided_by__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="structure_claim_decision_dated",
                    ),
                ],
            },
        ),
    ]
