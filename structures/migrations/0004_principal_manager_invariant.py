from django.db import migrations, models


def give_every_active_structure_a_principal_manager(apps, schema_editor):
    """Rows written before the check: an active structure without a principal manager
    gets the first user attached to it (invariant first-attached-becomes-principal-manager,
    docs/architecture.md); with nobody attached, it waits in "activation en cours" for
    its first user, as new empty structures now do."""
    Structure = apps.get_model("structures", "Structure")
    Membership = apps.get_model("users", "Membership")
    for structure in Structure.objects.filter(status="ACTIVE", principal_manager__isnull=True):
        first = (
            Membership.objects.filter(
                structure=structure, service__isnull=True, status="VALIDEE", user__is_active=True
            )
            .order_by("created_at", "pk")
            .first()
        )
        if first is not None:
            structure.principal_manager_id = first.user_id
        else:
            structure.status = "EN_COURS_ACTIVATION"
        structure.save(update_fields=["principal_manager", "status"])
    if schema_editor.connection.vendor == "postgresql":
        # The foreign key checks are deferred: run them now, or PostgreSQL refuses to
        # alter a table with pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0003_bank_accounts_attachments"),
        ("users", "0002_invitation"),
    ]

    operations = [
        migrations.RunPython(give_every_active_structure_a_principal_manager, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="structure",
            constraint=models.CheckConstraint(
                condition=~models.Q(status="ACTIVE") | models.Q(principal_manager__isnull=False),
                name="structure_active_has_principal_manager",
                violation_error_message="Une structure active a toujours un gestionnaire principal.",
            ),
        ),
    ]
