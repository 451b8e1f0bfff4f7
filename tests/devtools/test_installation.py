"""devtools (demo seeding, scale generator, the benchmark's reference pages) is installed
under DEBUG, in the test suite and where DEVTOOLS asks for it; the production settings
leave it out, and its pages with it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import resolve

from devtools import views

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.apps import apps
from django.urls import Resolver404, resolve
try:
    resolve("/banc-d-essai/page-vide/")
    served = True
except Resolver404:
    served = False
print(apps.is_installed("devtools"), served)
"""


def _probe(**env):
    dropped = {"DEBUG", "DEVTOOLS", "DJANGO_SETTINGS_MODULE"}
    clean = {key: value for key, value in os.environ.items() if key not in dropped}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "probe-key-not-secret-0123456789abcdefghij",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_reference_pages_are_served_where_devtools_is_installed():
    assert resolve("/banc-d-essai/page-vide/").func is views.shell
    assert resolve("/banc-d-essai/constante/").func is views.constant
    assert views.constant.access_rule == "public"
    assert views.shell.access_rule == "authenticated"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ["False", "False"]),
        ({"DEBUG": "true"}, ["True", "True"]),
        ({"DEVTOOLS": "true"}, ["True", "True"]),
        ({"DEBUG": "true", "DEVTOOLS": "false"}, ["False", "False"]),
    ],
)
def test_production_settings_leave_devtools_out(env, expected):
    assert _probe(**env) == expected
