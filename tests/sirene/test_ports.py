"""The local servers' ports: configurable, and a port already taken gives one clear line."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sirene_standin import StandinServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port():
    """A port held by a program that is not a stand-in."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run(*args, **env):
    environment = {key: value for key, value in os.environ.items() if key != "SIRENE_STANDIN_PORT"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def busy_line(port, variable):
    return (
        f"Le port {port} est déjà utilisé : choisissez-en un autre avec {variable}=… "
        "(ou arrêtez le programme qui l’occupe)."
    )


def test_the_standin_refuses_a_busy_port_with_one_line(taken_port):
    result = run("-m", "sirene_standin", "--port", str(taken_port))
    assert result.returncode == 1
    assert result.stderr.strip() == busy_line(taken_port, "SIRENE_STANDIN_PORT")
    assert "Traceback" not in result.stderr


def test_the_standin_takes_its_port_from_the_environment(taken_port):
    result = run("-m", "sirene_standin", SIRENE_STANDIN_PORT=str(taken_port))
    assert result.returncode == 1
    assert result.stderr.strip() == busy_line(taken_port, "SIRENE_STANDIN_PORT")


def test_check_tells_free_taken_and_already_running_standin_apart(taken_port):
    assert run("-m", "sirene_standin", "--check", "--port", str(taken_port)).returncode == 1
    standin = StandinServer().start()
    try:
        result = run("-m", "sirene_standin", "--check", "--port", str(standin.port))
        assert result.returncode == 3
        assert result.stderr.strip() == (
            f"Serveur Sirene local : déjà démarré sur le port {standin.port}, il est réutilisé."
        )
        # Started a second time on the same port, it points at the first one.
        again = run("-m", "sirene_standin", "--port", str(standin.port))
        assert again.returncode == 1 and "tourne déjà" in again.stderr
    finally:
        port = standin.port
        standin.stop()
    assert run("-m", "sirene_standin", "--check", "--port", str(port)).returncode == 0


def test_the_web_port_check_names_the_port_variable(taken_port):
    result = run("-m", "sirene_standin.ports", str(taken_port), "PORT")
    assert result.returncode == 1
    assert result.stderr.strip() == busy_line(taken_port, "PORT")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert run("-m", "sirene_standin.ports", str(free), "PORT").returncode == 0
