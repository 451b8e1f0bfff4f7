"""Créer / gérer un service: create, list, modify, activate, deactivate and delete the
services of the user's structures. Every service is fetched through the structures the
user may act on: another structure's service is a 404."""

from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, Crumb, page_context
from core.pagination import paginate
from structures.fields import initial_structure
from structures.forms.units import (
    ServiceCreateForm,
    ServiceFilterForm,
    ServiceUpdateForm,
    structure_refusal,
)
from structures.selectors import units as selectors
from structures.services import units

PAGE_SIZE = 25
SERVICES = Crumb(gettext_lazy("Gérer un service"), "structures:service_list")


def _list_url(structure) -> str:
    return f"{reverse('structures:service_list')}?{urlencode({'structure': structure.pk})}"


def _get_service(request, pk, level=Level.MODIFICATION):
    """One service, through the structures the user may manage services of."""
    return access.get_object_or_404(
        request, pk, ApplicationCode.GERER_SERVICE, level, within=selectors.services_within
    )


@access.access_required(ApplicationCode.CREER_SERVICE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def service_create(request):
    if request.method == "POST":
        form = ServiceCreateForm(request.POST, request=request)
        if form.is_valid():
            try:
                service = units.service_create(actor=request.user, service=form.save(commit=False))
            except IntegrityError:
                form.add_duplicate_code_error()
            else:
                messages.success(
                    request,
                    _("Le service %(code)s a été créé dans la structure %(structure)s.")
                    % {"code": service.code, "structure": service.structure.display_name},
                )
                return redirect(_list_url(service.structure))
    else:
        form = ServiceCreateForm(request=request, initial=initial_structure(request))
    return render(
        request,
        "structures/units/create.html",
        page_context(_("Créer un service"), links=[ORGANISATION], form=form),
    )


@access.access_required(ApplicationCode.GERER_SERVICE, Level.CONSULTATION)
@require_GET
def service_list(request):
    data = request.GET.copy()
    structure_ids = access.structure_ids_for(request, ApplicationCode.GERER_SERVICE, Level.CONSULTATION)
    if "structure" not in data and len(structure_ids) == 1:
        # Nothing to choose: show the user's only structure at once.
        data["structure"] = str(next(iter(structure_ids)))
    form = ServiceFilterForm(data or None, request=request)
    context = {
        "filter_form": form,
        "structure": None,
        "page_obj": None,
        "can_change": False,
        "can_create": False,
        "refusal": "",
    }
    if form.is_bound and form.is_valid():
        structure = form.cleaned_data["structure"]
        services = selectors.services_listed(services=form.filter(selectors.services_of(structure=structure)))
        context.update(
            structure=structure,
            page_obj=paginate(request, services, per_page=PAGE_SIZE, numbered=False),
            can_change=access.can(
                request, ApplicationCode.GERER_SERVICE, Level.MODIFICATION, structure=structure
            ),
            can_create=access.can(
                request, ApplicationCode.CREER_SERVICE, Level.MODIFICATION, structure=structure
            ),
            refusal=structure_refusal(structure),
        )
    return render(
        request,
        "structures/units/list.html",
        page_context(_("Gérer un service"), links=[ORGANISATION], **context),
    )


@access.access_required(ApplicationCode.GERER_SERVICE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def service_update(request, pk):
    service = _get_service(request, pk)
    refusal = structure_refusal(service.structure)
    form = None
    if not refusal:
        if request.method == "POST":
            before = units.service_snapshot(service)
            form = ServiceUpdateForm(request.POST, instance=service)
            if form.is_valid():
                service = form.save(commit=False)
                changes = units.service_update(actor=request.user, service=service, before=before)
                if changes:
                    messages.success(
                        request, _("Le service %(code)s a été modifié.") % {"code": service.code}
                    )
                else:
                    messages.info(
                        request,
                        _("Aucune modification n’a été apportée au service %(code)s.")
                        % {"code": service.code},
                    )
                return redirect(_list_url(service.structure))
        else:
            form = ServiceUpdateForm(instance=service)
    title = _("Modifier le service %(code)s") % {"code": service.code}
    return render(
        request,
        "structures/units/update.html",
        page_context(
            title,
            links=[ORGANISATION, SERVICES],
            form=form,
            service=service,
            refusal=refusal,
            back_url=_list_url(service.structure),
        ),
    )


def _confirmation(request, service, *, title, question, submit_url, refusal, extra_action=None):
    return render(
        request,
        "structures/units/confirm.html",
        page_context(
            title,
            links=[ORGANISATION, SERVICES],
            service=service,
            question=question,
            submit_url=submit_url,
            refusal=refusal,
            extra_action=extra_action,
            back_url=_list_url(service.structure),
        ),
    )


def _set_active(request, pk, *, active):
    service = _get_service(request, pk)
    if active:
        title = _("Activer le service %(code)s") % {"code": service.code}
        question = _("Voulez-vous activer le service %(code)s ?") % {"code": service.code}
        url_name = "structures:service_activate"
    else:
        title = _("Désactiver le service %(code)s") % {"code": service.code}
        question = _(
            "Voulez-vous désactiver le service %(code)s ? Il ne pourra plus recevoir de factures ; "
            "ses utilisateurs et son historique sont conservés."
        ) % {"code": service.code}
        url_name = "structures:service_deactivate"
    refusal = structure_refusal(service.structure)
    if not refusal and service.is_active == active:
        refusal = _("Ce service est déjà actif.") if active else _("Ce service est déjà désactivé.")
    if request.method == "POST" and not refusal:
        try:
            service = units.service_set_active(service=service, active=active, actor=request.user)
        except units.ServiceChangeRefused as refused:
            refusal = str(refused)
        else:
            if active:
                done = _("Le service %(code)s a été activé.")
            else:
                done = _("Le service %(code)s a été désactivé.")
            messages.success(request, done % {"code": service.code})
            return redirect(_list_url(service.structure))
    return _confirmation(
        request,
        service,
        title=title,
        question=question,
        submit_url=reverse(url_name, args=[service.pk]),
        refusal=refusal,
    )


@access.access_required(ApplicationCode.GERER_SERVICE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def service_deactivate(request, pk):
    return _set_active(request, pk, active=False)


@access.access_required(ApplicationCode.GERER_SERVICE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def service_activate(request, pk):
    return _set_active(request, pk, active=True)


@access.access_required(ApplicationCode.GERER_SERVICE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def service_delete(request, pk):
    service = _get_service(request, pk)
    refusal = structure_refusal(service.structure)
    if not refusal and units.service_has_history(service):
        refusal = _("Ce service a des utilisateurs ou un historique : il est désactivé, pas supprimé.")
    if request.method == "POST" and not refusal:
        try:
            units.service_delete(service=service, actor=request.user)
        except units.ServiceChangeRefused as refused:
            refusal = str(refused)
        else:
            messages.success(
                request,
                _("Le service %(code)s a été supprimé.") % {"code": service.code},
            )
            return redirect(_list_url(service.structure))
    # A service that cannot be deleted can still be deactivated: offer it.
    extra_action = None
    if refusal and service.is_active and not structure_refusal(service.structure):
        extra_action = {
            "url": reverse("structures:service_deactivate", args=[service.pk]),
            "label": _("Désactiver ce service"),
        }
    return _confirmation(
        request,
        service,
        title=_("Supprimer le service %(code)s") % {"code": service.code},
        question=_("Voulez-vous supprimer le service %(code)s ? Cette suppression est définitive.")
        % {"code": service.code},
        submit_url=reverse("structures:service_delete", args=[service.pk]),
        refusal=refusal,
        extra_action=extra_action,
    )
