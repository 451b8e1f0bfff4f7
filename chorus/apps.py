from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChorusConfig(AppConfig):
    name = "chorus"
    verbose_name = _("Noyau d'accès")

    def ready(self):
        from chorus import metrics, sessions  # noqa: F401 (sessions: the login starts its clocks)

        metrics.install()
