"""Ticket categories, sub-categories, object types and recipients in the interface's
language: the names the support seeds are in the translation catalogue, and every page
and email shows them through it. A name an operator adds stays as typed."""

import ast
import html
from importlib import import_module
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from support.models import Category, SubCategory
from tests.support.test_tickets import CREATE_URL, make_ticket, subcategory

SEED = import_module("support.migrations.0002_categories")
SEED_FILE = Path(SEED.__file__)

# What the English catalogue will say; the test puts it in place itself, so that it does
# not depend on the state of locale/.
ENGLISH = {
    "Factures émises": "Issued invoices",
    "Déposer une facture": "Submit an invoice",
    "Facture": "Invoice",
    "Support du portail": "Portal support",
    "Support portail": "Portal support queue",
}


def seeded_names():
    names = {name for _code, name, recipient, _order in SEED.QUEUES} | {
        recipient for _code, _name, recipient, _order in SEED.QUEUES
    }
    for category, subcategories in SEED.CATEGORIES:
        names.add(category)
        for name, object_type in subcategories:
            names |= {name, object_type}
    return names


def marked_for_translation():
    tree = ast.parse(SEED_FILE.read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "gettext_noop"
    }


@pytest.fixture
def english(monkeypatch):
    """The English interface, with the catalogue entries of ENGLISH."""
    catalogue = trans_real.translation("en")._catalog._catalogs[0]
    for french, english in ENGLISH.items():
        monkeypatch.setitem(catalogue, french, english)
    with translation.override("en"):
        yield


def page(response):
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_every_seeded_name_is_marked_for_translation():
    assert seeded_names() - marked_for_translation() == set()


def test_ticket_form_lists_categories_in_english(client, english, structure, principal_manager):
    client.force_login(principal_manager)
    sub = subcategory()
    client.post(reverse("set_language"), {"language": "en", "next": CREATE_URL})

    response = client.get(CREATE_URL, {"category": sub.category_id, "subcategory": sub.pk})

    form = response.context["form"]
    text = page(response)
    assert f'<option value="{sub.category_id}" selected>Issued invoices</option>' in text
    assert f'<option value="{sub.pk}" selected>Submit an invoice</option>' in text
    assert "Factures émises" not in text and "Déposer une facture" not in text
    assert form.object_type == "Invoice"
    assert form.recipient == "Portal support"
    assert {
        "id": str(sub.pk),
        "name": "Submit an invoice",
        "object_type": "Invoice",
        "recipient": "Portal support",
    } in form.routing[str(sub.category_id)]


def test_ticket_page_and_list_show_the_category_in_english(client, english, structure, principal_manager):
    client.force_login(principal_manager)
    ticket = make_ticket(principal_manager)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    detail = page(client.get(reverse("support:ticket_detail", args=[ticket.pk])))
    listing = page(client.get(reverse("support:tickets"), {"tab": "en-cours"}))

    for text in (detail, listing):
        assert "Issued invoices" in text and "Submit an invoice" in text
        assert "Factures émises" not in text and "Déposer une facture" not in text
    assert "Portal support" in detail and "Invoice" in detail


def test_agent_ticket_page_shows_category_queue_and_object_type_in_english(
    client, english, structure, principal_manager, staff_user
):
    ticket = make_ticket(principal_manager)
    client.force_login(staff_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    text = page(client.get(reverse("support:agent_ticket", args=[ticket.pk])))

    assert "Issued invoices" in text and "Submit an invoice" in text
    assert "Portal support queue" in text and "Invoice" in text
    assert "Factures émises" not in text


def test_french_interface_and_operator_names_are_shown_as_stored(client, structure, principal_manager):
    category = Category.objects.create(name="Nouvelle rubrique", order=99)
    added = SubCategory.objects.create(
        category=category, name="Question diverse", object_type="Objet particulier"
    )
    client.force_login(principal_manager)

    french = page(client.get(CREATE_URL, {"category": category.pk}))
    assert "Factures émises" in french and "Question diverse" in french

    with translation.override("en"):
        assert str(category) == "Nouvelle rubrique"
        assert added.label == "Question diverse" and added.object_type_label == "Objet particulier"
