"""Sessions that end (after 30 minutes without activity, 12 hours after the login
whatever the activity) and authenticated pages that no cache keeps. Time is driven by
moving the session's stored timestamps back, never by sleeping."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import sessions
from support.models import Category, ChatSession
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = reverse("users:account")
LOGIN = reverse("users:login")
EXPIRED_TEXT = "Votre session a expiré, reconnectez-vous."
MINUTE = 60
HOUR = 60 * MINUTE


@pytest.fixture
def logged_in(client, principal_manager):
    client.force_login(principal_manager)
    return client


def age(client, *, activity=0, login=0):
    """Moves the session's clocks back by that many seconds, as if that time had passed."""
    session = client.session
    session[sessions.ACTIVITY_AT_KEY] -= activity
    session[sessions.LOGIN_AT_KEY] -= login
    session.save()


def is_logged_in(client):
    return SESSION_KEY in client.session


def test_a_login_starts_both_clocks(logged_in):
    session = logged_in.session
    assert abs(session[sessions.LOGIN_AT_KEY] - time.time()) < 5
    assert abs(session[sessions.ACTIVITY_AT_KEY] - time.time()) < 5


# Idle timeout


def test_thirty_minutes_without_activity_log_out_and_the_login_page_says_why(logged_in):
    age(logged_in, activity=30 * MINUTE + 1)

    response = logged_in.get(ACCOUNT)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={ACCOUNT}"
    assert not is_logged_in(logged_in)
    page = logged_in.get(response["Location"]).content.decode()
    assert EXPIRED_TEXT in page
    assert f'name="next" value="{ACCOUNT}"' in page


def test_the_expired_message_is_not_shown_to_a_visitor_who_never_logged_in(client, db):
    assert EXPIRED_TEXT not in client.get(LOGIN).content.decode()


def test_logging_in_again_after_expiry_leads_to_next_and_forgets_the_message(logged_in, principal_manager):
    age(logged_in, activity=31 * MINUTE)
    logged_in.get(ACCOUNT)

    response = logged_in.post(
        f"{LOGIN}?next={ACCOUNT}",
        {"username": principal_manager.email, "password": factories.PASSWORD, "next": ACCOUNT},
    )

    assert response["Location"] == ACCOUNT
    assert logged_in.get(ACCOUNT).status_code == 200
    logged_in.logout()
    assert EXPIRED_TEXT not in logged_in.get(LOGIN).content.decode()


def test_a_post_after_the_idle_timeout_changes_nothing_and_asks_to_log_in(logged_in, principal_manager):
    age(logged_in, activity=31 * MINUTE)

    data = {"first_name": "Pirate", "last_name": "Martin", "phone": "", "contact_email": ""}
    response = logged_in.post(ACCOUNT, data)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    principal_manager.refresh_from_db()
    assert principal_manager.first_name != "Pirate"


def test_activity_refreshes_the_idle_clock(logged_in):
    age(logged_in, activity=29 * MINUTE)
    assert logged_in.get(ACCOUNT).status_code == 200

    # Two more minutes: 31 since the login, 2 since the last page.
    age(logged_in, activity=2 * MINUTE)

    assert logged_in.get(ACCOUNT).status_code == 200
    assert is_logged_in(logged_in)


def test_chat_polling_does_not_keep_the_session_alive(logged_in, principal_manager):
    chat = ChatSession.objects.create(user=principal_manager, theme=Category.objects.create(name="Compte"))
    age(logged_in, activity=29 * MINUTE)
    poll = logged_in.get(reverse("support:chat_messages", args=[chat.pk]), {"after": 0})
    assert poll.status_code == 200

    age(logged_in, activity=2 * MINUTE)

    assert logged_in.get(ACCOUNT)["Location"].startswith(LOGIN)


def test_a_session_opened_before_these_rules_gets_its_clocks_on_its_next_page(logged_in):
    session = logged_in.session
    del session[sessions.LOGIN_AT_KEY]
    del session[sessions.ACTIVITY_AT_KEY]
    session.save()

    assert logged_in.get(ACCOUNT).status_code == 200

    assert abs(logged_in.session[sessions.ACTIVITY_AT_KEY] - time.time()) < 5


def test_pages_within_a_minute_do_not_write_the_session(logged_in):
    logged_in.get(ACCOUNT)

    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get(ACCOUNT).status_code == 200

    writes = [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert writes == []


def test_the_idle_timeout_is_read_from_the_settings(logged_in, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * MINUTE
    age(logged_in, activity=5 * MINUTE + 1)

    assert logged_in.get(ACCOUNT)["Location"].startswith(LOGIN)


# Absolute lifetime


def test_twelve_hours_after_the_login_a_new_login_is_required_whatever_the_activity(logged_in):
    age(logged_in, login=12 * HOUR + 1)

    response = logged_in.get(ACCOUNT)

    assert response["Location"] == f"{LOGIN}?next={ACCOUNT}"
    assert EXPIRED_TEXT in logged_in.get(response["Location"]).content.decode()


def test_an_active_session_lives_until_its_absolute_lifetime(logged_in):
    age(logged_in, login=12 * HOUR - MINUTE)

    assert logged_in.get(ACCOUNT).status_code == 200


def test_the_keep_alive_cannot_extend_the_absolute_lifetime(logged_in):
    age(logged_in, login=12 * HOUR - MINUTE)
    logged_in.post(reverse("session"))
    age(logged_in, login=2 * MINUTE)

    assert logged_in.get(ACCOUNT)["Location"].startswith(LOGIN)


# The keep-alive endpoint


def test_stay_logged_in_refreshes_the_idle_clock(logged_in):
    age(logged_in, activity=29 * MINUTE)

    response = logged_in.post(reverse("session"))

    assert response.status_code == 200
    assert response.json()["idle_remaining"] == 30 * MINUTE
    age(logged_in, activity=2 * MINUTE)
    assert logged_in.get(ACCOUNT).status_code == 200


def test_reading_the_session_state_does_not_refresh_it(logged_in):
    age(logged_in, activity=29 * MINUTE)

    response = logged_in.get(reverse("session"))

    assert 55 <= response.json()["idle_remaining"] <= 60
    assert response.json()["absolute_remaining"] > 11 * HOUR
    age(logged_in, activity=2 * MINUTE)
    assert logged_in.get(ACCOUNT)["Location"].startswith(LOGIN)


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_the_login_page(client, db, method):
    response = getattr(client, method)(reverse("session"))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_stay_logged_in_after_the_timeout_does_not_revive_the_session(logged_in):
    age(logged_in, activity=31 * MINUTE)

    response = logged_in.post(reverse("session"))

    assert response["Location"].startswith(LOGIN)
    assert not is_logged_in(logged_in)


def test_stay_logged_in_needs_the_csrf_token(principal_manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(principal_manager)

    assert client.post(reverse("session")).status_code == 403


# The warning dialog


def test_authenticated_pages_carry_the_warning_dialog(logged_in):
    page = logged_in.get(ACCOUNT).content.decode()

    assert "Votre session va expirer" in page
    assert "Rester connecté" in page
    assert re.search(r'data-idle-remaining="(17\d\d|1800)"', page)
    assert 'data-warning="120"' in page
    assert f'data-session-url="{reverse("session")}"' in page
    assert "js/session.js" in page


def test_anonymous_pages_have_no_warning_dialog(client, db):
    page = client.get(reverse("home")).content.decode()

    assert "Votre session va expirer" not in page
    assert "js/session.js" not in page


# Caching


def _no_store(response):
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_authenticated_pages_are_not_stored_by_any_cache(logged_in):
    assert _no_store(logged_in.get(ACCOUNT))
    assert _no_store(logged_in.get(reverse("home")))


def test_exports_are_not_stored_by_any_cache(logged_in):
    for export_format in ("csv", "xlsx"):
        response = logged_in.get(reverse("users:member_export"), {"format": export_format})
        assert response.status_code == 200
        assert _no_store(response)


def test_attachment_and_bank_proof_downloads_are_not_stored_by_any_cache(
    logged_in, structure, principal_manager
):
    attachment = factories.AttachmentFactory(structure=structure, uploaded_by=principal_manager)
    account = factories.BankAccountFactory(structure=structure)

    for url in (
        reverse("structures:attachment_download", args=[attachment.pk]),
        reverse("structures:bank_proof", args=[account.pk]),
    ):
        response = logged_in.get(url)
        assert response.status_code == 200, url
        assert response["Content-Disposition"].startswith("attachment")
        assert _no_store(response), url


def test_anonymous_public_pages_and_static_files_keep_their_caching(client, db):
    home = client.get(reverse("home"))
    script = client.get("/static/js/portail.js")
    script.close()

    assert home.status_code == 200 and not _no_store(home)
    assert script.status_code == 200 and "no-store" not in script.get("Cache-Control", "")


def test_static_files_keep_their_caching_for_a_logged_in_user(logged_in):
    script = logged_in.get("/static/js/portail.js")
    script.close()

    assert script.status_code == 200 and "no-store" not in script.get("Cache-Control", "")


# Settings


def _settings_value(name, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", *env}}
    result = subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; print(s.{name})"],
        cwd=ROOT,
        env={**clean, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_defaults_are_30_minutes_idle_and_12_hours_in_all(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * MINUTE
    assert settings.SESSION_ABSOLUTE_LIFETIME == 12 * HOUR


def test_the_environment_sets_the_idle_timeout_in_minutes_and_the_lifetime_in_hours():
    assert _settings_value("SESSION_IDLE_TIMEOUT", SESSION_IDLE_TIMEOUT="15") == 15 * MINUTE
    assert _settings_value("SESSION_ABSOLUTE_LIFETIME", SESSION_ABSOLUTE_LIFETIME="8") == 8 * HOUR
