"""Response headers (CSP with a nonce, Permissions-Policy, HSTS…), CSRF on every form,
and list views that never pass a query-string value raw to the database."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
APP_CODE = sorted(
    path
    for app in ("config", "core", "chorus", "devtools", "structures", "users", "approvals", "support")
    for path in (ROOT / app).rglob("*.py")
    if "migrations" not in path.parts
)


def _csp(response):
    return dict(
        (part.split()[0], part.split()[1:])
        for part in (piece.strip() for piece in response["Content-Security-Policy"].split(";"))
        if part
    )


def test_every_page_forbids_inline_scripts_without_the_request_nonce(client, principal_manager):
    client.force_login(principal_manager)
    response = client.get(reverse("home"))

    policy = _csp(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    [nonce] = [source[len("'nonce-") : -1] for source in policy["script-src"] if source.startswith("'nonce-")]
    # DSFR's scripts carry this request's nonce.
    assert response.content.decode().count(f'nonce="{nonce}"') >= 2
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_each_response_gets_its_own_nonce(client, db):
    first, second = client.get(reverse("home")), client.get(reverse("home"))
    assert _csp(first)["script-src"] != _csp(second)["script-src"]


def test_public_pages_carry_the_security_headers(client, db):
    response = client.get(reverse("users:login"))

    assert "Content-Security-Policy" in response
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_https_responses_carry_hsts(client, settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("users:login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


def test_session_cookie_is_http_only(client, principal_manager):
    response = client.post(
        reverse("users:login"), {"username": principal_manager.email, "password": "Demo-Portail-2026"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_inline_scripts_carry_the_nonce_and_no_inline_event_handlers(template):
    text = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        # External files come from 'self'; JSON data blocks are never executed.
        if "src=" in tag or 'type="application/json"' in tag:
            continue
        assert 'nonce="{{ CSP_NONCE }}"' in tag, f"{tag} has no nonce"
    handlers = re.findall(r"<[^>]*\son[a-z]+\s*=", text)
    assert not handlers, f"inline event handlers are refused by the CSP: {handlers}"
    # style-src has no 'unsafe-inline' either: styles belong in static/css.
    assert not re.search(r"<[^>]*\sstyle\s*=", text), "inline style attributes are refused by the CSP"


def test_static_scripts_do_not_write_inline_event_handlers():
    for script in (ROOT / "static" / "js").rglob("*.js"):
        assert not re.search(r"""\son[a-z]+\s*=\s*\\?["']""", script.read_text()), script


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_every_post_form_carries_a_csrf_token(template):
    text = template.read_text()
    for match in re.finditer(r"<form\b[^>]*>", text, re.IGNORECASE):
        if not re.search(r"""method\s*=\s*["']?post""", match.group(0), re.IGNORECASE):
            continue
        end = text.find("</form>", match.end())
        body = text[match.end() : end if end != -1 else len(text)]
        assert "{% csrf_token %}" in body, f"{match.group(0)} has no {{% csrf_token %}}"


RAW_QUERY_TO_ORM = re.compile(
    r"""(order_by|filter|exclude|extra|raw)\(\s*\*{0,2}\s*request\.(GET|POST|query_params)"""
    r"""|(order_by|raw|extra)\([^)]*request\.GET"""
)


def test_no_view_passes_the_query_string_straight_to_the_orm():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in APP_CODE
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if RAW_QUERY_TO_ORM.search(line)
    ]
    assert not offenders


HOSTILE = {
    "sort": "password",
    "ordering": "-user__password",
    "order": "requester__password",
    "o": "1.2",
    "tab": "../../etc",
    "status": "'; DROP TABLE users_user; --",
    "queue": "9999999999999999999999",
    "category": "abc",
    "application": "<script>",
    "assignment": "x",
    "q": "\x00%",
    "page": "-5",
    "valider": "1",
}


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "search",
        "structures:manage",
        "structures:service_list",
        "structures:bank_list",
        "structures:attachment_list",
        "users:member_list",
        "users:habilitations",
        "users:my_habilitations",
        "approvals:inbox",
        "approvals:my_requests",
        "users:my_memberships",
        "support:tickets",
        "support:docs",
    ],
)
def test_list_views_ignore_unknown_sort_and_filter_values(client, principal_manager, name):
    client.force_login(principal_manager)
    response = client.get(reverse(name), HOSTILE)
    assert response.status_code == 200
    # A structure the user cannot see is not found, as in the URL: never an error.
    for structure in ("-1", "abc", "99999999999999999999"):
        assert client.get(reverse(name), {**HOSTILE, "structure": structure}).status_code in (200, 404)


def test_agent_queue_ignores_unknown_sort_and_filter_values(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("support:agent_queues"), HOSTILE)
    assert response.status_code == 200
