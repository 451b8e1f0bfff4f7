"""Emails are plain text: subjects and bodies show names as typed, never HTML-escaped,
and a subject is one line."""

from pathlib import Path

import pytest
from django.core import mail

from approvals import services as approvals
from core.mail import send_templated
from structures.services.transfer import structure_transfer_principal_manager
from tests import factories
from tests.approvals.helpers import pending_attachment
from users.services import invitations

NAME = "Cabinet d'architecture & fils <Lemoine>"


@pytest.fixture
def lemoine(db):
    structure = factories.StructureFactory(company_name=NAME)
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    structure.refresh_from_db()
    return structure, manager


def _only_email():
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def _assert_plain(text):
    assert NAME in text
    for escaped in ("&#x27;", "&#39;", "&amp;", "&lt;", "&gt;", "&quot;"):
        assert escaped not in text


def test_principal_manager_transfer_email_shows_the_name_as_typed_in_subject_and_body(
    lemoine, django_capture_on_commit_callbacks
):
    structure, manager = lemoine
    successor = factories.UserFactory(email="successeur@exemple.fr")
    factories.attach(successor, structure)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        structure_transfer_principal_manager(structure=structure, new_manager=successor, actor=manager)
    sent = [message for message in mail.outbox if message.to == ["successeur@exemple.fr"]]
    assert len(sent) == 1
    _assert_plain(sent[0].subject)
    assert "\n" not in sent[0].subject
    _assert_plain(sent[0].body)


def test_invitation_email_shows_the_structure_name_as_typed(lemoine, django_capture_on_commit_callbacks):
    structure, manager = lemoine
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_send(
            actor=manager, email="invite@exemple.fr", structures=[structure], signup_url="", answer_url=""
        )
    message = _only_email()
    assert "\n" not in message.subject
    _assert_plain(message.body)


def test_approval_decision_email_shows_the_structure_name_as_typed(
    lemoine, django_capture_on_commit_callbacks
):
    structure, manager = lemoine
    approval = pending_attachment(structure)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approval_decide(
            request_id=approval.pk, approver=manager, approve=False, reason="Motif <b> & co"
        )
    message = _only_email()
    assert "\n" not in message.subject
    _assert_plain(message.body)
    assert "Motif <b> & co" in message.body


@pytest.fixture
def email_templates(settings, tmp_path):
    """A template folder searched first, for messages the portal does not send (yet)."""
    folder = tmp_path / "sample" / "email"
    folder.mkdir(parents=True)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    return folder


def _write(folder: Path, name: str, text: str):
    (folder / name).write_text(text, encoding="utf-8")


def test_subject_is_one_line_with_its_whitespace_collapsed(
    db, email_templates, django_capture_on_commit_callbacks
):
    _write(email_templates, "sample_subject.txt", "\n  Structure {{ name }}\n\n")
    _write(email_templates, "sample_body.txt", "{{ name }}")
    with django_capture_on_commit_callbacks(execute=True):
        send_templated(
            template="sample/email/sample",
            to="a@exemple.fr",
            context={"name": "Cabinet\nd'architecture\r\n\tLemoine"},
        )
    assert _only_email().subject == "Structure Cabinet d'architecture Lemoine"


def test_body_is_not_escaped_even_without_autoescape_off_in_its_template(
    db, email_templates, django_capture_on_commit_callbacks
):
    _write(email_templates, "sample_subject.txt", "{{ name }}")
    _write(email_templates, "sample_body.txt", "Bonjour,\n\n{{ name }}\n")
    with django_capture_on_commit_callbacks(execute=True):
        send_templated(template="sample/email/sample", to="a@exemple.fr", context={"name": NAME})
    message = _only_email()
    assert message.subject == NAME
    assert message.body == f"Bonjour,\n\n{NAME}\n"
