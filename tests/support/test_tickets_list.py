"""Tickets émis: the tabs and their counts, search, filters, reset, pagination, the
export of the current tab with its filters, the tab of my structures' tickets; and the
number of queries, the same with 5 and 500 tickets."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from support.models import Category, Queue, Ticket
from tests import factories
from tests.support.test_tickets import make_ticket, subcategory

S = Ticket.Status
LIST_URL = "/support/tickets/"
EXPORT_URL = "/support/tickets/export/"


@pytest.fixture
def requester(structure, principal_manager):
    user = factories.UserFactory(email="demandeur@exemple.fr", first_name="Lucas", last_name="Petit")
    factories.attach(user, structure)
    return user


def one_of_each(user, **fields):
    return {status: make_ticket(user, status, title=f"Ticket {status}", **fields) for status in S}


def csv_rows(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [
        ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
    ]


def numbers(response):
    return [row.number for row in response.context["rows"]]


def test_tabs_hold_their_statuses_with_their_counts(client, requester):
    tickets = one_of_each(requester)
    make_ticket(requester, S.RESOLU, title="Deuxième résolu")
    make_ticket(factories.UserFactory(), S.RESOLU)  # someone else's
    client.force_login(requester)
    response = client.get(LIST_URL)
    assert [(str(t["label"]), t["count"]) for t in response.context["tabs"]] == [
        ("Actions requises", 3),
        ("En cours", 2),
        ("Clôturés", 1),
        ("Brouillons", 1),
    ]
    assert response.context["tab"].code == "actions"
    assert {row.title for row in response.context["rows"]} == {
        "Ticket EN_ATTENTE_INFORMATION",
        "Ticket RESOLU",
        "Deuxième résolu",
    }
    expected = {
        "en-cours": {tickets[S.SOUMIS].pk, tickets[S.EN_COURS].pk},
        "clotures": {tickets[S.CLOTURE].pk},
        "brouillons": {tickets[S.BROUILLON].pk},
    }
    for code, ids in expected.items():
        response = client.get(LIST_URL, {"tab": code})
        assert {row.ticket_id for row in response.context["rows"]} == ids, code
    assert "Tickets de mes structures" not in response.text


def test_unknown_tab_falls_back_to_actions(client, requester):
    client.force_login(requester)
    assert client.get(LIST_URL, {"tab": "structures"}).context["tab"].code == "actions"
    assert client.get(LIST_URL, {"tab": "n-importe"}).context["tab"].code == "actions"


def test_keyword_search_on_number_title_summary_and_description(client, requester):
    by_title = make_ticket(requester, S.EN_COURS, title="IBAN refusé")
    by_summary = make_ticket(
        requester, S.EN_COURS, title="Autre", summary="Le justificatif IBAN est illisible"
    )
    by_description = make_ticket(requester, S.SOUMIS, title="Encore", description="mon iban a changé")
    make_ticket(requester, S.EN_COURS, title="Sans rapport")
    client.force_login(requester)
    response = client.get(LIST_URL, {"tab": "en-cours", "q": "iban"})
    assert set(numbers(response)) == {by_title.number, by_summary.number, by_description.number}
    response = client.get(LIST_URL, {"tab": "en-cours", "q": by_summary.number})
    assert numbers(response) == [by_summary.number]
    response = client.get(LIST_URL, {"tab": "en-cours", "q": "iban illisible"})
    assert numbers(response) == [by_summary.number]
    response = client.get(LIST_URL, {"tab": "en-cours", "q": "introuvable"})
    assert response.context["rows"] == []
    assert "Aucun ticket ne correspond à votre recherche." in response.text


def test_filter_by_category_and_date_order(client, requester):
    now = timezone.now()
    old = make_ticket(requester, S.EN_COURS, submitted_at=now - timedelta(days=3))
    new = make_ticket(requester, S.EN_COURS, submitted_at=now - timedelta(days=1))
    bank = make_ticket(
        requester, S.EN_COURS, sub=subcategory("Justificatif refusé"), submitted_at=now - timedelta(days=2)
    )
    client.force_login(requester)
    assert numbers(client.get(LIST_URL, {"tab": "en-cours"})) == [new.number, bank.number, old.number]
    assert numbers(client.get(LIST_URL, {"tab": "en-cours", "order": "asc"})) == [
        old.number,
        bank.number,
        new.number,
    ]
    invoices = Category.objects.get(name="Factures émises")
    response = client.get(LIST_URL, {"tab": "en-cours", "category": invoices.pk, "order": "asc"})
    assert numbers(response) == [old.number, new.number]
    # A value nobody offers is ignored, never passed to order_by().
    assert numbers(client.get(LIST_URL, {"tab": "en-cours", "order": "-id; drop"})) == [
        new.number,
        bank.number,
        old.number,
    ]


def test_reset_link_and_exports_keep_the_tab(client, requester):
    client.force_login(requester)
    response = client.get(LIST_URL, {"tab": "clotures", "q": "facture", "order": "asc"})
    assert response.context["reset_url"] == f"{LIST_URL}?tab=clotures"
    assert "Réinitialiser les filtres" in response.text
    assert (
        response.context["export_urls"]["csv"] == f"{EXPORT_URL}?tab=clotures&q=facture&order=asc&format=csv"
    )
    assert response.context["export_urls"]["xlsx"].endswith("&format=xlsx")


def test_export_contains_exactly_the_filtered_rows_of_the_tab(client, requester):
    shown = make_ticket(requester, S.CLOTURE, title="Paiement reçu", object_number="F1")
    shown_too = make_ticket(requester, S.CLOTURE, title="Paiement en retard")
    make_ticket(requester, S.CLOTURE, title="Autre sujet")
    make_ticket(requester, S.EN_COURS, title="Paiement en cours")  # another tab
    make_ticket(factories.UserFactory(), S.CLOTURE, title="Paiement d’un autre")
    client.force_login(requester)
    params = {"tab": "clotures", "q": "paiement", "order": "asc"}
    page = client.get(LIST_URL, params)
    expected = [row.values() for row in page.context["rows"]]
    assert {row[0] for row in expected} == {shown.number, shown_too.number}

    response = client.get(EXPORT_URL, {**params, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(response)
    assert rows[0][:3] == ["Numéro", "Date d’ouverture", "Statut"]
    assert rows[1:] == expected

    response = client.get(EXPORT_URL, {**params, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx_rows(response)[1:] == expected


def test_export_neutralises_formulas(client, requester):
    make_ticket(requester, S.EN_COURS, title='=HYPERLINK("http://x")')
    client.force_login(requester)
    rows = csv_rows(client.get(EXPORT_URL, {"tab": "en-cours", "format": "csv"}))
    assert rows[1][5] == '\'=HYPERLINK("http://x")'


def test_export_of_an_unknown_format_is_not_found(client, requester):
    client.force_login(requester)
    assert client.get(EXPORT_URL, {"format": "pdf"}).status_code == 404


def test_pagination_by_twenty(client, requester):
    for _ in range(23):
        make_ticket(requester, S.EN_COURS)
    client.force_login(requester)
    first = client.get(LIST_URL, {"tab": "en-cours"})
    assert len(first.context["rows"]) == 20
    assert first.context["page_obj"].paginator.num_pages == 2
    assert 'href="?tab=en-cours&amp;page=2"' in first.text
    second = client.get(LIST_URL, {"tab": "en-cours", "page": 2})
    assert len(second.context["rows"]) == 3


# Tickets de mes structures


@pytest.fixture
def users_tickets(requester, structure):
    return one_of_each(requester, structure=structure)


@pytest.mark.parametrize("manager", ["principal_manager", "delegate"])
def test_managers_read_their_structures_tickets_but_not_drafts(client, request, users_tickets, manager):
    other = make_ticket(factories.UserFactory(), S.EN_COURS, structure=factories.StructureFactory())
    client.force_login(request.getfixturevalue(manager))
    response = client.get(LIST_URL, {"tab": "structures"})
    assert response.context["tab"].code == "structures"
    tabs = {t["code"]: t["count"] for t in response.context["tabs"]}
    assert tabs["structures"] == 5
    ids = {row.ticket_id for row in response.context["rows"]}
    assert ids == {t.pk for status, t in users_tickets.items() if status != S.BROUILLON}
    assert other.pk not in ids
    assert "Lucas Petit" in response.text
    assert "consultation seule" in response.text


def test_consultation_user_has_no_structures_tab(client, users_tickets, consultation_user):
    client.force_login(consultation_user)
    response = client.get(LIST_URL, {"tab": "structures"})
    assert "structures" not in {t["code"] for t in response.context["tabs"]}
    assert response.context["tab"].code == "actions"
    assert response.context["rows"] == []


def test_structures_tab_export(client, users_tickets, principal_manager):
    client.force_login(principal_manager)
    rows = csv_rows(client.get(EXPORT_URL, {"tab": "structures", "format": "csv"}))
    assert len(rows) == 1 + 5
    assert {row[7] for row in rows[1:]} == {"Lucas Petit"}


# Query counts: the same with 5 and 500 tickets


def _bulk(user, count, structure=None):
    sub = subcategory()
    queue = Queue.objects.get(code=sub.queue_code)
    year = 1900 + user.pk % 100
    now = timezone.now()
    statuses = list(S)
    tickets = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        submitted = status != S.BROUILLON
        tickets.append(
            Ticket(
                requester=user,
                structure=structure,
                status=status,
                number=f"T-{year}-{n:06d}" if submitted else None,
                submitted_at=now if submitted else None,
                closed_at=now if status == S.CLOTURE else None,
                contact_email=user.email,
                category=sub.category,
                subcategory=sub,
                queue=queue if submitted else None,
                title=f"Ticket {n}",
                description="Description",
            )
        )
    Ticket.objects.bulk_create(tickets)


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (LIST_URL, {"tab": "en-cours"}),
        (LIST_URL, {"tab": "actions", "q": "Ticket", "order": "asc"}),
        (LIST_URL, {"tab": "structures"}),
        (EXPORT_URL, {"tab": "en-cours", "format": "csv"}),
        (EXPORT_URL, {"tab": "structures", "format": "xlsx"}),
    ],
)
def test_query_count_does_not_grow_with_tickets(client, principal_manager, structure, url, params):
    member = factories.UserFactory()
    factories.attach(member, structure)
    client.force_login(principal_manager)
    _bulk(principal_manager, 5)
    _bulk(member, 5, structure)
    small = _queries(client, url, params)
    Ticket.objects.all().delete()
    _bulk(principal_manager, 500)
    _bulk(member, 500, structure)
    large = _queries(client, url, params)
    assert small == large


def test_tab_counts_take_one_query(requester):
    from chorus import access
    from support.selectors import tickets as ticket_selectors

    one_of_each(requester)
    loaded = access.load_access(requester)
    with CaptureQueriesContext(connection) as context:
        counts = ticket_selectors.tab_counts(access=loaded)
    assert len(context.captured_queries) == 1
    assert counts == {"actions": 2, "en-cours": 2, "clotures": 1, "brouillons": 1}


# Permission matrix of the list, its export and the pages that open a ticket


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("requester", 200),
        ("other_structure_user", 200),  # their own (empty) lists
        ("staff_user", 200),  # an agent may open tickets of their own
        ("superuser", 403),  # operators are not portal users
        ("anonymous", 302),
    ],
)
@pytest.mark.parametrize(
    "url",
    [LIST_URL, f"{EXPORT_URL}?format=csv", "/support/", "/support/tickets/nouveau/"],
)
def test_requester_pages_permission_matrix(client, request, requester, persona, expected, url):
    make_ticket(requester, S.RESOLU, title="Secret du demandeur")  # in the default tab
    if persona == "superuser":
        client.force_login(factories.UserFactory(email="op@exemple.fr", is_staff=True, is_superuser=True))
    elif persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response.url.startswith("/compte/connexion/")
    if expected == 200 and url in (LIST_URL, f"{EXPORT_URL}?format=csv"):
        listed = "Secret du demandeur" in response.content.decode("utf-8")
        assert listed == (persona == "requester")
