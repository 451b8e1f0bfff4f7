"""The logged-out contact form used to flood mailboxes: a solved question replayed from
fresh clients, many submissions from one address or to one address, and the visitor's
own words carried in the acknowledgement sent to an address nobody has verified."""

import re
import threading
import time

from django.test import Client

from support.forms import tickets as ticket_forms
from support.models import Ticket
from tests.support.test_tickets import PUBLIC_URL, _public_data

REPLAYED = "Cette vérification a déjà servi : répondez à la nouvelle question."
TOO_MANY_FROM_ADDRESS = "Trop de demandes ont été envoyées depuis votre connexion : réessayez dans une heure."
TOO_MANY_TO_EMAIL = (
    "Trop de demandes ont été envoyées aujourd’hui pour cette adresse électronique : réessayez demain."
)


def _fresh_client(number):
    """Another visitor: no cookie, no session, its own address."""
    return Client(REMOTE_ADDR=f"203.0.113.{number}")


def _solved_challenge():
    return ticket_forms.challenge_token(3, 4, issued_at=time.time() - 30)


def test_a_solved_challenge_replayed_from_fifteen_fresh_clients_files_one_ticket(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    challenge = _solved_challenge()
    responses = []
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(1, 16):
            data = _public_data(challenge=challenge, email=f"cible{number}@exemple.fr")
            responses.append(_fresh_client(number).post(PUBLIC_URL, data))
    assert Ticket.objects.count() == 1
    assert len(mailoutbox) == 1
    assert responses[0].status_code == 302
    for response in responses[1:]:
        assert response.status_code == 200
        assert REPLAYED in response.context["form"].errors["answer"]
        # A new question is asked, and the old answer is not kept.
        assert f'value="{challenge}"' not in response.text
        assert re.search(r"Vérification : combien font \d \+ \d ?", response.text)


def test_the_new_question_shown_after_a_replay_can_be_answered(db, mailoutbox):
    challenge = _solved_challenge()
    _fresh_client(1).post(PUBLIC_URL, _public_data(challenge=challenge))
    visitor = _fresh_client(2)
    refused = visitor.post(PUBLIC_URL, _public_data(challenge=challenge, email="autre@exemple.fr"))
    form = refused.context["form"]
    renewed = ticket_forms.read_challenge(form["challenge"].value())
    assert renewed is not None
    # Answering after a person's filling time.
    token = ticket_forms.challenge_token(renewed["a"], renewed["b"], issued_at=time.time() - 30)
    answer = str(renewed["a"] + renewed["b"])
    response = visitor.post(
        PUBLIC_URL, _public_data(challenge=token, answer=answer, email="autre@exemple.fr")
    )
    assert response.status_code == 302
    assert Ticket.objects.count() == 2


def test_a_form_with_an_error_keeps_its_question_until_it_is_sent(db):
    visitor = _fresh_client(1)
    challenge = _solved_challenge()
    refused = visitor.post(PUBLIC_URL, _public_data(challenge=challenge, description=""))
    assert "description" in refused.context["form"].errors
    response = visitor.post(PUBLIC_URL, _public_data(challenge=challenge))
    assert response.status_code == 302
    assert Ticket.objects.count() == 1


def test_one_address_sends_at_most_five_requests_an_hour(db, mailoutbox, django_capture_on_commit_callbacks):
    visitor = _fresh_client(7)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(5):
            response = visitor.post(
                PUBLIC_URL, _public_data(challenge=_solved_challenge(), email=f"v{number}@exemple.fr")
            )
            assert response.status_code == 302
        refused = visitor.post(PUBLIC_URL, _public_data(challenge=_solved_challenge(), email="v6@exemple.fr"))
    assert refused.status_code == 200
    assert TOO_MANY_FROM_ADDRESS in refused.context["form"].non_field_errors()
    assert TOO_MANY_FROM_ADDRESS in refused.text
    assert Ticket.objects.count() == 5
    assert len(mailoutbox) == 5
    # Another visitor is not held back by this one.
    assert _fresh_client(8).post(PUBLIC_URL, _public_data(challenge=_solved_challenge())).status_code == 302


def test_one_email_address_receives_at_most_three_requests_a_day(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(1, 4):
            response = _fresh_client(number).post(
                PUBLIC_URL, _public_data(challenge=_solved_challenge(), email="victime@exemple.fr")
            )
            assert response.status_code == 302
        # The same address written differently is the same mailbox.
        refused = _fresh_client(4).post(
            PUBLIC_URL, _public_data(challenge=_solved_challenge(), email="Victime@Exemple.fr")
        )
    assert refused.status_code == 200
    assert TOO_MANY_TO_EMAIL in refused.context["form"].errors["email"]
    assert Ticket.objects.count() == 3
    assert len(mailoutbox) == 3


def test_the_acknowledgement_carries_none_of_the_visitor_text(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    title = "Gagnez 5000 euros sur arnaque.example"
    description = "Appelez vite le 08 99 00 00 00 ou cliquez sur http://arnaque.example/prime"
    with django_capture_on_commit_callbacks(execute=True):
        response = _fresh_client(1).post(
            PUBLIC_URL,
            _public_data(challenge=_solved_challenge(), title=title, description=description),
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    [message] = mailoutbox
    assert message.to == ["sans.compte@exemple.fr"]
    assert ticket.number in message.subject
    assert ticket.number in message.body
    sent = message.subject + message.body
    for written in (title, description, "arnaque", "5000", "08 99"):
        assert written not in sent
    assert "http://testserver/support/contact/" in message.body
    # The agents see what the visitor wrote in the back-office.
    assert ticket.title == title
    assert ticket.description == description


def test_fifteen_submissions_of_one_challenge_at_the_same_instant_use_it_once():
    challenge = ticket_forms.read_challenge(_solved_challenge())
    barrier = threading.Barrier(15)
    results = []

    def submit():
        barrier.wait(timeout=30)
        results.append(ticket_forms.consume_challenge(challenge))

    threads = [threading.Thread(target=submit) for _index in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 14 + [True]
