"""The portal's 403, 404 and 500 pages (registered in config/urls.py): French, saying
why and what to do. The status codes are Django's: a 403 stays a 403."""

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from chorus import access, catalogue
from chorus.codes import ApplicationCode
from chorus.models import Application, Level
from core.errors import AccessRefused
from core.observability import current_request_id
from core.pages import page_context
from structures.models import Structure

logger = logging.getLogger(__name__)

# Enough to name the principal managers of an ordinary member's structures; a user
# attached to more is told to ask from "Gérer mes habilitations", which lists them all.
MAX_STRUCTURES_LISTED = 10


def permission_denied(request, exception=None):
    context = page_context(_("Accès refusé"))
    if isinstance(exception, AccessRefused) and hasattr(request, "access"):
        context.update(_refusal(request, exception))
    else:
        context["reason"] = "other"
    return render(request, "403.html", context, status=403)


def _refusal(request, refusal):
    accessor = access.get_access(request)
    application = accessor.catalogue.get(refusal.application_code)
    if application is None:
        return {"reason": "other"}
    user = request.user
    staff = user.is_staff or user.is_superuser
    if application.access == Application.Access.STAFF:
        return {"reason": "agents", "page_label": application.label}
    if staff:
        # Operators and agents act from the admin and the support's queues, never as a
        # member of a structure.
        queues = accessor.catalogue.get(ApplicationCode.TICKETS_RECUS)
        return {
            "reason": "portal_users",
            "page_label": application.label,
            "queues_url": catalogue.application_url(queues) if queues and user.is_staff else "",
        }
    if application.access != Application.Access.PROFILE:
        return {"reason": "other"}
    profile = accessor.catalogue.get(application.profile_code, application)
    structure_ids = accessor.attached_structure_ids()
    return {
        "reason": "profile",
        "page_label": application.label,
        "profile_label": f"{profile.label} – {Level(refusal.level).label}",
        "structures": _structures_with_manager(structure_ids),
        "ask_url": _url_if_allowed(request, accessor, ApplicationCode.GERER_MES_HABILITATIONS),
        "attachment_url": ""
        if structure_ids
        else _url_if_allowed(request, accessor, ApplicationCode.DEMANDER_RATTACHEMENT),
    }


def _structures_with_manager(structure_ids):
    return list(
        Structure.objects.filter(pk__in=structure_ids)
        .select_related("principal_manager")
        .order_by("company_name", "identifier")[:MAX_STRUCTURES_LISTED]
    )


def _url_if_allowed(request, accessor, code):
    application = accessor.catalogue.get(code)
    if application is None or not access.can(request, code, Level.MODIFICATION):
        return ""
    return catalogue.application_url(application)


def page_not_found(request, exception=None):
    try:
        docs_url = reverse("support:docs")
    except NoReverseMatch:
        docs_url = ""
    return render(
        request,
        "404.html",
        page_context(_("Page introuvable"), docs_url=docs_url),
        status=404,
    )


def server_error(request):
    """Rendered without the request's context (no context processor, no query): the
    error may be the database itself. The request id lets support find the log lines."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    try:
        body = loader.get_template("500.html").render({"request_id": request_id})
    except Exception:
        # Even the template failed: a plain French line still carries the request id.
        logger.exception("The 500 page could not be rendered")
        body = _("Erreur du serveur. Référence de la requête : %(request_id)s") % {"request_id": request_id}
        return HttpResponseServerError(body, content_type="text/plain; charset=utf-8")
    return HttpResponseServerError(body)
