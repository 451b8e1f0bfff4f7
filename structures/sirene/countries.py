"""INSEE's country codes (codePaysEtrangerEtablissement: the 99xxx codes of the Code
officiel géographique) to ISO 3166-1 alpha-2 codes, from INSEE's own table kept in
data/pays-cog.csv (its header says where it comes from and what each column means).

No library ships this table: pycountry knows ISO codes only, and INSEE's codes are
neither ISO numeric nor alpha codes."""

import csv
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

TABLE = Path(__file__).with_name("data") / "pays-cog.csv"


@dataclass(frozen=True)
class InseeCountry:
    code: str
    # "" when the INSEE code groups territories that each have their own ISO code
    # (99161: Jersey, Guernsey, Isle of Man), or has none (Kosovo).
    iso: str
    label: str
    state: str


@functools.cache
def insee_countries() -> dict[str, InseeCountry]:
    with TABLE.open(encoding="utf-8", newline="") as table:
        rows = csv.DictReader(line for line in table if not line.startswith("#"))
        return {
            row["cog"]: InseeCountry(row["cog"], iso=row["iso2"], label=row["libelle"], state=row["etat"])
            for row in rows
        }


def foreign_country(code: str, insee_label: str | None = None, *, siret: str = "") -> tuple[str, str]:
    """(ISO code, French name) of an establishment abroad. The ISO code is "" when no
    single country can be told: never a default country. A code missing from the table
    (INSEE adds one now and then) keeps INSEE's own label and is logged, so the table
    gets updated."""
    country = insee_countries().get(code)
    if country is None:
        logger.warning(
            "INSEE country code %s (%s) of establishment %s is not in %s: country left unknown",
            code,
            insee_label or "no label",
            siret or "?",
            TABLE.name,
        )
        return "", insee_label or code
    return country.iso, country.label
