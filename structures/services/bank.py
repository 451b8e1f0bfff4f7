"""Bank details are deactivated and reactivated, never deleted."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from core.errors import Refused
from structures.models import BankAccount

INACTIVE_STRUCTURE_MESSAGE = _(
    "Cette structure n’est pas active : ses coordonnées bancaires ne peuvent être ni créées ni "
    "modifiées. Activez-la d’abord (Gérer une structure › Activer une structure)."
)


# The bank data an audit row keeps: the IBAN masked, as everywhere else.
AUDITED_FIELDS = [
    "name",
    "kind",
    "country",
    "bic",
    "is_factor",
    "factor_name",
    "factor_identifier",
    "proof_name",
]


class BankAccountStateError(Refused):
    """The bank detail, or its structure, is not in a state that allows the change."""


def _lock(bank_account_id):
    return (
        BankAccount.objects.select_for_update(of=("self",))
        .select_related("structure")
        .get(pk=bank_account_id)
    )


def _refuse_inactive_structure(bank_account):
    if not bank_account.structure.is_active:
        raise BankAccountStateError(INACTIVE_STRUCTURE_MESSAGE)


@transaction.atomic
def bank_account_create(*, actor, bank_account: BankAccount) -> BankAccount:
    """Record a bank detail built from a valid form. Two identical declarations at the
    same moment: the constraint keeps one, the other raises IntegrityError."""
    bank_account.save()
    audit.record(
        actor=actor,
        obj=bank_account,
        action=AuditAction.BANK_ACCOUNT_CREATE,
        changes={
            "iban": bank_account.masked_iban,
            **{name: getattr(bank_account, name) for name in AUDITED_FIELDS},
        },
    )
    return bank_account


@transaction.atomic
def bank_account_deactivate(*, bank_account_id: int, actor) -> BankAccount:
    bank_account = _lock(bank_account_id)
    _refuse_inactive_structure(bank_account)
    if not bank_account.is_active:
        raise BankAccountStateError(_("Ces coordonnées bancaires sont déjà désactivées."))
    bank_account.is_active = False
    bank_account.deactivated_at = timezone.now()
    bank_account.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    audit.record(
        actor=actor,
        obj=bank_account,
        action=AuditAction.BANK_ACCOUNT_DEACTIVATE,
        changes={"is_active": {"before": True, "after": False}},
    )
    return bank_account


@transaction.atomic
def bank_account_reactivate(*, bank_account_id: int, actor) -> BankAccount:
    bank_account = _lock(bank_account_id)
    _refuse_inactive_structure(bank_account)
    if bank_account.is_active:
        raise BankAccountStateError(_("Ces coordonnées bancaires sont déjà actives."))
    twin = BankAccount.objects.filter(
        structure_id=bank_account.structure_id, iban=bank_account.iban, is_active=True
    )
    if twin.exists():
        raise BankAccountStateError(
            _(
                "Une coordonnée bancaire active porte déjà ce compte pour cette structure : "
                "désactivez-la d’abord."
            )
        )
    bank_account.is_active = True
    bank_account.deactivated_at = None
    bank_account.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    audit.record(
        actor=actor,
        obj=bank_account,
        action=AuditAction.BANK_ACCOUNT_REACTIVATE,
        changes={"is_active": {"before": False, "after": True}},
    )
    return bank_account
