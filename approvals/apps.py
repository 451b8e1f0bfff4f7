from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from chorus.interfaces import contributions


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approbations")

    def ready(self):
        # The selectors read the models: importable once the registry is ready, not before.
        from approvals.selectors import pending_count_for

        contributions.pending_approvals = pending_count_for
