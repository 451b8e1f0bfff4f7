from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = _("Utilisateurs")

    def ready(self):
        # Connects the login signal that decides whether a second factor is owed.
        from users.services import two_factor  # noqa: F401
