"""What the kernel needs from the domain apps, without importing them.

The structures and the memberships the policy reads are named by settings
(ACCESS_STRUCTURE_MODEL, ACCESS_MEMBERSHIP_MODEL) and fetched from the app registry, as
Django does for AUTH_USER_MODEL. A structure model has a `principal_manager`; a
membership model links a `user` to a `structure` (and a `service` of it, or none) with a
`status` whose `Status.VALIDEE` means the attachment is in force.

What the apps add to every page they register from their AppConfig.ready() in
`contributions`: the kernel shows it when it is there."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings


def structure_model():
    return apps.get_model(settings.ACCESS_STRUCTURE_MODEL)


def membership_model():
    return apps.get_model(settings.ACCESS_MEMBERSHIP_MODEL)


def _no_pending_approvals(*, access) -> int:
    return 0


def _no_help_page(applications) -> str:
    return ""


@dataclass
class Contributions:
    # (*, access) -> how many approval requests wait for the user's decision
    pending_approvals: Callable = _no_pending_approvals
    # applications -> URL of the first published guide about one of them, or ""
    help_page_url: Callable = _no_help_page


contributions = Contributions()
