"""Every view that changes data writes exactly one audit record per valid submission.

WRITES declares, for each write view, who submits it and a valid submission;
NO_AUDIT the views that take a POST but legitimately write no record, with the
reason. A view that takes a POST and is in neither table fails the coverage test."""

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from chorus import access
from chorus.models import AuditEvent, Level, Profile
from structures.models import Structure
from support.forms.tickets import challenge_token
from support.models import ChatMessage, ChatSession, Queue, SubCategory, Ticket
from tests import factories
from tests.security.page_forms import form_data
from tests.security.test_authorization_matrix import expectations
from tests.security.world import portal_patterns, url_kwargs, world_in_transaction
from tests.sirene.standin import running_standin
from tests.structures.test_insee_views import BAKERY, COMPANY, NEW_SITE
from tests.support.test_tickets import make_ticket, submit_data
from tests.users.test_two_factor import code_for, enrolled
from users.models import Invitation, Membership

S = Ticket.Status


@dataclass
class Write:
    persona: str
    data: Callable = lambda world: {}  # the submission, on top of the page's own form values
    setup: Callable | None = None  # prepares the world (inside the rolled back transaction)
    kwargs: Callable | None = None  # URL arguments, when not the world's defaults
    from_page: bool = True  # start from the values the page's form shows
    query: Callable | None = None  # the query string, when the page's choice lives there
    insee: bool = False  # the view asks the INSEE directory: run its stand-in
    verified: bool = False  # the session has passed the second factor (setup enrols the user)
    records: int = 1  # more than one only with the reason below
    why: str = ""


def _pdf(name="document.pdf"):
    return SimpleUploadedFile(name, factories.pdf_bytes(), content_type="application/pdf")


def _pick(code, level):
    profile = Profile.objects.get(application__code=code, level=level)
    return {"profil-application": str(profile.application_id), "profil-level": str(int(level))}


def _deactivate_company(world):
    Structure.objects.filter(pk=world.structure_a.pk).update(
        identifier=COMPANY, status=Structure.Status.INACTIVE
    )


def _structure_a_is_company(world):
    Structure.objects.filter(pk=world.structure_a.pk).update(identifier=COMPANY)


def _deactivate_service(world):
    world.service_a.__class__.objects.filter(pk=world.service_a.pk).update(is_active=False)


def _ticket(world, status, persona="principal_manager"):
    return make_ticket(world.users[persona], status=status, structure=world.structure_a)


def _own_ticket_in(status):
    """URL arguments of a ticket of the principal manager in this status."""
    return lambda world: {"pk": _ticket(world, status).pk}


def _assigned_ticket(world):
    ticket = world.tickets["consultation"]
    Ticket.objects.filter(pk=ticket.pk).update(assigned_to=world.users["agent"], status=S.EN_COURS)
    return {"pk": ticket.pk}


def _chat_with_a_message(world):
    session = world.chats["principal_manager"]
    ChatMessage.objects.create(session=session, author=world.users["principal_manager"], body="Bonjour")
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.TERMINE)


def _end_own_chat(world):
    ChatSession.objects.filter(pk=world.chats["principal_manager"].pk).update(
        status=ChatSession.Status.TERMINE
    )


def _invitation_to(world, persona):
    """A pending invitation of structure A's principal manager to the persona."""
    user = world.users[persona]
    invitation = Invitation.objects.filter(user=user, structure=world.structure_a).first()
    return invitation or Invitation.objects.create(
        email=user.email, user=user, structure=world.structure_a, invited_by=world.users["principal_manager"]
    )


def _public_ticket(world):
    sub = SubCategory.objects.filter(is_active=True, category__is_active=True).order_by("pk").first()
    return {
        "category": sub.category_id,
        "subcategory": sub.pk,
        "email": "visiteur@exemple.fr",
        "title": "Je ne peux pas me connecter",
        "description": "Le lien d’activation a expiré.",
        # Issued a minute ago: the form refuses one filled faster than a person can.
        "challenge": challenge_token(2, 3, issued_at=time.time() - 60),
        "answer": "5",
    }


WRITES = {
    # Organisation › Structure
    "structures:update": Write("principal_manager", lambda w: {"phone": "01 23 45 67 89"}),
    "structures:deactivate": Write("principal_manager"),
    # Activating asks INSEE whether the establishment is open.
    "structures:activate": Write("principal_manager", setup=_deactivate_company, insee=True),
    # The stand-in INSEE directory knows COMPANY, its other site NEW_SITE and BAKERY.
    "structures:create": Write("no_structure", lambda w: {"siret": BAKERY}, from_page=False, insee=True),
    "structures:duplicate": Write(
        "principal_manager",
        lambda w: {"model": w.structure_a.pk, "siret": NEW_SITE},
        setup=_structure_a_is_company,
        from_page=False,
        insee=True,
        records=2,
        why="two structures' histories: the duplicate's creation, and the model's deactivation",
    ),
    "structures:insee_update": Write("principal_manager", setup=_structure_a_is_company, insee=True),
    # Gérer une structure shows the chosen request's form under the choice, posting there.
    "structures:manage": Write(
        "principal_manager",
        lambda w: {"email": "contact@structure-a.fr"},
        query=lambda w: f"?type=modifier&structure={w.structure_a.pk}",
    ),
    "structures:service_create": Write(
        "principal_manager",
        lambda w: {
            "structure": w.structure_a.pk,
            "code": "compta-9",
            "name": "Service comptabilité",
            "postcode": "75002",
            "city": "Paris",
            "country": "FR",
        },
    ),
    "structures:service_update": Write("principal_manager", lambda w: {"name": "Service renommé"}),
    "structures:service_deactivate": Write("principal_manager"),
    "structures:service_activate": Write("principal_manager", setup=_deactivate_service),
    "structures:service_delete": Write("principal_manager"),
    "structures:bank_create": Write(
        "principal_manager",
        lambda w: {
            "name": "IBAN test",
            "structure": w.structure_a.pk,
            "kind": "IBAN",
            "country": "FR",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "bic": "BNPAFRPP",
            "proof": _pdf(),
        },
    ),
    "structures:bank_change_status": Write("principal_manager", lambda w: {"answer": "oui"}),
    "structures:attachment_create": Write(
        "principal_manager", lambda w: {"structure": w.structure_a.pk, "files": _pdf()}
    ),
    "structures:attachment_delete": Write("principal_manager", lambda w: {"answer": "oui"}),
    "structures:transfer": Write(
        "principal_manager",
        lambda w: {"type": "unitaire", f"structure_{w.structure_a.pk}": w.users["delegate"].pk},
    ),
    # Organisation › Utilisateurs
    "users:attach": Write(
        "principal_manager",
        lambda w: {
            "structure": w.structure_a.pk,
            "email": w.users["no_structure"].email,
            "level": "structure",
        },
    ),
    "users:attach_many": Write(
        "principal_manager",
        lambda w: {"email": w.users["no_structure"].email, "structures": [w.structure_a.pk]},
    ),
    "users:detach": Write(
        "principal_manager",
        lambda w: {
            "structure": w.structure_a.pk,
            "user": w.users["modification"].pk,
            "level": "structure",
            "comment": "Départ de l'entreprise",
        },
    ),
    "users:habilitations": Write(
        "principal_manager",
        lambda w: {"picker": "add", **_pick("FACTURE_RECUE", Level.CONSULTATION)},
        query=lambda w: f"?structure={w.structure_a.pk}&service=&user={w.users['modification'].pk}",
    ),
    "users:habilitations_copy": Write(
        "principal_manager",
        lambda w: {
            "structure": w.structure_a.pk,
            "source": w.users["modification"].pk,
            "target": w.users["consultation"].pk,
            "valider": "1",
        },
    ),
    "users:my_habilitations": Write(
        "principal_manager",
        lambda w: {"picker": "add", **_pick("FACTURE_RECUE", Level.CONSULTATION)},
        query=lambda w: f"?structure={w.structure_a.pk}&service=",
    ),
    # Approvals
    "approvals:approve": Write("principal_manager"),
    "approvals:refuse": Write("principal_manager", lambda w: {"reason": "Inconnu de nos services."}),
    # Several requests decided at once write one record per request: each is a decision
    # of its own, told to its own requester.
    "approvals:inbox": Write(
        "principal_manager", lambda w: {"requests": [w.approval_a.pk], "decision": "approuver"}
    ),
    "approvals:request_attachment": Write(
        "no_structure",
        lambda w: {
            "identifiant": w.structure_a.identifier,
            "structure": w.structure_a.pk,
            "comment": "Comptable",
        },
    ),
    "approvals:claim_structure": Write(
        "no_structure",
        lambda w: {
            "identifiant": w.structure_a.identifier,
            "structure": w.structure_a.pk,
            "explanation": "Je dirige cette structure ; son gestionnaire principal n’en fait pas partie.",
            "proof": _pdf("kbis.pdf"),
        },
        kwargs=lambda w: {},
    ),
    # Support
    "support:ticket_create": Write(
        "principal_manager", lambda w: submit_data(structure=w.structure_a.pk), from_page=False
    ),
    "support:ticket_edit": Write(
        "principal_manager",
        lambda w: submit_data(structure=w.structure_a.pk),
        kwargs=_own_ticket_in(S.BROUILLON),
        from_page=False,
    ),
    "support:ticket_delete": Write(
        "principal_manager", lambda w: {"answer": "oui"}, kwargs=_own_ticket_in(S.BROUILLON)
    ),
    "support:ticket_answer": Write(
        "principal_manager",
        lambda w: {"message": "Voici le numéro demandé."},
        kwargs=_own_ticket_in(S.EN_ATTENTE_INFORMATION),
    ),
    "support:ticket_accept": Write("principal_manager", kwargs=_own_ticket_in(S.RESOLU)),
    "support:ticket_refuse": Write(
        "principal_manager", lambda w: {"message": "Toujours bloquée."}, kwargs=_own_ticket_in(S.RESOLU)
    ),
    "support:ticket_close": Write("principal_manager", lambda w: {"message": "Réglé."}),
    "support:ticket_rate": Write(
        "principal_manager", lambda w: {"score": "5", "comment": "Merci"}, kwargs=_own_ticket_in(S.CLOTURE)
    ),
    "support:agent_assign": Write("agent"),
    "support:agent_reply": Write("agent", lambda w: {"message": "Nous regardons."}, kwargs=_assigned_ticket),
    "support:agent_request_information": Write(
        "agent", lambda w: {"message": "Quel numéro de facture ?"}, kwargs=_assigned_ticket
    ),
    "support:agent_propose_solution": Write(
        "agent", lambda w: {"message": "Facture débloquée."}, kwargs=_assigned_ticket
    ),
    "support:agent_transfer": Write(
        "agent",
        lambda w: {
            "queue": Queue.objects.exclude(pk=w.tickets["consultation"].queue_id).order_by("pk").first().pk,
            "reason": "Relève du support métier.",
        },
        kwargs=_assigned_ticket,
    ),
    "support:agent_note": Write(
        "agent", lambda w: {"message": "Voir avec la DGFiP."}, kwargs=_assigned_ticket
    ),
    "support:agent_chat_take": Write("agent"),
    "support:chat_start": Write(
        "principal_manager",
        lambda w: {"theme": SubCategory.objects.order_by("pk").first().category_id},
        setup=_end_own_chat,
        from_page=False,
    ),
    "support:chat_end": Write("principal_manager"),
    "support:chat_to_ticket": Write("principal_manager", setup=lambda w: _chat_with_a_message(w)),
    "support:public_ticket": Write("anonymous", _public_ticket, from_page=False),
    # The user's own account
    "users:account": Write("principal_manager", lambda w: {"phone": "06 12 34 56 78"}),
    "users:change_email": Write(
        "principal_manager",
        lambda w: {"email": "nouvelle.adresse@exemple.fr", "password": factories.PASSWORD},
    ),
    "users:invitation_answer": Write(
        "no_structure",
        lambda w: {"invitation": _invitation_to(w, "no_structure").pk, "decision": "accepter"},
        from_page=False,
    ),
    "users:membership_leave": Write(
        "consultation",
        lambda w: {
            "membership": Membership.objects.get(user=w.users["consultation"], structure=w.structure_a).pk
        },
        from_page=False,
    ),
    # The principal manager must first hand over the role: a simple user leaves.
    "users:deactivate": Write("consultation", lambda w: {"password": factories.PASSWORD, "answer": "oui"}),
    "users:password_change": Write(
        "principal_manager",
        lambda w: {
            "old_password": factories.PASSWORD,
            "new_password1": "Nouveau-Mot-2026!",
            "new_password2": "Nouveau-Mot-2026!",
        },
    ),
    # Two-factor authentication
    "users:two_factor_enrol": Write(
        "consultation", lambda w: {"code": code_for(TOTPDevice.objects.get(user=w.users["consultation"]))}
    ),
    "users:two_factor_recovery_codes_regenerate": Write(
        "consultation",
        lambda w: {
            "password": factories.PASSWORD,
            "code": code_for(TOTPDevice.objects.get(user=w.users["consultation"])),
        },
        setup=lambda w: enrolled(w.users["consultation"]),
        verified=True,
    ),
    "users:two_factor_disable": Write(
        "consultation",
        lambda w: {
            "password": factories.PASSWORD,
            "code": code_for(TOTPDevice.objects.get(user=w.users["consultation"])),
        },
        setup=lambda w: enrolled(w.users["consultation"]),
        verified=True,
    ),
    "users:signup": Write(
        "anonymous",
        lambda w: {
            "first_name": "Inès",
            "last_name": "Inscrite",
            "email": "inscrit@exemple.fr",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    ),
}

NO_AUDIT = {
    "home": "a page to read; a POST shows it again",
    "domain": "a page to read; a POST shows it again",
    "application": "a page to read; a POST shows it again",
    "search": "a page to read; a POST shows it again",
    "set_language": "a preference kept in a cookie, nothing of the portal changes",
    "session": "restarts the session's idle clock (Rester connecté), nothing of the portal changes",
    "users:login": "logging in changes no data of the portal (failures are counted by the lockout)",
    "users:logout": "ends the session only",
    "users:activation_resend": "sends the activation link again; nothing changes",
    "users:password_reset": "sends a link by email; nothing changes until it is used",
    "users:password_reset_confirm": "public link with a token (tested with an invalid one here)",
    "users:two_factor_recovery_codes": "forgets the recovery codes shown, kept in the session",
    "users:two_factor_verify": "the login's second step (a recovery code used is recorded: tests/users)",
    "users:two_factor_email_code": "sends a login code by email; nothing changes",
    "users:unlock_request": "sends an unlock link by email; nothing changes until it is used",
    "users:unlock_with_code": "a login with the password and a code, as users:login (the lockout is lifted "
    "as a successful login lifts it)",
    "support:assistant_ask": "answers a question from the documentation; nothing is stored",
    "support:chat_post": "a message of the conversation: the conversation itself is the record",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_in_transaction(django_db_blocker)


def _pattern(name):
    return next(pattern for n, _route, pattern in portal_patterns() if n == name)


def submit(world, name, write: Write):
    """Submit the view as the persona; returns (response, audit events written)."""
    client = Client(raise_request_exception=False)
    user = world.users[write.persona]
    if user is not None:
        client.force_login(user)
    if write.setup:
        write.setup(world)
    if write.verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
        session.save()
    kwargs = write.kwargs(world) if write.kwargs else None
    if kwargs is None:
        pattern = _pattern(name)
        kwargs = url_kwargs(world, name, list(pattern.pattern.converters), write.persona)
    url = reverse(name, kwargs=kwargs) + (write.query(world) if write.query else "")
    data = {}
    if write.from_page:
        page = client.get(url)
        if page.status_code == 200 and not page.streaming:
            data = form_data(url, page.content.decode())
    data.update(write.data(world))
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    actions = list(AuditEvent.objects.order_by("pk")[before:].values_list("action", flat=True))
    if response.status_code == 302:
        # The messages of the next page tell why a submission did nothing.
        response.next_page = client.get(response["Location"])
    return response, actions


def _errors(response):
    """The form's errors and the messages shown, to tell why a submission failed."""
    context = response.context or getattr(getattr(response, "next_page", None), "context", None)
    if context is None:
        return response.get("Location")
    form = context.get("form")
    messages = [str(message) for message in context.get("messages", [])]
    return getattr(form, "errors", None), messages, response.get("Location")


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_valid_submission_writes_exactly_one_audit_record(world, db, settings, name):
    # The chat is open around the clock here: opening hours are tested in tests/support.
    settings.SUPPORT_CHAT_HOURS = ("00:00", "23:59")
    settings.SUPPORT_CHAT_DAYS = (0, 1, 2, 3, 4, 5, 6)
    settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS = False
    write = WRITES[name]
    with ExitStack() as stack:
        if write.insee:
            stack.enter_context(running_standin(settings))
        with transaction.atomic():
            response, actions = submit(world, name, write)
            transaction.set_rollback(True)
    assert response.status_code < 400, (response.status_code, _errors(response))
    assert len(actions) == write.records, (response.status_code, actions, _errors(response))
    assert write.records == 1 or write.why


def _accepts_post(world, name, pattern):
    """Whether the view takes a POST from a persona it serves (a 405 says it does not)."""
    expected = expectations(name, pattern)
    for persona in ("principal_manager", "agent", "no_structure", "anonymous"):
        if expected[persona] == access.ALLOWED:
            break
    else:
        return False
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        if world.users[persona] is not None:
            client.force_login(world.users[persona])
        url = reverse(name, kwargs=url_kwargs(world, name, list(pattern.pattern.converters), persona))
        status = client.post(url).status_code
        transaction.set_rollback(True)
    return status != 405


def test_every_view_taking_a_post_is_declared(world, db):
    assert not set(WRITES) & set(NO_AUDIT)
    undeclared = [
        name
        for name, _route, pattern in portal_patterns()
        if name != "admin:index"
        and name not in WRITES
        and name not in NO_AUDIT
        and _accepts_post(world, name, pattern)
    ]
    assert undeclared == []


@pytest.mark.parametrize("name", sorted(NO_AUDIT))
def test_views_declared_without_audit_write_none_for_an_empty_post(world, db, name):
    pattern = _pattern(name)
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        client.force_login(world.users["principal_manager"])
        url = reverse(
            name, kwargs=url_kwargs(world, name, list(pattern.pattern.converters), "principal_manager")
        )
        before = AuditEvent.objects.count()
        client.post(url)
        assert AuditEvent.objects.count() == before
        transaction.set_rollback(True)
