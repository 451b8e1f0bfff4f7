"""Transférer le gestionnaire principal.

Only the current principal manager hands over their own structures: the forms list the
structures the user is principal manager of, whatever other profile they hold (a
delegated administrator sees why they cannot). The *Type de demande* is chosen with a
GET form, so the page works without JavaScript."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, page_context
from structures.fields import structures_to_choose
from structures.forms.transfer import FORMS, GLOBAL, TransferTypeForm
from structures.selectors import transfer as selectors
from structures.services.transfer import (
    TransferRefused,
    structures_transfer_principal_manager,
    structures_transfer_principal_manager_global,
)

DONE_SESSION_KEY = "structures_transfer_done"
KEPT_SESSION_KEY = "structures_transfer_kept"


def _apply(form, kind, actor):
    """Run the transfers the form describes: (transferred, kept deactivated) structures."""
    if kind == GLOBAL:
        return structures_transfer_principal_manager_global(
            structures=form.structures, new_manager=form.cleaned_data["new_manager"], actor=actor
        )
    return structures_transfer_principal_manager(transfers=form.transfers(), actor=actor), []


def _kept_sentence(kept):
    names = ", ".join(sorted(structure.display_name for structure in kept))
    return ngettext(
        "La structure %(names)s est désactivée : elle n’a pas été transférée, vous en restez le "
        "gestionnaire principal.",
        "Les structures %(names)s sont désactivées : elles n’ont pas été transférées, vous en restez le "
        "gestionnaire principal.",
        len(kept),
    ) % {"names": names}


@access.access_required(ApplicationCode.TRANSFERER_GP, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def transfer(request):
    structures = list(
        structures_to_choose(request, ApplicationCode.TRANSFERER_GP, Level.MODIFICATION).filter(
            principal_manager=request.user
        )
    )
    source = request.POST if request.method == "POST" else request.GET
    type_form = TransferTypeForm(source if "type" in source else None)
    kind = type_form.chosen()
    form = None
    if structures:
        form_class = FORMS[kind]
        if request.method == "POST":
            form = form_class(request.POST, user=request.user, structures=structures)
            if form.is_valid():
                try:
                    done, kept = _apply(form, kind, request.user)
                except TransferRefused as refused:
                    # Nothing was applied: the transfers are all or nothing.
                    form.add_error(None, str(refused))
                else:
                    request.session[DONE_SESSION_KEY] = [structure.pk for structure in done]
                    request.session[KEPT_SESSION_KEY] = [structure.pk for structure in kept]
                    summary = "; ".join(
                        f"{structure.display_name} → {structure.principal_manager.name_and_email}"
                        for structure in sorted(done, key=lambda structure: structure.display_name)
                    )
                    text = _("Le rôle de gestionnaire principal a été transféré : %(summary)s.") % {
                        "summary": summary
                    }
                    if kept:
                        text = f"{text} {_kept_sentence(kept)}"
                    messages.success(request, text)
                    return redirect("structures:transfer_done")
        else:
            form = form_class(user=request.user, structures=structures)
    return render(
        request,
        "structures/transfer/transfer.html",
        page_context(
            _("Transférer le gestionnaire principal"),
            links=[ORGANISATION],
            structures=structures,
            type_form=type_form,
            kind=kind,
            form=form,
            can_submit=form.can_submit if form is not None else False,
        ),
    )


@access.authenticated
@require_GET
def transfer_done(request):
    """The confirmation page. Any logged-in user may open it: the former principal
    manager may no longer hold any Organisation profile after the transfer. It shows
    only structures the user is still attached to."""
    structures = selectors.transferred_structures(
        access=access.get_access(request), structure_ids=request.session.get(DONE_SESSION_KEY, [])
    )
    kept = selectors.kept_structures(
        user=request.user, structure_ids=request.session.get(KEPT_SESSION_KEY, [])
    )
    return render(
        request,
        "structures/transfer/done.html",
        page_context(
            _("Transfert du gestionnaire principal effectué"),
            links=[ORGANISATION],
            structures=structures,
            kept=kept,
            can_transfer_more=access.can(request, ApplicationCode.TRANSFERER_GP, Level.MODIFICATION),
        ),
    )
