"""Revendiquer une structure: someone says a structure was created or taken by a person
who does not belong to it. The claim waits for the operators, who accept it (the
claimant becomes principal manager, the former one stays attached as a simple user) or
reject it; either way both parties hear of it by email.

A claim is decided once: the decision locks the structure, then the claim, and refuses
a claim that is no longer pending (two operators at the same instant)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from core.errors import Refused
from structures.models import Structure, StructureClaim
from users.models import Membership

Status = StructureClaim.Status


class ClaimRefused(Refused):
    """A claim that cannot be filed or decided; the message, in French, says why."""


class ClaimAlreadyDecided(ClaimRefused):
    def __init__(self, claim):
        super().__init__(
            _("Cette revendication a déjà été traitée (%(status)s) : rien n’a été modifié.")
            % {"status": claim.get_status_display().lower()}
        )
        self.claim = claim


@transaction.atomic
def structure_claim_file(
    *, claimant, structure, explanation: str, proof=None, proof_name: str = ""
) -> StructureClaim:
    """File a claim on `structure`; `proof` is an uploaded PDF already checked by
    core.uploads.validate_upload, stored under a random name."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    name = structure.display_name
    if structure.principal_manager_id is None:
        raise ClaimRefused(
            _(
                "Personne n’est encore rattaché à la structure %(name)s : demandez-y un rattachement, "
                "vous en deviendrez le gestionnaire principal."
            )
            % {"name": name}
        )
    if structure.principal_manager_id == claimant.pk:
        raise ClaimRefused(
            _("Vous êtes déjà le gestionnaire principal de la structure %(name)s.") % {"name": name}
        )
    if StructureClaim.objects.filter(
        structure=structure, claimant=claimant, status=Status.EN_ATTENTE
    ).exists():
        raise ClaimRefused(
            _("Vous avez déjà revendiqué la structure %(name)s : votre demande est en cours d’examen.")
            % {"name": name}
        )
    claim = StructureClaim(structure=structure, claimant=claimant, explanation=explanation.strip())
    if proof is not None:
        claim.proof = proof
        claim.proof_name = proof_name
    claim.save()
    audit.record(
        actor=claimant,
        obj=claim,
        action=AuditAction.STRUCTURE_CLAIM_FILE,
        changes={"structure": structure.identifier, "proof": claim.proof_name or None},
    )
    return claim


@transaction.atomic
def structure_claim_decide(*, claim_id: int, operator, accept: bool, comment: str = "") -> StructureClaim:
    """Accept or reject a pending claim, once. Accepting makes the claimant the
    principal manager, as an operator assigning one from the admin does: attached to the
    structure (validated), the former principal manager kept attached."""
    structure_id = StructureClaim.objects.values_list("structure_id", flat=True).get(pk=claim_id)
    # The structure first, as every change of its principal manager locks it, then the claim.
    structure = Structure.objects.select_for_update().get(pk=structure_id)
    claim = StructureClaim.objects.select_for_update().select_related("claimant").get(pk=claim_id)
    if claim.status != Status.EN_ATTENTE:
        raise ClaimAlreadyDecided(claim)
    former = structure.principal_manager
    claimant = claim.claimant
    changes = {"structure": structure.identifier, "claimant": claimant.email}
    if accept:
        if not claimant.is_active:
            raise ClaimRefused(
                _("Le compte de %(email)s est désactivé : il ne peut pas devenir gestionnaire principal.")
                % {"email": claimant.email}
            )
        if former is not None and former.pk == claimant.pk:
            raise ClaimRefused(
                _("%(email)s est déjà le gestionnaire principal de cette structure.")
                % {"email": claimant.email}
            )
        _attach_validated(
            claimant, structure, _("Gestionnaire principal désigné par les opérateurs (revendication).")
        )
        if former is not None:
            _attach_validated(
                former, structure, _("Ancien gestionnaire principal, resté rattaché après une revendication.")
            )
        structure.principal_manager = claimant
        update_fields = ["principal_manager", "updated_at"]
        if structure.status == Structure.Status.EN_COURS_ACTIVATION:
            structure.status = Structure.Status.ACTIVE
            update_fields.append("status")
        structure.save(update_fields=update_fields)
        changes["principal_manager"] = {"before": former.email if former else None, "after": claimant.email}
    claim.status = Status.ACCEPTEE if accept else Status.REJETEE
    claim.decided_by = operator
    claim.decided_at = timezone.now()
    claim.decision_comment = comment.strip()
    claim.manager_at_decision = former
    claim.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "manager_at_decision"]
    )
    if comment.strip():
        changes["comment"] = comment.strip()
    audit.record(
        actor=operator,
        obj=claim,
        action=AuditAction.STRUCTURE_CLAIM_ACCEPT if accept else AuditAction.STRUCTURE_CLAIM_REJECT,
        changes=changes,
        # An accepted claim changed the structure's principal manager: its history shows it.
        structure=structure if accept else None,
    )
    context = {
        "claim": claim,
        "structure": structure,
        "accepted": accept,
        "claimant": claimant,
        "former": former,
    }
    mail.send_templated(
        template="structures/email/structure_claim_claimant", to=claimant.notification_email, context=context
    )
    if former is not None and former.is_active:
        mail.send_templated(
            template="structures/email/structure_claim_manager", to=former.notification_email, context=context
        )
    return claim


def _attach_validated(user, structure, comment) -> None:
    """A validated attachment to the whole structure: an attachment waiting for
    validation is validated, none is created."""
    live = Membership.objects.filter(
        user=user, structure=structure, service__isnull=True, status__in=Membership.LIVE_STATUSES
    ).first()
    if live is None:
        Membership.objects.create(
            user=user, structure=structure, status=Membership.Status.VALIDEE, comment=comment
        )
    elif live.status != Membership.Status.VALIDEE:
        live.status = Membership.Status.VALIDEE
        live.save(update_fields=["status", "updated_at"])
