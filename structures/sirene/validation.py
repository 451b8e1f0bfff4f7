"""SIRET checks before anything is asked of INSEE: 14 digits and the checksum (Luhn,
or La Poste's rule for its establishments)."""

import re

from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.fr import siret as stdnum_siret

LENGTH = 14
LA_POSTE_SIREN = "356000000"
# Every Unicode space (non-breaking ones included, as pasted from a document), dots and
# dashes: what people put between the digits.
_SEPARATORS = re.compile(r"[\s.\-]+")


class InvalidSiret(ValueError):
    def __init__(self, message, code):
        self.message = message
        self.code = code
        super().__init__(str(message))


def compact_siret(value: str) -> str:
    """The SIRET without the spaces, dots and dashes people type in it."""
    return _SEPARATORS.sub("", value or "")


def _la_poste_luhn(number: str) -> bool:
    """La Poste's establishments follow its own rule (digits summing to a multiple of
    5), which python-stdnum applies alone; some, registered at INSEE, carry the ordinary
    Luhn key instead: either is accepted."""
    return number.startswith(LA_POSTE_SIREN) and luhn.is_valid(number)


def validate_siret(value: str) -> str:
    """Return the compact SIRET, or raise InvalidSiret with a French message."""
    number = compact_siret(value)
    if not number:
        raise InvalidSiret(_("Saisissez un numéro SIRET (14 chiffres)."), "required")
    if not number.isdigit():
        raise InvalidSiret(
            _("Le SIRET ne contient que des chiffres : 14 chiffres, sans lettre (ex. 812 345 676 00017)."),
            "letters",
        )
    if len(number) != LENGTH:
        raise InvalidSiret(
            _(
                "Le SIRET comporte 14 chiffres (9 chiffres du SIREN puis 5 chiffres du NIC) : "
                "vous en avez saisi %(count)d."
            )
            % {"count": len(number)},
            "length",
        )
    try:
        stdnum_siret.validate(number)
    except InvalidChecksum:
        if _la_poste_luhn(number):
            return number
        raise InvalidSiret(
            _("Ce SIRET n’existe pas : sa clé de contrôle est fausse. Vérifiez chaque chiffre."),
            "checksum",
        ) from None
    except (InvalidFormat, InvalidLength):  # pragma: no cover - caught above
        raise InvalidSiret(_("Ce SIRET n’est pas valide."), "invalid") from None
    return number
