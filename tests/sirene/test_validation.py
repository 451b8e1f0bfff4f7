"""SIRET checks before INSEE is asked: French messages for each mistake."""

import pytest
from stdnum import luhn

from structures.sirene import InvalidSiret, validate_siret


def test_a_valid_siret_is_returned_compact():
    assert validate_siret(" 812 345 676 00017 ") == "81234567600017"


def test_la_poste_follows_its_own_rule():
    assert not luhn.is_valid("35600000000010")
    assert validate_siret("356 000 000 00010") == "35600000000010"


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        ("8123456760001", "length", "vous en avez saisi 13"),
        ("812345676000171", "length", "vous en avez saisi 15"),
        ("8123456760001A", "letters", "que des chiffres"),
        ("81234567600018", "checksum", "clé de contrôle est fausse"),
        ("35600000000011", "checksum", "clé de contrôle est fausse"),
        ("", "required", "Saisissez un numéro SIRET"),
    ],
)
def test_each_mistake_has_its_french_message(value, code, fragment):
    with pytest.raises(InvalidSiret) as raised:
        validate_siret(value)
    assert raised.value.code == code
    assert fragment in str(raised.value.message)


@pytest.mark.parametrize("siret", ["35600000000360", "35600000000725", "356 000 000 00360"])
def test_la_poste_establishment_that_follows_luhn_is_accepted(siret):
    # Registered at INSEE: some La Poste SIRETs carry the ordinary Luhn key.
    assert luhn.is_valid(siret.replace(" ", ""))
    assert validate_siret(siret) == siret.replace(" ", "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3 5 6 0 0 0 0 0 0 0 0 3 6 0", "35600000000360"),
        ("442 117 834 00014", "44211783400014"),
        ("442\u00a0117\u00a0834\u00a000014", "44211783400014"),
        ("442\u202f117\u202f834\u202f00014", "44211783400014"),
        ("4 4 2 1 1 7 8 3 4 0 0 0 1 4", "44211783400014"),
        ("\t442 117 834\n00014 ", "44211783400014"),
    ],
)
def test_every_kind_of_space_is_allowed_anywhere(value, expected):
    assert validate_siret(value) == expected
