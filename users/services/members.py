"""Attachment of users to structures: the transitions that keep the invariants."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus import audit
from chorus.actions import AuditAction
from chorus.codes import ApplicationCode
from chorus.models import Habilitation, Level
from core import mail
from core.errors import Refused
from structures.models import Structure
from users.models import Membership, User


class MembershipError(Refused):
    """A refused attachment or detachment; the message is French, for the form."""


class PrincipalManagerError(MembershipError):
    """Invariant principal-manager-hands-over-first (docs/architecture.md): the principal
    manager stays attached until they hand the role over."""

    def __init__(self, message=None):
        super().__init__(
            message or _("Le gestionnaire principal ne peut pas être détaché : transférez d’abord son rôle.")
        )


@transaction.atomic
def membership_attach(*, user, structure, service=None, actor=None, comment="") -> Membership:
    """Attach a user to a structure (or one of its services), validated at once.

    The first user attached to a structure without a principal manager becomes its
    principal manager, and a structure that waited for them ("activation en cours")
    becomes active. The structure row is locked so that two simultaneous first
    attachments cannot both take the role: the second one waits, then sees the first.
    """
    membership, changes = attach_unrecorded(user=user, structure=structure, service=service, comment=comment)
    audit.record(actor=actor or user, obj=membership, action=AuditAction.MEMBERSHIP_ATTACH, changes=changes)
    return membership


def attach_unrecorded(*, user, structure, service=None, comment="") -> tuple[Membership, dict]:
    """membership_attach without its audit record, for an action that attaches to
    several services at once or decides a request: it writes one record for the
    whole. Returns the membership and the changes to record."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if service is not None and service.structure_id != structure.pk:
        raise ValueError("The service does not belong to the structure.")
    membership = Membership.objects.create(
        user=user, structure=structure, service=service, status=Membership.Status.VALIDEE, comment=comment
    )
    changes = {"service": service.code if service else None}
    if structure.principal_manager_id is None:
        structure.principal_manager = user
        update_fields = ["principal_manager", "updated_at"]
        if structure.status == Structure.Status.EN_COURS_ACTIVATION:
            # A structure nobody was attached to waited for its principal manager
            # (constraint structure_active_has_principal_manager): it has one now.
            structure.status = Structure.Status.ACTIVE
            update_fields.append("status")
            changes["status"] = {"before": Structure.Status.EN_COURS_ACTIVATION, "after": structure.status}
        structure.save(update_fields=update_fields)
        changes["principal_manager"] = {"before": None, "after": user.email}
    return membership, changes


def refuse_live_membership(user, structure, services):
    """Raise when the user already holds a live attachment at the level asked for."""
    live = Membership.objects.filter(user=user, structure=structure, status__in=Membership.LIVE_STATUSES)
    if services:
        live = live.filter(service__in=services).select_related("service").order_by("service__code")
    else:
        live = live.filter(service__isnull=True)
    membership = live.first()
    if membership is None:
        return
    if membership.status == Membership.Status.EN_COURS_DE_VALIDATION:
        raise MembershipError(
            _(
                "L’utilisateur a déjà une demande de rattachement en cours pour « %(target)s » : "
                "traitez-la dans Approbations."
            )
            % {"target": membership.service.name if membership.service else structure.display_name}
        )
    if membership.service is not None:
        raise MembershipError(
            _("L’utilisateur est déjà rattaché au service « %(service)s ».")
            % {"service": membership.service.name}
        )
    raise MembershipError(_("L’utilisateur est déjà rattaché à cette structure."))


@transaction.atomic
def membership_detach(*, membership, actor, comment) -> list[Membership]:
    """End an attachment: status DESACTIVEE, end date and comment kept as history.

    A structure-level detach also ends the user's service-level attachments on that
    structure. A detach from a service removes the habilitations held on that service.
    When nothing live remains on the structure, every habilitation of the user there is
    removed: the user has left the structure. Returns the memberships ended."""
    ended, changes = _detach_unrecorded(membership=membership, comment=comment)
    audit.record(actor=actor, obj=ended[0], action=AuditAction.MEMBERSHIP_DETACH, changes=changes)
    return ended


def _detach_unrecorded(*, membership, comment) -> tuple[list[Membership], dict]:
    """membership_detach without its audit record: the caller writes one for the whole
    action. Returns the memberships ended and the changes to record."""
    comment = (comment or "").strip()
    if not comment:
        raise MembershipError(_("Le commentaire est obligatoire."))
    structure = Structure.objects.select_for_update().get(pk=membership.structure_id)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "service")
        .get(pk=membership.pk)
    )
    user = membership.user
    if membership.status not in Membership.LIVE_STATUSES:
        raise MembershipError(_("Ce rattachement est déjà terminé."))
    if structure.principal_manager_id == user.pk:
        raise PrincipalManagerError()

    to_end = [membership]
    if membership.service_id is None:
        to_end += list(
            Membership.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(
                user=user, structure=structure, service__isnull=False, status__in=Membership.LIVE_STATUSES
            )
            .order_by("service__code")
        )
    now = timezone.now()
    changes = {
        "status": {"before": membership.status, "after": Membership.Status.DESACTIVEE},
        "service": membership.service.code if membership.service else None,
        "comment": comment,
    }
    for ended in to_end:
        ended.status = Membership.Status.DESACTIVEE
        ended.ended_at = now
        ended.comment = comment
        ended.save(update_fields=["status", "ended_at", "comment", "updated_at"])
    if len(to_end) > 1:
        changes["services_ended"] = [ended.service.code for ended in to_end if ended.service_id]

    habilitations = Habilitation.objects.filter(user=user, structure=structure)
    still_attached = Membership.objects.filter(
        user=user, structure=structure, status__in=Membership.LIVE_STATUSES
    ).exists()
    if still_attached:
        habilitations = habilitations.filter(service__in=[m.service_id for m in to_end if m.service_id])
    removed = [
        str(habilitation)
        for habilitation in habilitations.select_related(
            "profile__application", "service", "structure", "user"
        )
    ]
    if removed:
        habilitations.delete()
        changes["habilitations_removed"] = sorted(removed)
    return to_end, changes


def _merge_detach_changes(changes, more):
    if not changes:
        return dict(more)
    merged = dict(changes)
    services = [code for code in (changes.get("service"), more.get("service")) if code]
    merged["services_ended"] = sorted(
        {*changes.get("services_ended", []), *more.get("services_ended", []), *services}
    )
    removed = {*changes.get("habilitations_removed", []), *more.get("habilitations_removed", [])}
    if removed:
        merged["habilitations_removed"] = sorted(removed)
    return merged


@transaction.atomic
def members_detach(*, actor, user, structure, services=(), comment) -> list[Membership]:
    """Detach a user from a whole structure (no services: every live attachment there
    ends) or from the given services only, then email them. All or nothing."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if structure.principal_manager_id == user.pk:
        raise PrincipalManagerError()
    live = Membership.objects.filter(user=user, structure=structure, status=Membership.Status.VALIDEE)
    services = list(services)
    if services:
        memberships = []
        for service in services:
            membership = live.filter(service=service).first()
            if membership is None:
                raise MembershipError(
                    _("L’utilisateur n’est pas rattaché au service « %(service)s ».")
                    % {"service": service.name}
                )
            memberships.append(membership)
    else:
        structure_level = live.filter(service__isnull=True).first()
        # Attached through services only: leaving the structure ends each of them.
        memberships = [structure_level] if structure_level else list(live.order_by("service__code"))
        if not memberships:
            raise MembershipError(_("L’utilisateur n’est pas rattaché à cette structure."))
    ended, changes = [], {}
    for membership in memberships:
        ended_here, detached = _detach_unrecorded(membership=membership, comment=comment)
        ended += ended_here
        changes = _merge_detach_changes(changes, detached)
    # One record for the action, whatever the number of attachments it ends.
    audit.record(actor=actor, obj=ended[0], action=AuditAction.MEMBERSHIP_DETACH, changes=changes)
    mail.send_templated(
        template="users/email/detach",
        to=user.notification_email,
        context={
            "user": user,
            "structure": structure,
            "services": [m.service for m in ended if m.service_id] if services else [],
            "whole_structure": not services,
            "comment": comment.strip(),
        },
    )
    return ended


# Leaving a structure


@transaction.atomic
def membership_leave(*, membership_id, user) -> list[Membership]:
    """The user ends one of their own attachments (Mes rattachements): a structure-level
    one ends their services there too, as a detach does. The principal manager cannot
    leave before handing the role over (PrincipalManagerError). The structure's
    principal manager and Organisation administrators are told."""
    membership = (
        Membership.objects.filter(pk=membership_id, user=user, status=Membership.Status.VALIDEE)
        .select_related("structure", "service")
        .first()
    )
    if membership is None:
        raise MembershipError(_("Ce rattachement n’existe pas ou a déjà pris fin."))
    ended, changes = _detach_unrecorded(
        membership=membership, comment=_("Départ à l’initiative de l’utilisateur.")
    )
    structure = membership.structure
    audit.record(actor=user, obj=ended[0], action=AuditAction.MEMBERSHIP_LEAVE, changes=changes)
    mail.send_templated(
        template="users/email/membership_left",
        to=_administrators_emails(structure, exclude=user),
        context={
            "structure": structure,
            "user_email": user.email,
            "services": [m.service for m in ended if m.service_id] if membership.service_id else [],
            "whole_structure": membership.service_id is None,
        },
    )
    return ended


def _administrators_emails(structure, *, exclude) -> list[str]:
    """Who administers the structure: its principal manager and the attached holders
    of Organisation – modification."""
    attached = Membership.objects.filter(structure=structure, status=Membership.Status.VALIDEE)
    users = User.objects.filter(is_active=True).filter(
        Q(pk=structure.principal_manager_id)
        | Q(
            habilitations__structure=structure,
            habilitations__profile__application__code=ApplicationCode.ORGANISATION,
            habilitations__profile__level=Level.MODIFICATION,
            memberships__in=attached,
        )
    )
    return sorted({user.notification_email for user in users.exclude(pk=exclude.pk).distinct()})


@transaction.atomic
def membership_save(*, actor, membership) -> None:
    """An operator's edit of an attachment in the back-office: one that ends gets its
    end date, and a change of status is recorded."""
    before = (
        Membership.objects.filter(pk=membership.pk).values_list("status", flat=True).first()
        if membership.pk
        else None
    )
    if membership.status not in Membership.LIVE_STATUSES and membership.ended_at is None:
        membership.ended_at = timezone.now()
    membership.save()
    if before != membership.status:
        audit.record(
            actor=actor,
            obj=membership,
            action=AuditAction.MEMBERSHIP_STATUS,
            changes={"before": before, "after": membership.status},
        )
