"""Recompute the audit trail's hash chain: proof that no record was edited, deleted,
inserted or reordered since it was written."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chorus import audit

REASONS = {
    "link": "son empreinte précédente ne correspond pas à l'enregistrement qui le précède "
    "(enregistrement supprimé, inséré ou déplacé avant lui)",
    "content": "son contenu ne correspond plus à son empreinte (enregistrement modifié)",
}


class Command(BaseCommand):
    help = "Vérifie le chaînage du journal d'audit et nomme le premier enregistrement rompu."

    def handle(self, *args, **options):
        check = audit.verify()
        if check.intact:
            self.stdout.write(
                self.style.SUCCESS(f"Journal d'audit intact : {check.count} enregistrement(s).")
            )
            return
        event = check.broken
        when = timezone.localtime(event.created_at).strftime("%d/%m/%Y %H:%M:%S")
        raise CommandError(
            f"Journal d'audit rompu à l'enregistrement {event.pk} du {when} "
            f"({event.action}, {event.object_repr}) : {REASONS[check.reason]}. "
            f"{check.count} enregistrement(s) vérifié(s) avant lui."
        )
