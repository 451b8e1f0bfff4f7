"""Public or private, from INSEE's legal category: public buyers in Chorus Pro's sense
are the public-law bodies (families 4 and 7 of INSEE's table), EPIC included."""

import copy
import json
from pathlib import Path

import pytest

from structures.sirene import establishment_from_json
from structures.sirene.legal_categories import (
    FAMILIES,
    PUBLIC_COMMERCIAL_LAW,
    derives_vat_number,
    is_public_buyer,
)

SAMPLE = Path(__file__).with_name("sirene-3.11-siret-closed-sole-trader.json")
DOC = Path(__file__).parents[2] / "docs" / "structures-publiques.md"


@pytest.mark.parametrize(
    "category",
    [
        "4110",  # EPIC national doté d'un comptable public
        "4120",  # EPIC national non doté d'un comptable public
        "4130",  # exploitant public
        "4140",  # EPIC local (offices publics de l'habitat, offices de tourisme…)
        "4150",  # régie d'une collectivité locale à caractère industriel ou commercial
        "4160",  # Banque de France
        "7111",  # autorité constitutionnelle
        "7210",  # commune
        "7230",  # région
        "7346",  # communauté de communes
        "7389",  # établissement public national à caractère administratif
        "7410",  # groupement d'intérêt public
        "7490",  # autre personne morale de droit administratif
    ],
)
def test_public_law_bodies_are_public(category):
    assert is_public_buyer(category)


@pytest.mark.parametrize(
    "category",
    [
        "1000",  # entrepreneur individuel
        "2110",  # indivision
        "3120",  # société commerciale étrangère immatriculée au RCS
        "3210",  # État ou établissement public étranger: not a French public buyer
        "3999",  # the last of family 3, just below family 4
        "5499",  # SARL
        "5515",  # SA d'économie mixte: a private-law company
        "5710",  # SAS
        "6220",  # GIE
        "6999",  # the last of family 6, just below family 7
        "8110",  # régime général de la sécurité sociale
        "9220",  # association déclarée
        "9900",  # autre personne morale de droit privé
    ],
)
def test_private_law_bodies_are_private(category):
    assert not is_public_buyer(category)


@pytest.mark.parametrize("category", ["", None, "0000", "X123"])
def test_an_unknown_category_is_not_public(category):
    assert not is_public_buyer(category)


def test_every_category_of_family_4_is_public_and_documented():
    doc = DOC.read_text(encoding="utf-8")
    for category in PUBLIC_COMMERCIAL_LAW:
        assert is_public_buyer(category)
        assert f"| {category} |" in doc, category
    for digit, family in FAMILIES.items():
        assert f"| {digit} |" in doc, digit
        assert ("publique" if family.public else "privée") in doc


def test_only_administrations_have_no_derived_vat_number():
    assert not derives_vat_number("7210")
    assert derives_vat_number("4110") and derives_vat_number("5710") and derives_vat_number("")


@pytest.mark.parametrize(
    ("category", "public", "vat"),
    [("4110", True, "FR65912345675"), ("7210", True, None), ("5499", False, "FR65912345675")],
)
def test_the_mapping_applies_the_rule(category, public, vat):
    data = copy.deepcopy(json.loads(SAMPLE.read_text(encoding="utf-8"))["etablissement"])
    data["uniteLegale"].update(denominationUniteLegale="EXEMPLE", categorieJuridiqueUniteLegale=category)
    establishment = establishment_from_json(data)
    assert (establishment.is_public, establishment.vat_number) == (public, vat)
