"""Reads of the bank details of structures."""

from structures.models import BankAccount


def bank_accounts_within(*, structures):
    """The bank details of these structures (those the user may act on): any other
    structure's bank detail is then a 404."""
    return BankAccount.objects.filter(structure__in=structures).select_related("structure", "created_by")


def bank_accounts_listed(*, structure):
    """The bank details of one structure, the active ones first."""
    return BankAccount.objects.filter(structure=structure).order_by("-is_active", "name", "id")
