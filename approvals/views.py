"""Approbations: ask to be attached (Demander un rattachement), the approvers' inbox and
detail (approve, refuse with a reason, several at once), and the requester's history.

An approver reaches only the requests of the structures they administer (principal
manager or Organisation – modification): another structure's request is a 404."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from approvals import selectors, services
from approvals.forms import (
    AttachmentRequestForm,
    BulkDecisionForm,
    FindStructureForm,
    InboxFilterForm,
    RefusalForm,
    StructureClaimForm,
    structures_with_identifier,
)
from approvals.models import ApprovalRequest
from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level, Profile
from core.pages import ACCOUNT, ORGANISATION, Crumb, page_context
from core.pagination import paginate
from structures.services import claims
from users.forms.members import ApprovalProfilesForm

PAGE_SIZE = 25


def _with_details(queryset):
    """Everything a list row shows, in a fixed number of queries."""
    profiles = Profile.objects.select_related("application")
    return queryset.select_related("requester", "structure", "service", "decided_by").prefetch_related(
        "services",
        Prefetch("profiles_to_add", queryset=profiles),
        Prefetch("profiles_to_remove", queryset=profiles),
    )


# Demander un rattachement


@access.access_required(ApplicationCode.DEMANDER_RATTACHEMENT)
@require_http_methods(["GET", "POST"])
def request_attachment(request):
    """Find a structure by its identifier typed in full, then ask to join it (or some of
    its services). A structure nobody is attached to is joined at once, as principal
    manager."""
    identifier = (
        request.POST.get("identifiant") if request.method == "POST" else request.GET.get("identifiant")
    )
    find_form = FindStructureForm({"identifiant": identifier} if identifier is not None else None)
    structures, form, refusal, claim_url = [], None, "", ""
    if find_form.is_valid():
        structures = list(structures_with_identifier(find_form.cleaned_data["identifiant"]))
        if _claimable(structures, request.user):
            claim_url = _claim_url(find_form.cleaned_data["identifiant"])
        if not structures:
            find_form.add_error(
                "identifiant",
                _("Aucune structure ne correspond à cet identifiant. Vérifiez-le : il doit être complet."),
            )
        elif all(not structure.accepts_attachment_requests for structure in structures):
            refusal = _(
                "Cette structure est désactivée : aucun rattachement n’est possible tant qu’elle n’est "
                "pas réactivée (Gérer une structure › Activer une structure)."
            )
        else:
            structures = [structure for structure in structures if structure.accepts_attachment_requests]
            data = request.POST if request.method == "POST" else None
            initial = {"identifiant": find_form.cleaned_data["identifiant"]}
            if len(structures) == 1:
                initial["structure"] = structures[0].pk
            form = AttachmentRequestForm(data, structures=structures, initial=initial)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            approval = services.request_attachment(
                requester=request.user,
                structure=form.cleaned_data["structure"],
                services=form.cleaned_data["services"],
                comment=form.cleaned_data["comment"],
            )
        except services.RequestError as exc:
            form.add_error(None, exc.message)
        else:
            name = approval.structure.display_name
            if approval.granted_at_once:
                messages.success(
                    request,
                    _(
                        "Vous êtes rattaché à la structure %(name)s. Personne n’y était encore "
                        "rattaché : vous en êtes le gestionnaire principal."
                    )
                    % {"name": name},
                )
            else:
                messages.success(
                    request,
                    _(
                        "Votre demande de rattachement %(number)s à la structure %(name)s est "
                        "envoyée à ses gestionnaires. Vous serez informé par courriel de leur décision."
                    )
                    % {"number": approval.number, "name": name},
                )
            return redirect("approvals:my_requests")
    return render(
        request,
        "approvals/request_attachment.html",
        page_context(
            _("Demander un rattachement"),
            links=[ORGANISATION],
            find_form=find_form,
            form=form,
            structures=structures,
            refusal=refusal,
            claim_url=claim_url,
        ),
    )


def _claimable(structures, user):
    """The structures found that someone administers, and not this user."""
    return [s for s in structures if s.principal_manager_id is not None and s.principal_manager_id != user.pk]


def _claim_url(identifier):
    return f"{reverse('approvals:claim_structure')}?{urlencode({'identifiant': identifier})}"


@access.access_required(ApplicationCode.DEMANDER_RATTACHEMENT)
@require_http_methods(["GET", "POST"])
def claim_structure(request):
    """Signaler une structure usurpée / revendiquer cette structure: found, as for an
    attachment request, by its identifier typed in full. Its managers hear of the claim
    only once the operators have decided."""
    identifier = (
        request.POST.get("identifiant") if request.method == "POST" else request.GET.get("identifiant")
    )
    # Checked as on Demander un rattachement (length, characters) before any lookup.
    find_form = FindStructureForm({"identifiant": identifier})
    identifier = find_form.cleaned_data["identifiant"] if find_form.is_valid() else ""
    structures = _claimable(structures_with_identifier(identifier), request.user)
    if not structures:
        messages.error(
            request,
            _(
                "Aucune structure à revendiquer ne correspond à cet identifiant : "
                "recherchez-la par son identifiant complet."
            ),
        )
        target = reverse("approvals:request_attachment")
        return redirect(f"{target}?{urlencode({'identifiant': identifier})}" if identifier else target)
    initial = {"identifiant": identifier}
    if len(structures) == 1:
        initial["structure"] = structures[0].pk
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = StructureClaimForm(data, files, structures=structures, initial=initial)
    if request.method == "POST" and form.is_valid():
        proof = form.cleaned_data["proof"] or None
        try:
            claim = claims.structure_claim_file(
                claimant=request.user,
                structure=form.cleaned_data["structure"],
                explanation=form.cleaned_data["explanation"],
                proof=proof,
                proof_name=form.checked_proof.name if proof else "",
            )
        except claims.ClaimRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Votre revendication de la structure %(name)s est transmise aux opérateurs du portail. "
                    "Vous serez informé par courriel de leur décision."
                )
                % {"name": claim.structure.display_name},
            )
            return redirect("approvals:my_requests")
    return render(
        request,
        "approvals/claim.html",
        page_context(
            _("Revendiquer une structure"),
            links=[
                ORGANISATION,
                Crumb(_("Demander un rattachement"), "approvals:request_attachment"),
            ],
            form=form,
            structures=structures,
        ),
    )


# The approvers' inbox


@access.access_required(ApplicationCode.APPROBATIONS)
@require_http_methods(["GET", "POST"])
def inbox(request):
    """Pending requests of my structures, oldest first; several decided at once."""
    filter_form = InboxFilterForm(request.GET or None, request=request)
    pending = selectors.requests_to_decide(access=access.get_access(request))
    # Unfiltered, the list holds what the header's badge counts: one COUNT for both.
    count = selectors.pending_count_for(access=access.get_access(request))
    if filter_form.is_valid():
        if filter_form.cleaned_data["kind"]:
            pending, count = pending.filter(kind=filter_form.cleaned_data["kind"]), None
        if filter_form.cleaned_data["structure"]:
            pending, count = pending.filter(structure=filter_form.cleaned_data["structure"]), None
    pending = _with_details(pending).order_by("created_at", "id")

    bulk_form = BulkDecisionForm(
        request.POST if request.method == "POST" else None,
        decidable=selectors.decidable(access=access.get_access(request)),
    )
    if request.method == "POST" and bulk_form.is_valid():
        _decide_several(request, bulk_form)
        return redirect(request.get_full_path())

    return render(
        request,
        "approvals/inbox.html",
        page_context(
            _("Approbations"),
            links=[ORGANISATION],
            filter_form=filter_form,
            bulk_form=bulk_form,
            page_obj=paginate(request, pending, per_page=PAGE_SIZE, count=count, on_each_side=3, on_ends=2),
            selected={str(pk) for pk in request.POST.getlist("requests")},
        ),
    )


def _decide_several(request, form):
    """Each request gets its own decision, effect and email; one failing does not undo
    the others. The report says how many were decided and which were not."""
    approve, reason = form.approve, form.cleaned_data["reason"]
    decided, already, failed = [], [], []
    for approval in sorted(form.cleaned_data["requests"], key=lambda a: (a.created_at, a.pk)):
        try:
            _decide_one(request, approval, approve=approve, reason=reason)
        except services.AlreadyDecided:
            already.append(approval.number)
        except services.RequestError as exc:
            failed.append(f"{approval.number} : {exc.message}")
        except ApprovalRequest.DoesNotExist:
            failed.append(f"{approval.number} : {_('demande introuvable')}")
        else:
            decided.append(approval.number)
    _report_decisions(request, approve=approve, decided=decided, already=already, failed=failed)


def _decide_one(request, approval, *, approve, reason):
    """An approved attachment request receives the default profiles of its own page
    (consultation of the applications offered to its structure): the page says so
    before one confirms."""
    profiles = []
    if approve:
        may_grant = access.can(
            request, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, approval.structure_id
        )
        profiles = selectors.default_attachment_profiles(approval=approval, may_grant=may_grant)
    services.approval_decide(
        request_id=approval.pk,
        approver=request.user,
        approve=approve,
        reason=reason,
        profiles=profiles,
    )


def _report_decisions(request, *, approve, decided, already, failed):
    if decided:
        if approve:
            text = ngettext("%(count)d demande approuvée.", "%(count)d demandes approuvées.", len(decided))
        else:
            text = ngettext("%(count)d demande refusée.", "%(count)d demandes refusées.", len(decided))
        messages.success(request, text % {"count": len(decided)})
    if already:
        messages.warning(
            request,
            ngettext(
                "Cette demande a déjà été traitée : %(numbers)s.",
                "Ces demandes ont déjà été traitées : %(numbers)s.",
                len(already),
            )
            % {"numbers": ", ".join(already)},
        )
    for failure in failed:
        messages.error(request, _("Demande non traitée — %(detail)s") % {"detail": failure})


def _get_decidable(request, pk):
    return get_object_or_404(_with_details(selectors.decidable(access=access.get_access(request))), pk=pk)


@access.access_required(ApplicationCode.APPROBATIONS)
@access.expect(**access.NOT_AN_APPROVER)
@require_http_methods(["GET"])
def detail(request, pk):
    approval = _get_decidable(request, pk)
    return _render_detail(request, approval, RefusalForm())


def _profiles_form(request, approval, data=None):
    """The profiles to grant on approving an attachment request, consultation chosen
    by default; None for another kind of request or a decided one."""
    if approval.kind != ApprovalRequest.Kind.RATTACHEMENT or not approval.is_pending:
        return None
    return ApprovalProfilesForm(data, structure=approval.structure, request=request, auto_id="approbation_%s")


def _render_detail(request, approval, refusal_form, *, status=200, profiles_form=None):
    return render(
        request,
        "approvals/detail.html",
        page_context(
            _("Demande %(number)s") % {"number": approval.number},
            links=[ORGANISATION, Crumb(_("Approbations"), "approvals:inbox")],
            approval=approval,
            approvers=selectors.approvers_of(approval.structure),
            refusal_form=refusal_form,
            profiles_form=profiles_form or _profiles_form(request, approval),
            noscript_refusal_form=RefusalForm(auto_id="sans-js-%s"),
            # A refusal sent without its reason shows its form on the page, with the error.
            refusal_inline=refusal_form.is_bound,
        ),
        status=status,
    )


@access.access_required(ApplicationCode.APPROBATIONS)
@access.expect(**access.NOT_AN_APPROVER)
@require_POST
def approve(request, pk):
    approval = _get_decidable(request, pk)
    form = _profiles_form(request, approval, request.POST)
    if form is not None and not form.is_valid():
        return _render_detail(request, approval, RefusalForm(), profiles_form=form)
    return _decide(request, approval, approve=True, profiles=form.chosen_profiles() if form else ())


@access.access_required(ApplicationCode.APPROBATIONS)
@access.expect(**access.NOT_AN_APPROVER)
@require_POST
def refuse(request, pk):
    approval = _get_decidable(request, pk)
    form = RefusalForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, approval, form)
    return _decide(request, approval, approve=False, reason=form.cleaned_data["reason"])


def _decide(request, approval, *, approve, reason="", profiles=()):
    try:
        services.approval_decide(
            request_id=approval.pk, approver=request.user, approve=approve, reason=reason, profiles=profiles
        )
    except ApprovalRequest.DoesNotExist:
        raise Http404 from None
    except services.AlreadyDecided as exc:
        messages.error(request, exc.message)
        return redirect("approvals:inbox")
    except services.RequestError as exc:
        messages.error(request, exc.message)
        return redirect("approvals:detail", pk=approval.pk)
    if approve:
        text = _("La demande %(number)s de %(name)s est approuvée : elle s’applique dès maintenant.")
    else:
        text = _("La demande %(number)s de %(name)s est refusée : le demandeur en est informé par courriel.")
    messages.success(request, text % {"number": approval.number, "name": approval.requester})
    return redirect("approvals:inbox")


# Historique de mes demandes


@access.authenticated
@require_http_methods(["GET"])
def my_requests(request):
    mine = _with_details(ApprovalRequest.objects.filter(requester=request.user)).order_by(
        "-created_at", "-id"
    )
    return render(
        request,
        "approvals/my_requests.html",
        page_context(
            _("Historique de mes demandes"),
            links=[ACCOUNT],
            page_obj=paginate(request, mine, per_page=PAGE_SIZE, on_each_side=3, on_ends=2),
        ),
    )
