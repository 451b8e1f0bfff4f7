"""The mapping of a Sirene 3.11 establishment, from the real response shape kept in
the shared reference, and from variants of it."""

import copy
import json
from pathlib import Path

import pytest

from structures.sirene import establishment_from_json

# A real 3.11 answer with fictional values (copied from the shared reference).
SAMPLE = Path(__file__).with_name("sirene-3.11-siret-closed-sole-trader.json")


@pytest.fixture
def reference():
    return json.loads(SAMPLE.read_text(encoding="utf-8"))["etablissement"]


def test_closed_sole_trader_from_the_reference_response(reference):
    establishment = establishment_from_json(reference)
    assert establishment.siret == "91234567500017"
    assert establishment.is_person
    assert establishment.company_name == "CLAIRE MARTIN"
    assert (establishment.first_name, establishment.last_name) == ("CLAIRE", "MARTIN")
    assert establishment.label == "ATELIER EXEMPLE"
    # An upper-case register keeps upper case, street type spelled out.
    assert establishment.address == "12 RUE DES EXEMPLES"
    assert (establishment.postcode, establishment.city, establishment.country) == ("75011", "PARIS", "FR")
    assert establishment.legal_category == "1000"
    assert establishment.company_category == ""
    assert not establishment.is_active
    assert establishment.state_since.isoformat() == "2016-04-01"
    assert not establishment.non_diffusible
    assert establishment.vat_number == "FR65912345675"


def test_the_current_period_is_the_one_without_an_end(reference):
    data = copy.deepcopy(reference)
    data["periodesEtablissement"].reverse()
    assert not establishment_from_json(data).is_active


def test_a_company_name_is_its_denomination(reference):
    data = copy.deepcopy(reference)
    data["uniteLegale"].update(denominationUniteLegale="EXEMPLE SAS", categorieJuridiqueUniteLegale="5710")
    establishment = establishment_from_json(data)
    assert not establishment.is_person
    assert (establishment.company_name, establishment.first_name, establishment.last_name) == (
        "EXEMPLE SAS",
        "",
        "",
    )


def test_cedex_and_special_distribution(reference):
    data = copy.deepcopy(reference)
    data["adresseEtablissement"].update(
        codeCedexEtablissement="75543",
        libelleCedexEtablissement="PARIS CEDEX 11",
        distributionSpecialeEtablissement="BP 12",
        typeVoieEtablissement="BD",
        indiceRepetitionEtablissement="T",
    )
    establishment = establishment_from_json(data)
    assert establishment.address == "12 ter BOULEVARD DES EXEMPLES"
    assert (establishment.postcode, establishment.city) == ("75543", "PARIS CEDEX 11")
    assert establishment.address_complement_2 == "BP 12"


def test_foreign_establishment(reference):
    data = copy.deepcopy(reference)
    data["adresseEtablissement"].update(
        codePostalEtablissement=None,
        libelleCommuneEtablissement=None,
        codeCommuneEtablissement=None,
        codePaysEtrangerEtablissement="99131",
        libellePaysEtrangerEtablissement="BELGIQUE",
        libelleCommuneEtrangerEtablissement="BRUXELLES",
    )
    establishment = establishment_from_json(data)
    assert (establishment.country, establishment.city, establishment.postcode) == ("BE", "BRUXELLES", "")
    assert establishment.country_label == "Belgique"


def test_partly_hidden_unit(reference):
    data = copy.deepcopy(reference)
    data["statutDiffusionEtablissement"] = "P"
    data["uniteLegale"].update(
        nomUniteLegale="[ND]", prenom1UniteLegale="[ND]", prenomUsuelUniteLegale="[ND]"
    )
    data["adresseEtablissement"].update(libelleVoieEtablissement="[ND]", numeroVoieEtablissement="[ND]")
    establishment = establishment_from_json(data)
    assert establishment.non_diffusible
    assert establishment.company_name is None and establishment.address is None
    fields = establishment.structure_fields()
    assert {"company_name", "first_name", "last_name", "address"}.isdisjoint(fields)
    assert fields["non_diffusible"] is True
