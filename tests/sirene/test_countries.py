"""Establishments abroad: INSEE's country code (codePaysEtrangerEtablissement, the
99xxx codes of the Code officiel géographique) gives the country, from INSEE's own
table; no code ever becomes France by default."""

import copy
import json
import logging
from pathlib import Path

import pycountry
import pytest

from structures.sirene import establishment_from_json
from structures.sirene.countries import insee_countries

SAMPLE = Path(__file__).with_name("sirene-3.11-siret-closed-sole-trader.json")


@pytest.fixture
def reference():
    return json.loads(SAMPLE.read_text(encoding="utf-8"))["etablissement"]


def abroad(reference, code, label=None, city="BERLIN", street="FRIEDRICHSTRASSE 68"):
    """The reference establishment moved abroad, as Sirene 3.11 answers for one: no
    French commune, the foreign city and country in their own fields."""
    data = copy.deepcopy(reference)
    data["adresseEtablissement"].update(
        numeroVoieEtablissement=None,
        typeVoieEtablissement=None,
        libelleVoieEtablissement=street,
        codePostalEtablissement=None,
        libelleCommuneEtablissement=None,
        codeCommuneEtablissement=None,
        libelleCommuneEtrangerEtablissement=city,
        codePaysEtrangerEtablissement=code,
        libellePaysEtrangerEtablissement=label,
    )
    return data


def test_the_table_holds_every_country_and_territory_insee_lists():
    table = insee_countries()
    countries = [country for country in table.values() if country.state == "actuel"]
    territories = [country for country in table.values() if country.state == "territoire"]
    # The 193 members of the United Nations, the Vatican, Palestine, Kosovo and Taïwan.
    assert len(countries) == 197
    # Territories with a code of their own (Greenland, Hong Kong, Curaçao…).
    assert len(territories) == 32
    assert all(code.startswith("99") and len(code) == 5 for code in table)
    # Every ISO code given is a real one.
    assert all(pycountry.countries.get(alpha_2=country.iso) for country in table.values() if country.iso)


def test_every_code_of_the_table_maps_to_its_country(reference):
    for code, country in insee_countries().items():
        establishment = establishment_from_json(abroad(reference, code, label=country.label.upper()))
        assert (establishment.country, establishment.country_label) == (country.iso, country.label), code
        if code != "99100":
            assert establishment.country != "FR", code
        assert establishment.structure_fields()["country"] == country.iso


@pytest.mark.parametrize(
    ("code", "label", "city", "iso", "name"),
    [
        ("99109", "ALLEMAGNE", "10117 BERLIN", "DE", "Allemagne"),
        ("99132", "ROYAUME-UNI", "LONDON", "GB", "Royaume-Uni"),
        ("99138", "MONACO", "MONACO", "MC", "Monaco"),
        ("99140", "SUISSE", "1204 GENEVE", "CH", "Suisse"),
        ("99131", "BELGIQUE", "1000 BRUXELLES", "BE", "Belgique"),
        ("99426", "JAMAIQUE", "KINGSTON", "JM", "Jamaïque"),
        ("99243", "VIET NAM", "HO CHI MINH VILLE", "VN", "Vietnam"),
        ("99352", "ALGERIE", "ALGER", "DZ", "Algérie"),
        ("99444", "CURACAO", "WILLEMSTAD", "CW", "Curaçao"),
        ("99517", "PALAOS", "KOROR", "PW", "Palaos"),
    ],
)
def test_establishments_abroad_get_their_country(reference, code, label, city, iso, name):
    establishment = establishment_from_json(abroad(reference, code, label, city=city))
    assert (establishment.country, establishment.country_label) == (iso, name)
    assert (establishment.city, establishment.postcode) == (city, "")
    assert establishment.address == "FRIEDRICHSTRASSE 68"


def test_a_code_for_several_territories_keeps_its_name_and_no_country(reference):
    # 99161 covers Jersey, Guernsey and the Isle of Man, each with its own ISO code.
    establishment = establishment_from_json(abroad(reference, "99161", "JERSEY", city="SAINT HELIER"))
    assert establishment.country == ""
    assert establishment.country_label == "Dépendances de la Couronne britannique"


def test_a_code_missing_from_the_table_is_not_france_and_is_logged(reference, caplog):
    with caplog.at_level(logging.WARNING, logger="structures.sirene.countries"):
        establishment = establishment_from_json(abroad(reference, "99998", "NOUVEL ETAT"))
    assert (establishment.country, establishment.country_label) == ("", "NOUVEL ETAT")
    assert establishment.structure_fields()["country"] == ""
    assert "99998" in caplog.text and "91234567500017" in caplog.text


def test_a_code_missing_from_the_table_without_a_label_keeps_the_code(reference):
    establishment = establishment_from_json(abroad(reference, "99998"))
    assert (establishment.country, establishment.country_label) == ("", "99998")


def test_in_france_the_country_is_france_with_no_label(reference):
    establishment = establishment_from_json(reference)
    assert (establishment.country, establishment.country_label) == ("FR", "")


def test_a_hidden_country_code_in_a_french_commune_is_france(reference):
    data = copy.deepcopy(reference)
    data["adresseEtablissement"]["codePaysEtrangerEtablissement"] = "[ND]"
    assert establishment_from_json(data).country == "FR"


def test_a_hidden_address_leaves_the_country_unknown(reference):
    data = copy.deepcopy(reference)
    data["adresseEtablissement"].update(
        codePaysEtrangerEtablissement="[ND]",
        codePostalEtablissement="[ND]",
        codeCommuneEtablissement="[ND]",
        libelleCommuneEtablissement="[ND]",
    )
    fields = establishment_from_json(data).structure_fields()
    assert "country" not in fields and "country_label" not in fields
