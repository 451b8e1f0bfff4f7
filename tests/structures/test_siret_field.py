"""The SIRET field of the INSEE forms: what a person types, with spaces anywhere."""

import pytest

from structures.forms.insee import SiretLookupForm


@pytest.mark.parametrize(
    ("typed", "siret"),
    [
        ("3 5 6 0 0 0 0 0 0 0 0 3 6 0", "35600000000360"),
        ("3 5 6 0 0 0 0 0 0 0 0 7 2 5", "35600000000725"),
        ("442 117 834 00014", "44211783400014"),
        ("4 4 2 1 1 7 8 3 4 0 0 0 1 4", "44211783400014"),
        ("442\u00a0117\u00a0834\u00a000014", "44211783400014"),
    ],
)
def test_siret_typed_with_spaces_is_accepted(typed, siret):
    form = SiretLookupForm({"siret": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["siret"] == siret


def test_field_lets_a_browser_take_a_siret_spaced_digit_by_digit():
    # The browser stops typing at maxlength: the spaced form must fit in it.
    html = str(SiretLookupForm()["siret"])
    maxlength = int(html.split('maxlength="')[1].split('"')[0])
    assert maxlength >= len("3 5 6 0 0 0 0 0 0 0 0 3 6 0")


def test_a_siret_with_a_wrong_key_still_has_its_french_message():
    form = SiretLookupForm({"siret": "3 5 6 0 0 0 0 0 0 0 0 3 6 1"})
    assert not form.is_valid()
    assert "Ce SIRET n’existe pas : sa clé de contrôle est fausse." in form.errors["siret"][0]
