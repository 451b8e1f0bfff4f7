"""The pages that ask the INSEE Sirene register: Créer une structure (from its SIRET),
Mettre à jour depuis la base INSEE, Dupliquer une structure.

Each page asks INSEE on display (a GET: nothing changes) and again on Soumettre, so
that what is saved is what INSEE says at that moment; errors of the register become
French messages on the page and nothing is saved."""

import hashlib
import json
import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, Crumb, page_context
from structures import sirene
from structures.forms.insee import DuplicateForm, InseeUpdateForm, SiretLookupForm, StructureCreateForm
from structures.models import Structure, country_display
from structures.selectors import insee as selectors
from structures.services.insee import (
    COPIED_RELATIONS,
    DuplicationError,
    StructureExists,
    insee_changes,
    insee_values,
    kind_for,
    structure_create_from_insee,
    structure_duplicate,
    structure_update_from_insee,
)

logger = logging.getLogger(__name__)


CREATED = gettext_lazy(
    "La structure « %(name)s » (SIRET %(siret)s) est créée avec les données de la base INSEE. "
    "Vous en êtes le gestionnaire principal."
)
UP_TO_DATE = gettext_lazy(
    "La structure est déjà conforme à la base INSEE : la date de mise à jour est enregistrée."
)
DUPLICATED = gettext_lazy(
    "La structure « %(name)s » (SIRET %(siret)s) est créée à partir de la structure %(model)s, avec ses "
    "services, coordonnées bancaires, pièces jointes, utilisateurs et habilitations. La structure "
    "%(model)s est désactivée."
)

# Errors that say something about the SIRET typed (shown on the field); the others
# say the register cannot answer now (shown above the form).
SIRET_ERRORS = (
    sirene.SireneUnknown,
    sirene.SireneClosed,
    sirene.SireneNonDiffusible,
    sirene.SireneInvalidRequest,
)


def _ask_insee(siret):
    """(establishment, None) or (None, the SireneError)."""
    try:
        return sirene.get_client().get_siret(siret), None
    except sirene.SireneError as error:
        logger.warning("Sirene lookup of %s failed: %s", siret, error.detail)
        return None, error


def _add_sirene_error(form, error, field="siret"):
    form.add_error(field if isinstance(error, SIRET_ERRORS) else None, str(error.message))


def _attach_context(user, structure):
    """What to offer when the SIRET already has a structure: ask to be attached (or
    say the user already is)."""
    if structure is None:
        return {"existing": None, "already_member": False, "attach_url": ""}
    # The request form, with this structure already found.
    query = urlencode({"identifiant": structure.identifier})
    return {
        "existing": structure,
        "already_member": selectors.is_attached_or_waiting(user=user, structure=structure),
        "attach_url": f"{reverse('approvals:request_attachment')}?{query}",
    }


# Créer une structure


def _create_submitted(lookup_form, user):
    """Soumettre: INSEE is asked again and the structure created. Returns (the new
    structure or None, the structure that already has this SIRET or None, what INSEE
    said or None); a refusal is added to the form."""
    siret = lookup_form.cleaned_data["siret"]
    existing = selectors.structure_by_siret(siret=siret)
    if existing is not None:
        return None, existing, None
    establishment, error = _ask_insee(siret)
    if error is not None:
        _add_sirene_error(lookup_form, error)
        return None, None, None
    try:
        structure = structure_create_from_insee(establishment=establishment, user=user)
    except StructureExists:
        return None, selectors.structure_by_siret(siret=establishment.siret), establishment
    except sirene.SireneError as refusal:
        _add_sirene_error(lookup_form, refusal)
        return None, None, establishment
    return structure, None, establishment


def _create_preview(lookup_form):
    """What INSEE says of the SIRET, before Soumettre. Returns (the structure that
    already has it or None, what INSEE said or None, the confirmation form or None)."""
    siret = lookup_form.cleaned_data["siret"]
    existing = selectors.structure_by_siret(siret=siret)
    if existing is not None:
        return existing, None, None
    establishment, error = _ask_insee(siret)
    if error is not None:
        _add_sirene_error(lookup_form, error)
        return None, None, None
    if establishment.was_redirected:
        existing = selectors.structure_by_siret(siret=establishment.siret)
        if existing is not None:
            return existing, establishment, None
    try:
        establishment.check_usable()
    except sirene.SireneError as refusal:
        _add_sirene_error(lookup_form, refusal)
        return None, establishment, None
    return None, establishment, StructureCreateForm(initial={"siret": establishment.siret})


@access.access_required(ApplicationCode.CREER_STRUCTURE, Level.CONSULTATION)
def create(request):
    """Step 1 (GET ?siret=…): what INSEE says of the SIRET. Step 2 (POST, Soumettre):
    the structure is created, the user becomes its principal manager."""
    establishment = confirm_form = existing = None
    if request.method == "POST":
        # The SIRET comes back from the confirmation's hidden field: checked again.
        lookup_form = SiretLookupForm(request.POST)
        if lookup_form.is_valid():
            structure, existing, establishment = _create_submitted(lookup_form, request.user)
            if structure is not None:
                messages.success(
                    request, CREATED % {"name": structure.display_name, "siret": structure.identifier}
                )
                return redirect("structures:detail", structure.pk)
    elif "siret" in request.GET:
        lookup_form = SiretLookupForm(request.GET)
        if lookup_form.is_valid():
            existing, establishment, confirm_form = _create_preview(lookup_form)
    else:
        lookup_form = SiretLookupForm()
    return render(
        request,
        "structures/insee/create.html",
        page_context(
            _("Créer une structure"),
            links=[ORGANISATION],
            lookup_form=lookup_form,
            establishment=establishment,
            establishment_items=_establishment_items(establishment) if establishment else [],
            confirm_form=confirm_form,
            **_attach_context(request.user, existing),
        ),
    )


def _establishment_items(establishment):
    """(label, value) rows of what INSEE says, for the pages."""
    values = insee_values(establishment)
    if establishment.is_active:
        state = _("Actif")
    elif establishment.state_since:
        state = _("Fermé depuis le %(date)s") % {"date": establishment.state_since.strftime("%d/%m/%Y")}
    else:
        state = _("Fermé")
    hidden = _("non diffusé")
    country = hidden
    if "country" in values:
        country = country_display(values["country"], values.get("country_label", ""))
    rows = [
        (_("SIRET"), establishment.siret),
        (_("Raison sociale"), values.get("company_name", hidden)),
        (_("Libellé (enseigne)"), values.get("label", hidden)),
        (_("Adresse"), values.get("address", hidden)),
        (_("Complément d’adresse"), values.get("address_complement_1", hidden)),
        (_("Distribution spéciale"), values.get("address_complement_2", hidden)),
        (_("Code postal"), values.get("postcode", hidden)),
        (_("Ville"), values.get("city", hidden)),
        (_("Pays"), country),
        (_("Catégorie juridique"), values.get("legal_category", hidden)),
        (_("Catégorie d’entreprise"), values.get("company_category", hidden)),
        (_("Structure privée ou publique"), Structure.Kind(kind_for(establishment)).label),
        (_("Numéro de TVA intracommunautaire"), values.get("vat_number", "")),
        (_("Établissement siège"), _("Oui") if establishment.is_head_office else _("Non")),
        (_("État administratif"), state),
    ]
    return [(label, value) for label, value in rows if value not in ("", None)]


# Mettre à jour depuis la base INSEE


def _fingerprint(changes):
    payload = json.dumps([[c.name, c.after] for c in changes], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@access.access_required(ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
def insee_update(request, pk):
    structure = access.get_object_or_404(request, pk, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
    links = [
        ORGANISATION,
        Crumb(_("Gérer une structure"), "structures:manage"),
        Crumb(structure.display_name, "structures:detail", (structure.pk,)),
    ]
    response, panel = _insee_update_panel(
        request,
        structure,
        form_url=reverse("structures:insee_update", args=[structure.pk]),
        deactivate_url=reverse("structures:deactivate", args=[structure.pk]),
    )
    if response is not None:
        return response
    title = _("Mettre à jour depuis la base INSEE")
    return render(
        request, "structures/insee/update.html", page_context(title, links=links, panel=panel, **panel)
    )


def _insee_update_panel(request, structure, *, form_url, deactivate_url):
    """Mettre à jour depuis la base INSEE, for a structure the caller may change: the
    response once submitted, else (None, what the form shows). Its own page and the
    *Gérer une structure* page (which shows it under the choice) both use it; `form_url`
    is where the form posts."""
    panel = {
        "template": "structures/insee/_update_panel.html",
        "action": form_url,
        "structure": structure,
        "error": None,
        "establishment": None,
        "changes": [],
        "form": None,
        "deactivate_url": deactivate_url,
    }
    if structure.identifier_type != Structure.IdentifierType.SIRET:
        panel["error"] = _(
            "Seule une structure identifiée par un SIRET peut être mise à jour depuis la base INSEE."
        )
        return None, panel

    establishment, error = _ask_insee(structure.identifier)
    if error is not None:
        panel["error"] = (
            _("La base INSEE ne connaît pas (ou plus) le SIRET %(siret)s : rien n’a été modifié.")
            % {"siret": structure.identifier}
            if isinstance(error, sirene.SireneUnknown)
            else error.message
        )
        return None, panel

    changes = insee_changes(structure, establishment)
    fingerprint = _fingerprint(changes)
    if request.method == "POST":
        form = InseeUpdateForm(request.POST)
        if form.is_valid() and form.cleaned_data["fingerprint"] == fingerprint:
            result = structure_update_from_insee(
                structure_id=structure.pk, establishment=establishment, actor=request.user
            )
            if result.changes:
                messages.success(
                    request,
                    ngettext(
                        "La structure est mise à jour depuis la base INSEE : %(count)d champ modifié.",
                        "La structure est mise à jour depuis la base INSEE : %(count)d champs modifiés.",
                        len(result.changes),
                    )
                    % {"count": len(result.changes)},
                )
            else:
                messages.success(request, UP_TO_DATE)
            return redirect("structures:detail", structure.pk), None
        if form.is_valid():
            # Shown again with the differences of now, to be submitted again.
            form = InseeUpdateForm({"fingerprint": fingerprint})
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Les données de la base INSEE ont changé depuis l’affichage de la page : vérifiez les "
                    "différences ci-dessous, puis soumettez à nouveau. Rien n’a été modifié."
                ),
            )
    else:
        form = InseeUpdateForm(initial={"fingerprint": fingerprint})
    panel.update(establishment=establishment, changes=_change_rows(changes), form=form)
    return None, panel


def _display(name, value):
    if name == "kind":
        return Structure.Kind(value).label
    if value is True:
        return _("Oui")
    if value is False:
        return _("Non")
    return value


def _change_rows(changes):
    return [
        {"label": c.label, "before": _display(c.name, c.before), "after": _display(c.name, c.after)}
        for c in changes
    ]


# Dupliquer une structure


def _copy_summary(model):
    """How much of the model will be copied, for the confirmation."""
    counts = selectors.copied_counts(structure=model)
    rows = [
        (_("Services"), counts["services"]),
        (_("Utilisateurs rattachés"), counts["memberships"]),
        (_("Habilitations"), counts["habilitations"]),
    ]
    labels = {"bank_accounts": _("Coordonnées bancaires"), "attachments": _("Pièces jointes")}
    for relation in COPIED_RELATIONS:
        manager = getattr(model, relation, None)
        if manager is not None:
            rows.append((labels[relation], manager.count()))
    return rows


def _duplicate_submitted(form, user):
    """Soumettre: INSEE is asked again, the duplicate created and the model
    deactivated. Returns (the new structure or None, what INSEE said or None); a
    refusal is added to the form."""
    model, siret = form.cleaned_data["model"], form.cleaned_data["siret"]
    establishment, error = _ask_insee(siret)
    if error is not None:
        _add_sirene_error(form, error)
        return None, establishment
    try:
        new = structure_duplicate(model_id=model.pk, establishment=establishment, actor=user)
    except (StructureExists, DuplicationError) as refusal:
        form.add_error("siret", str(refusal.message))
    except sirene.SireneError as refusal:
        _add_sirene_error(form, refusal)
    else:
        return new, establishment
    return None, establishment


def _duplicate_preview(form, request):
    """The model and what INSEE says of the new SIRET, before Soumettre. Returns (what
    INSEE said or None, the confirmation form or None, the copy summary)."""
    model, siret = form.cleaned_data["model"], form.cleaned_data["siret"]
    establishment, error = _ask_insee(siret)
    if error is not None:
        _add_sirene_error(form, error)
        return establishment, None, []
    if establishment.was_redirected and selectors.structure_by_siret(siret=establishment.siret):
        form.add_error("siret", str(StructureExists.message))
        return establishment, None, []
    try:
        establishment.check_usable()
    except sirene.SireneError as refusal:
        _add_sirene_error(form, refusal)
        return establishment, None, []
    confirm_form = DuplicateForm(
        initial={"model": model.pk, "siret": establishment.siret}, request=request, confirm=True
    )
    return establishment, confirm_form, _copy_summary(model)


@access.access_required(ApplicationCode.DUPLIQUER_STRUCTURE, Level.MODIFICATION)
def duplicate(request):
    """Step 1 (GET ?model=…&siret=…): the model and what INSEE says of the new SIRET.
    Step 2 (POST, Soumettre): the duplicate is created, the model deactivated."""
    establishment = confirm_form = model = None
    summary = []
    if request.method == "POST":
        form = DuplicateForm(request.POST, request=request)
        if form.is_valid():
            model = form.cleaned_data["model"]
            new, establishment = _duplicate_submitted(form, request.user)
            if new is not None:
                messages.success(
                    request,
                    DUPLICATED
                    % {"name": new.display_name, "siret": new.identifier, "model": model.identifier},
                )
                return redirect("structures:detail", new.pk)
    elif "siret" in request.GET or "model" in request.GET:
        form = DuplicateForm(request.GET, request=request)
        if form.is_valid():
            model = form.cleaned_data["model"]
            establishment, confirm_form, summary = _duplicate_preview(form, request)
    else:
        form = DuplicateForm(request=request)
    return render(
        request,
        "structures/insee/duplicate.html",
        page_context(
            _("Dupliquer une structure"),
            links=[ORGANISATION],
            form=form,
            establishment=establishment,
            establishment_items=_establishment_items(establishment) if establishment else [],
            confirm_form=confirm_form,
            model=model,
            summary=summary,
        ),
    )
