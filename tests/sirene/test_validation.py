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
