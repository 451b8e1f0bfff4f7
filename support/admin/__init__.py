"""The support's admin pages, one module per topic; importing them registers them."""

from support.admin import docs, tickets  # noqa: F401
