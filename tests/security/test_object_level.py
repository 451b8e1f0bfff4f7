"""Object level: the principal manager of structure A, with every right on it, uses
the ids of structure B's objects, in the URL or in a posted or filtered form field.
Each time: refused (404, or the form's error), nothing of B shown, nothing of B changed."""

from contextlib import ExitStack
from dataclasses import replace

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.forms import BaseForm
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalRequest
from chorus.models import Habilitation
from structures.models import Attachment, BankAccount, Service, Structure
from support.models import Ticket
from tests.security.test_audit_per_write import WRITES, submit
from tests.security.world import OBJECT_KWARGS, QUERY, portal_patterns, url_kwargs, world_in_transaction
from tests.sirene.standin import running_standin
from users.models import Membership

ACTOR = "principal_manager"
PATTERNS = sorted((name, pattern) for name, _route, pattern in portal_patterns() if name != "admin:index")
OBJECT_PATTERNS = [(name, p) for name, p in PATTERNS if OBJECT_KWARGS & set(p.pattern.converters)]
SWAPS = [
    (name, p, kwarg)
    for name, p in OBJECT_PATTERNS
    for kwarg in p.pattern.converters
    if kwarg in OBJECT_KWARGS
]
# Names a form uses for an id of a structure, a service, a user, a request…
ID_FIELDS = (
    "structure",
    "structures",
    "service",
    "services",
    "user",
    "users",
    "member",
    "members",
    "source",
    "target",
    "requests",
    "request",
    "bank_account",
    "account",
    "attachment",
    "ticket",
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_in_transaction(django_db_blocker)


def b_ids(world) -> dict:
    """For each id field name, the id of B's object of that kind."""
    user = world.member_b.pk
    ids = {
        "structure": world.structure_b.pk,
        "service": world.service_b.pk,
        "user": user,
        "member": user,
        "source": user,
        "target": user,
        "request": world.approval_b.pk,
        "bank_account": world.bank_b.pk,
        "account": world.bank_b.pk,
        "attachment": world.attachment_b.pk,
        "ticket": world.tickets["other_structure"].pk,
    }
    for single in list(ids):
        ids[single + "s"] = ids[single]
    return ids


def b_object_for(world, name, kwarg):
    """B's counterpart of the object a URL argument names: by the argument's name when
    it says which, else by the URL's name."""
    by_argument = _b_object_by_argument(world, kwarg)
    return by_argument if by_argument is not None else _b_object_by_url_name(world, name)


def _b_object_by_argument(world, kwarg):
    if kwarg == "structure_pk":
        return world.structure_b.pk
    if kwarg == "service_pk":
        return world.service_b.pk
    if kwarg in ("user_pk", "user_id"):
        return world.member_b.pk
    if kwarg == "attachment_pk":
        return world.ticket_attachments[world.tickets["other_structure"].pk].pk
    return None


def _b_object_by_url_name(world, name):
    short = name.partition(":")[2]
    if short.startswith("service_"):
        return world.service_b.pk
    if short.startswith("bank_"):
        return world.bank_b.pk
    if short.startswith("attachment_"):
        return world.attachment_b.pk
    if name.startswith("structures:"):
        return world.structure_b.pk
    if name.startswith("approvals:"):
        return world.approval_b.pk
    if short.startswith(("chat", "agent_chat")):
        return world.chats["other_structure"].pk
    return world.tickets["other_structure"].pk


def snapshot(world):
    """Everything of structure B a leak of ids could change."""
    b = world.structure_b.pk

    def rows(queryset):
        return sorted((model_to_dict(obj) | {"pk": obj.pk} for obj in queryset), key=lambda row: row["pk"])

    return [
        model_to_dict(Structure.objects.get(pk=b)),
        rows(Service.objects.filter(structure=b)),
        rows(Membership.objects.filter(structure=b)),
        rows(Habilitation.objects.filter(structure=b)),
        rows(BankAccount.objects.filter(structure=b)),
        rows(Attachment.objects.filter(structure=b)),
        rows(ApprovalRequest.objects.filter(structure=b)),
        rows(Ticket.objects.filter(requester=world.users["other_structure"])),
        model_to_dict(world.member_b.__class__.objects.get(pk=world.member_b.pk), exclude=["last_login"]),
    ]


def secrets_of_b(world):
    """Text only B's pages show."""
    return [world.structure_b.company_name, world.service_b.name, world.member_b.email, world.bank_b.iban]


def request_as_actor(world, method, url, data=None):
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        client.force_login(world.users[ACTOR])
        before = snapshot(world)
        response = getattr(client, method)(url, data or {})
        after = snapshot(world)
        transaction.set_rollback(True)
    return response, before, after


def assert_refused(world, response, before, after, what):
    assert response.status_code < 500, what
    assert after == before, f"{what} changed structure B's data"
    if response.status_code == 200 and not response.streaming:
        html = response.content.decode(errors="replace")
        leaked = [secret for secret in secrets_of_b(world) if secret in html]
        assert not leaked, f"{what} shows {leaked}"


@pytest.mark.parametrize(("name", "pattern", "kwarg"), SWAPS, ids=[f"{n}-{k}" for n, _, k in SWAPS])
def test_another_structures_id_in_the_url_is_not_found(world, db, name, pattern, kwarg):
    kwargs = url_kwargs(world, name, list(pattern.pattern.converters), ACTOR)
    kwargs[kwarg] = b_object_for(world, name, kwarg)
    url = reverse(name, kwargs=kwargs) + QUERY.get(name, "")
    for method in ("get", "post"):
        response, before, after = request_as_actor(world, method, url)
        assert response.status_code in (403, 404, 405), f"{method.upper()} {url}: {response.status_code}"
        assert_refused(world, response, before, after, f"{method.upper()} {url}")


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[n for n, _ in PATTERNS])
def test_another_structures_ids_in_form_fields_are_refused(world, db, name, pattern):
    """Every view, GET (filters) and POST (forms), with every id field set to B's."""
    kwargs = url_kwargs(world, name, list(pattern.pattern.converters), ACTOR)
    url = reverse(name, kwargs=kwargs)
    hostile = b_ids(world)
    for method in ("get", "post"):
        response, before, after = request_as_actor(world, method, url, hostile)
        assert_refused(world, response, before, after, f"{method.upper()} {url} with B's ids")


# A valid submission of each write view, with one id field at a time set to B's.
B_VALUES = {
    "structure": lambda w: w.structure_b.pk,
    "structures": lambda w: [w.structure_b.pk],
    "model": lambda w: w.structure_b.pk,
    "service": lambda w: w.service_b.pk,
    "services": lambda w: [w.service_b.pk],
    "user": lambda w: w.member_b.pk,
    "source": lambda w: w.member_b.pk,
    "target": lambda w: w.member_b.pk,
    "requests": lambda w: [w.approval_b.pk],
    "membership": lambda w: Membership.objects.filter(user=w.member_b, structure=w.structure_b).get().pk,
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_valid_submission_with_one_id_of_another_structure_is_refused(world, db, settings, name):
    write = WRITES[name]
    with transaction.atomic():
        try:
            fields = sorted(set(write.data(world)) & set(B_VALUES))
        except ObjectDoesNotExist:
            fields = []  # a submission made of what its page creates (a 2FA code): no id in it
        transaction.set_rollback(True)
    for field_name in fields:
        hostile = replace(write, data=lambda w, f=field_name: {**write.data(w), f: B_VALUES[f](w)})
        with ExitStack() as stack:
            if write.insee:
                stack.enter_context(running_standin(settings))
            with transaction.atomic():
                before = snapshot(world)
                response, actions = submit(world, name, hostile)
                after = snapshot(world)
                transaction.set_rollback(True)
        what = f"{name} with {field_name} of structure B"
        assert actions == [], f"{what} was accepted: {actions}"
        assert after == before, f"{what} changed structure B's data"
        assert response.status_code in (200, 403, 404), (what, response.status_code)
        if response.status_code == 200:
            values = [response.context[key] for key in response.context.keys()]
            forms = [value for value in values if isinstance(value, BaseForm)]
            assert any(form.errors for form in forms), f"{what}: no error shown"
