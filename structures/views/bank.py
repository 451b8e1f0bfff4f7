"""Créer / gérer une coordonnée bancaire. Bank details are fetched through the
structures the user may act on (another structure's is a 404); they are deactivated,
never deleted; the PDF proof is downloaded through a view that checks access."""

from types import SimpleNamespace

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.kept_uploads import KeptUploads
from core.pages import ORGANISATION, Crumb, page_context
from core.pagination import paginate
from core.storage import download_response
from structures.fields import StructurePickerForm, initial_structure, preselect_single_structure
from structures.forms.bank import (
    KEPT_PURPOSE,
    BankAccountForm,
    ConfirmForm,
)
from structures.selectors import bank as selectors
from structures.services import bank as bank_services

PAGE_SIZE = 20
NOTICE = gettext_lazy(
    "Ces coordonnées bancaires sont informatives : le comptable public ne paie que sur les "
    "coordonnées bancaires déclarées dans le contrat ou le marché public."
)


def _list_url(structure_id) -> str:
    return f"{reverse('structures:bank_list')}?{urlencode({'structure': structure_id})}"


def _get_bank_account(request, pk, level=Level.CONSULTATION):
    return access.get_object_or_404(
        request, pk, ApplicationCode.GERER_COORDONNEE_BANCAIRE, level, within=selectors.bank_accounts_within
    )


@access.access_required(ApplicationCode.CREER_COORDONNEE_BANCAIRE, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def bank_create(request):
    if request.method == "POST":
        form = BankAccountForm(request.POST, request.FILES, user_or_request=request)
        if form.is_valid():
            try:
                bank_account = bank_services.bank_account_create(
                    actor=request.user, bank_account=form.save(commit=False)
                )
            except IntegrityError:
                # Two identical declarations at the same moment: the constraint keeps one.
                form.add_error(None, _("Ce compte est déjà déclaré et actif pour cette structure."))
                form.keep_proof()
            else:
                form.discard_kept()
                messages.success(
                    request,
                    _("La coordonnée bancaire « %(name)s » a été créée.") % {"name": bank_account.name},
                )
                return redirect(_list_url(bank_account.structure_id))
    else:
        form = BankAccountForm(user_or_request=request, initial=initial_structure(request))
        preselect_single_structure(form)
    return render(
        request,
        "structures/bank/create.html",
        page_context(_("Créer une coordonnée bancaire"), links=[ORGANISATION], form=form, notice=NOTICE),
    )


# A token that names no kept file of this user and session: nothing to show.
@access.expect(**dict.fromkeys(("principal_manager", "delegate", "other_structure"), 404))
@access.access_required(ApplicationCode.CREER_COORDONNEE_BANCAIRE, Level.MODIFICATION)
@require_GET
def bank_kept_proof(request, token):
    """The proof kept after a form error, for its preview: only to the user and the
    session that sent it (core.kept_uploads), as a download like any proof."""
    named = KeptUploads(request, KEPT_PURPOSE).entry(token)
    if named is None:
        raise Http404
    _key, entry = named
    stored = SimpleNamespace(storage=default_storage, name=entry["path"])
    return download_response(stored, filename=entry["name"], content_type="application/pdf")


@access.access_required(ApplicationCode.GERER_COORDONNEE_BANCAIRE, Level.CONSULTATION)
@require_GET
def bank_list(request):
    picker = StructurePickerForm.from_request(
        request, application_code=ApplicationCode.GERER_COORDONNEE_BANCAIRE
    )
    structure = picker.chosen_structure()
    page_obj = None
    can_change = False
    if structure is not None:
        bank_accounts = selectors.bank_accounts_listed(structure=structure)
        page_obj = paginate(request, bank_accounts, per_page=PAGE_SIZE, numbered=False)
        can_change = access.can(
            request, ApplicationCode.GERER_COORDONNEE_BANCAIRE, Level.MODIFICATION, structure=structure
        )
    return render(
        request,
        "structures/bank/list.html",
        page_context(
            _("Gérer une coordonnée bancaire"),
            links=[ORGANISATION],
            picker=picker,
            structure=structure,
            page_obj=page_obj,
            can_change=can_change,
            can_create=structure is not None
            and access.can(
                request, ApplicationCode.CREER_COORDONNEE_BANCAIRE, Level.MODIFICATION, structure=structure
            ),
        ),
    )


def _render_detail(request, bank_account, *, confirm_form=None, status=200):
    can_change = access.can(
        request,
        ApplicationCode.GERER_COORDONNEE_BANCAIRE,
        Level.MODIFICATION,
        structure=bank_account.structure,
    )
    if can_change and confirm_form is None:
        confirm_form = _confirm_form(bank_account)
    return render(
        request,
        "structures/bank/detail.html",
        page_context(
            _("Coordonnée bancaire « %(name)s »") % {"name": bank_account.name},
            links=[ORGANISATION, Crumb(_("Gérer une coordonnée bancaire"), "structures:bank_list")],
            bank_account=bank_account,
            can_change=can_change,
            confirm_form=confirm_form,
            list_url=_list_url(bank_account.structure_id),
            notice=NOTICE,
        ),
        status=status,
    )


def _confirm_form(bank_account, data=None):
    if bank_account.is_active:
        question = _("Voulez-vous désactiver ces informations bancaires ?")
    else:
        question = _("Voulez-vous réactiver ces informations bancaires ?")
    return ConfirmForm(data, question=question)


@access.access_required(ApplicationCode.GERER_COORDONNEE_BANCAIRE, Level.CONSULTATION)
@require_GET
def bank_detail(request, pk):
    return _render_detail(request, _get_bank_account(request, pk))


@access.access_required(ApplicationCode.GERER_COORDONNEE_BANCAIRE, Level.MODIFICATION)
@require_POST
def bank_change_status(request, pk):
    """Deactivate an active bank detail, or reactivate an inactive one, after a yes."""
    bank_account = _get_bank_account(request, pk, Level.MODIFICATION)
    form = _confirm_form(bank_account, request.POST)
    if not form.is_valid():
        return _render_detail(request, bank_account, confirm_form=form)
    if not form.confirmed:
        messages.info(request, _("Les coordonnées bancaires n’ont pas été modifiées."))
        return redirect("structures:bank_detail", pk=bank_account.pk)
    change = (
        bank_services.bank_account_deactivate
        if bank_account.is_active
        else bank_services.bank_account_reactivate
    )
    try:
        bank_account = change(bank_account_id=bank_account.pk, actor=request.user)
    except bank_services.BankAccountStateError as error:
        form.add_error(None, error.message)
        return _render_detail(request, bank_account, confirm_form=form)
    if bank_account.is_active:
        message = _("Les coordonnées bancaires « %(name)s » ont été réactivées.")
    else:
        message = _("Les coordonnées bancaires « %(name)s » ont été désactivées.")
    messages.success(request, message % {"name": bank_account.name})
    return redirect("structures:bank_detail", pk=bank_account.pk)


@access.access_required(ApplicationCode.GERER_COORDONNEE_BANCAIRE, Level.CONSULTATION)
@require_GET
def bank_proof(request, pk):
    bank_account = _get_bank_account(request, pk)
    if not bank_account.proof:
        raise Http404
    return download_response(
        bank_account.proof, filename=bank_account.proof_name, content_type="application/pdf"
    )
