"""Approbations: raising a request, deciding it (once), counting and notifying.

The approvers of a structure are its principal manager and the users holding
Organisation – modification on it (delegated administrators): the same rule as
`chorus.access`; approvals.selectors reads them.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import selectors
from approvals.models import ApprovalRequest
from chorus import access, audit
from chorus.actions import AuditAction
from chorus.codes import ApplicationCode
from core import mail
from core.errors import Refused
from structures.models import Structure
from users.models import Membership
from users.services import habilitations
from users.services import members as user_services
from users.services.habilitations import profile_label

Kind = ApprovalRequest.Kind
Status = ApprovalRequest.Status


class RequestError(Refused):
    """A request or a decision that cannot be made; the message is French, for the user."""


class AlreadyDecided(RequestError):
    """Someone decided the request first (two approvers at the same moment)."""

    def __init__(self, approval):
        super().__init__(_("Cette demande a déjà été traitée"))
        self.approval = approval


# Raising a request


def _inactive_structure_error(structure):
    return RequestError(
        _(
            "La structure %(name)s est désactivée : elle doit d’abord être réactivée "
            "(Gérer une structure › Activer une structure)."
        )
        % {"name": structure.display_name}
    )


def _lock_structure(structure):
    # Serialises the requests on one structure: two identical requests sent at once,
    # or two first comers on an empty structure, are seen one after the other.
    return Structure.objects.select_for_update().get(pk=structure.pk)


def _refuse_foreign_or_inactive_services(structure, services) -> None:
    for service in services:
        if service.structure_id != structure.pk:
            raise RequestError(_("Le service choisi n’appartient pas à cette structure."))
        if not service.is_active:
            raise RequestError(_("Le service %(service)s est inactif.") % {"service": service.name})


def _refuse_identical_attachment_request(requester, structure, wanted) -> None:
    for pending in ApprovalRequest.objects.filter(
        requester=requester, kind=Kind.RATTACHEMENT, structure=structure, status=Status.EN_ATTENTE
    ).prefetch_related("services"):
        if {service.pk for service in pending.services.all()} == wanted:
            raise RequestError(
                _("Une demande identique est déjà en attente de validation (%(number)s).")
                % {"number": pending.number}
            )


def _refuse_live_attachment(requester, structure, wanted) -> None:
    """Refuse what the requester already has, or already waits for."""
    live = Membership.objects.filter(
        user=requester, structure=structure, status__in=Membership.LIVE_STATUSES
    ).select_related("service")
    for membership in live:
        if membership.service_id is None:
            if membership.status == Membership.Status.VALIDEE:
                raise RequestError(_("Vous êtes déjà rattaché à toute cette structure."))
            raise RequestError(
                _("Une demande de rattachement à cette structure est déjà en attente de validation.")
            )
        if membership.service_id in wanted:
            if membership.status == Membership.Status.VALIDEE:
                message = _("Vous êtes déjà rattaché au service %(service)s.")
            else:
                message = _("Une demande de rattachement au service %(service)s est déjà en attente.")
            raise RequestError(message % {"service": membership.service.name})


def _grant_attachment_at_once(approval, *, targets, comment) -> ApprovalRequest:
    requester, structure = approval.requester, approval.structure
    approval.status = Status.APPROUVEE
    approval.decided_by = requester
    approval.decided_at = timezone.now()
    approval.granted_at_once = True
    approval.save(update_fields=["status", "decided_by", "decided_at", "granted_at_once"])
    for service in targets:
        user_services.membership_attach(
            user=requester, structure=structure, service=service, actor=requester, comment=comment
        )
    audit.record(
        actor=requester, obj=approval, action=AuditAction.APPROVAL_GRANTED_AT_ONCE, changes=_summary(approval)
    )
    return approval


@transaction.atomic
def request_attachment(*, requester, structure, services=(), comment="") -> ApprovalRequest:
    """Ask to be attached to a structure (no services) or to some of its services.

    A structure nobody is attached to has no approver: the attachment is granted at
    once and the requester becomes its principal manager. Otherwise the request waits,
    and the requester sees the attachments "en cours de validation"."""
    structure = _lock_structure(structure)
    services = sorted(set(services), key=lambda service: service.code)
    comment = comment.strip()
    if not structure.accepts_attachment_requests:
        raise _inactive_structure_error(structure)
    _refuse_foreign_or_inactive_services(structure, services)
    wanted = {service.pk for service in services}
    _refuse_identical_attachment_request(requester, structure, wanted)
    _refuse_live_attachment(requester, structure, wanted)

    approval = ApprovalRequest.objects.create(
        kind=Kind.RATTACHEMENT, requester=requester, structure=structure, comment=comment
    )
    approval.services.set(services)
    targets = services or [None]
    nobody_attached = (
        structure.principal_manager_id is None
        and not Membership.objects.filter(structure=structure, status=Membership.Status.VALIDEE).exists()
    )
    if nobody_attached:
        return _grant_attachment_at_once(approval, targets=targets, comment=comment)

    for service in targets:
        Membership.objects.create(
            user=requester,
            structure=structure,
            service=service,
            status=Membership.Status.EN_COURS_DE_VALIDATION,
            comment=comment,
        )
    audit.record(
        actor=requester, obj=approval, action=AuditAction.APPROVAL_REQUEST, changes=_summary(approval)
    )
    return approval


def _refuse_ungrantable_or_unheld(requester, structure, service, *, add, remove) -> None:
    grantable = set(habilitations.grantable_profiles().values_list("pk", flat=True))
    held = habilitations.held_profile_ids(user=requester, structure=structure, service=service)
    for profile in sorted(add, key=profile_label):
        if profile.pk not in grantable:
            raise RequestError(
                _("Le profil %(profile)s ne peut pas être attribué.") % {"profile": profile_label(profile)}
            )
        if profile.pk in held:
            raise RequestError(
                _("Vous possédez déjà le profil sélectionné : %(profile)s.")
                % {"profile": profile_label(profile)}
            )
    for profile in sorted(remove, key=profile_label):
        if profile.pk not in held:
            raise RequestError(
                _("Vous ne possédez pas le profil %(profile)s.") % {"profile": profile_label(profile)}
            )


def _refuse_overlapping_profiles_request(requester, structure, service, *, add, remove) -> None:
    wanted_add, wanted_remove = {p.pk for p in add}, {p.pk for p in remove}
    for pending in ApprovalRequest.objects.filter(
        requester=requester,
        kind=Kind.HABILITATIONS,
        structure=structure,
        service=service,
        status=Status.EN_ATTENTE,
    ).prefetch_related("profiles_to_add", "profiles_to_remove"):
        pending_add = {p.pk for p in pending.profiles_to_add.all()}
        pending_remove = {p.pk for p in pending.profiles_to_remove.all()}
        if (pending_add, pending_remove) == (wanted_add, wanted_remove):
            raise RequestError(
                _("Une demande identique est déjà en attente de validation (%(number)s).")
                % {"number": pending.number}
            )
        if (pending_add | pending_remove) & (wanted_add | wanted_remove):
            raise RequestError(
                _("Un de ces profils fait déjà l’objet d’une demande en attente (%(number)s).")
                % {"number": pending.number}
            )


@transaction.atomic
def request_profiles(*, requester, structure, service=None, add=(), remove=(), comment="") -> ApprovalRequest:
    """Ask for profiles to be added to (or removed from) oneself, on a structure or one
    of its services. What a simple user asks from *Gérer mes habilitations*."""
    structure = _lock_structure(structure)
    add, remove = set(add), set(remove)
    comment = comment.strip()
    if not structure.is_active:
        raise _inactive_structure_error(structure)
    if not add and not remove:
        raise RequestError(_("Choisissez au moins un profil à ajouter ou à retirer."))
    if add & remove:
        raise RequestError(_("Un même profil ne peut pas être à la fois ajouté et retiré."))
    if service is not None and service.structure_id != structure.pk:
        raise RequestError(_("Le service choisi n’appartient pas à cette structure."))
    attachments = Membership.objects.filter(
        user=requester, structure=structure, status=Membership.Status.VALIDEE
    )
    if not attachments.filter(service__isnull=True).exists() and not (
        service is not None and attachments.filter(service=service).exists()
    ):
        raise RequestError(_("Vous n’êtes pas rattaché à cette structure (ou à ce service)."))

    _refuse_ungrantable_or_unheld(requester, structure, service, add=add, remove=remove)
    _refuse_overlapping_profiles_request(requester, structure, service, add=add, remove=remove)

    approval = ApprovalRequest.objects.create(
        kind=Kind.HABILITATIONS, requester=requester, structure=structure, service=service, comment=comment
    )
    approval.profiles_to_add.set(add)
    approval.profiles_to_remove.set(remove)
    audit.record(
        actor=requester, obj=approval, action=AuditAction.APPROVAL_REQUEST, changes=_summary(approval)
    )
    return approval


def _summary(approval) -> dict:
    """What the request asks, for the audit trail."""
    summary = {"kind": approval.kind}
    if approval.kind == Kind.RATTACHEMENT:
        summary["services"] = [service.code for service in approval.services.all()]
    else:
        summary["service"] = approval.service.code if approval.service_id else None
        summary["add"] = [str(profile) for profile in approval.profiles_to_add.all()]
        summary["remove"] = [str(profile) for profile in approval.profiles_to_remove.all()]
    return summary


# Deciding


@transaction.atomic
def approval_decide(
    *, request_id: int, approver, approve: bool, reason: str = "", profiles=()
) -> ApprovalRequest:
    """Approve (apply what was asked) or refuse (with a reason) a pending request, once.

    Approving an attachment may grant `profiles` to the new member, on the structure
    or on each service asked for: only those the approver may grant there.

    The row lock makes a second approver wait for the first decision, then see it
    (AlreadyDecided). A request of a structure the approver does not administer raises
    ApprovalRequest.DoesNotExist, like an unknown id: its existence is not confirmed."""
    approval = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("structure", "requester", "service")
        .get(pk=request_id)
    )
    administered = selectors.administered_structure_ids(access=access.load_access(approver))
    if approval.requester_id == approver.pk or approval.structure_id not in administered:
        raise ApprovalRequest.DoesNotExist
    if not approval.is_pending:
        raise AlreadyDecided(approval)
    reason = reason.strip()
    if not approve and not reason:
        raise RequestError(_("Indiquez le motif du refus."))

    profiles = list(profiles)
    if profiles and (not approve or approval.kind != Kind.RATTACHEMENT):
        raise RequestError(_("Des profils ne s’accordent qu’en approuvant une demande de rattachement."))
    applied = {}
    if approve:
        applied = _apply(approval, approver)
        if profiles:
            applied.update(_grant_profiles(approval, approver, profiles))
        approval.status = Status.APPROUVEE
        approval.reason = ""
    else:
        Membership.objects.filter(
            pk__in=_pending_memberships(approval).values("pk"),
        ).update(status=Membership.Status.REFUSEE, ended_at=timezone.now(), updated_at=timezone.now())
        approval.status = Status.REFUSEE
        approval.reason = reason
    approval.decided_by = approver
    approval.decided_at = timezone.now()
    approval.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    changes = {"status": {"before": Status.EN_ATTENTE.value, "after": approval.status}}
    if reason and not approve:
        changes["reason"] = reason
    if applied:
        # What the approval did (attachments, profiles) is told here: one record.
        changes["applied"] = applied
    audit.record(
        actor=approver,
        obj=approval,
        action=AuditAction.APPROVAL_APPROVE if approve else AuditAction.APPROVAL_REFUSE,
        changes=changes,
    )
    mail.send_templated(
        template="approvals/email/approval_decided",
        to=approval.requester.notification_email,
        context={"approval": approval, "approved": approve, "service_names": _service_names(approval)},
    )
    return approval


def _service_names(approval) -> str:
    """The services a request is about, as the decision email names them ("" for the
    whole structure)."""
    names = [service.name for service in approval.services.all()]
    if not names and approval.service:
        names = [approval.service.name]
    return ", ".join(names)


def _pending_memberships(approval):
    """The attachments "en cours de validation" this request created."""
    pending = Membership.objects.filter(
        user=approval.requester,
        structure=approval.structure,
        status=Membership.Status.EN_COURS_DE_VALIDATION,
    )
    services = list(approval.services.all())
    if services:
        return pending.filter(service__in=services)
    return pending.filter(service__isnull=True)


def _apply(approval, approver) -> dict:
    """Apply an approved request; returns the changes, for the approval's audit record."""
    if approval.kind == Kind.RATTACHEMENT:
        return _apply_attachment(approval, approver)
    return _apply_profiles(approval, approver)


def _apply_attachment(approval, approver) -> dict:
    structure = approval.structure
    applied = {}
    if not structure.is_active:
        raise _inactive_structure_error(structure)
    for service in list(approval.services.all()) or [None]:
        pending = (
            Membership.objects.select_for_update()
            .filter(
                user=approval.requester,
                structure=structure,
                service=service,
                status=Membership.Status.EN_COURS_DE_VALIDATION,
            )
            .order_by("pk")
            .first()
        )
        if pending is not None:
            # The validated attachment replaces the one shown "en cours de validation";
            # membership_attach keeps the principal manager rule in one place.
            pending.delete()
        elif Membership.objects.filter(
            user=approval.requester, structure=structure, service=service, status=Membership.Status.VALIDEE
        ).exists():
            continue  # attached in the meantime (Rattacher un utilisateur): nothing to do
        _membership, attached = user_services.attach_unrecorded(
            user=approval.requester, structure=structure, service=service, comment=approval.comment
        )
        applied.setdefault("attached", []).append(attached.pop("service") or structure.display_name)
        applied.update(attached)
    return applied


def _grant_profiles(approval, approver, profiles) -> dict:
    """Grant the profiles chosen by the approver to the member just attached, through
    the one habilitation transition (the approval's record tells it)."""
    structure = approval.structure
    refusal = habilitations.offer_refusal(actor=approver, structure=structure, profiles=profiles)
    if refusal:
        raise RequestError(refusal)
    user = approval.requester
    structure.refresh_from_db(fields=["principal_manager"])
    if structure.principal_manager_id == user.pk:
        # The first member is principal manager: Organisation is theirs by role.
        profiles = [
            profile for profile in profiles if profile.application.code != ApplicationCode.ORGANISATION
        ]
    granted = set()
    for service in list(approval.services.all()) or [None]:
        held = habilitations.held_profile_ids(user=user, structure=structure, service=service)
        add = [profile for profile in profiles if profile.pk not in held]
        if not add:
            continue
        try:
            habilitations.habilitations_apply(
                actor=approver, user=user, structure=structure, service=service, add=add, record=False
            )
        except habilitations.HabilitationError as exc:
            raise RequestError(exc.message) from exc
        granted.update(habilitations.profile_label(profile) for profile in add)
    return {"added": sorted(granted)} if granted else {}


def _apply_profiles(approval, approver):
    attachments = Membership.objects.filter(
        user=approval.requester, structure=approval.structure, status=Membership.Status.VALIDEE
    )
    if not attachments.filter(service__isnull=True).exists() and not (
        approval.service_id and attachments.filter(service_id=approval.service_id).exists()
    ):
        raise RequestError(_("Le demandeur n’est plus rattaché à cette structure : refusez la demande."))
    try:
        return habilitations.habilitations_apply(
            record=False,
            actor=approver,
            user=approval.requester,
            structure=approval.structure,
            service=approval.service,
            add=list(approval.profiles_to_add.select_related("application")),
            remove=list(approval.profiles_to_remove.select_related("application")),
        )
    except habilitations.HabilitationError as exc:
        raise RequestError(str(exc)) from exc


# Notifying the approvers


@transaction.atomic
def digest_send() -> tuple[int, int]:
    """Email each approver ONE message listing the requests waiting for them that no
    digest mentioned yet, and remember them (notified_at). Returns (emails, requests).

    Requests of a structure without an active approver stay unmentioned: they will be
    in the first digest after an operator appoints a principal manager. Rows are locked
    and skipped when locked, so two overlapping runs cannot announce a request twice."""
    pending = list(
        ApprovalRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Status.EN_ATTENTE, notified_at__isnull=True)
        .select_related("requester", "structure", "service")
        .order_by("created_at", "id")
    )
    if not pending:
        return 0, 0
    approvers = selectors.approver_ids_by_structure({approval.structure_id for approval in pending})
    by_approver = defaultdict(list)
    notified = []
    for approval in pending:
        recipients = approvers.get(approval.structure_id, set()) - {approval.requester_id}
        for user_id in recipients:
            by_approver[user_id].append(approval)
        if recipients:
            notified.append(approval.pk)
    users = get_user_model().objects.in_bulk(list(by_approver))
    for user_id, approvals in sorted(by_approver.items()):
        user = users[user_id]
        mail.send_templated(
            template="approvals/email/approval_digest",
            to=user.notification_email,
            context={"approver": user, "approvals": approvals, "count": len(approvals)},
        )
    ApprovalRequest.objects.filter(pk__in=notified).update(notified_at=timezone.now())
    return len(by_approver), len(notified)
