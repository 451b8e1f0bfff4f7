"""Delete the files kept after a form error that nobody came back for
(core.kept_uploads): hourly, by Celery beat or cron."""

from django.core.management.base import BaseCommand

from core.kept_uploads import purge_expired


class Command(BaseCommand):
    help = "Supprime les fichiers conservés après une erreur de formulaire et jamais réutilisés."

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"{deleted} fichier(s) conservé(s) supprimé(s).")
