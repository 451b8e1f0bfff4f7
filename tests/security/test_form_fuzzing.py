"""Fuzzing of every form of the portal with hypothesis: every view of the URL resolver
is sent hostile bodies (POST) and hostile query strings (GET, the lists' filters) by a
persona allowed to use it — arbitrary unicode with NUL, RTL overrides and 100,000
characters, missing fields, the same field twice, text where a number, a date, a choice
or an id is expected, ids of nothing. Never a 500; and when the answer is an error
(the form shown again, a 4xx), the database is exactly as before: no partial write.

The fields come from the portal's own pages (every <form> of every page, by its
action), so a new form is fuzzed without being listed here. Each example runs in a
transaction rolled back afterwards: all start from the same world."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from chorus import access
from chorus.models import Application
from core.forms import ModelMultipleChoiceField
from structures.models import Structure
from support.models import Ticket
from tests import factories
from tests.security import fuzz_forms
from tests.security.world import OBJECT_KWARGS, QUERY, portal_patterns, url_kwargs, world_in_transaction

PATTERNS = sorted(
    (name, pattern) for name, _route, pattern in portal_patterns() if name and not name.startswith("admin:")
)
# Examples per view: full budgets for the forms found on the pages, a smaller one where
# only the generic fields apply (a POST-only action, a page without filters).
POST_EXAMPLES = 25
GET_EXAMPLES = 6
GENERIC_EXAMPLES = 3
ACTION_EXAMPLES = 10
# Who fuzzes a view: the first persona of this list the view lets in (public views:
# an anonymous visitor, as the forms there are meant for one).
PREFERRED = ("principal_manager", "agent", "operator", "delegate", "modification", "consultation")
# Views whose error answer may write by design: a failed login is counted (lockout) and
# audited; the 2FA enrolment page keeps the pending device whose QR code it shows again
# (and django-otp counts the failed code, its throttling).
WRITES_ON_ERROR = {
    "users:login": {"chorus_auditevent"},
    "users:two_factor_enrol": {"otp_totp_totpdevice"},
}
# Counters of the run, for the report and SECURITY.md.
STATS = {"views": 0, "examples": 0}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_in_transaction(django_db_blocker)


@pytest.fixture(scope="module")
def page_forms(world, django_db_blocker):
    """action path → fields, for every form of every page the chosen personas see."""
    found = {"post": {}, "get": {}}
    with django_db_blocker.unblock():
        for name, pattern in PATTERNS:
            persona = persona_for(name, pattern)
            url = url_for(world, name, pattern, persona)
            with transaction.atomic():  # a page that writes (a chat opened) leaves no trace
                response = request(world, persona, "get", url, {})
                transaction.set_rollback(True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for form in fuzz_forms.forms_of(url.split("?")[0], response.content.decode()):
                method = "post" if form["method"] == "post" else "get"
                fields = found[method].setdefault(form["action"], {})
                for field_name, field in form["fields"].items():
                    known = fields.setdefault(field_name, {"kind": field["kind"], "values": []})
                    known["values"] = sorted(set(known["values"]) | set(field["values"]))
    found["any_post"] = {}
    for fields in found["post"].values():
        for field_name, field in fields.items():
            known = found["any_post"].setdefault(field_name, {"kind": field["kind"], "values": []})
            known["values"] = sorted(set(known["values"]) | set(field["values"]))
    return found


def persona_for(name, pattern):
    view = pattern.callback
    if view.access_rule == "public":
        return "anonymous"
    application_access = None
    if isinstance(view.access_rule, tuple):
        application_access = Application.objects.get(code=view.access_rule[0]).access
    has_object = bool(OBJECT_KWARGS & set(pattern.pattern.converters))
    outcomes = access.expected_outcomes(view, application_access, has_object)
    for persona in (*PREFERRED, *access.PERSONAS):
        if outcomes[persona] == access.ALLOWED:
            return persona
    return "principal_manager"  # a view nobody opens (invalid tokens): fuzz it anyway


def url_for(world, name, pattern, persona):
    kwargs = url_kwargs(world, name, list(pattern.pattern.converters), persona)
    return reverse(name, kwargs=kwargs) + QUERY.get(name, "")


def client_for(world, persona):
    client = Client(raise_request_exception=False)
    user = world.users[persona]
    if user is not None:
        client.force_login(user)
    return client


def request(world, persona, method, url, data, *, headers=None, client=None):
    client = client or client_for(world, persona)
    headers = headers or {}
    if method == "get":
        return client.get(url, data, headers=headers)
    return client.post(url, data, headers=headers)


def is_error(response):
    """The form shown again (200 on a POST) or a refusal (4xx)."""
    return response.status_code == 200 or 400 <= response.status_code < 500


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_no_hostile_input_causes_a_500_or_a_partial_write(world, page_forms, db, name, pattern):
    persona = persona_for(name, pattern)
    url = url_for(world, name, pattern, persona)
    path = url.split("?")[0]
    failures = []
    put_ticket_in_state(world, name, pattern, url)

    # Logged in once: each example is rolled back to this very state.
    client = client_for(world, persona)
    before = fuzz_forms.snapshot()
    own_forms = forms_on_page(world, persona, url, client)
    with transaction.atomic():
        probe = request(world, persona, "post", url, {}, client=client)
        transaction.set_rollback(True)
    accepts_post = probe.status_code != 405
    STATS["views"] += 1

    def run(method, fields, examples):
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=fuzz_forms.form_data(fields), headers=fuzz_forms.headers())
        def fuzz(data, headers):
            STATS["examples"] += 1
            with transaction.atomic():
                response = request(world, persona, method, url, data, headers=headers, client=client)
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url} → {response.status_code} with {_short(data)}")
                elif method == "post" and is_error(response):
                    changed = set(fuzz_forms.changed_tables(before, fuzz_forms.snapshot()))
                    changed -= WRITES_ON_ERROR.get(name, set())
                    if changed:
                        status = response.status_code
                        failures.append(
                            f"POST {url} → {status} but wrote {sorted(changed)} with {_short(data)}"
                        )
                transaction.set_rollback(True)

        fuzz()

    get_form = page_forms["get"].get(path)
    run(
        "get",
        {**fuzz_forms.GENERIC_FIELDS, **(get_form or {})},
        GET_EXAMPLES if get_form else GENERIC_EXAMPLES,
    )
    if accepts_post:
        post_form = page_forms["post"].get(path) or own_forms["post"].get(path)
        if post_form:
            run("post", post_form, POST_EXAMPLES)
        else:
            # A POST-only action (its form sits on another page, shown in some states
            # only): every field name any form of the portal uses.
            run("post", {**fuzz_forms.GENERIC_FIELDS, **page_forms["any_post"]}, ACTION_EXAMPLES)
    assert not failures, "\n".join(dict.fromkeys(failures))


# Views whose form shows in one state of the ticket only: the ticket of the URL is put
# in that state first (undone with the test), so that the form itself is fuzzed.
_ASSIGNED = {"status": Ticket.Status.EN_COURS, "assigned_to": "agent"}
_DRAFT = {"status": Ticket.Status.BROUILLON, "number": None, "submitted_at": None}
TICKET_STATES = {
    "support:ticket_answer": {"status": Ticket.Status.EN_ATTENTE_INFORMATION},
    "support:ticket_accept": {"status": Ticket.Status.RESOLU, "resolved_at": "now"},
    "support:ticket_refuse": {"status": Ticket.Status.RESOLU, "resolved_at": "now"},
    "support:ticket_rate": {"status": Ticket.Status.CLOTURE, "resolved_at": "now", "closed_at": "now"},
    "support:ticket_edit": _DRAFT,
    "support:ticket_delete": _DRAFT,
    "support:agent_reply": _ASSIGNED,
    "support:agent_note": _ASSIGNED,
    "support:agent_request_information": _ASSIGNED,
    "support:agent_propose_solution": _ASSIGNED,
    "support:agent_transfer": _ASSIGNED,
}


def put_ticket_in_state(world, name, pattern, url):
    state = TICKET_STATES.get(name)
    if state is None:
        return
    pk = resolve(url.split("?")[0]).kwargs["pk"]
    values = {
        field: world.users[value] if value == "agent" else timezone.now() if value == "now" else value
        for field, value in state.items()
    }
    assert Ticket.objects.filter(pk=pk).update(**values) == 1


def forms_on_page(world, persona, url, client):
    """The forms of the view's own page, as the ticket now is."""
    found = {"post": {}, "get": {}}
    with transaction.atomic():
        response = request(world, persona, "get", url, {}, client=client)
        transaction.set_rollback(True)
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        for form in fuzz_forms.forms_of(url.split("?")[0], response.content.decode()):
            method = "post" if form["method"] == "post" else "get"
            found[method].setdefault(form["action"], {}).update(form["fields"])
    return found


def _short(data):
    text = repr(data)
    return text if len(text) < 300 else text[:300] + "…"


def test_every_view_was_fuzzed():
    """The count reported in SECURITY.md (views fuzzed; examples: POST_EXAMPLES per
    POST view and GET_EXAMPLES per view, at most)."""
    assert len(PATTERNS) > 100


# What the fuzzing found, pinned down.


@pytest.mark.parametrize("pk", ["99999999999999999999", "-9223372036854775809", "9223372036854775808"])
def test_ids_past_the_database_integer_range_are_refused_like_unknown_ids(db, pk):
    # Sent in `pk__in`, SQLite overflowed and PostgreSQL errored: a 500 on the Rattacher form.
    field = ModelMultipleChoiceField(queryset=Structure.objects.all())
    with pytest.raises(ValidationError) as error:
        field.clean([pk])
    assert error.value.code == "invalid_pk_value"


def test_ids_in_range_still_choose_objects(db):
    structure = factories.StructureFactory()
    field = ModelMultipleChoiceField(queryset=Structure.objects.all())
    assert list(field.clean([str(structure.pk)])) == [structure]


# The request guards (settings: DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_MEMORY_SIZE).


def test_too_many_fields_is_a_french_400_page(client, db):
    body = "&".join(f"f{n}=x" for n in range(1_100))
    response = client.post(reverse("users:login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Requête refusée" in response.content.decode()


def test_too_large_a_form_body_is_a_french_400_page(client, db):
    body = "username=" + "a" * 3_000_000
    response = client.post(reverse("users:login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "trop volumineux" in response.content.decode()


def test_unknown_host_is_still_a_400_not_a_500(db):
    # The French 400 page is built with the portal's layout, which needs a known host.
    response = Client(raise_request_exception=False).get(reverse("users:login"), HTTP_HOST="evil.example")
    assert response.status_code == 400
