"""Consulter les utilisateurs (search, filters, export) and Afficher un utilisateur.

Only the attachments to structures where the requesting user holds Organisation
consultation are listed; a user with nothing on those structures is a 404."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Habilitation, Level
from core import db
from core.pages import ORGANISATION, Crumb, page_context
from core.pagination import paginate
from users import exports, selectors
from users.forms.members import (
    DirectoryFilterForm,
)
from users.models import Membership
from users.services.habilitations import profile_label
from users.views.habilitations import _manage_url

PAGE_SIZE = 25
EXPORT_FORMATS = {"csv": exports.csv_response, "xlsx": exports.xlsx_response}


def _memberships(request, form):
    structures = access.structures_for(request, ApplicationCode.CONSULTER_UTILISATEURS, Level.CONSULTATION)
    return selectors.directory_memberships(structures=structures, filters=form.filters())


@access.access_required(ApplicationCode.CONSULTER_UTILISATEURS, Level.CONSULTATION)
@require_GET
def member_list(request):
    form = DirectoryFilterForm(request.GET or None, request=request)
    page_obj = paginate(request, _memberships(request, form), per_page=PAGE_SIZE)
    filters_query = request.GET.copy()
    filters_query.pop("page", None)
    filters_query.pop("format", None)
    export_urls = {
        fmt: f"{reverse('users:member_export')}?{urlencode({**filters_query.dict(), 'format': fmt})}"
        for fmt in EXPORT_FORMATS
    }
    return render(
        request,
        "users/directory/list.html",
        page_context(
            _("Consulter les utilisateurs"),
            links=[ORGANISATION],
            form=form,
            page_obj=page_obj,
            rows=[exports.row_for(membership) for membership in page_obj.object_list],
            columns=exports.columns(),
            export_urls=export_urls,
            can_attach=access.can(request, ApplicationCode.RATTACHER_UTILISATEUR, Level.MODIFICATION),
        ),
    )


@access.access_required(ApplicationCode.CONSULTER_UTILISATEURS, Level.CONSULTATION)
@require_GET
def member_export(request):
    """The list for the same filters, every page, as a file."""
    respond = EXPORT_FORMATS.get(request.GET.get("format", ""))
    if respond is None:
        raise Http404
    form = DirectoryFilterForm(request.GET, request=request)
    memberships = db.reporting(_memberships(request, form))
    return respond([exports.row_for(membership) for membership in memberships])


@access.access_required(ApplicationCode.AFFICHER_UTILISATEUR, Level.CONSULTATION)
@require_GET
def member_detail(request, user_id):
    structures = access.structures_for(request, ApplicationCode.AFFICHER_UTILISATEUR, Level.CONSULTATION)
    memberships = list(
        Membership.objects.filter(user_id=user_id, structure__in=structures)
        .select_related("user", "structure", "service")
        .order_by("structure__company_name", "structure__identifier", "service__code", "-started_at", "pk")
    )
    if not memberships:
        # Not one of my structures' users: whether the account exists is not told.
        raise Http404
    member = memberships[0].user
    habilitations = (
        Habilitation.objects.filter(user_id=user_id, structure__in=structures)
        .select_related("profile__application", "service")
        .order_by("service__code", "profile__application__name", "profile__level", "pk")
    )
    groups = {}
    for membership in memberships:
        structure = membership.structure
        group = groups.setdefault(
            structure.pk,
            {
                "structure": structure,
                "is_principal_manager": structure.principal_manager_id == member.pk,
                "memberships": [],
                "profiles": [],
                "detach_url": "",
                "habilitations_url": "",
            },
        )
        group["memberships"].append(membership)
    for habilitation in habilitations:
        groups[habilitation.structure_id]["profiles"].append(
            {"label": profile_label(habilitation.profile), "service": habilitation.service}
        )
    for group in groups.values():
        structure = group["structure"]
        live = any(m.status == Membership.Status.VALIDEE for m in group["memberships"])
        if live and access.can(
            request, ApplicationCode.DETACHER_UTILISATEUR, Level.MODIFICATION, structure=structure
        ):
            query = urlencode({"structure": structure.pk, "user": member.pk})
            group["detach_url"] = f"{reverse('users:detach')}?{query}"
        if live and access.can(
            request, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, structure=structure
        ):
            # Straight to their profiles; attached to some services only, on the first of them.
            validated = [m for m in group["memberships"] if m.status == Membership.Status.VALIDEE]
            whole = any(m.service_id is None for m in validated)
            service = None if whole else validated[0].service
            group["habilitations_url"] = _manage_url(structure, service, member)
    title = member.get_full_name() or member.email
    links = [ORGANISATION, Crumb(_("Consulter les utilisateurs"), "users:member_list")]
    return render(
        request,
        "users/directory/detail.html",
        page_context(title, links=links, member=member, groups=list(groups.values())),
    )
