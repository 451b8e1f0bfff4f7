from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.core import checks
from django.utils.translation import gettext_lazy as _

from chorus.checks import check_application_codes


class ChorusConfig(AppConfig):
    name = "chorus"
    verbose_name = _("Noyau d’accès")

    def ready(self):
        checks.register(check_application_codes)


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin on the portal's site (chorus.admin_site), which audits deletions."""

    # Not the configuration of the chorus app itself (Django picks the default one).
    default = False
    default_site = "chorus.admin_site.PortalAdminSite"
