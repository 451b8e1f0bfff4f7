"""A user who gave no name is named by their address, once: never
"anonyme@exemple.fr (anonyme@exemple.fr)" on a page or in an email."""

import html

import pytest
from django.urls import reverse

from chorus.models import Level
from core.mail import render_plain
from tests import factories
from tests.approvals.helpers import pending_attachment
from users.models import User

NAMELESS = "anonyme@exemple.fr"
TWICE = f"{NAMELESS} ({NAMELESS})"


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def nameless(structure, principal_manager):
    user = factories.UserFactory(email=NAMELESS, first_name="", last_name="")
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    return user


def test_name_and_email_shows_the_address_once_for_a_user_without_a_name():
    assert User(email=NAMELESS).name_and_email == NAMELESS
    named = User(email="jean.dupont@exemple.fr", first_name="Jean", last_name="Dupont")
    assert named.name_and_email == "Jean Dupont (jean.dupont@exemple.fr)"


def test_habilitations_page_names_a_user_without_a_name_once(client, structure, principal_manager, nameless):
    client.force_login(principal_manager)
    response = client.get(
        reverse("users:habilitations"), {"structure": structure.pk, "user": nameless.pk}
    )

    assert response.status_code == 200
    page = text(response)
    assert NAMELESS in page
    assert TWICE not in page


def test_detach_choice_names_a_user_without_a_name_once(client, structure, principal_manager, nameless):
    client.force_login(principal_manager)
    response = client.get(reverse("users:detach"), {"structure": structure.pk})

    labels = [label for _value, label in response.context["form"].fields["user"].choices]
    assert NAMELESS in labels
    assert TWICE not in text(response)


def test_approvals_inbox_names_a_requester_without_a_name_once(client, structure, principal_manager):
    requester = factories.UserFactory(email=NAMELESS, first_name="", last_name="")
    pending_attachment(structure, requester=requester)
    client.force_login(principal_manager)

    page = text(client.get(reverse("approvals:inbox")))

    assert page.count(NAMELESS) == 1


def test_emails_name_a_user_without_a_name_once(structure, principal_manager, nameless):
    approval = pending_attachment(structure, requester=factories.UserFactory(email="x@exemple.fr"))
    approval.requester = nameless
    bodies = [
        render_plain(
            "structures/email/transfer_old_body.txt",
            {"structure": structure, "former_manager": principal_manager, "new_manager": nameless},
        ),
        render_plain(
            "structures/email/transfer_new_body.txt",
            {"structure": structure, "former_manager": nameless, "new_manager": principal_manager},
        ),
        render_plain(
            "structures/email/structure_claim_manager_body.txt",
            {"structure": structure, "accepted": True, "claimant": nameless, "former": principal_manager},
        ),
        render_plain(
            "approvals/email/approval_digest_body.txt",
            {"approver": principal_manager, "approvals": [approval], "count": 1},
        ),
    ]
    for body in bodies:
        assert NAMELESS in body
        assert TWICE not in body
    assert f"demandée par {NAMELESS}\n" in bodies[-1]
