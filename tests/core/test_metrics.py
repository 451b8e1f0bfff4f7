"""/metrics: Prometheus metrics of requests, database queries and Celery task outcomes,
readable by the monitoring network or with the token only, and added up across worker
processes in multiprocess mode."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from celery import Celery
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-tests-0123456789"


def _value(text, name, **labels):
    """The value of one sample in the exposition text (0 when absent)."""
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name and wanted <= set((match[2] or "").split(",")):
            return float(match[3])
    return 0.0


def _metrics(client, **extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def demo_tasks():
    app = Celery("metrics-test", set_as_current=False)

    @app.task(name="demo.ping")
    def ping():
        return "pong"

    @app.task(name="demo.explode")
    def explode():
        raise RuntimeError("boom")

    @app.task(name="demo.flaky", bind=True, max_retries=1, default_retry_delay=0)
    def flaky(self):
        if self.request.retries == 0:
            raise self.retry()
        return "second try"

    return ping, explode, flaky


# Who may read


def test_monitoring_on_the_same_machine_reads_the_metrics(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_total_by_method_total" in response.content.decode()


@pytest.mark.parametrize(
    "address", ["10.0.3.7", "192.168.1.20", "172.16.0.9", "::1", "fd00::5", "::ffff:10.1.2.3"]
)
def test_private_network_reads_the_metrics(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


# A refusal is the portal's own 404 page, the same as for any unknown address: it reads
# the catalogue for its menus, hence the database.
@pytest.mark.parametrize("address", ["203.0.113.9", "172.32.0.1", "2001:db8::1", "::ffff:203.0.113.9"])
def test_outside_world_is_refused(client, settings, db, address):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
    assert client.get("/metrics", REMOTE_ADDR=address, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


def test_outside_world_reads_with_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200


def test_no_token_configured_means_no_way_in_from_outside(client, settings, db):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_request_relayed_by_a_proxy_needs_the_token(client, settings, db):
    """Behind a load balancer every request comes from its private address: that must
    not open the metrics to the Internet."""
    settings.METRICS_TOKEN = TOKEN

    relayed = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert client.get("/metrics", **relayed).status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **relayed).status_code == 200


# What is counted


def test_requests_are_counted_by_method_and_status(client):
    before = _metrics(client)
    client.get("/healthz")
    client.get("/healthz")
    after = _metrics(client)

    name = "django_http_responses_total_by_status_view_method_total"
    labels = {"status": "200", "view": "healthz", "method": "GET"}
    assert _value(after, name, **labels) - _value(before, name, **labels) == 2
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in after


def test_database_queries_are_counted(client, db):
    from django.db import connection

    labels = {"alias": "default", "vendor": connection.vendor}
    before = _value(_metrics(client), "django_db_execute_total", **labels)
    list(get_user_model().objects.all())
    list(get_user_model().objects.all())
    after = _metrics(client)

    assert _value(after, "django_db_execute_total", **labels) - before >= 2
    assert _value(after, "django_db_query_duration_seconds_count", **labels) > 0


def test_database_errors_are_counted_by_kind(client, db):
    from django.db import DatabaseError, connection

    before = _metrics(client)
    with pytest.raises(DatabaseError) as raised, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    after = _metrics(client)

    labels = {"alias": "default", "vendor": connection.vendor, "type": type(raised.value).__name__}
    errors = "django_db_errors_total"
    assert _value(after, errors, **labels) - _value(before, errors, **labels) == 1


def test_task_outcomes_are_counted_by_task_and_outcome(client, demo_tasks):
    ping, explode, flaky = demo_tasks
    name = "celery_task_outcomes_total"

    def count(task, outcome):
        return _value(_metrics(client), name, task=task, outcome=outcome)

    before = {
        (task, outcome): count(task, outcome)
        for task in ("demo.ping", "demo.explode", "demo.flaky")
        for outcome in ("success", "failure", "retry")
    }
    ping.apply()
    ping.apply()
    explode.apply()
    flaky.apply()

    def delta(task, outcome):
        return count(task, outcome) - before[(task, outcome)]

    assert delta("demo.ping", "success") == 2
    assert delta("demo.ping", "failure") == 0
    assert delta("demo.explode", "failure") == 1
    assert delta("demo.explode", "success") == 0
    assert delta("demo.flaky", "retry") == 1
    assert delta("demo.flaky", "success") == 1


def test_multiprocess_mode_adds_up_the_workers(client, tmp_path, monkeypatch):
    """Two processes (say two gunicorn workers, or a Celery worker) write to the shared
    folder; /metrics in a third reports their sum."""
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from celery import Celery
        app = Celery("worker", set_as_current=False)

        @app.task(name="demo.shared")
        def shared():
            return 1

        shared.apply()
        """
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    for _worker in range(2):
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    text = _metrics(client)

    assert _value(text, "celery_task_outcomes_total", task="demo.shared", outcome="success") == 2


def test_allowed_networks_are_a_setting(client, settings, db):
    settings.METRICS_ALLOWED_NETWORKS = ["198.51.100.0/24"]

    assert client.get("/metrics", REMOTE_ADDR="198.51.100.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.4").status_code == 404
