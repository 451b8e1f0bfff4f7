from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevtoolsConfig(AppConfig):
    """Demo seeding, the scale generator and the benchmark's reference pages: installed
    under DEBUG, in the test suite, or where DEVTOOLS asks for it; never in production."""

    name = "devtools"
    verbose_name = _("Outils de développement")
