"""Which database a read goes to."""

from django.conf import settings

REPLICA = "replica"


def reporting(queryset):
    """Bulk read-only work that tolerates a few seconds of replication lag (the CSV/XLSX
    exports) reads from the replica when one is configured (DATABASE_REPLICA_URL), to
    keep it off the primary; without a replica, from the primary. Related objects and
    prefetches of the rows follow them to the same database."""
    if REPLICA in settings.DATABASES:
        return queryset.using(REPLICA)
    return queryset
