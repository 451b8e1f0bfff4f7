"""The check every login address goes through (sign-up, invitation), on top of the
email format: an address that looks like another one must not become a login.

Refused: a quoted local part ("a@b"@exemple.fr, which shows another address inside),
a local part with anything but ASCII (Python's case-insensitive matching takes the
dotless "ı" for "I"), and a domain that mixes alphabets (exаmple.fr with a Cyrillic
"а") or holds compatibility characters (full-width letters) that display like others."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Alphabets written together in real domain names (Unicode TS 39, "highly restrictive").
ALLOWED_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


def _script(char):
    # Unicode names start with the script: "CYRILLIC SMALL LETTER A", "LATIN SMALL…".
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _decoded_labels(domain):
    for label in domain.split("."):
        if label.lower().startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                raise ValidationError(
                    _("Le nom de domaine de cette adresse électronique n’est pas valide."),
                    code="invalid_domain",
                ) from None
        yield label


def mixes_alphabets(domain) -> bool:
    scripts = {_script(char) for label in _decoded_labels(domain) for char in label if char.isalpha()}
    return len(scripts) > 1 and not any(scripts <= mix for mix in ALLOWED_MIXES)


def validate_login_email(value):
    local, _at, domain = str(value).rpartition("@")
    if '"' in local:
        raise ValidationError(
            _("Les adresses dont la partie avant « @ » est entre guillemets ne sont pas acceptées."),
            code="quoted_local_part",
        )
    if not local.isascii():
        raise ValidationError(
            _(
                "La partie avant « @ » ne peut contenir que des lettres sans accent, des chiffres et "
                "les signes . _ - + : vérifiez chaque caractère de l’adresse."
            ),
            code="non_ascii_local_part",
        )
    if unicodedata.normalize("NFKC", domain) != domain or mixes_alphabets(domain):
        raise ValidationError(
            _(
                "Le nom de domaine de cette adresse mélange des alphabets différents (par exemple des "
                "lettres latines et cyrilliques qui se ressemblent) : saisissez l’adresse lettre par lettre."
            ),
            code="mixed_scripts",
        )
