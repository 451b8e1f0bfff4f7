"""generate_scale_data: valid, consistent, reproducible data."""

import pytest
from django.core.management import call_command
from django.db import transaction

from chorus.models import Application, Habilitation
from devtools import scale
from structures.models import BankAccount, Structure
from support.models import Ticket
from users.models import Membership, User


def luhn_valid(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def iban_valid(iban):
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


@pytest.fixture
def generated(db):
    call_command("generate_scale_data", structures=30, seed=3, no_progress=True)


def test_every_active_structure_has_a_principal_manager_attached_to_it(generated):
    active = Structure.objects.filter(status=Structure.Status.ACTIVE)
    assert active.exists()
    assert not active.filter(principal_manager__isnull=True).exists()
    for structure in active:
        assert Membership.objects.filter(
            user=structure.principal_manager_id, structure=structure, status=Membership.Status.VALIDEE
        ).exists()


def test_identifiers_and_bank_details_are_valid(generated):
    for siret in Structure.objects.values_list("identifier", flat=True):
        assert len(siret) == 14 and luhn_valid(siret) and luhn_valid(siret[:9])
    for iban in BankAccount.objects.values_list("iban", flat=True):
        assert iban.startswith("FR") and len(iban) == 27 and iban_valid(iban)


def test_habilitations_grant_catalogue_profiles_on_the_holders_structure(generated):
    habilitations = Habilitation.objects.select_related("profile__application")
    assert habilitations.count() >= 30 * 8
    for habilitation in habilitations:
        assert habilitation.profile.application.access == Application.Access.PROFILE
        assert Membership.objects.filter(
            user=habilitation.user_id, structure=habilitation.structure_id
        ).exists()


def test_submitted_tickets_are_numbered_and_routed(generated):
    submitted = Ticket.objects.exclude(status=Ticket.Status.BROUILLON)
    assert submitted.exists()
    assert not submitted.filter(number__isnull=True).exists()
    assert not submitted.filter(queue__isnull=True).exists()
    assert Ticket.objects.values("status").distinct().count() >= 4


def test_the_same_seed_gives_the_same_data(db):
    def names():
        with transaction.atomic():
            scale.Generator(10, seed=11).run()
            result = list(Structure.objects.order_by("pk").values_list("company_name", "identifier"))
            result += list(User.objects.order_by("pk").values_list("email", "last_name"))
            transaction.set_rollback(True)
        return result

    assert names() == names()


def test_generating_twice_in_one_database_is_refused(generated):
    with pytest.raises(Exception, match="déjà des données générées"):
        call_command("generate_scale_data", structures=1, no_progress=True)
