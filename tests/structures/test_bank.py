"""Créer / gérer une coordonnée bancaire: creation (IBAN or RIB, keys verified, PDF
proof), list with the IBAN masked, detail, deactivation and reactivation, download of
the proof, the permission matrix of every view, and the back-office."""

from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfWriter
from schwifty import IBAN

from chorus.models import AuditEvent, Level
from structures import urls as structures_urls
from structures.models import BankAccount, Structure
from tests import factories

CREATE_URL = "/organisation/structure/coordonnees-bancaires/nouvelle/"
LIST_URL = "/organisation/structure/coordonnees-bancaires/"
VALID_IBAN = "FR7630006000011234567890189"
MASKED_IBAN = "FR76 **** **** **** **** ***0 189"
GERMAN_IBAN = "DE89370400440532013000"
NOTE = (
    "Ces coordonnées bancaires sont informatives : le comptable public ne paie que sur les "
    "coordonnées bancaires déclarées dans le contrat ou le marché public."
)
INACTIVE = "Cette structure n’est pas active"


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _pdf(name="rib.pdf", pages=1):
    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def _iban_data(structure, **overrides):
    data = {
        "name": "IBAN test",
        "structure": structure.pk,
        "kind": "IBAN",
        "country": "FR",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "BNPAFRPP",
        "proof": _pdf(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _rib_data(structure, **overrides):
    data = {
        "name": "RIB siège",
        "structure": structure.pk,
        "kind": "RIB",
        "country": "FR",
        "bank_code": "30006",
        "branch_code": "00001",
        "account_number": "12345678901",
        "rib_key": "89",
        "proof": _pdf(),
    }
    data.update(overrides)
    return data


def _errors(response, field):
    return response.context["form"].errors.get(field, [])


@pytest.fixture
def bank_account(structure, principal_manager):
    return factories.BankAccountFactory(structure=structure, iban=VALID_IBAN, name="IBAN principal")


def _url(name, bank_account):
    return reverse(f"structures:{name}", args=[bank_account.pk])


def test_urls_are_french_and_named():
    assert reverse("structures:bank_create") == CREATE_URL
    assert reverse("structures:bank_list") == LIST_URL
    assert reverse("structures:bank_detail", args=[7]) == "/organisation/structure/coordonnees-bancaires/7/"
    assert reverse("structures:bank_proof", args=[7]).endswith("/coordonnees-bancaires/7/justificatif/")


# Créer une coordonnée bancaire


def test_principal_manager_creates_an_iban_bank_account(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, proof=_pdf("Relevé d'identité bancaire.pdf")))

    bank_account = BankAccount.objects.get()
    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?structure={structure.pk}"
    assert bank_account.structure == structure
    assert bank_account.name == "IBAN test"
    assert bank_account.kind == BankAccount.Kind.IBAN
    assert bank_account.iban == VALID_IBAN
    assert bank_account.bic == "BNPAFRPP"
    assert bank_account.is_active and bank_account.deactivated_at is None
    assert bank_account.created_by == principal_manager
    assert bank_account.proof_name == "Relevé d'identité bancaire.pdf"
    # Stored under a random name, never the user's.
    assert bank_account.proof.name.startswith("bank-proofs/")
    assert "Relev" not in bank_account.proof.name
    assert len(bank_account.proof.name) == len("bank-proofs/") + 32 + len(".pdf")
    assert default_storage.exists(bank_account.proof.name)
    event = AuditEvent.objects.get(action="bank_account_create")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes["iban"] == MASKED_IBAN
    assert VALID_IBAN not in str(event.changes)
    follow = client.get(response.url)
    assert "La coordonnée bancaire « IBAN test » a été créée." in _messages(follow)
    assert MASKED_IBAN in follow.content.decode()


def test_delegate_creates_a_rib_and_its_iban_is_computed(client, structure, delegate):
    _login(client, delegate)
    response = client.post(CREATE_URL, _rib_data(structure))

    assert response.status_code == 302
    bank_account = BankAccount.objects.get()
    assert bank_account.kind == BankAccount.Kind.RIB
    assert (bank_account.bank_code, bank_account.branch_code) == ("30006", "00001")
    assert (bank_account.account_number, bank_account.rib_key) == ("12345678901", "89")
    assert bank_account.iban == VALID_IBAN


def test_factor_bank_account_keeps_the_factor_details(client, structure, principal_manager):
    _login(client, principal_manager)
    data = _iban_data(
        structure, is_factor="on", factor_name="Affacturage SA", factor_identifier="55208131766522"
    )
    client.post(CREATE_URL, data)

    bank_account = BankAccount.objects.get()
    assert bank_account.is_factor
    assert (bank_account.factor_name, bank_account.factor_identifier) == ("Affacturage SA", "55208131766522")


def test_factor_without_name_nor_identifier_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, is_factor="on"))

    assert response.status_code == 200
    assert _errors(response, "factor_name") == ["Indiquez le nom de l’affactureur."]
    assert _errors(response, "factor_identifier") == ["Indiquez l’identifiant de l’affactureur."]
    assert not BankAccount.objects.exists()


def test_foreign_iban_with_bic_is_accepted(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, country="DE", iban=GERMAN_IBAN, bic="DEUTDEFF"))

    assert response.status_code == 302
    assert BankAccount.objects.get().iban == GERMAN_IBAN


def test_create_form_shows_the_note_and_the_preview(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(CREATE_URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert NOTE in content
    assert 'data-pdf-preview="apercu-justificatif"' in content
    assert 'id="apercu-justificatif"' in content
    assert "js/pdf-preview.js" in content
    assert 'enctype="multipart/form-data"' in content
    assert "data-warn-unsaved" in content
    assert "Soumettre" in content
    # The user's only structure comes selected.
    assert response.context["form"]["structure"].value() == structure.pk


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        (
            "FR7630006000011234567890188",
            "L’IBAN n’est pas valide : sa clé de contrôle ne correspond pas. Vérifiez votre saisie.",
        ),
        (
            # Right IBAN check digits around a wrong RIB key.
            "FR0630006000011234567890188",
            "L’IBAN n’est pas valide : la clé RIB qu’il contient ne correspond pas. Vérifiez votre saisie.",
        ),
        (
            "FR763000600001123456789018",
            "L’IBAN n’a pas la longueur attendue pour son pays (27 caractères en France).",
        ),
        ("XX7630006000011234567890189", "L’IBAN doit commencer par le code d’un pays (par exemple FR)."),
        ("FR76 3000 6000 0112 3456 7890 18#", "L’IBAN ne contient que des lettres et des chiffres."),
        ("", "Saisissez l’IBAN."),
    ],
)
def test_invalid_iban_is_refused(client, structure, principal_manager, iban, message):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, iban=iban))

    assert response.status_code == 200
    assert _errors(response, "iban") == [message]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not BankAccount.objects.exists()


def test_iban_of_another_country_than_the_one_chosen_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, iban=GERMAN_IBAN, bic="DEUTDEFF"))

    assert _errors(response, "iban") == [
        "Cet IBAN est celui d’un compte du pays DE, pas du pays choisi (FR)."
    ]
    assert not BankAccount.objects.exists()


def test_wrong_rib_key_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _rib_data(structure, rib_key="88"))

    assert response.status_code == 200
    assert _errors(response, "rib_key") == [
        "La clé RIB ne correspond pas au code banque, au code guichet et au numéro de compte : "
        "vérifiez votre saisie."
    ]
    assert not BankAccount.objects.exists()


def test_malformed_rib_fields_are_refused_one_by_one(client, structure, principal_manager):
    _login(client, principal_manager)
    data = _rib_data(structure, bank_code="3000A", branch_code="", account_number="123", rib_key="8")
    response = client.post(CREATE_URL, data)

    assert _errors(response, "bank_code") == ["Le code banque est composé de 5 chiffres."]
    assert _errors(response, "branch_code") == ["Ce champ est obligatoire pour un RIB."]
    assert _errors(response, "account_number") == [
        "Le numéro de compte est composé de 11 chiffres ou lettres."
    ]
    assert _errors(response, "rib_key") == ["La clé RIB est composée de 2 chiffres."]
    assert not BankAccount.objects.exists()


def test_rib_outside_france_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _rib_data(structure, country="DE", bic="DEUTDEFF"))

    assert _errors(response, "country") == [
        "Un RIB est celui d’un compte en France : choisissez le type IBAN pour un autre pays."
    ]
    assert not BankAccount.objects.exists()


# Overseas accounts: French territories bank with French IBANs and RIBs, the Crown
# dependencies with British IBANs; the country chosen is stored as chosen.


def _territory_iban(bank_code, branch_code="00100", account_code="00012345678"):
    return IBAN.generate("FR", bank_code=bank_code, branch_code=branch_code, account_code=account_code)


@pytest.mark.parametrize(
    ("country", "bank_code"),
    [
        ("RE", "11899"),
        ("GP", "10107"),
        ("MQ", "12879"),
        ("GF", "18719"),
        ("YT", "11315"),
        ("PM", "11006"),
        ("NC", "17499"),
        ("PF", "12239"),
        ("WF", "17469"),
        ("BL", "11449"),
        ("MF", "12468"),
    ],
)
def test_overseas_french_iban_is_accepted_with_its_territory(
    client, structure, principal_manager, country, bank_code
):
    iban = _territory_iban(bank_code)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, country=country, iban=iban.formatted, bic=""))

    assert response.status_code == 302
    bank_account = BankAccount.objects.get()
    assert bank_account.country == country
    assert bank_account.iban == iban.compact
    assert bank_account.bic == ""


def test_rib_of_la_reunion_is_accepted_and_its_iban_computed(client, structure, principal_manager):
    iban = _territory_iban("11899")
    _login(client, principal_manager)
    data = _rib_data(
        structure,
        country="RE",
        bank_code=iban.bank_code,
        branch_code=iban.branch_code,
        account_number=iban.account_code,
        rib_key=iban.bban[-2:],
        bic="BNPARERX",
    )
    response = client.post(CREATE_URL, data)

    assert response.status_code == 302
    bank_account = BankAccount.objects.get()
    assert (bank_account.kind, bank_account.country) == (BankAccount.Kind.RIB, "RE")
    assert (bank_account.bank_code, bank_account.branch_code) == ("11899", "00100")
    assert bank_account.iban == iban.compact
    assert bank_account.bic == "BNPARERX"


def test_rib_of_la_reunion_with_a_wrong_key_is_refused(client, structure, principal_manager):
    iban = _territory_iban("11899")
    wrong_key = f"{(int(iban.bban[-2:]) + 1) % 100:02d}"
    _login(client, principal_manager)
    data = _rib_data(
        structure,
        country="RE",
        bank_code=iban.bank_code,
        branch_code=iban.branch_code,
        account_number=iban.account_code,
        rib_key=wrong_key,
    )
    response = client.post(CREATE_URL, data)

    assert _errors(response, "rib_key") == [
        "La clé RIB ne correspond pas au code banque, au code guichet et au numéro de compte : "
        "vérifiez votre saisie."
    ]
    assert not BankAccount.objects.exists()


JERSEY_IBAN = IBAN.generate("GB", bank_code="BARC", branch_code="200000", account_code="12345678")


@pytest.mark.parametrize("bic", ["BARCJESH", "BARCGB22"])
def test_jersey_account_with_a_british_iban_is_accepted(client, structure, principal_manager, bic):
    _login(client, principal_manager)
    response = client.post(
        CREATE_URL, _iban_data(structure, country="JE", iban=JERSEY_IBAN.formatted, bic=bic)
    )

    assert response.status_code == 302
    bank_account = BankAccount.objects.get()
    assert (bank_account.country, bank_account.iban, bank_account.bic) == ("JE", JERSEY_IBAN.compact, bic)


def test_jersey_account_needs_a_bic_as_any_account_outside_france(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        CREATE_URL, _iban_data(structure, country="JE", iban=JERSEY_IBAN.formatted, bic="")
    )

    assert _errors(response, "bic") == ["Le BIC / SWIFT est obligatoire pour un compte hors de France."]
    assert not BankAccount.objects.exists()


def test_rib_for_jersey_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _rib_data(structure, country="JE", bic="BARCJESH"))

    assert _errors(response, "country") == [
        "Un RIB est celui d’un compte en France : choisissez le type IBAN pour un autre pays."
    ]
    assert not BankAccount.objects.exists()


def test_british_iban_for_la_reunion_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        CREATE_URL, _iban_data(structure, country="RE", iban=JERSEY_IBAN.formatted, bic="BARCGB22")
    )

    assert _errors(response, "iban") == [
        "Cet IBAN est celui d’un compte du pays GB, pas du pays choisi (RE) : "
        "un compte de ce pays a un IBAN qui commence par FR."
    ]
    assert not BankAccount.objects.exists()


@pytest.mark.parametrize(("country", "bic"), [("RE", "BNPARERX"), ("RE", "BNPAFRPP"), ("NC", "BNPANCNX")])
def test_overseas_bic_of_the_territory_or_of_france_is_accepted(
    client, structure, principal_manager, country, bic
):
    _login(client, principal_manager)
    iban = _territory_iban("11899")
    response = client.post(CREATE_URL, _iban_data(structure, country=country, iban=iban.formatted, bic=bic))

    assert response.status_code == 302
    assert BankAccount.objects.get().bic == bic


@pytest.mark.parametrize(
    ("country", "iban", "bic", "countries"),
    [
        ("RE", "FR7611899001000001234567878", "DEUTDEFF", "FR ou RE"),
        ("FR", VALID_IBAN, "BNPARERX", "FR"),
        ("JE", JERSEY_IBAN.compact, "BNPAFRPP", "GB ou JE"),
        ("DE", GERMAN_IBAN, "BNPAFRPP", "DE"),
    ],
)
def test_bic_of_a_bank_of_another_country_is_refused(
    client, structure, principal_manager, country, iban, bic, countries
):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, country=country, iban=iban, bic=bic))

    assert _errors(response, "bic") == [
        f"Ce BIC / SWIFT est celui d’une banque du pays {bic[4:6]} : pour ce compte, "
        f"il doit être celui d’une banque du pays {countries}."
    ]
    assert not BankAccount.objects.exists()


def test_overseas_territories_are_in_the_country_list(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(CREATE_URL)

    choices = dict(response.context["form"].fields["country"].choices)
    for code in ["RE", "GP", "MQ", "GF", "YT", "PM", "NC", "PF", "WF", "BL", "MF", "JE", "GG", "IM"]:
        assert code in choices
    assert choices["NC"] == "Nouvelle-Calédonie"


def test_country_list_uses_the_official_french_names(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(CREATE_URL)

    choices = response.context["form"].fields["country"].choices
    names = dict(choices)
    assert names["GL"] == "Groenland"
    assert names["GQ"] == "Guinée équatoriale"
    assert names["CI"] == "Côte d’Ivoire"
    assert not [name for _code, name in choices if "'" in name]
    assert '<option value="GL">Groenland</option>' in response.content.decode()
    # Sorted as read: Groenland between Grèce and Guadeloupe.
    codes = [code for code, _name in choices]
    assert codes.index("GR") < codes.index("GL") < codes.index("GP")


def test_country_list_is_in_english_in_the_english_interface(client, structure, principal_manager):
    _login(client, principal_manager)
    client.post(reverse("set_language"), {"language": "en", "next": CREATE_URL})
    response = client.get(CREATE_URL)

    names = dict(response.context["form"].fields["country"].choices)
    assert names["GL"] == "Greenland"
    assert names["DE"] == "Germany"


@pytest.mark.parametrize("bic", ["BNPAFRP", "12345678", "BNPAXXPP"])
def test_bad_bic_is_refused(client, structure, principal_manager, bic):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, bic=bic))

    assert _errors(response, "bic") == [
        "Le BIC / SWIFT n’est pas valide : 8 ou 11 caractères, par exemple BNPAFRPP ou BNPAFRPPXXX."
    ]
    assert not BankAccount.objects.exists()


def test_bic_is_required_outside_france(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, country="DE", iban=GERMAN_IBAN, bic=""))

    assert _errors(response, "bic") == ["Le BIC / SWIFT est obligatoire pour un compte hors de France."]
    assert not BankAccount.objects.exists()


def test_missing_proof_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure, proof=None))

    assert _errors(response, "proof") == ["Joignez le justificatif PDF de ces coordonnées bancaires."]
    assert not BankAccount.objects.exists()


def test_non_pdf_renamed_pdf_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    fake = SimpleUploadedFile("rib.pdf", png, content_type="application/pdf")
    response = client.post(CREATE_URL, _iban_data(structure, proof=fake))

    assert _errors(response, "proof") == ["Le fichier n’est pas un PDF valide."]
    assert not BankAccount.objects.exists()


def test_file_starting_like_a_pdf_but_not_parsing_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    fake = SimpleUploadedFile(
        "rib.pdf", b"%PDF-1.7\nthis is not a PDF at all\n", content_type="application/pdf"
    )
    response = client.post(CREATE_URL, _iban_data(structure, proof=fake))

    assert _errors(response, "proof") == ["Le fichier n’est pas un PDF valide."]
    assert not BankAccount.objects.exists()


def test_proof_that_is_not_a_pdf_file_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    text = SimpleUploadedFile("rib.txt", b"IBAN FR76...", content_type="text/plain")
    response = client.post(CREATE_URL, _iban_data(structure, proof=text))

    assert _errors(response, "proof") == ["Le fichier doit être un PDF (extension .pdf)."]
    assert not BankAccount.objects.exists()


def test_proof_over_10_mb_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    big = _pdf().read() + b"%" + b"0" * (12 * 1024 * 1024)
    response = client.post(
        CREATE_URL, _iban_data(structure, proof=SimpleUploadedFile("gros.pdf", big, "application/pdf"))
    )

    assert _errors(response, "proof") == ["Le fichier dépasse 10 Mo."]
    assert not BankAccount.objects.exists()


def test_long_proof_name_is_cut_to_50_characters_keeping_the_extension(client, structure, principal_manager):
    _login(client, principal_manager)
    name = "attestation-bancaire-" + "x" * 80 + ".pdf"
    client.post(CREATE_URL, _iban_data(structure, proof=_pdf(name)))

    proof_name = BankAccount.objects.get().proof_name
    assert len(proof_name) == 50
    assert proof_name.startswith("attestation-bancaire-x")
    assert proof_name.endswith(".pdf")


def test_another_structures_id_posted_is_an_invalid_choice(client, structure, principal_manager):
    other = factories.StructureFactory(company_name="Autre structure")
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(other))

    assert _errors(response, "structure") == [
        "Sélectionnez un choix valide. Ce choix ne fait pas partie de ceux disponibles."
    ]
    assert not BankAccount.objects.exists()


def test_other_structure_user_does_not_see_this_structure_in_the_choices(
    client, structure, principal_manager, other_structure_user
):
    _login(client, other_structure_user)
    response = client.get(CREATE_URL)

    assert response.status_code == 200
    assert structure not in response.context["form"].fields["structure"].queryset
    assert structure.company_name not in response.content.decode()


def test_bank_account_of_an_inactive_structure_is_refused(client, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure))

    assert response.status_code == 200
    [error] = _errors(response, "structure")
    assert error.startswith(INACTIVE)
    assert "Activez-la d’abord (Gérer une structure › Activer une structure)." in error
    assert not BankAccount.objects.exists()


def test_same_account_twice_active_is_refused(client, structure, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure))

    assert _errors(response, "iban") == ["Ce compte est déjà déclaré et actif pour cette structure."]
    assert BankAccount.objects.count() == 1


def test_same_account_may_be_declared_again_once_the_first_is_deactivated(
    client, structure, principal_manager
):
    factories.BankAccountFactory(structure=structure, iban=VALID_IBAN, inactive=True)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _iban_data(structure))

    assert response.status_code == 302
    assert BankAccount.objects.filter(is_active=True).count() == 1


# Permission matrix of every view


def test_anonymous_visitor_is_sent_to_login(client, bank_account):
    for url in [
        CREATE_URL,
        LIST_URL,
        _url("bank_detail", bank_account),
        _url("bank_proof", bank_account),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/compte/connexion/")
    response = client.post(_url("bank_change_status", bank_account), {"answer": "oui"})
    assert response.status_code == 302 and response.url.startswith("/compte/connexion/")
    bank_account.refresh_from_db()
    assert bank_account.is_active


def test_consultation_user_cannot_create_bank_account(client, structure, consultation_user):
    _login(client, consultation_user)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, _iban_data(structure)).status_code == 403
    assert not BankAccount.objects.exists()


def test_consultation_user_reads_list_detail_and_proof_but_cannot_deactivate(
    client, consultation_user, bank_account
):
    _login(client, consultation_user)
    assert client.get(LIST_URL).status_code == 200
    detail = client.get(_url("bank_detail", bank_account))
    assert detail.status_code == 200
    assert "Voulez-vous désactiver ces informations bancaires ?" not in detail.content.decode()
    assert client.get(_url("bank_proof", bank_account)).status_code == 200
    response = client.post(_url("bank_change_status", bank_account), {"answer": "oui"})
    assert response.status_code == 403
    bank_account.refresh_from_db()
    assert bank_account.is_active


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_managers_open_every_view(client, request, bank_account, persona):
    _login(client, request.getfixturevalue(persona))
    assert client.get(CREATE_URL).status_code == 200
    listing = client.get(LIST_URL)
    assert listing.status_code == 200
    assert f"{CREATE_URL}?structure={bank_account.structure_id}" in listing.content.decode()
    detail = client.get(_url("bank_detail", bank_account))
    assert detail.status_code == 200
    assert "Voulez-vous désactiver ces informations bancaires ?" in detail.content.decode()
    assert client.get(_url("bank_proof", bank_account)).status_code == 200


def test_other_structure_user_gets_404_on_every_object_view(
    client, structure, other_structure_user, bank_account
):
    _login(client, other_structure_user)
    assert client.get(_url("bank_detail", bank_account)).status_code == 404
    assert client.get(_url("bank_proof", bank_account)).status_code == 404
    assert client.post(_url("bank_change_status", bank_account), {"answer": "oui"}).status_code == 404
    assert client.get(LIST_URL, {"structure": structure.pk}).status_code == 404
    bank_account.refresh_from_db()
    assert bank_account.is_active


def test_unknown_bank_account_is_404(client, principal_manager, bank_account):
    _login(client, principal_manager)
    assert client.get(reverse("structures:bank_detail", args=[bank_account.pk + 1000])).status_code == 404


# List and detail


def test_list_shows_the_structures_bank_accounts_with_the_iban_masked(client, structure, consultation_user):
    factories.BankAccountFactory(structure=structure, iban=VALID_IBAN, name="IBAN test", bic="")
    factories.BankAccountFactory(structure=structure, name="Ancien compte", inactive=True, factor=True)
    factories.BankAccountFactory(name="Compte d'une autre structure")
    _login(client, consultation_user)
    response = client.get(LIST_URL, {"structure": structure.pk})

    content = response.content.decode()
    assert response.status_code == 200
    assert [bank.name for bank in response.context["page_obj"]] == ["IBAN test", "Ancien compte"]
    assert MASKED_IBAN in content
    assert VALID_IBAN not in content
    assert "Active" in content and "Désactivée" in content
    assert "Affacturage SA" in content
    assert "Compte d&#x27;une autre structure" not in content
    # Consultation: no creation button.
    assert f"{CREATE_URL}?structure={structure.pk}" not in content


def test_list_opens_on_the_only_structure_of_the_user(client, structure, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.get(LIST_URL)

    assert response.context["structure"] == structure
    assert MASKED_IBAN in response.content.decode()


def test_list_asks_to_choose_when_the_user_has_several_structures(client, structure, principal_manager):
    second = factories.StructureFactory(company_name="Seconde")
    factories.attach(principal_manager, second)
    _login(client, principal_manager)
    response = client.get(LIST_URL)

    assert response.context["structure"] is None
    assert "Choisissez une structure pour afficher ses coordonnées bancaires." in response.content.decode()
    empty = client.get(LIST_URL, {"structure": ""})
    assert empty.status_code == 200
    assert empty.context["picker"].errors["structure"] == ["Choisissez une structure."]


def _list_queries(client, structure):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"structure": structure.pk})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(
    client, structure, principal_manager, django_assert_max_num_queries
):
    factories.BankAccountFactory(structure=structure)
    _login(client, principal_manager)
    with django_assert_max_num_queries(12):
        one = _list_queries(client, structure)
    factories.BankAccountFactory.create_batch(99, structure=structure)
    with django_assert_max_num_queries(12):
        hundred = _list_queries(client, structure)
    assert one == hundred


def test_detail_shows_the_bank_account_masked_with_its_proof(client, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.get(_url("bank_detail", bank_account))

    content = response.content.decode()
    assert MASKED_IBAN in content
    assert VALID_IBAN not in content
    assert _url("bank_proof", bank_account) in content
    assert "justificatif.pdf" in content
    assert NOTE in content
    assert "Valider" in content


def test_proof_download_is_an_attachment_with_its_original_name(client, consultation_user, bank_account):
    BankAccount.objects.filter(pk=bank_account.pk).update(proof_name="RIB société.pdf")
    _login(client, consultation_user)
    response = client.get(_url("bank_proof", bank_account))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''RIB%20soci%C3%A9t%C3%A9.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_stored_files_have_no_public_url(client, principal_manager, bank_account):
    _login(client, principal_manager)
    assert client.get(f"/{bank_account.proof.name}").status_code == 404
    assert client.get(f"/media/{bank_account.proof.name}").status_code == 404


# Désactiver / réactiver


def test_principal_manager_deactivates_a_bank_account(client, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.post(_url("bank_change_status", bank_account), {"answer": "oui"})

    assert response.status_code == 302
    assert response.url == _url("bank_detail", bank_account)
    bank_account.refresh_from_db()
    assert not bank_account.is_active
    assert bank_account.deactivated_at is not None
    event = AuditEvent.objects.get(action="bank_account_deactivate")
    assert event.actor == principal_manager
    assert event.structure == bank_account.structure
    follow = client.get(response.url)
    assert "Les coordonnées bancaires « IBAN principal » ont été désactivées." in _messages(follow)
    assert "Voulez-vous réactiver ces informations bancaires ?" in follow.content.decode()


def test_answering_no_changes_nothing(client, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.post(_url("bank_change_status", bank_account), {"answer": "non"})

    assert response.status_code == 302
    bank_account.refresh_from_db()
    assert bank_account.is_active
    assert not AuditEvent.objects.filter(action__startswith="bank_account_").exists()
    assert "Les coordonnées bancaires n’ont pas été modifiées." in _messages(client.get(response.url))


def test_validating_without_an_answer_asks_for_one(client, principal_manager, bank_account):
    _login(client, principal_manager)
    response = client.post(_url("bank_change_status", bank_account), {})

    assert response.status_code == 200
    assert response.context["confirm_form"].errors["answer"] == ["Répondez Oui ou Non."]
    bank_account.refresh_from_db()
    assert bank_account.is_active


def test_delegate_reactivates_a_deactivated_bank_account(client, structure, delegate):
    bank_account = factories.BankAccountFactory(structure=structure, inactive=True)
    _login(client, delegate)
    response = client.post(_url("bank_change_status", bank_account), {"answer": "oui"})

    assert response.status_code == 302
    bank_account.refresh_from_db()
    assert bank_account.is_active and bank_account.deactivated_at is None
    assert AuditEvent.objects.filter(action="bank_account_reactivate", actor=delegate).exists()


def test_reactivation_is_refused_while_the_same_account_is_active(client, structure, principal_manager):
    old = factories.BankAccountFactory(structure=structure, iban=VALID_IBAN, inactive=True)
    factories.BankAccountFactory(structure=structure, iban=VALID_IBAN)
    _login(client, principal_manager)
    response = client.post(_url("bank_change_status", old), {"answer": "oui"})

    assert response.status_code == 200
    assert response.context["confirm_form"].non_field_errors() == [
        "Une coordonnée bancaire active porte déjà ce compte pour cette structure : désactivez-la d’abord."
    ]
    old.refresh_from_db()
    assert not old.is_active


def test_bank_account_of_an_inactive_structure_cannot_be_deactivated(
    client, structure, principal_manager, bank_account
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(_url("bank_change_status", bank_account), {"answer": "oui"})

    assert response.status_code == 200
    [error] = response.context["confirm_form"].non_field_errors()
    assert error.startswith(INACTIVE)
    bank_account.refresh_from_db()
    assert bank_account.is_active
    # Its history stays readable.
    assert client.get(_url("bank_detail", bank_account)).status_code == 200
    assert client.get(LIST_URL, {"structure": structure.pk}).status_code == 200


def test_user_with_modification_elsewhere_and_consultation_here_cannot_deactivate(
    client, structure, principal_manager, bank_account
):
    user = factories.UserFactory()
    own = factories.StructureFactory(with_principal_manager=user)
    factories.attach(user, structure)
    factories.grant(user, structure, "ORGANISATION", Level.CONSULTATION)
    assert own.principal_manager == user
    _login(client, user)

    assert client.get(_url("bank_detail", bank_account)).status_code == 200
    assert client.post(_url("bank_change_status", bank_account), {"answer": "oui"}).status_code == 404
    bank_account.refresh_from_db()
    assert bank_account.is_active


def test_bank_accounts_cannot_be_deleted(structure, bank_account):
    with pytest.raises(ProtectedError):
        structure.delete()
    # No portal view deletes one.
    bank_routes = [p for p in structures_urls.urlpatterns if p.callback.__module__ == "structures.views.bank"]
    assert [pattern.name for pattern in bank_routes] == [
        "bank_list",
        "bank_create",
        "bank_kept_proof",
        "bank_detail",
        "bank_change_status",
        "bank_proof",
    ]


def test_masked_iban_keeps_country_check_digits_and_last_four():
    assert BankAccount(iban=VALID_IBAN).masked_iban == MASKED_IBAN
    assert BankAccount(iban=GERMAN_IBAN).masked_iban == "DE89 **** **** **** **30 00"


# Back-office


@pytest.fixture
def operator_client(client, db):
    client.force_login(
        factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    )
    return client


def test_operator_reads_bank_accounts_in_the_admin_but_cannot_delete_them(operator_client, bank_account):
    changelist = operator_client.get(reverse("admin:structures_bankaccount_changelist"))
    assert changelist.status_code == 200
    assert MASKED_IBAN in changelist.content.decode()
    assert (
        operator_client.get(
            reverse("admin:structures_bankaccount_change", args=[bank_account.pk])
        ).status_code
        == 200
    )
    delete_url = reverse("admin:structures_bankaccount_delete", args=[bank_account.pk])
    assert operator_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert operator_client.get(reverse("admin:structures_bankaccount_add")).status_code == 403
    assert BankAccount.objects.filter(pk=bank_account.pk).exists()


def test_admin_changelist_query_count_does_not_grow_with_rows(operator_client, structure):
    url = reverse("admin:structures_bankaccount_changelist")
    factories.BankAccountFactory(structure=structure)
    with CaptureQueriesContext(connection) as one:
        operator_client.get(url)
    factories.BankAccountFactory.create_batch(30)
    with CaptureQueriesContext(connection) as many:
        operator_client.get(url)
    assert len(one) == len(many)


def test_database_refuses_two_active_bank_accounts_with_the_same_iban(structure):
    from django.db import IntegrityError, transaction

    factories.BankAccountFactory(structure=structure, iban=VALID_IBAN)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.BankAccountFactory(structure=structure, iban=VALID_IBAN)
    factories.BankAccountFactory(structure=structure, iban=VALID_IBAN, inactive=True)
    factories.BankAccountFactory(iban=VALID_IBAN)
    assert BankAccount.objects.filter(iban=VALID_IBAN).count() == 3


def test_database_refuses_a_factor_without_its_details_and_an_undated_deactivation(structure):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.BankAccountFactory(structure=structure, is_factor=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.BankAccountFactory(structure=structure, is_active=False)
    assert not BankAccount.objects.exists()
