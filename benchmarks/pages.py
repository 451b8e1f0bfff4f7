"""Time the portal's main pages for a user with many structures.

    make bench                       # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portail make bench

Creates a throwaway test database, attaches one user to N structures (each with a
service and profiles), then requests each page R times and prints the median and 95th
percentile server time and the number of SQL queries.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

PAGES = ["/", "/domaines/organisation/", "/recherche/?q=structure", "/applications/GERER_STRUCTURE/"]


def populate(structures: int):
    from chorus.models import Level
    from tests import factories

    user = factories.UserFactory(email="bench@exemple.fr")
    for _ in range(structures):
        structure = factories.StructureFactory()
        factories.attach(user, structure)
        factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
        service = factories.ServiceFactory(structure=structure)
        factories.grant(user, structure, "ENGAGEMENT", Level.CONSULTATION, service=service)
    return user


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--structures", type=int, default=200)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = populate(args.structures)
        client = Client()
        client.force_login(user)
        print(f"{connection.vendor}, {args.structures} structures, {args.requests} requests per page")
        print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for page in PAGES:
            client.get(page)  # warm caches and template loading
            timings = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(page)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (page, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(page)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(f"{page:40} {statistics.median(timings):>10.1f} {p95:>8.1f} {len(queries):>8}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
