"""Email each approver one digest of the new requests waiting for them."""

from django.core.management.base import BaseCommand

from approvals.services import digest_send


class Command(BaseCommand):
    help = (
        "Envoie à chaque approbateur (gestionnaire principal ou administrateur délégué) un seul "
        "courriel récapitulant les nouvelles demandes d’approbation de ses structures. À planifier "
        "toutes les heures (par exemple cron : « 0 * * * * python manage.py approvals_digest »), ce que "
        "fait Celery beat quand REDIS_URL est défini (tâche approvals.tasks.approvals_digest) : "
        "un approbateur reçoit ainsi au plus un courriel par heure. Sans effet de bord si on le "
        "relance : une demande déjà signalée (notified_at) ne l’est plus. Les demandes d’une structure "
        "sans approbateur actif attendent la nomination d’un gestionnaire principal (admin, filtre "
        "« Structures sans approbateur actif »)."
    )

    def handle(self, *args, **options):
        emails, requests = digest_send()
        self.stdout.write(f"{emails} courriel(s) envoyé(s), {requests} demande(s) signalée(s).")
