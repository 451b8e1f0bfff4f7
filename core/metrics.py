"""Prometheus metrics: HTTP requests and latency (django-prometheus middleware), database
queries (a Django execute wrapper feeding django-prometheus' own metrics, so that the
database engine stays Django's on SQLite and PostgreSQL), and Celery task outcomes.

Exposed at /metrics to the monitoring network only: an address of METRICS_ALLOWED_NETWORKS
(loopback and private ranges) that did not come through a proxy, or a request bearing
METRICS_TOKEN.

Under gunicorn (several worker processes) and with a Celery worker, set
PROMETHEUS_MULTIPROC_DIR to an empty folder shared by all of them before they start:
each process writes its values there and /metrics adds them up (deploy/gunicorn.conf.py
marks the files of a worker that exits)."""

import hmac
import ipaddress
import os
import time

import prometheus_client
from celery import signals as celery_signals
from django.conf import settings
from django.db.backends.signals import connection_created
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_prometheus.db import metrics as db_metrics
from prometheus_client import Counter, multiprocess

task_outcomes_total = Counter(
    "celery_task_outcomes_total",
    "Celery task runs by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)


def _task_name(sender):
    return getattr(sender, "name", None) or str(sender)


def _on_task_success(sender=None, **kwargs):
    task_outcomes_total.labels(task=_task_name(sender), outcome="success").inc()


def _on_task_failure(sender=None, **kwargs):
    task_outcomes_total.labels(task=_task_name(sender), outcome="failure").inc()


def _on_task_retry(sender=None, **kwargs):
    task_outcomes_total.labels(task=_task_name(sender), outcome="retry").inc()


def record_queries(execute, sql, params, many, context):
    """Counts and times every statement run through a Django connection."""
    connection = context["connection"]
    labels = {"alias": connection.alias, "vendor": connection.vendor}
    db_metrics.execute_total.labels(**labels).inc()
    if many:
        db_metrics.execute_many_total.labels(**labels).inc(len(params) if hasattr(params, "__len__") else 1)
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    except Exception as error:
        db_metrics.errors_total.labels(type=type(error).__name__, **labels).inc()
        raise
    finally:
        db_metrics.query_duration_seconds.labels(**labels).observe(time.perf_counter() - started)


def _on_connection_created(sender, connection, **kwargs):
    db_metrics.connections_total.labels(alias=connection.alias, vendor=connection.vendor).inc()
    # The wrapper list outlives a reconnection: add ours once.
    if record_queries not in connection.execute_wrappers:
        connection.execute_wrappers.append(record_queries)


def install():
    """Connects the signals; called once from the app's ready()."""
    connection_created.connect(_on_connection_created, dispatch_uid="core.metrics.queries")
    celery_signals.task_success.connect(_on_task_success, weak=False, dispatch_uid="core.metrics.success")
    celery_signals.task_failure.connect(_on_task_failure, weak=False, dispatch_uid="core.metrics.failure")
    celery_signals.task_retry.connect(_on_task_retry, weak=False, dispatch_uid="core.metrics.retry")


def _bearer_token(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def may_read_metrics(request):
    """The monitoring network (METRICS_ALLOWED_NETWORKS) may scrape; anyone else
    needs the token. A request relayed by a proxy carries the client's address in a
    header only: the proxy's own private address proves nothing, so it needs the token."""
    expected = getattr(settings, "METRICS_TOKEN", "")
    if expected and hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS)


def registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return prometheus_client.REGISTRY


@never_cache
@require_safe
def metrics_view(request):
    # 404 rather than 403: to the outside world, there is nothing here.
    if not may_read_metrics(request):
        raise Http404
    return HttpResponse(
        prometheus_client.generate_latest(registry()), content_type=prometheus_client.CONTENT_TYPE_LATEST
    )
