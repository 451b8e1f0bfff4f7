"""End to end: a real Celery worker (`celery -A config worker`) takes an email job from
Redis, sends it, and does not send it again when the same job comes back."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own, flushed at start: nothing else of the portal lives there.
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip(
            "Needs the Redis server, not reachable at 127.0.0.1:6379 here "
            "(.ci/run sets REQUIRE_REDIS=1, which makes this a failure)"
        )
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def worker(redis_db, tmp_path):
    """A worker process configured like production (REDIS_URL), sending emails to files."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    dropped = {"DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "EMAIL_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DEBUG="true",
        REDIS_URL=REDIS_URL,
        EMAIL_URL=f"filemail:///{outbox}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    )
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "test-worker@%h"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield outbox
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def wait_for_files(outbox, count, log, timeout=25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(outbox.iterdir())
        if len(files) >= count:
            return files
        time.sleep(0.2)
    raise AssertionError(f"{count} email(s) expected in {timeout} s; worker log:\n{log.read_text()}")


def email_job(key, body):
    return {
        "key": key,
        "subject": "Votre demande a été traitée",
        "body": body,
        "recipients": ["demandeur@exemple.fr"],
    }


def test_an_email_job_runs_through_redis_and_a_real_worker_exactly_once(worker, tmp_path):
    log = tmp_path / "worker.log"
    client = Celery("test-client", broker=REDIS_URL, set_as_current=False)
    message = email_job(f"integration:{uuid.uuid4()}", "Votre demande DA-0001 a été approuvée.")
    try:
        client.send_task("chorus.tasks.send_email", kwargs=message)
        wait_for_files(worker, 1, log)
        # The same job delivered again (a retry, a redelivery after a crash), then
        # another one: the worker takes them in order, so once the other one is sent
        # the duplicate has been handled too.
        client.send_task("chorus.tasks.send_email", kwargs=message)
        client.send_task("chorus.tasks.send_email", kwargs=email_job("integration:other", "DA-0002"))
        files = wait_for_files(worker, 2, log)
        time.sleep(0.5)  # a wrongly sent duplicate would be written by now
    finally:
        client.close()

    contents = [path.read_text() for path in sorted(worker.iterdir())]
    assert len(contents) == 2, files
    assert sum("DA-0001" in content for content in contents) == 1
    assert sum("DA-0002" in content for content in contents) == 1
    assert all("To: demandeur@exemple.fr" in content for content in contents)
