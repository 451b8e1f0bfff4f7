"""The portal refuses to start in production without a real secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _import_settings(**env):
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"DEBUG": "false"},
        {"DEBUG": "false", "SECRET_KEY": "short"},
        {"DEBUG": "false", "SECRET_KEY": "insecure-development-key-do-not-use-in-production"},
    ],
)
def test_production_refuses_to_start_without_a_real_secret_key(env):
    result = _import_settings(**env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_secret_key():
    result = _import_settings(DEBUG="false", SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr


def test_development_starts_without_a_secret_key():
    assert _import_settings(DEBUG="true").returncode == 0
