from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from chorus import access, catalogue
from chorus.models import Audience


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
        "approvals_url": reverse("application", args=["APPROBATIONS"]),
        "approvals_waiting": 0,
    }
    if request.user.is_authenticated:
        context["portal_menus"] = SimpleLazyObject(lambda: _menus(request))
        context["user_menu"] = [
            {"label": _("Mon compte"), "url": reverse("users:account")},
        ]
    return context


def _menus(request):
    menus = []
    for group in catalogue.domains_with_entries(request):
        available = [entry for entry in group["entries"] if entry.available]
        if available:
            menus.append({"domain": group["domain"], "entries": available})
    return menus
