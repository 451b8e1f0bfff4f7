"""Each key page costs the same number of SQL queries whatever the data size, and no
more than 12 (issue: performance at Chorus Pro scale). Not timed: the load benchmark
(`make bench`) measures time; this test guards the query counts in every CI run."""

import pytest

from benchmarks import scenarios
from devtools import scale

BUDGET = 12


@pytest.fixture
def key_pages(db):
    scale.Generator(2, seed=7).run()
    # The two reference pages are the benchmark's yardstick, not key pages.
    return [page for page in scenarios.resolve() if not page.reference]


def test_key_pages_cost_the_same_queries_at_two_data_sizes(key_pages):
    small = scenarios.count_queries(key_pages)
    scale.Generator(40, seed=7, offset=2).run()
    large = scenarios.count_queries(key_pages)

    assert large == small


def test_no_key_page_exceeds_the_query_budget(key_pages):
    counts = scenarios.count_queries(key_pages)

    assert {name: count for name, count in counts.items() if count > BUDGET} == {}


# The requester's pending requests ("Gérer mes habilitations", the home page of a user
# attached to nothing): one query, whatever their number and what each asks.


def _pending_requests(user, structure, count):
    from approvals.models import ApprovalRequest
    from chorus.models import Profile
    from tests import factories

    profiles = list(Profile.objects.order_by("pk")[:4])
    for index in range(count):
        service = factories.ServiceFactory(structure=structure)
        attachment = ApprovalRequest.objects.create(
            kind=ApprovalRequest.Kind.RATTACHEMENT, requester=user, structure=structure, comment=f"n° {index}"
        )
        attachment.services.set([service])
        habilitations = ApprovalRequest.objects.create(
            kind=ApprovalRequest.Kind.HABILITATIONS, requester=user, structure=structure, service=service
        )
        habilitations.profiles_to_add.set(profiles[:2])
        habilitations.profiles_to_remove.set(profiles[2:])


def test_my_pending_requests_cost_one_query_whatever_their_number(db, django_assert_num_queries):
    from approvals.selectors import PENDING_SHOWN, pending_requests_of
    from tests import factories

    user = factories.UserFactory()
    structure = factories.StructureFactory(with_principal_manager=True)
    for count, expected in ((1, 2), (PENDING_SHOWN, PENDING_SHOWN)):
        _pending_requests(user, structure, count)
        with django_assert_num_queries(1):
            pending, _more = pending_requests_of(user=user)
        assert len(pending) == expected
        assert all(request.to_add or request.services for request in pending)


def test_pages_listing_my_pending_requests_cost_the_same_queries_at_two_sizes(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tests import factories

    structure = factories.StructureFactory(with_principal_manager=True)
    member, newcomer = factories.UserFactory(), factories.UserFactory()
    factories.attach(member, structure)
    pages = {
        "mes_habilitations": (member, reverse("users:my_habilitations")),
        "mes_habilitations_structure": (
            member,
            f"{reverse('users:my_habilitations')}?structure={structure.pk}&service=",
        ),
        "accueil_sans_rattachement": (newcomer, "/"),
        "mes_habilitations_sans_rattachement": (newcomer, reverse("users:my_habilitations")),
    }
    counts = []
    for count in (1, 12):
        for user in (member, newcomer):
            _pending_requests(user, structure, count)
        sizes = {}
        for name, (user, url) in pages.items():
            client.force_login(user)
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            sizes[name] = len(queries)
        counts.append(sizes)
    assert counts[0] == counts[1]
    assert {name: count for name, count in counts[1].items() if count > BUDGET} == {}
