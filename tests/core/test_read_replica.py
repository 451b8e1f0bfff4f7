"""With DATABASE_REPLICA_URL set, the exports read their rows from the replica and every
other read stays on the primary. Run in a fresh process, since the database aliases are
fixed when Django starts: both aliases name one SQLite file, and the test tells which
alias each query went through."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.urls import reverse
from users.models import User

setup_test_environment()
client = Client()
client.force_login(User.objects.get(email="gestionnaire@exemple.fr"))
result = {}
for name, url in [
    ("members", reverse("users:member_export") + "?format=csv"),
    ("tickets", reverse("support:tickets_export") + "?format=csv"),
    ("list", reverse("users:member_list")),
]:
    with CaptureQueriesContext(connections["default"]) as primary, \\
            CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    result[name] = {
        "status": response.status_code,
        "body": body.decode("utf-8-sig", "replace")[:2000],
        "primary": [query["sql"] for query in primary.captured_queries],
        "replica": [query["sql"] for query in replica.captured_queries],
    }
print("RESULT" + json.dumps(result))
"""


def _manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_exports_read_from_the_replica_and_pages_from_the_primary(tmp_path):
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DEBUG="true",
        DATABASE_URL=database,
        DATABASE_REPLICA_URL=database,
        MEDIA_ROOT=str(tmp_path / "media"),
        REDIS_URL="",
        S3_BUCKET="",
    )
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")
    output = _manage(env, "shell", "-c", SCRIPT)
    result = json.loads(output.split("RESULT", 1)[1])

    members = result["members"]
    assert members["status"] == 200
    assert "delegue@exemple.fr" in members["body"]
    # The rows come from the replica; the primary only serves the session, the user and
    # the access checks of the request.
    assert any("users_membership" in sql for sql in members["replica"])
    assert not any("users_membership" in sql and "users_user" in sql for sql in members["primary"])

    tickets = result["tickets"]
    assert tickets["status"] == 200
    assert any("support_ticket" in sql for sql in tickets["replica"])

    # A page is not an export: it reads its own writes on the primary.
    assert result["list"]["status"] == 200
    assert result["list"]["replica"] == []
