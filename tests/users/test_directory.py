"""Consulter les utilisateurs (search, filters, pagination, exports) and Afficher un
utilisateur."""

import csv
import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from chorus.models import Level
from tests import factories
from users.models import Membership
from users.services import members

pytestmark = pytest.mark.django_db

LIST = "users:member_list"
EXPORT = "users:member_export"
HEADER = ["Nom", "Prénom", "Adresse électronique", "Structure", "Maille / services", "Statut", "Profils"]


class TableParser(HTMLParser):
    """The cells of the users table as the page shows them."""

    def __init__(self):
        super().__init__()
        self.header, self.rows = [], []
        self._in_table = self._in_body = False
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "div" and ("id", "table-utilisateurs") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_table and tag == "tr" and self._in_body:
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if not self._in_table:
            return
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            (self.rows[-1] if tag == "td" else self.header).append(text)
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(response):
    parser = TableParser()
    parser.feed(response.text)
    return parser.header, parser.rows


def all_pages(client, params=None):
    """Every row of every page, for these filters."""
    params = dict(params or {})
    rows, page = [], 1
    while True:
        response = client.get(reverse(LIST), {**params, "page": page})
        rows += table(response)[1]
        if not response.context["page_obj"].has_next():
            return rows
        page += 1


def csv_rows(response):
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:]), delimiter=";"))


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [
        ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
    ]


@pytest.fixture
def team(structure, principal_manager):
    """Users of the structure: at structure level, at service level, detached."""
    textile = factories.ServiceFactory(structure=structure, code="TEXTILE", name="Service textile")
    alice = factories.UserFactory(email="alice.durand@exemple.fr", first_name="Alice", last_name="Durand")
    factories.attach(alice, structure)
    factories.grant(alice, structure, "FACTURE_EMISE", Level.MODIFICATION)
    factories.grant(alice, structure, "ORGANISATION", Level.CONSULTATION)
    bruno = factories.UserFactory(email="bruno.petit@exemple.fr", first_name="Bruno", last_name="Petit")
    factories.attach(bruno, structure, service=textile)
    factories.grant(bruno, structure, "FACTURE_RECUE", Level.CONSULTATION, service=textile)
    chloe = factories.UserFactory(email="chloe.roux@exemple.fr", first_name="Chloé", last_name="Roux")
    factories.attach(chloe, structure)
    members.members_detach(actor=principal_manager, user=chloe, structure=structure, comment="Départ")
    return {"alice": alice, "bruno": bruno, "chloe": chloe, "textile": textile}


# Permission matrix


@pytest.mark.parametrize("name", [LIST, EXPORT])
def test_anonymous_visitor_is_sent_to_login(client, name):
    response = client.get(reverse(name), {"format": "csv"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


def test_anonymous_visitor_is_sent_to_login_from_a_user_page(client, principal_manager):
    response = client.get(reverse("users:member_detail", args=[principal_manager.pk]))
    assert response.status_code == 302


def test_simple_user_without_organisation_profile_cannot_list_users(client, structure, principal_manager):
    user = factories.UserFactory()
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
    client.force_login(user)
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse(EXPORT), {"format": "csv"}).status_code == 403
    assert client.get(reverse("users:member_detail", args=[principal_manager.pk])).status_code == 403


@pytest.mark.parametrize("persona", ["principal_manager", "delegate", "consultation_user"])
def test_managers_and_consultation_users_list_the_structures_users(client, request, team, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse(LIST))
    assert response.status_code == 200
    assert "alice.durand@exemple.fr" in response.text
    assert client.get(reverse(EXPORT), {"format": "csv"}).status_code == 200
    assert client.get(reverse("users:member_detail", args=[team["alice"].pk])).status_code == 200


def test_user_of_another_structure_sees_none_of_our_users(client, team, other_structure_user):
    client.force_login(other_structure_user)
    _header, rows = table(client.get(reverse(LIST)))
    assert [row[2] for row in rows] == ["autre@exemple.fr"]
    export = csv_rows(client.get(reverse(EXPORT), {"format": "csv"}))
    assert [row[2] for row in export[1:]] == ["autre@exemple.fr"]
    assert client.get(reverse("users:member_detail", args=[team["alice"].pk])).status_code == 404


def test_consultation_user_cannot_see_attach_button(client, team, consultation_user):
    client.force_login(consultation_user)
    main = client.get(reverse(LIST)).text.split("<main", 1)[1]
    assert reverse("users:attach") not in main


# The list


def test_list_shows_each_attachment_with_its_level_status_and_profiles(
    client, structure, principal_manager, team
):
    client.force_login(principal_manager)
    header, rows = table(client.get(reverse(LIST)))
    assert header == HEADER
    by_email = {(row[2], row[4]): row for row in rows}
    structure_cell = f"{structure.identifier} — {structure.display_name}"
    assert by_email[("alice.durand@exemple.fr", "Structure")] == [
        "Durand",
        "Alice",
        "alice.durand@exemple.fr",
        structure_cell,
        "Structure",
        "Validé",
        "Facture émise – modification, Organisation – consultation",
    ]
    assert by_email[("bruno.petit@exemple.fr", "Service : TEXTILE — Service textile")][5:] == [
        "Validé",
        "Facture reçue – consultation",
    ]
    assert by_email[("chloe.roux@exemple.fr", "Structure")][5:] == ["Désactivé", ""]
    assert by_email[(principal_manager.email, "Structure")][6] == "Organisation – modification"


def test_search_by_name_or_email(client, principal_manager, team):
    client.force_login(principal_manager)
    for query in ["durand", "ALICE", "alice.durand@", "Alice Durand"]:
        _header, rows = table(client.get(reverse(LIST), {"q": query}))
        assert [row[2] for row in rows] == ["alice.durand@exemple.fr"], query


def test_filters_by_service_profile_and_status(client, structure, principal_manager, team):
    client.force_login(principal_manager)
    from chorus.models import Profile

    _header, rows = table(client.get(reverse(LIST), {"service": team["textile"].pk}))
    assert [row[2] for row in rows] == ["bruno.petit@exemple.fr"]

    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.MODIFICATION)
    _header, rows = table(client.get(reverse(LIST), {"profile": profile.pk}))
    assert [row[2] for row in rows] == ["alice.durand@exemple.fr"]

    organisation = Profile.objects.get(application__code="ORGANISATION", level=Level.MODIFICATION)
    _header, rows = table(client.get(reverse(LIST), {"profile": organisation.pk}))
    assert [row[2] for row in rows] == [principal_manager.email], "the principal manager always holds it"

    _header, rows = table(client.get(reverse(LIST), {"status": Membership.Status.DESACTIVEE}))
    assert [row[2] for row in rows] == ["chloe.roux@exemple.fr"]

    _header, rows = table(client.get(reverse(LIST), {"structure": structure.pk, "status": "VALIDEE"}))
    assert "chloe.roux@exemple.fr" not in [row[2] for row in rows]


def test_forged_filters_show_an_error_and_leak_nothing(client, principal_manager, team, other_structure_user):
    other = other_structure_user.memberships.get().structure
    other_service = factories.ServiceFactory(structure=other)
    client.force_login(principal_manager)
    for params in ({"structure": other.pk}, {"service": other_service.pk}):
        response = client.get(reverse(LIST), params)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in response.text
        _header, rows = table(response)
        assert "autre@exemple.fr" not in [row[2] for row in rows]
        export = csv_rows(client.get(reverse(EXPORT), {**params, "format": "csv"}))
        assert "autre@exemple.fr" not in [row[2] for row in export]


def test_list_is_paginated_by_25(client, structure, principal_manager):
    for index in range(30):
        factories.attach(factories.UserFactory(last_name=f"Nom{index:02d}"), structure)
    client.force_login(principal_manager)
    first = client.get(reverse(LIST))
    assert len(table(first)[1]) == 25
    assert "31 rattachements" in first.text
    second = client.get(reverse(LIST), {"page": 2})
    assert len(table(second)[1]) == 6


def _populate(structure, count):
    services_ = [factories.ServiceFactory(structure=structure) for _ in range(3)]
    for index in range(count):
        user = factories.UserFactory()
        factories.attach(user, structure)
        factories.attach(user, structure, service=services_[index % 3])
        factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
        factories.grant(user, structure, "FACTURE_RECUE", Level.CONSULTATION)
        factories.grant(user, structure, "ORGANISATION", Level.CONSULTATION)
        factories.grant(user, structure, "FACTURES_TRAVAUX", Level.CONSULTATION, service=services_[index % 3])


def _count_queries(client, django_assert_max_num_queries, url, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    with django_assert_max_num_queries(len(queries)):
        client.get(url, params)
    return len(queries)


@pytest.mark.parametrize(
    "url_name,params", [(LIST, {}), (LIST, {"q": "exemple", "page": 2}), (EXPORT, {"format": "csv"})]
)
def test_query_count_does_not_grow_with_users(
    client, structure, principal_manager, django_assert_max_num_queries, url_name, params
):
    client.force_login(principal_manager)
    _populate(structure, 5)
    small = _count_queries(client, django_assert_max_num_queries, reverse(url_name), params)
    _populate(structure, 195)
    large = _count_queries(client, django_assert_max_num_queries, reverse(url_name), params)
    assert Membership.objects.count() > 400
    assert small == large


def test_detail_query_count_does_not_grow_with_memberships(client, structure, principal_manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = factories.UserFactory()
    factories.attach(user, structure)
    client.force_login(principal_manager)
    url = reverse("users:member_detail", args=[user.pk])
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for _ in range(10):
        service = factories.ServiceFactory(structure=structure)
        factories.attach(user, structure, service=service)
        factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION, service=service)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small) == len(large)


# Exports


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "petit"}, {"status": "DESACTIVEE"}, {"structure": "__structure__", "status": "VALIDEE"}],
)
def test_exports_contain_exactly_what_the_page_shows(client, structure, principal_manager, team, params):
    params = {key: (structure.pk if value == "__structure__" else value) for key, value in params.items()}
    client.force_login(principal_manager)
    header, shown = table(client.get(reverse(LIST), params))
    assert shown

    csv_response = client.get(reverse(EXPORT), {**params, "format": "csv"})
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"].startswith('attachment; filename="utilisateurs-')
    assert csv_rows(csv_response) == [header, *shown]

    xlsx_response = client.get(reverse(EXPORT), {**params, "format": "xlsx"})
    assert xlsx_response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx_response["Content-Disposition"].endswith('.xlsx"')
    assert xlsx_rows(xlsx_response) == [header, *shown]


def test_exports_contain_every_page(client, structure, principal_manager):
    for _ in range(30):
        user = factories.UserFactory()
        factories.attach(user, structure)
        factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    client.force_login(principal_manager)
    shown = all_pages(client)
    assert len(shown) == 31
    assert csv_rows(client.get(reverse(EXPORT), {"format": "csv"}))[1:] == shown
    assert xlsx_rows(client.get(reverse(EXPORT), {"format": "xlsx"}))[1:] == shown


def test_export_keeps_a_formula_looking_name_as_text(client, structure, principal_manager):
    factories.attach(factories.UserFactory(last_name="=HYPERLINK(1)"), structure)
    client.force_login(principal_manager)
    rows = csv_rows(client.get(reverse(EXPORT), {"format": "csv", "q": "HYPERLINK"}))
    assert rows[1][0] == "'=HYPERLINK(1)"
    sheet = load_workbook(
        io.BytesIO(client.get(reverse(EXPORT), {"format": "xlsx", "q": "HYPERLINK"}).content)
    ).active
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == "=HYPERLINK(1)"


def test_export_in_an_unknown_format_is_404(client, principal_manager):
    client.force_login(principal_manager)
    assert client.get(reverse(EXPORT), {"format": "pdf"}).status_code == 404
    assert client.get(reverse(EXPORT)).status_code == 404


def test_list_links_to_the_exports_with_the_same_filters(client, structure, principal_manager, team):
    client.force_login(principal_manager)
    response = client.get(reverse(LIST), {"q": "petit", "page": 1})
    assert f"{reverse(EXPORT)}?q=petit&amp;format=csv" in response.text
    assert f"{reverse(EXPORT)}?q=petit&amp;format=xlsx" in response.text


# Afficher un utilisateur


def test_user_page_shows_memberships_and_profiles_on_my_structures_only(
    client, structure, principal_manager, team
):
    alice = team["alice"]
    elsewhere = factories.StructureFactory(company_name="Structure étrangère")
    factories.attach(alice, elsewhere)
    factories.grant(alice, elsewhere, "FACTURES_TRAVAUX", Level.MODIFICATION)
    client.force_login(principal_manager)

    response = client.get(reverse("users:member_detail", args=[alice.pk]))

    assert response.status_code == 200
    assert "Alice Durand" in response.text
    assert structure.display_name in response.text
    assert "Facture émise – modification" in response.text
    assert "Structure étrangère" not in response.text
    assert "Factures de travaux" not in response.text


def test_user_page_shows_ended_memberships_with_their_comment(client, principal_manager, team):
    client.force_login(principal_manager)
    response = client.get(reverse("users:member_detail", args=[team["chloe"].pk]))
    assert response.status_code == 200
    assert "Désactivé" in response.text
    assert "Départ" in response.text


def test_user_page_of_the_principal_manager_says_so(client, principal_manager, consultation_user):
    client.force_login(consultation_user)
    response = client.get(reverse("users:member_detail", args=[principal_manager.pk]))
    assert "Gestionnaire principal" in response.text
    assert reverse("users:detach") not in response.text.split("<main", 1)[1], "consultation only"


@pytest.mark.parametrize("whose", ["other_structure_user", "unknown", "staff_user"])
def test_user_page_of_someone_not_on_my_structures_is_404(client, request, principal_manager, whose):
    user_id = 999_999 if whose == "unknown" else request.getfixturevalue(whose).pk
    client.force_login(principal_manager)
    assert client.get(reverse("users:member_detail", args=[user_id])).status_code == 404


def test_user_page_links_to_their_profiles_on_the_habilitations_page(
    client, structure, principal_manager, consultation_user, team
):
    alice = team["alice"]
    client.force_login(principal_manager)
    page = client.get(reverse("users:member_detail", args=[alice.pk])).text
    url = f"{reverse('users:habilitations')}?structure={structure.pk}&amp;service=&amp;user={alice.pk}"
    assert url in page
    assert "Gérer ses habilitations sur cette structure" in page
    # Consultation only: no link to a page they cannot use.
    client.force_login(consultation_user)
    page = client.get(reverse("users:member_detail", args=[alice.pk])).text
    assert reverse("users:habilitations") not in page.split("<main", 1)[1]
