from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from chorus import access, catalogue
from chorus.codes import ApplicationCode
from chorus.interfaces import contributions
from chorus.models import Audience

# The user menu (click on one's name), in the order Chorus Pro users know. An entry whose
# page is not installed is left out.
USER_MENU = [
    (_("Mon compte"), "users:account"),
    (_("Mes rattachements"), "users:my_memberships"),
    (_("Mes habilitations"), "users:my_habilitations"),
    (_("Historique de mes demandes"), "approvals:my_requests"),
    (_("Changer mon adresse de connexion"), "users:change_email"),
    (_("Sécurité du compte"), "users:security"),
    (_("Désactiver mon compte"), "users:deactivate"),
]


def portal(request):
    """What the shell needs on every page: menus, abilities, audience tabs."""
    if not hasattr(request, "access"):  # error pages raised before the middleware ran
        return {}
    audience = catalogue.current_audience(request)
    context = {
        "abilities": SimpleLazyObject(lambda: access.abilities(request)),
        "audience_tabs": [
            {"label": label, "url": reverse("audience", args=[code]), "current": code == audience}
            for code, label in Audience.choices
        ],
        "search_query": request.GET.get("q", "")
        if request.resolver_match and request.resolver_match.url_name == "search"
        else "",
        "portal_menus": [],
        "user_menu": [],
        "approvals_url": "",
        "approvals_waiting": 0,
        "help_url": SimpleLazyObject(lambda: _help_url(request)),
        # Read by the home page and the application tiles: first steps instead of
        # "Gérer mes habilitations" for a user attached to nothing.
        "attachment_guide": SimpleLazyObject(lambda: catalogue.attachment_guide(request)),
    }
    if request.user.is_authenticated:
        context["portal_menus"] = SimpleLazyObject(lambda: _menus(request))
        context["user_menu"] = _user_menu()
        context["approvals_url"] = SimpleLazyObject(
            lambda: catalogue.application_url(
                access.get_access(request).catalogue[ApplicationCode.APPROBATIONS]
            )
        )
        context["approvals_waiting"] = SimpleLazyObject(lambda: _approvals_waiting(request))
    return context


def _help_url(request):
    """The "i" link: the documentation page of the application this page belongs to.
    The view's name is matched against the catalogue the request already loaded; the
    page is looked up (one query) only when an application matches."""
    match = request.resolver_match
    if match is None:
        return ""
    applications = [
        application
        for application in access.get_access(request).catalogue.values()
        if application.url_name and application.url_name == match.view_name
    ]
    if not applications:
        return ""
    return contributions.help_page_url(applications)


def _approvals_waiting(request):
    # Given the request, not only its user: the count reuses the access context the
    # page already loaded, and costs one query.
    return contributions.pending_approvals(access=access.get_access(request))


def _user_menu():
    items = []
    for label, url_name in USER_MENU:
        try:
            items.append({"label": label, "url": reverse(url_name)})
        except NoReverseMatch:
            continue
    return items


def _menus(request):
    menus = []
    for group in catalogue.domains_with_entries(request):
        available = [entry for entry in group["entries"] if entry.available]
        if available:
            menus.append({"domain": group["domain"], "entries": available})
    return menus
