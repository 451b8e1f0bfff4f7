"""French company identifiers: SIREN, SIRET and the intra-EU VAT number derived from them."""


def luhn_complete(digits: str) -> str:
    """Append the digit that makes the Luhn checksum of the whole number valid (the
    SIREN and the SIRET both carry one)."""
    for last in "0123456789":
        candidate = digits + last
        total = 0
        for index, char in enumerate(reversed(candidate)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def vat_number(siren: str) -> str:
    """French intra-EU VAT number: FR, a two-digit key, the SIREN."""
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"
