"""Créer une coordonnée bancaire, and the deactivation question of Gérer une coordonnée
bancaire."""

import functools
import gettext
import re
import unicodedata

import pycountry
from django import forms
from django.utils import translation
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN, registry
from schwifty import exceptions as iban_errors

from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm
from core.kept_uploads import kept_uploads_for
from core.uploads import PDF_ONLY, validate_upload
from structures.fields import StructureChoiceField
from structures.models import BankAccount
from structures.services.bank import INACTIVE_STRUCTURE_MESSAGE

KEPT_PURPOSE = "bank_proof"
PROOF_REFUSED = _(
    "Le fichier choisi a été refusé et n’a pas été conservé : choisissez de nouveau un justificatif PDF."
)

IBAN_ERRORS = {
    iban_errors.InvalidCountryCode: _("L’IBAN doit commencer par le code d’un pays (par exemple FR)."),
    iban_errors.InvalidLength: _(
        "L’IBAN n’a pas la longueur attendue pour son pays (27 caractères en France)."
    ),
    iban_errors.InvalidStructure: _("Le format de l’IBAN n’est pas celui attendu pour son pays."),
    iban_errors.InvalidChecksumDigits: _(
        "L’IBAN n’est pas valide : sa clé de contrôle ne correspond pas. Vérifiez votre saisie."
    ),
    iban_errors.InvalidBBANChecksum: _(
        "L’IBAN n’est pas valide : la clé RIB qu’il contient ne correspond pas. Vérifiez votre saisie."
    ),
}
RIB_FORMATS = {
    "bank_code": (re.compile(r"\d{5}"), _("Le code banque est composé de 5 chiffres.")),
    "branch_code": (re.compile(r"\d{5}"), _("Le code guichet est composé de 5 chiffres.")),
    "account_number": (
        re.compile(r"[0-9A-Z]{11}"),
        _("Le numéro de compte est composé de 11 chiffres ou lettres."),
    ),
    "rib_key": (re.compile(r"\d{2}"), _("La clé RIB est composée de 2 chiffres.")),
}

# Territories whose banks issue another country's IBANs (the SWIFT IBAN registry): the
# French overseas departments and collectivities bank with French IBANs and RIBs, the
# Crown dependencies with British IBANs. The account keeps its territory as country.
IBAN_COUNTRY_OF_TERRITORY = {
    **dict.fromkeys(["RE", "GP", "MQ", "GF", "YT", "PM", "NC", "PF", "WF", "BL", "MF"], "FR"),
    **dict.fromkeys(["JE", "GG", "IM"], "GB"),
}


def iban_country(country: str) -> str:
    """The country code that starts the IBAN of an account held in `country`."""
    return IBAN_COUNTRY_OF_TERRITORY.get(country, country)


@functools.cache
def _iban_countries() -> tuple:
    """Countries whose accounts have an IBAN (the IBAN registry that schwifty ships)."""
    codes = []
    for country in pycountry.countries:
        try:
            registry.get_iban_spec(country.alpha_2)
        except iban_errors.InvalidCountryCode:
            continue
        codes.append(country.alpha_2)
    return tuple(codes)


# Where the French names of the ISO 3166 translation (iso-codes, shipped by pycountry)
# are not the official ones (the country list of the ministère de l’Europe et des
# Affaires étrangères, INSEE's COG): "Groënland", "Guinée Équatoriale".
FRENCH_NAMES = {"GL": "Groenland", "GQ": "Guinée équatoriale"}


def _country_name(code: str, names, language: str) -> str:
    if language == "fr":
        name = FRENCH_NAMES.get(code) or names.gettext(pycountry.countries.get(alpha_2=code).name)
        # The typographic apostrophe of the interface: "Côte d’Ivoire".
        return name.replace("'", "’")
    return names.gettext(pycountry.countries.get(alpha_2=code).name)


@functools.cache
def _country_names(language: str) -> tuple:
    names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    choices = [(code, _country_name(code, names, language)) for code in _iban_countries()]

    def fold(choice):
        decomposed = unicodedata.normalize("NFKD", choice[1].casefold())
        return "".join(char for char in decomposed if not unicodedata.combining(char))

    return tuple(sorted(choices, key=fold))


def country_choices():
    """(ISO code, name in the interface's language), sorted by name."""
    return list(_country_names((translation.get_language() or "fr").split("-")[0]))


def _compact(value: str) -> str:
    return re.sub(r"[\s-]+", "", value or "").upper()


class BankAccountForm(DsfrForm, forms.ModelForm):
    """Name, structure, factoring, IBAN or French RIB (keys verified), BIC and the
    mandatory PDF proof. Choices are limited to the structures the user may act on.
    An accepted proof is kept when the form comes back with another error."""

    proof_refused_message = PROOF_REFUSED

    kind = forms.ChoiceField(
        label=_("Type de coordonnée bancaire"),
        choices=BankAccount.Kind.choices,
        initial=BankAccount.Kind.IBAN,
        widget=forms.RadioSelect,
    )
    country = forms.ChoiceField(
        label=_("Pays du compte"),
        initial="FR",
        help_text=_(
            "Pour un compte outre-mer, choisissez son territoire (La Réunion, Nouvelle-Calédonie…) : "
            "son IBAN commence par FR et son RIB se saisit comme en France."
        ),
    )
    iban = forms.CharField(
        label=_("IBAN"),
        required=False,
        max_length=50,
        help_text=_("Pour le type IBAN. Par exemple : FR76 3000 6000 0112 3456 7890 189"),
    )
    bank_code = forms.CharField(
        label=_("Code banque"), required=False, max_length=5, help_text=_("Pour le type RIB : 5 chiffres.")
    )
    branch_code = forms.CharField(
        label=_("Code guichet"), required=False, max_length=5, help_text=_("Pour le type RIB : 5 chiffres.")
    )
    account_number = forms.CharField(
        label=_("Numéro de compte"),
        required=False,
        max_length=13,
        help_text=_("Pour le type RIB : 11 chiffres ou lettres."),
    )
    rib_key = forms.CharField(
        label=_("Clé RIB"), required=False, max_length=2, help_text=_("Pour le type RIB : 2 chiffres.")
    )
    bic = forms.CharField(
        label=_("BIC / SWIFT"),
        required=False,
        max_length=14,
        help_text=_("8 ou 11 caractères, par exemple BNPAFRPP. Obligatoire pour un compte hors de France."),
    )
    proof = forms.FileField(
        label=_("Justificatif (PDF)"),
        help_text=_(
            "Un relevé d’identité bancaire ou une attestation de la banque, au format PDF, "
            "10 Mo au maximum. Un aperçu s’affiche une fois le fichier choisi."
        ),
        error_messages={"required": _("Joignez le justificatif PDF de ces coordonnées bancaires.")},
        widget=forms.FileInput(
            attrs={
                "accept": "application/pdf,.pdf",
                "class": "fr-upload",
                "data-pdf-preview": "apercu-justificatif",
            }
        ),
    )
    # The signed token of a proof accepted when the form came back with another error.
    proof_kept = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = BankAccount
        fields = [
            "name",
            "structure",
            "is_factor",
            "factor_name",
            "factor_identifier",
            "kind",
            "country",
            "iban",
            "bank_code",
            "branch_code",
            "account_number",
            "rib_key",
            "bic",
            "proof",
        ]
        labels = {
            "name": _("Nom de la coordonnée bancaire"),
            "is_factor": _("Affactureur"),
            "factor_name": _("Nom de l’affactureur"),
            "factor_identifier": _("Identifiant de l’affactureur (SIRET ou autre)"),
        }
        help_texts = {
            "name": _("Un nom qui permet de la reconnaître, par exemple « IBAN test »."),
            "is_factor": _("Cochez si ces coordonnées sont celles d’une société d’affacturage."),
            "factor_name": _("Obligatoire si la case Affactureur est cochée."),
            "factor_identifier": _("Obligatoire si la case Affactureur est cochée."),
        }

    def __init__(self, *args, user_or_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = getattr(user_or_request, "user", user_or_request)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=user_or_request,
            application_code=ApplicationCode.CREER_COORDONNEE_BANCAIRE,
            level=Level.MODIFICATION,
        )
        self.fields["country"].choices = country_choices()
        self.fields["proof"].widget.group_class = "fr-upload-group"
        self.checked_proof = None
        self.kept_uploads = kept_uploads_for(user_or_request, KEPT_PURPOSE)
        # The proof kept from the previous submission (a KeptFile), shown with its preview.
        self.kept_proof = None
        self._kept_copy = None
        self._kept_error = None
        self._superseded = None
        # The chosen file was refused: the page says it must be chosen again (PROOF_REFUSED).
        self.proof_refused = False
        if self.is_bound and self.kept_uploads is not None and self.data.get("proof_kept"):
            found, errors = self.kept_uploads.resolve([self.data["proof_kept"]], extensions=PDF_ONLY)
            if found:
                self._kept_copy, checked, self.kept_proof = found[0]
                self._kept_checked = checked
            elif errors:
                self._kept_error = errors[0]
        self.use_kept_label(token_sent=self._kept_error is not None)

    def use_kept_label(self, *, token_sent=False):
        """With a kept proof, the file input only replaces it: not required. A token
        that no longer names a file is said so by clean_proof, not as a missing file."""
        proof = self.fields["proof"]
        proof.required = self.kept_proof is None and not token_sent
        if self.kept_proof is not None:
            proof.label = _("Remplacer le justificatif (facultatif)")
        else:
            proof.label = _("Justificatif (PDF)")
        self._bound_fields_cache.pop("proof", None)

    def clean_structure(self):
        structure = self.cleaned_data["structure"]
        if not structure.is_active:
            raise forms.ValidationError(INACTIVE_STRUCTURE_MESSAGE, code="inactive_structure")
        return structure

    def clean_proof(self):
        proof = self.cleaned_data["proof"]
        if proof:
            # A new file replaces the kept one, whatever becomes of it.
            self._superseded, self.kept_proof = self.kept_proof, None
            self.proof_refused = True
            self.checked_proof = validate_upload(proof, extensions=PDF_ONLY)
            self.proof_refused = False
            return proof
        if self.kept_proof is not None:
            self.checked_proof = self._kept_checked
            return self._kept_copy
        if self._kept_error is not None:
            raise self._kept_error
        raise forms.ValidationError(self.fields["proof"].error_messages["required"], code="required")

    def full_clean(self):
        super().full_clean()
        if self._errors:
            self.keep_proof()

    def keep_proof(self):
        """After an error elsewhere, keep an accepted new proof for the form shown again."""
        proof = self.cleaned_data.get("proof") if hasattr(self, "cleaned_data") else None
        if self.kept_uploads is not None and proof and proof is not self._kept_copy and self.checked_proof:
            self.kept_proof = self.kept_uploads.keep(proof, self.checked_proof)
            self._kept_copy, self._kept_checked = proof, self.checked_proof
        self.data = self.data.copy()
        self.data["proof_kept"] = self.kept_proof.token if self.kept_proof else ""
        self._bound_fields_cache.pop("proof_kept", None)
        self.use_kept_label()

    def discard_kept(self):
        """Once saved, the kept proof (used or replaced) is no longer needed."""
        kept = [kept for kept in (self.kept_proof, self._superseded) if kept is not None]
        if self.kept_uploads is not None and kept:
            self.kept_uploads.discard(kept)

    def clean(self):
        cleaned = super().clean()
        self._clean_factor(cleaned)
        kind, country = cleaned.get("kind"), cleaned.get("country")
        if kind == BankAccount.Kind.RIB:
            cleaned["iban"] = self._clean_rib(cleaned, country)
        elif kind == BankAccount.Kind.IBAN:
            cleaned["iban"] = self._clean_iban(cleaned.get("iban"), country)
            for name in RIB_FORMATS:
                cleaned[name] = ""
        self._clean_bic(cleaned, country)
        structure = cleaned.get("structure")
        if structure is not None and cleaned.get("iban"):
            duplicate = BankAccount.objects.filter(structure=structure, iban=cleaned["iban"], is_active=True)
            if duplicate.exists():
                self.add_error(
                    "iban" if kind == BankAccount.Kind.IBAN else "account_number",
                    _("Ce compte est déjà déclaré et actif pour cette structure."),
                )
        return cleaned

    def _clean_factor(self, cleaned):
        if not cleaned.get("is_factor"):
            cleaned["factor_name"] = cleaned["factor_identifier"] = ""
            return
        if not cleaned.get("factor_name", "").strip():
            self.add_error("factor_name", _("Indiquez le nom de l’affactureur."))
        if not cleaned.get("factor_identifier", "").strip():
            self.add_error("factor_identifier", _("Indiquez l’identifiant de l’affactureur."))

    def _clean_iban(self, value, country):
        value = _compact(value)
        if not value:
            self.add_error("iban", _("Saisissez l’IBAN."))
            return ""
        if not value.isalnum() or not value.isascii():
            self.add_error("iban", _("L’IBAN ne contient que des lettres et des chiffres."))
            return ""
        try:
            iban = IBAN(value, validate_bban=True)
        except iban_errors.SchwiftyException as error:
            self.add_error("iban", IBAN_ERRORS.get(type(error), _("L’IBAN n’est pas valide.")))
            return ""
        if country and iban.country_code != iban_country(country):
            if iban_country(country) == country:
                message = _(
                    "Cet IBAN est celui d’un compte du pays %(iban_country)s, "
                    "pas du pays choisi (%(country)s)."
                )
            else:
                message = _(
                    "Cet IBAN est celui d’un compte du pays %(iban_country)s, pas du pays choisi "
                    "(%(country)s) : un compte de ce pays a un IBAN qui commence par %(expected)s."
                )
            params = {
                "iban_country": iban.country_code,
                "country": country,
                "expected": iban_country(country),
            }
            self.add_error("iban", forms.ValidationError(message, params=params))
            return ""
        return iban.compact

    def _clean_rib(self, cleaned, country):
        if country and iban_country(country) != "FR":
            self.add_error(
                "country",
                _("Un RIB est celui d’un compte en France : choisissez le type IBAN pour un autre pays."),
            )
        parts = {}
        for name, (pattern, message) in RIB_FORMATS.items():
            value = _compact(cleaned.get(name))
            cleaned[name] = value
            if not value:
                self.add_error(name, _("Ce champ est obligatoire pour un RIB."))
            elif not pattern.fullmatch(value):
                self.add_error(name, message)
            else:
                parts[name] = value
        if len(parts) < len(RIB_FORMATS):
            return ""
        bban = parts["bank_code"] + parts["branch_code"] + parts["account_number"] + parts["rib_key"]
        try:
            # schwifty checks the RIB key of a French BBAN (validate_bban).
            iban = IBAN(IBAN.from_bban("FR", bban), validate_bban=True)
        except iban_errors.SchwiftyException:
            self.add_error(
                "rib_key",
                _(
                    "La clé RIB ne correspond pas au code banque, au code guichet et au numéro de "
                    "compte : vérifiez votre saisie."
                ),
            )
            return ""
        return iban.compact

    def _clean_bic(self, cleaned, country):
        value = _compact(cleaned.get("bic"))
        cleaned["bic"] = value
        if not value:
            # A French IBAN, overseas included, is a SEPA account reached without a BIC.
            if country and iban_country(country) != "FR":
                self.add_error("bic", _("Le BIC / SWIFT est obligatoire pour un compte hors de France."))
            return
        try:
            bic = BIC(value)
        except iban_errors.SchwiftyException:
            self.add_error(
                "bic",
                _(
                    "Le BIC / SWIFT n’est pas valide : 8 ou 11 caractères, "
                    "par exemple BNPAFRPP ou BNPAFRPPXXX."
                ),
            )
            return
        if not country:
            return
        # SWIFT gives a territory's banks either its own code or the one of its IBANs
        # (BNPARERX and BNPAFRPP both serve La Réunion).
        allowed = list(dict.fromkeys([iban_country(country), country]))
        if bic.country_code not in allowed:
            self.add_error(
                "bic",
                forms.ValidationError(
                    _(
                        "Ce BIC / SWIFT est celui d’une banque du pays %(bic_country)s : pour ce "
                        "compte, il doit être celui d’une banque du pays %(countries)s."
                    ),
                    params={"bic_country": bic.country_code, "countries": get_text_list(allowed)},
                ),
            )

    def save(self, commit=True):
        self.instance.proof_name = self.checked_proof.name
        self.instance.created_by = self.user
        return super().save(commit=commit)


class ConfirmForm(DsfrForm, forms.Form):
    """A yes / no question answered with Valider, as Chorus Pro asks it ("Voulez-vous
    désactiver ces informations bancaires ?" Oui → Valider)."""

    YES, NO = "oui", "non"

    answer = forms.ChoiceField(
        choices=[(YES, _("Oui")), (NO, _("Non"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Répondez Oui ou Non.")},
    )

    def __init__(self, *args, question, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].label = question
        # The bound field, built by DsfrBaseForm's __init__, copied the old label.
        self._bound_fields_cache.pop("answer", None)

    @property
    def confirmed(self):
        return self.cleaned_data.get("answer") == self.YES
