"""The demo data: never overwritten, put back on demand, and each persona holds exactly the
rights it is shown with."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from chorus import access
from chorus.models import AuditEvent, Habilitation, Level
from devtools.management.commands.seed_demo import PASSWORD
from structures.identifiers import luhn_complete, vat_number
from structures.models import Service, Structure
from tests import factories
from users.models import Membership

User = get_user_model()

EMAILS = [
    "gestionnaire@exemple.fr",
    "delegue@exemple.fr",
    "utilisateur@exemple.fr",
    "nouveau@exemple.fr",
    "agent@exemple.fr",
    "operateur@exemple.fr",
]
MODIFICATION, CONSULTATION = Level.MODIFICATION, Level.CONSULTATION


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (User, Structure, Service, Membership, Habilitation, AuditEvent)
    }


@pytest.fixture
def demo(db):
    seed()
    users = {email.split("@")[0]: User.objects.get(email=email) for email in EMAILS}
    structures = {
        "company": Structure.objects.get(company_name="Atelier Textile du Nord"),
        "commune": Structure.objects.get(company_name="Commune de Belleville-sur-Loire"),
        "former": Structure.objects.get(company_name="Ancienne Menuiserie Lefèvre"),
    }
    return users, structures


def luhn_valid(number):
    return luhn_complete(number[:-1]) == number


def test_seed_demo_twice_creates_nothing_more_and_changes_no_password(db):
    seed()
    first_counts = counts()
    hashes = dict(User.objects.values_list("email", "password"))
    output = seed()
    assert counts() == first_counts
    assert dict(User.objects.values_list("email", "password")) == hashes
    assert "Données de démonstration : 0 créée(s), 9 trouvée(s) — rien n’a été modifié." in output


def test_seed_demo_prints_every_login_with_its_password(db):
    output = seed()
    for email in EMAILS:
        assert email in output
    assert PASSWORD in output


def test_seed_demo_structures_have_valid_identifiers_and_parameters(demo):
    _users, structures = demo
    for structure in structures.values():
        assert structure.identifier_type == Structure.IdentifierType.SIRET
        assert len(structure.identifier) == 14 and structure.identifier.isdigit()
        assert luhn_valid(structure.identifier)
        assert luhn_valid(structure.identifier[:9])  # the SIREN carries its own key
    company, commune, former = structures["company"], structures["commune"], structures["former"]
    siren = company.identifier[:9]
    assert company.vat_number == f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    assert company.kind == Structure.Kind.PRIVEE and company.is_active
    assert list(company.services.values_list("code", flat=True)) == ["TEXTILE"]
    assert commune.kind == Structure.Kind.PUBLIQUE and commune.is_active
    assert commune.service_code_required and commune.commitment_required
    assert commune.services.filter(commitment_required=True).exists()
    assert {"SERV_TECHNIQUES", "ETAT_CIVIL"} <= set(commune.services.values_list("code", flat=True))
    assert former.status == Structure.Status.INACTIVE


def test_vat_number_key():
    # The example of the French tax administration: SIREN 404 833 048 → FR83 404833048.
    assert vat_number("404833048") == "FR83404833048"


def test_gestionnaire_is_principal_manager_of_company_and_commune(demo):
    users, structures = demo
    gestionnaire = users["gestionnaire"]
    for key in ("company", "commune"):
        assert structures[key].principal_manager == gestionnaire
        assert access.can(gestionnaire, "ORGANISATION", MODIFICATION, structure=structures[key])
    assert access.can(gestionnaire, "FACTURE_EMISE", MODIFICATION, structure=structures["company"])


def test_delegue_administers_the_company_only(demo):
    users, structures = demo
    delegue = users["delegue"]
    assert access.can(delegue, "ORGANISATION", MODIFICATION, structure=structures["company"])
    assert access.can(delegue, "GERER_STRUCTURE", MODIFICATION, structure=structures["company"])
    assert not access.can(delegue, "ORGANISATION", CONSULTATION, structure=structures["commune"])
    assert structures["company"].principal_manager != delegue


def test_utilisateur_has_consultation_profiles_only(demo):
    users, structures = demo
    utilisateur, company = users["utilisateur"], structures["company"]
    for code in ("ORGANISATION", "FACTURE_EMISE", "MEMOIRE_FRAIS_JUSTICE"):
        assert access.can(utilisateur, code, CONSULTATION, structure=company)
        assert not access.can(utilisateur, code, MODIFICATION, structure=company)
    assert not access.can(utilisateur, "FACTURE_RECUE", CONSULTATION, structure=company)
    assert not access.can(utilisateur, "ORGANISATION", CONSULTATION, structure=structures["commune"])


@pytest.mark.parametrize("persona", ["nouveau", "agent", "operateur"])
def test_persona_without_structure_rights(demo, persona):
    users, structures = demo
    user = users[persona]
    assert not Membership.objects.filter(user=user).exists()
    assert not Habilitation.objects.filter(user=user).exists()
    for structure in structures.values():
        assert not access.can(user, "ORGANISATION", CONSULTATION, structure=structure)
    assert access.structure_ids_for(user, "ORGANISATION") == set()


def test_staff_flags(demo):
    users, _structures = demo
    assert (users["agent"].is_staff, users["agent"].is_superuser) == (True, False)
    assert (users["operateur"].is_staff, users["operateur"].is_superuser) == (True, True)
    for persona in ("gestionnaire", "delegue", "utilisateur", "nouveau"):
        assert not users[persona].is_staff and not users[persona].is_superuser


@pytest.mark.parametrize("email", EMAILS)
def test_every_demo_account_logs_in_with_the_demo_password(demo, client, email):
    # Through the real login form: django-axes needs the request that the form passes.
    response = client.post(reverse("users:login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def seed_reset():
    out = StringIO()
    call_command("seed_demo", "--reset", stdout=out)
    return out.getvalue()


def test_seed_demo_again_keeps_what_users_changed(demo):
    # A restart of `make run` must not undo what was done in the portal meanwhile.
    users, structures = demo
    company = structures["company"]
    company.principal_manager = users["delegue"]
    company.city = "Lille"
    company.save(update_fields=["principal_manager", "city", "updated_at"])
    removed = Habilitation.objects.filter(
        user=users["utilisateur"], profile__application__code="FACTURE_EMISE"
    )
    removed.delete()
    users["nouveau"].is_active = False
    users["nouveau"].save(update_fields=["is_active"])
    users["agent"].set_password("Autre-Mot-De-Passe-2026")
    users["agent"].save(update_fields=["password"])
    Service.objects.filter(structure=structures["commune"], code="FINANCES").update(is_active=False)
    before = counts()

    output = seed()

    company.refresh_from_db()
    assert company.principal_manager == users["delegue"]
    assert company.city == "Lille"
    assert not access.can(users["utilisateur"], "FACTURE_EMISE", CONSULTATION, structure=company)
    assert not User.objects.get(email="nouveau@exemple.fr").is_active
    assert User.objects.get(email="agent@exemple.fr").check_password("Autre-Mot-De-Passe-2026")
    assert not Service.objects.get(structure=structures["commune"], code="FINANCES").is_active
    assert counts() == before
    assert "0 créée(s), 9 trouvée(s) — rien n’a été modifié." in output


def test_seed_demo_recreates_a_deleted_demo_account_with_its_rights(demo):
    users, structures = demo
    users["delegue"].delete()
    output = seed()
    delegue = User.objects.get(email="delegue@exemple.fr")
    assert delegue.check_password(PASSWORD)
    assert access.can(delegue, "ORGANISATION", MODIFICATION, structure=structures["company"])
    assert structures["company"].principal_manager == users["gestionnaire"]
    assert "Comptes : 1 créé(s), 5 trouvé(s)" in output


def test_seed_demo_reset_puts_the_demo_back(demo):
    users, structures = demo
    company = structures["company"]
    company.principal_manager = users["delegue"]
    company.city = "Lille"
    company.save(update_fields=["principal_manager", "city", "updated_at"])
    Habilitation.objects.filter(user=users["utilisateur"]).delete()
    users["nouveau"].is_active = False
    users["nouveau"].save(update_fields=["is_active"])

    output = seed_reset()

    company = Structure.objects.get(identifier=company.identifier)
    gestionnaire = User.objects.get(email="gestionnaire@exemple.fr")
    assert company.principal_manager == gestionnaire and company.city == "Roubaix"
    assert company.is_active
    utilisateur = User.objects.get(email="utilisateur@exemple.fr")
    assert access.can(utilisateur, "FACTURE_EMISE", CONSULTATION, structure=company)
    assert User.objects.get(email="nouveau@exemple.fr").is_active
    former = Structure.objects.get(identifier=structures["former"].identifier)
    assert former.status == Structure.Status.INACTIVE
    assert "supprimées" in output and "23 créée(s), 0 trouvée(s)." in output


def test_seed_demo_reset_also_removes_what_protects_the_demo_structures(demo):
    # Bank details are never deleted by the portal (PROTECT): the reset must still go through.
    _users, structures = demo
    factories.BankAccountFactory(structure=structures["company"])
    seed_reset()
    company = Structure.objects.get(identifier=structures["company"].identifier)
    assert not company.bank_accounts.exists()
