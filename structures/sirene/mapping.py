"""From a Sirene 3.11 `etablissement` to what the portal keeps of it.

A value INSEE hides ("[ND]", partly non-diffusible units) maps to None: "unknown",
which never overwrites what the portal already holds. An empty value maps to "".
"""

from dataclasses import dataclass, field
from datetime import date

from stdnum.fr import siren as stdnum_siren

from structures.sirene.countries import foreign_country
from structures.sirene.errors import SireneClosed, SireneNonDiffusible
from structures.sirene.legal_categories import derives_vat_number, is_public_buyer

HIDDEN = "[ND]"

# typeVoieEtablissement codes (INSEE's list) and their words, for a readable address.
STREET_TYPES = {
    "ALL": "allée",
    "AV": "avenue",
    "BD": "boulevard",
    "CAR": "carrefour",
    "CHE": "chemin",
    "CHS": "chaussée",
    "CITE": "cité",
    "COR": "corniche",
    "CRS": "cours",
    "DOM": "domaine",
    "DSC": "descente",
    "ECA": "écart",
    "ESP": "esplanade",
    "FG": "faubourg",
    "GR": "grande rue",
    "HAM": "hameau",
    "HLE": "halle",
    "IMP": "impasse",
    "LD": "lieu-dit",
    "LOT": "lotissement",
    "MAR": "marché",
    "MTE": "montée",
    "PAS": "passage",
    "PL": "place",
    "PLN": "plaine",
    "PLT": "plateau",
    "PRO": "promenade",
    "PRV": "parvis",
    "QUA": "quartier",
    "QUAI": "quai",
    "RES": "résidence",
    "RLE": "ruelle",
    "ROC": "rocade",
    "RPT": "rond-point",
    "RTE": "route",
    "RUE": "rue",
    "SEN": "sentier",
    "SQ": "square",
    "TPL": "terre-plein",
    "TRA": "traverse",
    "VLA": "villa",
    "VLGE": "village",
}
REPETITION_INDEXES = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}

# The Structure fields that come from INSEE, in the order pages show them.
INSEE_FIELDS = (
    "company_name",
    "label",
    "last_name",
    "first_name",
    "vat_number",
    "address",
    "address_complement_1",
    "address_complement_2",
    "postcode",
    "city",
    "country",
    "country_label",
    "legal_category",
    "company_category",
    "non_diffusible",
)


def _value(data: dict, key: str):
    """A text value: None when hidden, "" when absent, stripped otherwise."""
    value = data.get(key)
    if value == HIDDEN:
        return None
    if value is None:
        return ""
    return str(value).strip()


def _first(*values):
    """The first non-empty value; None if one is hidden and none is known."""
    hidden = False
    for value in values:
        if value is None:
            hidden = True
        elif value:
            return value
    return None if hidden else ""


def _join(*parts):
    if any(part is None for part in parts):
        return None
    return " ".join(part for part in parts if part)


def _street_type(code: str, street: str) -> str:
    word = STREET_TYPES.get(code.upper())
    if word is None:
        return code
    # Upper-case registers keep upper case ("12 RUE DES EXEMPLES"); data typed in
    # mixed case reads "12 rue de la Filature".
    return word.upper() if street.isupper() or not street else word


def _is_hidden(data: dict) -> bool:
    return any(value == HIDDEN for value in data.values())


def current_period(periods: list[dict]) -> dict:
    """The period without an end date (the newest), or the first listed."""
    for period in periods or ():
        if period.get("dateFin") is None:
            return period
    return (periods or [{}])[0]


@dataclass(frozen=True)
class Establishment:
    siret: str
    siren: str
    is_active: bool
    non_diffusible: bool
    is_person: bool
    company_name: str | None
    label: str | None
    last_name: str | None
    first_name: str | None
    address: str | None
    address_complement_1: str | None
    address_complement_2: str | None
    postcode: str | None
    city: str | None
    # ISO 3166 code; "" abroad when INSEE's code names no single country.
    country: str | None
    # INSEE's name of the country, for an establishment abroad ("" in France).
    country_label: str | None
    legal_category: str | None
    company_category: str | None
    activity: str | None = None
    is_head_office: bool = False
    state_since: date | None = None
    # The SIRET that was asked for, when INSEE redirected it to the one kept.
    requested_siret: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_public(self) -> bool:
        """A public buyer in Chorus Pro's sense, from the legal category (4xxx, 7xxx)."""
        return is_public_buyer(self.legal_category)

    @property
    def was_redirected(self) -> bool:
        return bool(self.requested_siret) and self.requested_siret != self.siret

    @property
    def vat_number(self) -> str | None:
        """Derived from the SIREN, except for administrations (7xxx): their own VAT
        number, if any, is not something the portal derives."""
        if not derives_vat_number(self.legal_category) or not self.siren:
            return None
        return f"FR{stdnum_siren.to_tva(self.siren)}"

    def structure_fields(self) -> dict:
        """The Structure fields INSEE knows, with their values (hidden ones left out)."""
        values = {name: getattr(self, name) for name in INSEE_FIELDS}
        return {name: value for name, value in values.items() if value is not None}

    def check_usable(self) -> None:
        """A structure may be created (or duplicated) only from an active, diffusible
        establishment."""
        if not self.is_active:
            raise SireneClosed(f"establishment {self.siret} is closed", siret=self.siret)
        if self.non_diffusible:
            raise SireneNonDiffusible(f"establishment {self.siret} is not diffusible", siret=self.siret)


def establishment_from_json(data: dict, *, requested_siret: str = "") -> Establishment:
    unit = data.get("uniteLegale") or {}
    address = data.get("adresseEtablissement") or {}
    period = current_period(data.get("periodesEtablissement") or [])

    company = _value(unit, "denominationUniteLegale")
    first_name = _first(_value(unit, "prenomUsuelUniteLegale"), _value(unit, "prenom1UniteLegale"))
    last_name = _first(_value(unit, "nomUsageUniteLegale"), _value(unit, "nomUniteLegale"))
    is_person = company == "" and (bool(last_name) or last_name is None)
    if is_person:
        company_name = _join(first_name, last_name)
    else:
        company_name = company
        first_name = last_name = ""

    street = _value(address, "libelleVoieEtablissement")
    street_type = _value(address, "typeVoieEtablissement")
    number = _value(address, "numeroVoieEtablissement")
    repetition = _value(address, "indiceRepetitionEtablissement")
    if repetition:
        repetition = REPETITION_INDEXES.get(repetition.upper(), repetition)
    if street_type and street is not None:
        street_type = _street_type(street_type, street)
    country_code = _value(address, "codePaysEtrangerEtablissement")
    if country_code is None and (
        _value(address, "codePostalEtablissement") or _value(address, "codeCommuneEtablissement")
    ):
        country_code = ""  # hidden, but a French commune says it is in France
    cedex = _value(address, "codeCedexEtablissement")
    if country_code is None:
        # Hidden: whether it is abroad is unknown, and so is the country.
        postcode = _value(address, "codePostalEtablissement")
        city = _first(
            _value(address, "libelleCommuneEtablissement"),
            _value(address, "libelleCommuneEtrangerEtablissement"),
        )
        country = country_label = None
    elif country_code:
        postcode = ""
        city = _value(address, "libelleCommuneEtrangerEtablissement")
        country, country_label = foreign_country(
            country_code,
            _value(address, "libellePaysEtrangerEtablissement"),
            siret=str(data.get("siret") or ""),
        )
    elif cedex:
        postcode = cedex
        city = _first(
            _value(address, "libelleCedexEtablissement"), _value(address, "libelleCommuneEtablissement")
        )
        country, country_label = "FR", ""
    else:
        postcode = _value(address, "codePostalEtablissement")
        city = _value(address, "libelleCommuneEtablissement")
        country, country_label = "FR", ""

    since = period.get("dateDebut")
    statuses = (data.get("statutDiffusionEtablissement"), unit.get("statutDiffusionUniteLegale"))
    return Establishment(
        siret=str(data.get("siret") or ""),
        siren=str(data.get("siren") or str(data.get("siret") or "")[:9]),
        is_active=period.get("etatAdministratifEtablissement") == "A",
        non_diffusible="P" in statuses or _is_hidden(unit) or _is_hidden(address),
        is_person=is_person,
        company_name=company_name,
        label=_first(
            _value(period, "enseigne1Etablissement"), _value(period, "denominationUsuelleEtablissement")
        ),
        last_name=last_name,
        first_name=first_name,
        address=_join(number, repetition, street_type, street),
        address_complement_1=_value(address, "complementAdresseEtablissement"),
        address_complement_2=_value(address, "distributionSpecialeEtablissement"),
        postcode=postcode,
        city=city,
        country=country,
        country_label=country_label,
        legal_category=_value(unit, "categorieJuridiqueUniteLegale"),
        company_category=_value(unit, "categorieEntreprise"),
        activity=_value(period, "activitePrincipaleEtablissement") or None,
        is_head_office=bool(data.get("etablissementSiege")),
        state_since=date.fromisoformat(since) if isinstance(since, str) and len(since) == 10 else None,
        requested_siret=requested_siret,
        raw=data,
    )
