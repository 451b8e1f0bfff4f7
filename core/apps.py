from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Cross-cutting helpers (no models): installed so that its background jobs are
    found by the Celery worker and its signal handlers connected at start-up."""

    name = "core"
    verbose_name = _("Socle commun")

    def ready(self):
        from core import metrics, sessions  # noqa: F401 (sessions: the login starts its clocks)

        metrics.install()
