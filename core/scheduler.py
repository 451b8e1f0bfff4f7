"""The beat schedule run inside one process, without a broker or a worker: for the embedded
default (`make run`) and small installs (`manage.py run_schedule`). Production runs the
very same schedule, settings.CELERY_BEAT_SCHEDULE, with Celery beat.

Each due task runs here, synchronously, with `task.apply()`; what it dispatches in turn
(its emails) runs inline too, since without a broker CELERY_TASK_ALWAYS_EAGER is on. The
last run of each task is kept in a small JSON file, so that a restart neither runs
everything again nor forgets a digest that fell due while the process was stopped."""

import fcntl
import json
import logging
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# current_app: the project's app (config.celery) without importing the project package.
from celery import current_app as app
from celery.schedules import maybe_schedule
from django.db import connections

logger = logging.getLogger(__name__)

# Like Celery beat's max_interval: a changed clock or a machine back from sleep is noticed
# within five minutes.
MAX_SLEEP = 5 * 60


class AlreadyRunning(Exception):
    """Another scheduler holds the state file: two would run every task twice."""


class Stopped(Exception):
    """SIGINT or SIGTERM arrived while the scheduler was waiting."""


@dataclass(frozen=True)
class Entry:
    """One entry of the beat schedule, read as Celery beat reads it."""

    name: str
    task: str
    schedule: object
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The French label the task declares (`@shared_task(label=…)`), else its name."""
        task = app.tasks.get(self.task)
        return getattr(task, "label", None) or self.task


@dataclass(frozen=True)
class Run:
    entry: Entry
    seconds: float
    failed: bool


def entries() -> list[Entry]:
    """The beat schedule itself: there is no other list of periodic tasks."""
    # The apps' tasks modules, which a worker imports at start (without its Django checks
    # here: the command already ran them).
    app.autodiscover_tasks(force=True)
    return [
        Entry(
            name=name,
            task=spec["task"],
            schedule=maybe_schedule(spec["schedule"], spec.get("relative", False), app),
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
        )
        for name, spec in app.conf.beat_schedule.items()
    ]


class StateFile:
    """The last run of each schedule entry, as `{"entry name": "ISO 8601 time"}`: readable,
    editable by hand, and in need of no migration."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> dict[str, datetime]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: datetime.fromisoformat(value) for name, value in raw.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, TypeError, AttributeError):
            # Every task is idempotent: starting afresh costs one early run of each.
            logger.warning("Schedule state %s unreadable, starting afresh", self.path, exc_info=True)
            return {}

    def save(self, last_runs: dict[str, datetime]) -> None:
        """Replace the file at once: a stop in the middle never leaves half of it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        content = json.dumps({name: moment.isoformat() for name, moment in last_runs.items()}, indent=2)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(content + "\n")
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state for this process only; raise AlreadyRunning if another has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyRunning(self.path) from None
            yield


class Scheduler:
    """Runs the due entries of the beat schedule in this process, one after the other."""

    def __init__(self, *, state: StateFile, report: Callable[[Run], None] = lambda run: None):
        self.state = state
        self.report = report
        self.entries = entries()
        self._waiting = False
        self._stop_requested = False

    def run_due(self) -> float:
        """Run every entry that is due now; return the seconds until one may be due."""
        names = {entry.name for entry in self.entries}
        last_runs = {name: moment for name, moment in self.state.load().items() if name in names}
        wait = MAX_SLEEP
        for entry in self.entries:
            last_run = last_runs.get(entry.name)
            # Never run here: due at once. The first `make run` then sends the digest of the
            # requests already waiting instead of an hour later; every task is idempotent.
            due = last_run is None or entry.schedule.is_due(last_run).is_due
            if due:
                last_run = entry.schedule.now()
                self._run(entry)
                last_runs[entry.name] = last_run
                self.state.save(last_runs)
            wait = min(wait, entry.schedule.is_due(last_run).next)
            if self._stop_requested:
                break
        return max(wait, 0)

    def run_forever(
        self, *, started: Callable[[], None] = lambda: None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        """Run what is due, sleep until the next due time, again; until SIGINT or SIGTERM,
        which let a running task finish. `started` is called once they are handled."""
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in signals}
        try:
            started()
            while not self._stop_requested:
                wait = self.run_due()
                if self._stop_requested:
                    break
                # Idle for minutes or hours: hold no database connection meanwhile.
                connections.close_all()
                self._sleep(sleep, wait)
        except Stopped:
            pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _sleep(self, sleep, seconds):
        self._waiting = True
        try:
            sleep(seconds)
        finally:
            self._waiting = False

    def _on_signal(self, signum, frame):
        if self._stop_requested:
            return
        self._stop_requested = True
        # A running task finishes first: the loop stops after it.
        if self._waiting:
            raise Stopped

    def _run(self, entry: Entry) -> None:
        started = time.monotonic()
        try:
            # Celery's own tracer logs a failure inside the task (its name and traceback)
            # and performs the task's retries, inline.
            failed = app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs).failed()
        except Exception:
            logger.exception("Scheduled task %s (%s) could not run", entry.name, entry.task)
            failed = True
        self.report(Run(entry=entry, seconds=time.monotonic() - started, failed=failed))
