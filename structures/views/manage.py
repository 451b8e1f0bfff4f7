"""Gérer une structure: the *Type de demande* page, the search and read-only detail,
the update form, activation and deactivation, and the structure's history."""

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from chorus.actions import AuditAction, action_label
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, Crumb, page_context
from core.pagination import paginate
from structures.forms.manage import (
    RequestType,
    RequestTypeForm,
    StructureSearchForm,
    StructureUpdateForm,
)
from structures.models import Structure
from structures.selectors import manage as selectors
from structures.services.manage import (
    StructureStateError,
    structure_activate,
    structure_deactivate,
    structure_update,
)
from structures.views.insee import _insee_update_panel

STRUCTURES_PER_PAGE = 20
EVENTS_PER_PAGE = 50

# What a recorded change names by a key that is no field of the recorded object: the
# same words as the pages that make these changes.
CHANGE_LABELS = {
    "service": gettext_lazy("Service"),
    "services": gettext_lazy("Services"),
    "services_ended": gettext_lazy("Services quittés"),
    "invited_by": gettext_lazy("Invité par"),
    "principal_manager": gettext_lazy("Gestionnaire principal"),
    "former_principal_manager_attached": gettext_lazy("Ancien gestionnaire principal resté rattaché"),
    "origin": gettext_lazy("Structure d’origine"),
    "copied": gettext_lazy("Éléments copiés"),
    "bank_accounts": gettext_lazy("Coordonnées bancaires"),
    "attachments": gettext_lazy("Pièces jointes"),
    "memberships": gettext_lazy("Rattachements"),
    "habilitations": gettext_lazy("Habilitations"),
    "habilitations_removed": gettext_lazy("Habilitations retirées"),
    "user": gettext_lazy("Utilisateur"),
    "email": gettext_lazy("Adresse électronique"),
    "added": gettext_lazy("Profils ajoutés"),
    "removed": gettext_lazy("Profils retirés"),
    "profiles_not_granted": gettext_lazy("Profils non accordés (l’invitant ne peut plus les accorder)"),
    "profiles": gettext_lazy("Profils"),
    "kind": gettext_lazy("Type de demande"),
    "add": gettext_lazy("Profils à ajouter"),
    "remove": gettext_lazy("Profils à retirer"),
    "structure": gettext_lazy("Structure"),
    "claimant": gettext_lazy("Demandeur"),
    "proof": gettext_lazy("Justificatif"),
    "comment": gettext_lazy("Commentaire"),
    "name": gettext_lazy("Nom"),
    "code": gettext_lazy("Code"),
    "size": gettext_lazy("Taille (octets)"),
    "content_type": gettext_lazy("Type de contenu"),
    "is_active": gettext_lazy("Actif"),
    "iban": gettext_lazy("IBAN"),
}
# A change recorded as a bare before/after pair: the field it is about.
PAIR_FIELDS = {
    AuditAction.MEMBERSHIP_STATUS: "status",
    AuditAction.PRINCIPAL_MANAGER_ASSIGN: "principal_manager",
}


MANAGE = Crumb(gettext_lazy("Gérer une structure"), "structures:manage")


def _detail_crumbs(structure):
    """The trail of a structure's pages, down to the structure."""
    return [ORGANISATION, MANAGE, Crumb(structure.display_name, "structures:detail", (structure.pk,))]


# Gérer une structure: the type-de-demande page and the search


TITLES = {
    RequestType.UPDATE: gettext_lazy("Modifier une structure"),
    RequestType.ACTIVATE: gettext_lazy("Activer une structure"),
    RequestType.INSEE: gettext_lazy("Mettre à jour depuis la base INSEE"),
    RequestType.DEACTIVATE: gettext_lazy("Désactiver une structure"),
}


def _manage_url(request_type, structure):
    """The page with this request chosen: its form is shown under the choice."""
    return f"{reverse('structures:manage')}?{urlencode({'type': request_type, 'structure': structure.pk})}"


def _panel(request, request_type, structure):
    """The chosen request's form, posting to the page's own address: (response once
    submitted or None, what the form shows)."""
    form_url = _manage_url(request_type, structure)
    if request_type == RequestType.UPDATE:
        response, panel = _update_panel(request, structure, form_url=form_url)
    elif request_type == RequestType.INSEE:
        response, panel = _insee_update_panel(
            request,
            structure,
            form_url=form_url,
            deactivate_url=_manage_url(RequestType.DEACTIVATE, structure),
        )
    else:
        activate = request_type == RequestType.ACTIVATE
        response, panel = _status_panel(request, structure, activate=activate, form_url=form_url)
    if panel is not None:
        panel["title"] = TITLES[request_type]
    return response, panel


def _chosen_request(request):
    """The *Type de demande* form, from the query string, and the request it names:
    (form, type, structure or None). "Valider" (name "valider") or a structure in the
    query string asks for the request: a missing or refused structure is then said on
    the form. Choosing a type alone only adapts the page, without complaining that no
    structure is chosen yet."""
    params = request.GET
    if "valider" in params or params.get("structure"):
        form = RequestTypeForm(params, request=request)
        if not form.is_valid():
            return form, None, None
        request_type = form.cleaned_data["type"]
        return form, request_type, form.cleaned_data.get("structure")
    form = RequestTypeForm(request=request, initial={"type": params.get("type"), "structure": None})
    allowed = {value for value, _label in form.fields["type"].choices}
    request_type = params.get("type")
    if request_type not in allowed:
        request_type = RequestType.CONSULT
        form.initial["type"] = request_type
    elif request_type != RequestType.CONSULT and "structure" in form.fields:
        # The type is chosen: the structure is the next choice (the page reloaded).
        form.fields["structure"].widget.attrs["autofocus"] = True
    return form, request_type, None


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.CONSULTATION)
@require_http_methods(["GET", "POST"])
def manage(request):
    """One page: the *Type de demande* and the structure chosen at the top (a GET form,
    linkable: ?type=…&structure=…); below, the search (to consult) or the chosen
    request's form, which posts to this same address. The structure list only offers
    the structures the user may change: another one in the query string is refused on
    the form and nothing of it is shown."""
    # A POST without a request chosen (a stale or forged address) changes nothing: the
    # page is shown as on GET.
    form, request_type, structure = _chosen_request(request)
    panel = None
    if structure is not None and request_type != RequestType.CONSULT:
        response, panel = _panel(request, request_type, structure)
        if response is not None:
            return response

    context = {
        "form": form,
        "request_type": request_type,
        "consult": request_type == RequestType.CONSULT,
        "panel": panel,
    }
    if context["consult"]:
        search_form = StructureSearchForm(request.GET)
        structures = search_form.filter(
            access.structures_for(request, ApplicationCode.GERER_STRUCTURE, Level.CONSULTATION)
            .select_related("principal_manager")
            .order_by("company_name", "identifier", "pk")
        )
        page_obj = paginate(request, structures, per_page=STRUCTURES_PER_PAGE)
        context.update(search_form=search_form, page_obj=page_obj)
    title = _("Gérer une structure")
    return render(
        request,
        "structures/manage/manage.html",
        page_context(
            title,
            links=[ORGANISATION],
            **context,
        ),
    )


# Read-only detail


def _yes_no(value):
    return _("Oui") if value else _("Non")


def _identity_items(structure):
    manager = structure.principal_manager
    return [
        (_("Identifiant"), structure.identifier),
        (_("Type d’identifiant"), structure.get_identifier_type_display()),
        (_("Raison sociale"), structure.company_name),
        (_("Libellé"), structure.label),
        (_("Nom"), structure.last_name),
        (_("Prénom"), structure.first_name),
        (_("Numéro RCS"), structure.rcs_number),
        (_("Numéro de TVA intracommunautaire"), structure.vat_number),
        (_("Structure privée ou publique"), structure.get_kind_display()),
        (_("Statut"), structure.get_status_display()),
        (_("Gestionnaire principal"), manager.name_and_email if manager else ""),
    ]


def _address_items(structure):
    return [
        (_("Adresse"), structure.address),
        (_("Complément d’adresse 1"), structure.address_complement_1),
        (_("Complément d’adresse 2"), structure.address_complement_2),
        (_("Code postal"), structure.postcode),
        (_("Ville"), structure.city),
        (_("Pays"), structure.country_display),
    ]


def _insee_items(structure):
    return [
        (_("Catégorie juridique"), structure.legal_category),
        (_("Catégorie d’entreprise"), structure.company_category),
        (_("Non diffusible (INSEE)"), _yes_no(structure.non_diffusible)),
        (
            _("Dernière mise à jour INSEE"),
            structure.insee_updated_at,
        ),
    ]


def _contact_items(structure):
    return [
        (_("Adresse électronique de la structure"), structure.email),
        (_("Téléphone"), structure.phone),
        (_("Catégorie de prestataire (mémoires de frais de justice)"), structure.court_fee_provider_category),
        (_("Double authentification obligatoire"), _yes_no(structure.two_factor_required)),
    ]


def _public_parameter_items(structure):
    return [
        (_("Code service obligatoire"), _yes_no(structure.service_code_required)),
        (_("Numéro d’engagement juridique obligatoire"), _yes_no(structure.commitment_required)),
        (_("Engagement juridique ou code service obligatoire"), _yes_no(structure.commitment_or_service)),
        (_("Gestion du statut « mise en paiement »"), _yes_no(structure.payment_status_managed)),
        (_("Maître d’ouvrage (MOA)"), _yes_no(structure.is_moa)),
        (_("Maître d’ouvrage uniquement (MOA uniquement)"), _yes_no(structure.is_moa_only)),
    ]


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.CONSULTATION)
@require_GET
def detail(request, pk):
    structure = access.get_object_or_404(
        request,
        pk,
        ApplicationCode.GERER_STRUCTURE,
        Level.CONSULTATION,
        within=lambda structures: structures.select_related("principal_manager"),
    )
    can_change = access.can(request, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION, structure=structure)
    return render(
        request,
        "structures/manage/detail.html",
        page_context(
            structure.display_name,
            links=[ORGANISATION, MANAGE],
            structure=structure,
            identity=_identity_items(structure),
            address=_address_items(structure),
            insee=_insee_items(structure),
            contact=_contact_items(structure),
            public_parameters=_public_parameter_items(structure) if structure.is_public else [],
            services=structure.services.order_by("code"),
            can_change=can_change,
        ),
    )


# Modifier une structure


def _refuse_if_inactive(request, structure):
    if structure.status == Structure.Status.INACTIVE:
        messages.error(
            request,
            _(
                "La structure est désactivée : elle ne peut pas être modifiée. Réactivez-la d’abord "
                "(Gérer une structure › Activer une structure)."
            ),
        )
        return redirect("structures:detail", pk=structure.pk)
    return None


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
def update(request, pk):
    structure = access.get_object_or_404(request, pk, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
    response, panel = _update_panel(request, structure, form_url=reverse("structures:update", args=[pk]))
    if response is not None:
        return response
    return render(
        request,
        "structures/manage/update.html",
        page_context(_("Modifier une structure"), links=_detail_crumbs(structure), panel=panel, **panel),
    )


def _update_panel(request, structure, *, form_url):
    """Modifier une structure, for a structure the caller may change: the response once
    submitted, else (None, what the form shows), on its own page or under the choice of
    *Gérer une structure*; `form_url` is where the form posts."""
    refused = _refuse_if_inactive(request, structure)
    if refused:
        return refused, None
    if request.method == "POST":
        form = StructureUpdateForm(request.POST, structure=structure, user=request.user)
        # Read before validation: validating copies the posted values onto the instance.
        before = {name: getattr(structure, name) for name in form.fields}
        if form.is_valid():
            after = {name: form.cleaned_data[name] for name in form.fields}
            changes = structure_update(
                actor=request.user, structure=form.save(commit=False), before=before, after=after
            )
            if changes:
                messages.success(
                    request,
                    _("Les modifications de la structure %(name)s ont été enregistrées.")
                    % {"name": structure.display_name},
                )
            else:
                messages.info(request, _("Aucune modification : la structure est inchangée."))
            return redirect("structures:detail", pk=structure.pk), None
    else:
        form = StructureUpdateForm(structure=structure, user=request.user)
    return None, {
        "template": "structures/manage/_update_form.html",
        "action": form_url,
        "structure": structure,
        "form": form,
        "identity": _identity_items(structure),
        "address": _address_items(structure),
    }


# Activer / Désactiver


def _change_status(request, pk, *, activate):
    structure = access.get_object_or_404(request, pk, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
    form_url = reverse("structures:activate" if activate else "structures:deactivate", args=[pk])
    response, panel = _status_panel(request, structure, activate=activate, form_url=form_url)
    if response is not None:
        return response
    title = _("Activer une structure") if activate else _("Désactiver une structure")
    return render(
        request,
        "structures/manage/status.html",
        page_context(title, links=_detail_crumbs(structure), panel=panel, **panel),
    )


def _status_panel(request, structure, *, activate, form_url):
    """Activer or Désactiver une structure: the response once submitted, else (None,
    what the page shows)."""
    if request.method == "POST":
        change = structure_activate if activate else structure_deactivate
        try:
            change(structure=structure, actor=request.user)
        except StructureStateError as error:
            messages.error(request, error.message)
        else:
            if activate:
                message = _("La structure %(name)s est activée.")
            else:
                message = _("La structure %(name)s est désactivée.")
            messages.success(request, message % {"name": structure.display_name})
        return redirect("structures:detail", pk=structure.pk), None
    if activate:
        allowed = structure.status != Structure.Status.ACTIVE
    else:
        allowed = structure.status != Structure.Status.INACTIVE
    return None, {
        "template": "structures/manage/_status_form.html",
        "action": form_url,
        "structure": structure,
        "activate": activate,
        "allowed": allowed,
    }


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
def activate(request, pk):
    return _change_status(request, pk, activate=True)


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
def deactivate(request, pk):
    return _change_status(request, pk, activate=False)


# Historique


def _field_of(model, name):
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    # A reverse relation (a structure's "services") has no verbose name nor choices.
    return None if field.auto_created and not field.concrete else field


def _label(name, models):
    """A field's verbose name on the recorded object (or the structure), else the
    table of keys above; a key nobody named yet is shown as recorded."""
    field = next((f for f in (_field_of(model, name) for model in models) if f is not None), None)
    if field is not None:
        label = str(field.verbose_name)
    else:
        label = str(CHANGE_LABELS.get(name, name or _("Détail")))
    return label[:1].upper() + label[1:]


def _shown(value, name, models):
    """A recorded value in words: a status by its label (looked up on every model that
    has a field of that name: a membership's record may hold its structure's status),
    Oui/Non, lists joined, nested details as "clé : valeur" pairs; never a repr."""
    if value is None or value == "" or value == [] or value == {}:
        return _("(vide)")
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, list):
        return ", ".join(str(_shown(item, name, models)) for item in value)
    if isinstance(value, dict):
        return " ; ".join(
            f"{_label(key, models)} : {_shown(item, key, models)}" for key, item in value.items()
        )
    for model in models:
        field = _field_of(model, name)
        if field is not None and field.choices:
            choices = dict(field.flatchoices)
            if value in choices:
                return choices[value]
    return value


def _change_rows(event):
    """The event's JSON detail as (label, before, after) rows; a detail that is not a
    before/after pair keeps `after` empty (None) and shows its value as `before`."""
    try:
        model = apps.get_model(event.object_type)
    except (LookupError, ValueError):
        model = None
    # Keys the recorded object lacks are often its structure's (status, principal manager).
    models = [m for m in (model, Structure) if m is not None]
    changes = event.changes if isinstance(event.changes, dict) else {"": event.changes}
    if _is_pair(changes):
        changes = {PAIR_FIELDS.get(event.action, ""): changes}
    rows = []
    for name, change in changes.items():
        label = _label(name, models)
        if _is_pair(change):
            rows.append(
                (label, _shown(change["before"], name, models), _shown(change["after"], name, models))
            )
        else:
            rows.append((label, _shown(change, name, models), None))
    return rows


def _is_pair(change):
    return isinstance(change, dict) and set(change) == {"before", "after"}


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
@require_GET
def history(request, pk):
    """Read-only: the audit trail of one structure, for those who administer it (the
    Organisation modification profile, which governs this application)."""
    structure = access.get_object_or_404(request, pk, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
    page_obj = paginate(request, selectors.structure_history(structure=structure), per_page=EVENTS_PER_PAGE)
    rows = [
        {
            "event": event,
            "action": action_label(event.action),
            "changes": _change_rows(event),
        }
        for event in page_obj
    ]
    return render(
        request,
        "structures/manage/history.html",
        page_context(
            _("Historique de la structure"),
            links=_detail_crumbs(structure),
            structure=structure,
            page_obj=page_obj,
            rows=rows,
        ),
    )
