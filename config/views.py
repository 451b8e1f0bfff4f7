from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access, catalogue
from chorus.models import Application, Audience
from config import search as app_search
from core import sessions
from core.pages import Crumb, page_context
from structures.models import Structure
from support.models import DocPage

AUDIENCE_INTROS = {
    Audience.ENTREPRISE: (
        gettext_lazy("Vous êtes une entreprise"),
        gettext_lazy(
            "Gérez vos structures et vos utilisateurs, déposez vos factures à destination du secteur "
            "public et suivez-les."
        ),
    ),
    Audience.ENTITE_PUBLIQUE: (
        gettext_lazy("Vous êtes une entité publique"),
        gettext_lazy(
            "Paramétrez votre structure et vos services, recevez et traitez les factures de vos fournisseurs."
        ),
    ),
    Audience.PARTICULIER: (
        gettext_lazy("Vous êtes un particulier"),
        gettext_lazy("Déposez vos mémoires de frais de justice et suivez leur traitement."),
    ),
    Audience.ASSOCIATION: (
        gettext_lazy("Vous êtes une association"),
        gettext_lazy("Gérez votre structure, vos utilisateurs et adressez vos factures au secteur public."),
    ),
}


@access.public
def home(request):
    audience = catalogue.current_audience(request)
    title, intro = AUDIENCE_INTROS[Audience(audience)]
    return render(
        request,
        "chorus/home.html",
        {
            "page_title": _("Accueil"),
            "audience_title": title,
            "audience_intro": intro,
            "domains": catalogue.domains_with_entries(request, audience=audience),
        },
    )


@access.public
@require_GET
def choose_audience(request, audience):
    if audience not in Audience.values:
        raise Http404
    request.session[catalogue.AUDIENCE_SESSION_KEY] = audience
    return redirect("home")


@access.public
def domain_detail(request, code):
    domain = catalogue.find_domain(request, code)
    if domain is None:
        raise Http404
    entries = catalogue.entries(request, domain=domain)
    return render(
        request,
        "chorus/domain.html",
        page_context(domain.label, domain=domain, entries=entries),
    )


@access.authenticated
def application_detail(request, code):
    """What an application is for and where the user holds it; how to ask otherwise."""
    accessor = access.get_access(request)
    application = accessor.catalogue.get(code)
    if application is None:
        raise Http404
    holdings = []
    if application.access == Application.Access.PROFILE:
        structure_ids = access.structure_ids_for(request, code)
        for structure in Structure.objects.filter(pk__in=structure_ids).order_by("company_name"):
            holdings.append((structure, accessor.level_on(code, structure.pk)))
    level = accessor.best_level(code)
    domain = application.domain
    return render(
        request,
        "chorus/application.html",
        page_context(
            application.label,
            links=[Crumb(domain.label, "domain", (domain.code,))],
            application=application,
            level=level,
            holdings=holdings,
        ),
    )


MAX_SEARCH_LENGTH = 200


@access.public
def search(request):
    """Applications the user can open, and guides of the documentation, for the words
    users use (see config.search). Nothing found: the documentation's full-text search
    and the assistant, for the same words."""
    query = " ".join(request.GET.get("q", "").split())[:MAX_SEARCH_LENGTH]
    results, docs = [], []
    if query:
        groups = app_search.query_groups(query)
        # Unlisted applications with a page of their own (the approvals) are found too;
        # only those the user can open.
        candidates = [
            entry
            for entry in catalogue.entries(request, listed_only=False)
            if entry.available and (entry.application.is_listed or entry.application.url_name)
        ]
        results = app_search.applications(groups, candidates)
        pages = (
            DocPage.objects.filter(is_published=True)
            .exclude(application__code__in=access.hidden_agent_applications(request))
            .only("slug", "title", "summary", "section", "order")
            .order_by("order", "pk")
        )
        docs = app_search.doc_pages(groups, pages)
    return render(
        request,
        "chorus/search.html",
        page_context(_("Rechercher une application"), query=query, results=results, docs=docs),
    )


@access.authenticated
@sessions.not_activity
@never_cache
@require_http_methods(["GET", "POST"])
def session_state(request):
    """The warning dialog's endpoint: GET tells how long the session has left without
    counting as activity (another tab may have kept it alive), POST ("Rester connecté")
    restarts the idle clock. An expired session never gets here: the middleware has
    logged it out and the login page answers."""
    clock = sessions.session_touch(request) if request.method == "POST" else request.session_clock
    return JsonResponse(
        {"idle_remaining": clock.idle_remaining, "absolute_remaining": clock.absolute_remaining}
    )


def bad_request(request, exception=None):
    """A request Django refuses before any view (a body or a file too large, too many
    files or fields): a French page saying what to do, not Django's English line."""
    try:
        request.get_host()
    except DisallowedHost:
        # An unknown Host header: the portal's layout (its links) is not built for it.
        return HttpResponseBadRequest(_("Requête refusée."), content_type="text/plain; charset=utf-8")
    return render(
        request,
        "chorus/bad_request.html",
        page_context(_("Requête refusée")),
        status=400,
    )
