"""Which INSEE legal categories (categorieJuridiqueUniteLegale) are public structures in
Chorus Pro's sense: the buyers that receive invoices through Chorus Pro, that is the
State, local authorities and public bodies (établissements publics), EPIC included,
which the code de la commande publique (art. L. 2192-1 ff.) obliges to accept
electronic invoices. docs/structures-publiques.md gives the reasons, code by code.

The decision follows the first level of INSEE's table (the first digit): every
category of a family shares its legal nature, so a category INSEE adds later falls on
the right side without a change here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LegalFamily:
    public: bool
    name: str  # INSEE's level-I name
    reason: str


FAMILIES = {
    "1": LegalFamily(False, "Entrepreneur individuel", "a natural person"),
    "2": LegalFamily(
        False,
        "Groupement de droit privé non doté de la personnalité morale",
        "private law (joint ownership, sociétés en participation, parishes)",
    ),
    "3": LegalFamily(
        False,
        "Personne morale de droit étranger",
        "foreign law: a foreign State or public body (3210) is no French public buyer",
    ),
    "4": LegalFamily(
        True,
        "Personne morale de droit public soumise au droit commercial",
        "public-law bodies (EPIC, local authorities' commercial régies, exploitant public, "
        "Banque de France) bound by public procurement: commercial law governs their trade, "
        "not their nature",
    ),
    "5": LegalFamily(False, "Société commerciale", "private-law companies, SEM and SPL included"),
    "6": LegalFamily(False, "Autre personne morale immatriculée au RCS", "private law (GIE, cooperatives…)"),
    "7": LegalFamily(
        True,
        "Personne morale et organisme soumis au droit administratif",
        "the State, local authorities, administrative public bodies, GIP",
    ),
    "8": LegalFamily(
        False,
        "Organisme privé spécialisé",
        "private-law bodies, social security funds and mutual insurers included",
    ),
    "9": LegalFamily(False, "Groupement de droit privé", "associations, foundations, other private bodies"),
}

# INSEE's level-III categories of family 4, listed for the documentation and its tests:
# each one is public for the reason given.
PUBLIC_COMMERCIAL_LAW = {
    "4110": "Établissement public national à caractère industriel ou commercial doté d’un comptable public",
    "4120": (
        "Établissement public national à caractère industriel ou commercial non doté d’un comptable public"
    ),
    "4130": "Exploitant public",
    "4140": "Établissement public local à caractère industriel ou commercial",
    "4150": "Régie d’une collectivité locale à caractère industriel ou commercial",
    "4160": "Institution Banque de France",
}


def is_public_buyer(category: str | None) -> bool:
    """A legal category of INSEE's public-law families (4xxx, 7xxx). An unknown or
    empty category is not public: the structure stays private until INSEE says more."""
    if not category:
        return False
    family = FAMILIES.get(category[0])
    return family is not None and family.public


def derives_vat_number(category: str | None) -> bool:
    """Administrations (7xxx) are mostly outside the scope of VAT: the portal asserts no
    number for them. Companies, EPIC (which trade, and so are liable to VAT) and every
    other category get the number derived from their SIREN."""
    return not (category or "").startswith("7")
