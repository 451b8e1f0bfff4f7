"""`manage.py run_schedule`: the beat schedule run in-process when there is no broker
(`make run`), each task once when due, its last run kept across restarts."""

import json
import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app
from core import scheduler
from structures import tasks as structures_tasks
from support import tasks as support_tasks
from tests.approvals.helpers import pending_attachment

ROOT = Path(__file__).resolve().parents[2]
ENTRY_NAMES = list(settings.CELERY_BEAT_SCHEDULE)


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "var" / "schedule-state.json"


@pytest.fixture
def no_insee():
    """The nightly refresh without INSEE's register; every other command as it is."""
    real = structures_tasks.call_command

    def call(name, **options):
        if name == "sirene_refresh":
            options["stdout"].write("Mise à jour depuis la base INSEE : 0 structure(s)")
            return None
        return real(name, **options)

    with mock.patch.object(structures_tasks, "call_command", side_effect=call):
        yield


def run_once(state_file, capture=None):
    out, err = StringIO(), StringIO()
    if capture is None:
        call_command("run_schedule", "--once", state_file=state_file, stdout=out, stderr=err)
    else:
        with capture(execute=True):
            call_command("run_schedule", "--once", state_file=state_file, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def ran(output):
    return [line.split(" : ", 1)[1].rsplit(" (", 1)[0] for line in output.splitlines()]


def labels(names):
    entries = {entry.name: entry for entry in scheduler.entries()}
    return [entries[name].label for name in names]


def write_state(state_file, last_runs):
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({name: moment.isoformat() for name, moment in last_runs.items()}))


def read_state(state_file):
    return scheduler.StateFile(state_file).load()


def test_the_scheduler_runs_the_beat_schedule_itself():
    entries = scheduler.entries()

    assert [(entry.name, entry.task) for entry in entries] == [
        (name, spec["task"]) for name, spec in settings.CELERY_BEAT_SCHEDULE.items()
    ]
    assert [entry.schedule for entry in entries] == [
        spec["schedule"] for spec in settings.CELERY_BEAT_SCHEDULE.values()
    ]
    for entry in entries:
        assert entry.task in app.tasks
        assert entry.label != entry.task  # each scheduled task names itself in French


def test_once_with_a_fresh_state_runs_every_task_once_and_records_it(db, state_file, no_insee):
    before = timezone.now()

    out, err = run_once(state_file)

    assert ran(out) == labels(ENTRY_NAMES)
    assert out.splitlines()[0].startswith(
        "Tâche planifiée exécutée : approbations — récapitulatif des demandes ("
    )
    assert err == ""
    last_runs = read_state(state_file)
    assert list(last_runs) == ENTRY_NAMES
    assert all(before <= moment <= timezone.now() for moment in last_runs.values())


def test_a_second_run_right_after_runs_nothing(db, state_file, no_insee):
    run_once(state_file)
    recorded = state_file.read_text()

    out, err = run_once(state_file)

    assert (out, err) == ("", "")
    assert state_file.read_text() == recorded


def test_a_task_whose_period_elapsed_runs_again(db, state_file, no_insee):
    run_once(state_file)
    last_runs = read_state(state_file)
    # The scheduler was stopped over a full hour: the hourly digest fell due meanwhile.
    last_runs["approvals-digest"] -= timedelta(hours=2)
    write_state(state_file, last_runs)

    out, _ = run_once(state_file)

    assert ran(out) == labels(["approvals-digest"])
    assert read_state(state_file)["approvals-digest"] > last_runs["approvals-digest"] + timedelta(hours=1)


def test_a_failing_task_is_logged_with_its_name_and_the_others_still_run(db, state_file, no_insee, caplog):
    failing = mock.patch.object(support_tasks, "tickets_autoclose", side_effect=RuntimeError("SMTP en panne"))

    with failing, caplog.at_level(logging.ERROR):
        out, err = run_once(state_file)

    assert ran(out) == labels(["approvals-digest", "sirene-refresh", "kept-uploads-purge"])
    assert ran(err) == labels(["support-autoclose"])
    assert "Tâche planifiée en échec" in err
    (record,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "support.tasks.support_autoclose" in record.getMessage()
    assert "RuntimeError: SMTP en panne" in caplog.text  # with its traceback
    # Not run again at once: the next time is the next occurrence of its schedule.
    assert list(read_state(state_file)) == ENTRY_NAMES


def test_the_approver_receives_the_digest_without_redis(
    structure, principal_manager, state_file, django_capture_on_commit_callbacks
):
    assert app.conf.task_always_eager and settings.CELERY_BROKER_URL == "memory://"
    approval = pending_attachment(structure)
    now = timezone.now()
    write_state(state_file, {**dict.fromkeys(ENTRY_NAMES, now), "approvals-digest": now - timedelta(hours=2)})

    out, _ = run_once(state_file, capture=django_capture_on_commit_callbacks)

    assert ran(out) == labels(["approvals-digest"])
    assert [message.to for message in mail.outbox] == [[principal_manager.email]]
    assert approval.number in mail.outbox[0].body


def test_refused_when_a_broker_runs_the_schedule(state_file):
    app.conf.task_always_eager = False
    try:
        with pytest.raises(CommandError, match="Celery beat"):
            run_once(state_file)
    finally:
        app.conf.task_always_eager = True
    assert not state_file.exists()


def test_a_second_scheduler_on_the_same_state_is_refused(state_file):
    with scheduler.StateFile(state_file).locked():
        with pytest.raises(CommandError, match="Un autre planificateur utilise déjà"):
            run_once(state_file)


@pytest.fixture
def fake_tasks():
    """Every scheduled task replaced by one that succeeds at once; the names run, in order."""
    runs = []
    succeeded = mock.Mock(failed=lambda: False)
    patches = [
        mock.patch.object(
            app.tasks[entry.task],
            "apply",
            side_effect=lambda name=entry.name, **options: runs.append(name) or succeeded,
        )
        for entry in scheduler.entries()
    ]
    for patch in patches:
        patch.start()
    yield runs
    for patch in patches:
        patch.stop()


def test_the_loop_sleeps_until_the_next_due_time_and_stops_on_sigterm(state_file, fake_tasks):
    write_state(state_file, dict.fromkeys(ENTRY_NAMES, timezone.now()))
    previous = signal.getsignal(signal.SIGTERM)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    scheduler.Scheduler(state=scheduler.StateFile(state_file)).run_forever(sleep=sleep)

    assert fake_tasks == []
    assert len(waits) == 1 and 0 < waits[0] <= scheduler.MAX_SLEEP
    assert signal.getsignal(signal.SIGTERM) == previous


def test_a_signal_during_a_task_lets_it_finish_then_stops(state_file, fake_tasks):
    def report(run):
        os.kill(os.getpid(), signal.SIGINT)

    sleep = mock.Mock()
    scheduler.Scheduler(state=scheduler.StateFile(state_file), report=report).run_forever(sleep=sleep)

    assert fake_tasks == ENTRY_NAMES[:1]
    assert list(read_state(state_file)) == ENTRY_NAMES[:1]
    sleep.assert_not_called()


def test_sigterm_stops_the_command_without_a_traceback(tmp_path, state_file):
    write_state(state_file, dict.fromkeys(ENTRY_NAMES, timezone.now()))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
        CELERY_BROKER_URL="",
        CELERY_RESULT_BACKEND="",
        SCHEDULE_STATE_FILE=str(state_file),
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_schedule"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = process.stdout.readline()  # printed once the signals are handled
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()

    assert started.startswith(f"Planificateur local : {len(ENTRY_NAMES)} tâche(s) périodique(s)")
    assert str(state_file) in started
    assert process.returncode == 0, err
    assert "Traceback" not in err and out == ""


def test_a_task_without_a_label_is_shown_by_its_name():
    entry = scheduler.Entry(name="essai", task="chorus.tasks.send_email", schedule=None)

    assert entry.label == "chorus.tasks.send_email"


def test_an_unreadable_state_is_logged_and_every_task_runs(state_file, fake_tasks, caplog):
    state_file.parent.mkdir(parents=True)
    state_file.write_text("{ interrompu")

    with caplog.at_level(logging.WARNING, logger="core.scheduler"):
        scheduler.Scheduler(state=scheduler.StateFile(state_file)).run_due()

    assert "unreadable" in caplog.text
    assert fake_tasks == ENTRY_NAMES
    assert list(read_state(state_file)) == ENTRY_NAMES
