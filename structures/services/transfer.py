"""Transférer le gestionnaire principal: the current principal manager hands the role
over to a user attached to the structure.

Invariant one-principal-manager (docs/architecture.md): "at most one, always" is held
by the single `Structure.principal_manager` column; who may take the role is decided
under a lock of the structure row, so that two simultaneous transfers of one structure
cannot both apply: the second waits, then finds that its actor is no longer the
principal manager.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from structures.models import Structure
from users.models import Membership


class TransferRefused(Exception):
    """A transfer that cannot be applied; the message, in French, says why."""


def _has_validated_membership(user, structure) -> bool:
    return Membership.objects.filter(
        user=user, structure=structure, service__isnull=True, status=Membership.Status.VALIDEE
    ).exists()


@transaction.atomic
def structure_transfer_principal_manager(*, structure, new_manager, actor) -> Structure:
    """Make `new_manager` the principal manager of `structure`, at the request of its
    current principal manager `actor`.

    The former principal manager stays attached as a simple user, with the profiles they
    hold: they only lose the Organisation – modification that the role itself gave them.
    Both are emailed once the transaction commits."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    name = structure.display_name
    if structure.principal_manager_id != actor.pk:
        raise TransferRefused(
            _(
                "Vous n’êtes plus le gestionnaire principal de la structure %(name)s : "
                "le rôle a déjà été transféré. Aucun transfert n’a été effectué."
            )
            % {"name": name}
        )
    if new_manager.pk == actor.pk:
        raise TransferRefused(
            _("Vous êtes déjà le gestionnaire principal de la structure %(name)s.") % {"name": name}
        )
    if not new_manager.is_active or not _has_validated_membership(new_manager, structure):
        raise TransferRefused(
            _(
                "%(user)s n’est pas rattaché à la structure %(name)s (rattachement validé à la maille "
                "structure) : il ne peut pas en devenir le gestionnaire principal."
            )
            % {"user": new_manager.email, "name": name}
        )

    # The former principal manager stays attached: one whom an operator appointed from
    # the admin may have no attachment of their own yet.
    kept_attached = _keep_attached(actor, structure)

    structure.principal_manager = new_manager
    structure.save(update_fields=["principal_manager", "updated_at"])
    changes = {"principal_manager": {"before": actor.email, "after": new_manager.email}}
    if kept_attached:
        changes["former_principal_manager_attached"] = True
    audit.record(actor=actor, obj=structure, action=AuditAction.PRINCIPAL_MANAGER_TRANSFER, changes=changes)

    context = {"structure": structure, "former_manager": actor, "new_manager": new_manager}
    mail.send_templated(
        template="structures/email/transfer_old", to=actor.notification_email, context=context
    )
    mail.send_templated(
        template="structures/email/transfer_new", to=new_manager.notification_email, context=context
    )
    return structure


def _keep_attached(user, structure) -> bool:
    """Give the former principal manager a validated structure-level attachment if they
    have none. True when one was created or validated."""
    live = Membership.objects.filter(
        user=user, structure=structure, service__isnull=True, status__in=Membership.LIVE_STATUSES
    ).first()
    if live is None:
        Membership.objects.create(
            user=user,
            structure=structure,
            status=Membership.Status.VALIDEE,
            comment=_("Ancien gestionnaire principal, resté rattaché après le transfert."),
        )
        return True
    if live.status != Membership.Status.VALIDEE:
        live.status = Membership.Status.VALIDEE
        live.save(update_fields=["status", "updated_at"])
        return True
    return False


def _lock_in_order(structure_ids) -> dict:
    """Lock the structures in id order, as every transfer does, so that two
    multi-structure transfers cannot deadlock; their status, read under the lock, by id.

    All of them before the first audit record, which holds the trail's lock to the
    commit (chorus.audit): a structure locked after it could deadlock with a writer
    holding that structure and waiting for the trail."""
    return dict(
        Structure.objects.select_for_update()
        .filter(pk__in=list(structure_ids))
        .order_by("pk")
        .values_list("pk", "status")
    )


@transaction.atomic
def structures_transfer_principal_manager(*, transfers, actor) -> list[Structure]:
    """Several transfers at once, all or nothing: `transfers` is a list of
    (structure, new_manager)."""
    _lock_in_order(structure.pk for structure, _new_manager in transfers)
    done = []
    for structure, new_manager in sorted(transfers, key=lambda pair: pair[0].pk):
        done.append(
            structure_transfer_principal_manager(structure=structure, new_manager=new_manager, actor=actor)
        )
    return done


@transaction.atomic
def structures_transfer_principal_manager_global(*, structures, new_manager, actor):
    """Transfert global: `new_manager` takes every one of `structures` (those the actor
    is principal manager of) that is not deactivated, all or nothing.

    A deactivated structure accepts no new attachment, so nobody could ever qualify for
    a transfer of all of them: it stays with the actor, still its principal manager
    (nothing changes, nothing is recorded), to be handed over once reactivated, or with
    a transfert unitaire to a user who stayed attached to it. The status is read under
    the lock: a structure deactivated meanwhile stays too.

    Returns (transferred, kept), each a list of structures in id order."""
    statuses = _lock_in_order(structure.pk for structure in structures)
    by_pk = {structure.pk: structure for structure in structures}
    kept = [by_pk[pk] for pk, status in statuses.items() if status == Structure.Status.INACTIVE]
    active = [by_pk[pk] for pk, status in statuses.items() if status != Structure.Status.INACTIVE]
    if not active:
        raise TransferRefused(
            _(
                "Toutes vos structures sont désactivées : le transfert global ne concerne que les "
                "structures actives. Aucun transfert n’a été effectué."
            )
        )
    transferred = [
        structure_transfer_principal_manager(structure=structure, new_manager=new_manager, actor=actor)
        for structure in active
    ]
    for structure in kept:
        structure.status = statuses[structure.pk]
    return transferred, kept
