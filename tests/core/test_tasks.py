"""Background jobs without a broker (the embedded default and the test suite): emails
leave after the commit, inline, exactly once, and a failure never undoes a decision."""

import logging
import smtplib
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from kombu.exceptions import OperationalError

from approvals import services as approvals
from approvals import tasks as approvals_tasks
from approvals.models import ApprovalRequest
from config.celery import app
from core import mail as portal_mail
from core import tasks
from structures import tasks as structures_tasks
from support import tasks as support_tasks
from tests.approvals.helpers import pending_attachment

Status = ApprovalRequest.Status


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def decide(approval, approver, approve=True):
    return approvals.approval_decide(
        request_id=approval.pk, approver=approver, approve=approve, reason="" if approve else "Inconnu"
    )


def flaky_backend(failures: int):
    """The locmem backend, failing `failures` times like an SMTP server that drops the
    connection, then sending."""
    calls = []
    original = EmailBackend.send_messages

    def send_messages(self, messages):
        calls.append(messages)
        if len(calls) <= failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, messages)

    return mock.patch.object(EmailBackend, "send_messages", send_messages), calls


def test_tasks_run_inline_without_a_broker():
    assert app.conf.task_always_eager is True
    assert app.conf.broker_url == "memory://"


def test_approval_decision_email_leaves_after_commit_inline(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    approval = pending_attachment(structure)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide(approval, principal_manager)
        assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert [message.to for message in mail.outbox] == [[approval.requester.email]]
    assert approval.number in mail.outbox[0].body


def test_rolled_back_decision_sends_nothing(structure, principal_manager, django_capture_on_commit_callbacks):
    approval = pending_attachment(structure)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            decide(approval, principal_manager)
            raise RuntimeError("something later in the same transaction failed")

    assert callbacks == []
    assert mail.outbox == []
    assert ApprovalRequest.objects.get(pk=approval.pk).status == Status.EN_ATTENTE


def test_transient_smtp_error_is_retried_and_sends_exactly_one_email(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    approval = pending_attachment(structure)
    patch, calls = flaky_backend(failures=2)

    with patch, django_capture_on_commit_callbacks(execute=True):
        decide(approval, principal_manager, approve=False)

    assert len(calls) == 3
    assert [message.to for message in mail.outbox] == [[approval.requester.email]]


def test_a_duplicated_email_task_sends_once():
    message = {"key": "test:duplicate", "subject": "Objet", "body": "Corps", "recipients": ["a@exemple.fr"]}

    first = tasks.send_email.apply(kwargs=message)
    second = tasks.send_email.apply(kwargs=message)

    assert (first.result, second.result) == (True, False)
    assert len(mail.outbox) == 1


def test_a_copy_already_sending_is_not_sent_twice():
    message = {"key": "test:claimed", "subject": "Objet", "body": "Corps", "recipients": ["a@exemple.fr"]}
    cache.add("mail:claim:test:claimed", "another-worker")

    assert tasks.send_email.apply(kwargs=message).result is False
    assert mail.outbox == []


def test_email_still_sent_when_the_cache_is_unreachable():
    message = {"key": "test:nocache", "subject": "Objet", "body": "Corps", "recipients": ["a@exemple.fr"]}
    broken = mock.Mock(side_effect=ConnectionError("cache down"))

    with mock.patch.multiple(tasks.cache, get=broken, add=broken, set=broken, delete=broken):
        assert tasks.send_email.apply(kwargs=message).result is True

    assert len(mail.outbox) == 1


def test_broker_failure_at_enqueue_falls_back_inline_and_keeps_the_decision(
    structure, principal_manager, django_capture_on_commit_callbacks, caplog
):
    approval = pending_attachment(structure)
    unreachable = mock.patch.object(
        tasks.send_email, "apply_async", side_effect=OperationalError("Error 111 connecting to redis")
    )

    with unreachable, caplog.at_level(logging.ERROR, logger="core.mail"):
        with django_capture_on_commit_callbacks(execute=True):
            decide(approval, principal_manager)

    assert ApprovalRequest.objects.get(pk=approval.pk).status == Status.APPROUVEE
    assert [message.to for message in mail.outbox] == [[approval.requester.email]]
    assert "Broker unreachable" in caplog.text


def test_email_that_keeps_failing_is_logged_and_the_decision_kept(
    structure, principal_manager, django_capture_on_commit_callbacks, caplog
):
    approval = pending_attachment(structure)
    patch, calls = flaky_backend(failures=100)

    with patch, caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        decide(approval, principal_manager)  # no exception after the commit

    assert len(calls) == tasks.send_email.max_retries + 1
    assert mail.outbox == []
    assert ApprovalRequest.objects.get(pk=approval.pk).status == Status.APPROUVEE
    assert "SMTPServerDisconnected" in caplog.text


def test_send_templated_renders_now_and_dispatches_on_commit(db, django_capture_on_commit_callbacks):
    with mock.patch.object(portal_mail, "dispatch") as dispatch:
        with django_capture_on_commit_callbacks(execute=True):
            portal_mail.send_templated(
                template="approvals/email/approval_digest",
                to="gp@exemple.fr",
                context={"approver": None, "approvals": [], "count": 0},
            )

    (message,), _ = dispatch.call_args
    assert message["recipients"] == ["gp@exemple.fr"]
    assert message["key"].startswith("approvals/email/approval_digest:")
    assert message["subject"] and "\n" not in message["subject"]


def test_digest_task_runs_the_digest(structure, principal_manager, django_capture_on_commit_callbacks):
    pending_attachment(structure)

    with django_capture_on_commit_callbacks(execute=True):
        result = approvals_tasks.approvals_digest.apply().get()

    assert result == {"emails": 1, "requests": 1}
    assert [message.to for message in mail.outbox] == [[principal_manager.email]]
    # Idempotent: a second run announces nothing again.
    assert approvals_tasks.approvals_digest.apply().get() == {"emails": 0, "requests": 0}


def test_autoclose_task_calls_the_service():
    with mock.patch.object(support_tasks, "tickets_autoclose", return_value=["T-1"]) as service:
        assert support_tasks.support_autoclose.apply(kwargs={"days": 7}).get() == ["T-1"]
    service.assert_called_once_with(days=7)


def test_sirene_refresh_task_runs_the_command_and_resumes_after_an_interruption():
    from django.core.management import CommandError

    runs = []

    def command(name, **options):
        runs.append(options["since"])
        if len(runs) == 1:
            raise CommandError("Service INSEE indisponible")
        options["stdout"].write("Mise à jour depuis la base INSEE : 0 structure(s)")

    with mock.patch.object(structures_tasks, "call_command", side_effect=command):
        summary = structures_tasks.sirene_refresh.apply().get()

    assert "Mise à jour depuis la base INSEE" in summary
    assert len(runs) == 2 and runs[0] == runs[1]  # the retry skips what the first run did


def test_beat_schedule_names_registered_tasks():
    schedule = app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        "approvals.tasks.approvals_digest",
        "support.tasks.support_autoclose",
        "structures.tasks.sirene_refresh",
        "structures.tasks.kept_uploads_purge",
    }
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks
    assert str(schedule["approvals-digest"]["schedule"]._orig_minute) == "0"


def test_commands_still_work(structure, principal_manager, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    pending_attachment(structure)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("approvals_digest", stdout=out)
    assert "1 courriel(s) envoyé(s)" in out.getvalue()
