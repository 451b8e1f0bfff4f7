"""Pièces jointes: upload documents for a structure, list, download, delete. Every
attachment is fetched through the structures the user may act on (another
structure's is a 404) and downloaded through a view, never from a public URL."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, Crumb, page_context
from core.pagination import paginate
from core.storage import download_response
from structures.fields import StructurePickerForm, initial_structure, preselect_single_structure
from structures.forms.attachments import (
    INACTIVE_STRUCTURE_MESSAGE,
    AttachmentForm,
)
from structures.forms.bank import (
    ConfirmForm,
)
from structures.selectors import attachments as selectors
from structures.services import attachments as attachment_services

PAGE_SIZE = 20


def _list_url(structure_id) -> str:
    return f"{reverse('structures:attachment_list')}?{urlencode({'structure': structure_id})}"


def _get_attachment(request, pk, level=Level.CONSULTATION):
    return access.get_object_or_404(
        request, pk, ApplicationCode.GERER_PIECE_JOINTE, level, within=selectors.attachments_within
    )


@access.access_required(ApplicationCode.CREER_PIECE_JOINTE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def attachment_create(request):
    if request.method == "POST":
        form = AttachmentForm(request.POST, request.FILES, user_or_request=request)
        if form.is_valid():
            created = attachment_services.attachment_create(
                actor=request.user, structure=form.cleaned_data["structure"], files=form.checked_files
            )
            names = ", ".join(f"« {attachment.original_name} »" for attachment in created)
            messages.success(
                request,
                ngettext(
                    "La pièce jointe %(names)s a été déposée.",
                    "Les pièces jointes %(names)s ont été déposées.",
                    len(created),
                )
                % {"names": names},
            )
            return redirect(_list_url(form.cleaned_data["structure"].pk))
    else:
        form = AttachmentForm(user_or_request=request, initial=initial_structure(request))
        preselect_single_structure(form)
    return render(
        request,
        "structures/attachments/create.html",
        page_context(_("Créer une pièce jointe"), links=[ORGANISATION], form=form),
    )


@access.access_required(ApplicationCode.GERER_PIECE_JOINTE, Level.CONSULTATION)
@require_GET
def attachment_list(request):
    picker = StructurePickerForm.from_request(request, application_code=ApplicationCode.GERER_PIECE_JOINTE)
    structure = picker.chosen_structure()
    page_obj = None
    can_change = can_create = False
    if structure is not None:
        attachments = selectors.attachments_listed(structure=structure)
        page_obj = paginate(request, attachments, per_page=PAGE_SIZE, numbered=False)
        can_change = access.can(
            request, ApplicationCode.GERER_PIECE_JOINTE, Level.MODIFICATION, structure=structure
        )
        can_create = access.can(
            request, ApplicationCode.CREER_PIECE_JOINTE, Level.MODIFICATION, structure=structure
        )
    return render(
        request,
        "structures/attachments/list.html",
        page_context(
            _("Pièces jointes"),
            links=[ORGANISATION],
            picker=picker,
            structure=structure,
            page_obj=page_obj,
            can_change=can_change,
            can_create=can_create,
        ),
    )


@access.access_required(ApplicationCode.GERER_PIECE_JOINTE, Level.CONSULTATION)
@require_GET
def attachment_download(request, pk):
    attachment = _get_attachment(request, pk)
    return download_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


@access.access_required(ApplicationCode.GERER_PIECE_JOINTE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def attachment_delete(request, pk):
    """A confirmation page (Oui / Non, Soumettre), then the deletion, audited."""
    attachment = _get_attachment(request, pk, Level.MODIFICATION)
    question = _("Voulez-vous supprimer la pièce jointe « %(name)s » ?") % {"name": attachment.original_name}
    form = ConfirmForm(request.POST if request.method == "POST" else None, question=question)
    if form.is_valid():
        if not attachment.structure.is_active:
            form.add_error(None, INACTIVE_STRUCTURE_MESSAGE)
        elif not form.confirmed:
            messages.info(request, _("La pièce jointe n’a pas été supprimée."))
            return redirect(_list_url(attachment.structure_id))
        else:
            structure_id, name = attachment.structure_id, attachment.original_name
            attachment_services.attachment_delete(actor=request.user, attachment=attachment)
            messages.success(request, _("La pièce jointe « %(name)s » a été supprimée.") % {"name": name})
            return redirect(_list_url(structure_id))
    return render(
        request,
        "structures/attachments/delete.html",
        page_context(
            _("Supprimer une pièce jointe"),
            links=[ORGANISATION, Crumb(_("Pièces jointes"), "structures:attachment_list")],
            attachment=attachment,
            form=form,
            structure_inactive=not attachment.structure.is_active,
            inactive_message=INACTIVE_STRUCTURE_MESSAGE,
            list_url=_list_url(attachment.structure_id),
        ),
    )
