"""python manage.py run_schedule [--once] [--state-file PATH]

The periodic tasks of the beat schedule (settings.CELERY_BEAT_SCHEDULE), run in this
process when there is no broker and no Celery worker: `make run`, small installs. It
sleeps until the next task is due; `--once` runs what is due now and exits (cron, tests)."""

import logging
from pathlib import Path

# current_app: the project's app (config.celery) without importing the project package.
from celery import current_app as app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import scheduler


def _duration(seconds: float) -> str:
    if seconds < 0.05:
        return "moins de 0,1 s"
    return f"{seconds:.1f}".replace(".", ",") + " s"


def _shown(path: Path) -> str:
    """The path relative to the project when it lies inside, as a user would type it."""
    path = path.resolve()
    return str(path.relative_to(settings.BASE_DIR)) if path.is_relative_to(settings.BASE_DIR) else str(path)


class Command(BaseCommand):
    help = (
        "Exécute dans ce processus les tâches périodiques de CELERY_BEAT_SCHEDULE (récapitulatif des "
        "demandes aux approbateurs, clôture des tickets résolus, mise à jour depuis la base INSEE, "
        "purge des fichiers conservés), sans courtier ni worker Celery : pour `make run` et les petites "
        "installations sans Redis. Chaque tâche s’exécute dès qu’elle est due ; la dernière exécution de "
        "chacune est gardée dans SCHEDULE_STATE_FILE (var/schedule-state.json), si bien qu’un "
        "redémarrage ne relance que ce qui est dû. Avec un courtier (REDIS_URL), c’est Celery beat qui "
        "planifie."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="exécuter ce qui est dû maintenant, puis s’arrêter (cron, tests)",
        )
        parser.add_argument(
            "--state-file",
            type=Path,
            default=None,
            help="fichier des dernières exécutions (par défaut SCHEDULE_STATE_FILE)",
        )

    def handle(self, *args, once, state_file, **options):
        if not app.conf.task_always_eager:
            # The emails the tasks send would wait in the broker's queue for a worker,
            # and beat, which runs with that worker, would run every task a second time.
            raise CommandError(
                "Un courtier Celery est configuré (REDIS_URL ou CELERY_BROKER_URL) : les tâches "
                "planifiées sont alors celles de Celery beat (celery -A config worker --beat)."
            )
        state = scheduler.StateFile(state_file or settings.SCHEDULE_STATE_FILE)
        runner = scheduler.Scheduler(state=state, report=self._report)
        # One French line per task instead of Celery's multi-line success record; a
        # failure is still logged by Celery, with the task's name and the traceback.
        tracer_logger = logging.getLogger("celery.app.trace")
        tracer_level = tracer_logger.level
        tracer_logger.setLevel(logging.WARNING)
        try:
            with state.locked():
                if once:
                    runner.run_due()
                else:
                    runner.run_forever(started=lambda: self._started(runner))
        except scheduler.AlreadyRunning:
            raise CommandError(
                f"Un autre planificateur utilise déjà {_shown(state.path)} : rien n’est lancé."
            ) from None
        finally:
            tracer_logger.setLevel(tracer_level)

    def _started(self, runner: scheduler.Scheduler) -> None:
        self.stdout.write(
            f"Planificateur local : {len(runner.entries)} tâche(s) périodique(s), chacune exécutée "
            f"ici quand elle est due (dernières exécutions dans {_shown(runner.state.path)})."
        )
        self.stdout.flush()

    def _report(self, run: scheduler.Run) -> None:
        if run.failed:
            self.stderr.write(
                f"Tâche planifiée en échec : {run.entry.label} ({_duration(run.seconds)}), "
                "détails dans le journal."
            )
            self.stderr.flush()
        else:
            self.stdout.write(f"Tâche planifiée exécutée : {run.entry.label} ({_duration(run.seconds)})")
            self.stdout.flush()
