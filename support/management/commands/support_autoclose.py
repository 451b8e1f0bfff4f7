"""Close the resolved tickets whose requester did not answer the proposed solution."""

from django.core.management.base import BaseCommand, CommandError

from support.services.tickets import AUTOCLOSE_DAYS, tickets_autoclose


class Command(BaseCommand):
    help = (
        "Clôture les tickets « Résolu » sans aucune activité depuis --days jours (10 par défaut) : "
        "la solution proposée est réputée acceptée. Le changement passe par la machine à états "
        "(rôle « système ») et figure dans l’Activité du ticket ; le demandeur est prévenu par courriel. "
        "À planifier une fois par jour (par exemple cron : « 30 2 * * * python manage.py "
        "support_autoclose »), ce que fait Celery beat quand REDIS_URL est défini (tâche "
        "support.tasks.support_autoclose). Sans effet si on le relance : un ticket déjà clôturé n’est plus "
        "concerné."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=AUTOCLOSE_DAYS,
            help=f"Jours sans activité après « Résolu » avant la clôture (défaut : {AUTOCLOSE_DAYS}).",
        )

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days doit être un nombre entier de jours, au moins 1.")
        closed = tickets_autoclose(days=days)
        self.stdout.write(f"{len(closed)} ticket(s) clôturé(s) automatiquement.")
        for number in closed:
            self.stdout.write(f"  {number}")
