"""Each key page costs the same number of SQL queries whatever the data size, and no
more than 12 (issue: performance at Chorus Pro scale). Not timed: the load benchmark
(`make bench`) measures time; this test guards the query counts in every CI run."""

import pytest

from benchmarks import scenarios
from chorus import scale

BUDGET = 12


@pytest.fixture
def key_pages(db):
    scale.Generator(2, seed=7).run()
    # The two reference pages exist only when BENCHMARK_VIEWS is on: not in the tests.
    return [page for page in scenarios.resolve() if not page.reference]


def test_key_pages_cost_the_same_queries_at_two_data_sizes(key_pages):
    small = scenarios.count_queries(key_pages)
    scale.Generator(40, seed=7, offset=2).run()
    large = scenarios.count_queries(key_pages)

    assert large == small


def test_no_key_page_exceeds_the_query_budget(key_pages):
    counts = scenarios.count_queries(key_pages)

    assert {name: count for name, count in counts.items() if count > BUDGET} == {}
