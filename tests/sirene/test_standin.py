"""The stand-in speaks Sirene 3.11 over HTTP: shapes, statuses, headers, control routes."""

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from sirene_standin import StandinServer
from sirene_standin.server import ADDRESS_KEYS, UNIT_KEYS
from structures import sirene
from structures.models import Structure
from structures.services.insee import insee_changes
from tests.sirene.standin import FakeClock

ROOT = Path(__file__).resolve().parents[2]
KEY_HEADER = "X-INSEE-Api-Key-Integration"
COMPANY = "81234567600017"
SEED_DEMO = {
    "21180026300017": "Commune de Belleville-sur-Loire",
    "81234567600017": "Atelier Textile du Nord",
    "38512749300018": "Ancienne Menuiserie Lefèvre",
}


def get(server, path, key=True, **params):
    headers = {KEY_HEADER: server.key} if key else {}
    return requests.get(server.url + path, headers=headers, params=params, timeout=5, allow_redirects=False)


def test_one_establishment_in_the_full_3_11_shape(standin):
    response = get(standin, f"/siret/{COMPANY}")
    assert response.status_code == 200
    body = response.json()
    assert body["header"] == {"statut": 200, "message": "ok"}
    establishment = body["etablissement"]
    assert set(UNIT_KEYS) <= set(establishment["uniteLegale"])
    assert set(ADDRESS_KEYS) <= set(establishment["adresseEtablissement"])
    assert establishment["periodesEtablissement"][0]["dateFin"] is None
    assert "_standin" not in establishment
    assert response.headers["X-Rate-Limit-Limit"] == "30"
    assert response.headers["X-Rate-Limit-Remaining"] == "29"


@pytest.mark.django_db
def test_the_seed_demo_structures_are_served_as_seeded(standin):
    call_command("seed_demo", stdout=io.StringIO())
    client = sirene.get_client()
    for siret, name in SEED_DEMO.items():
        structure = Structure.objects.get(identifier=siret)
        establishment = client.get_siret(siret)
        assert establishment.company_name == name
        # "Mettre à jour depuis la base INSEE" on the demo finds nothing to change.
        assert insee_changes(structure, establishment) == []
    assert not client.get_siret("38512749300018").is_active


def test_the_key_is_required(standin):
    for response in (get(standin, f"/siret/{COMPANY}", key=False), get(standin, "/informations", key=False)):
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized", "http_status_code": 401}


def test_errors_speak_like_insee(standin):
    assert get(standin, "/siret/123").json()["header"]["statut"] == 400
    unknown = get(standin, "/siret/44211783400022")
    assert unknown.status_code == 404
    assert unknown.json()["header"]["message"] == "Aucun élément trouvé pour le siret 44211783400022"
    assert get(standin, "/siret/87654321600025").status_code == 403
    assert get(standin, "/siret/50128476400021").status_code == 503
    moved = get(standin, "/siret/52398614900020")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/api-sirene/3.11/siret/52398614900012"


def test_quota_per_key_then_429_with_reset_in_milliseconds(settings):
    clock = FakeClock(now=1_800_000_000.0)
    server = StandinServer(port=0, quota=2, clock=clock).start()
    try:
        assert get(server, f"/siret/{COMPANY}").status_code == 200
        assert get(server, f"/siret/{COMPANY}").headers["X-Rate-Limit-Remaining"] == "0"
        refused = get(server, f"/siret/{COMPANY}")
        assert refused.status_code == 429
        assert refused.headers["X-Rate-Limit-Reset"] == str(1_800_000_060_000)
        assert refused.headers["X-Rate-Limit-Remaining"] == "0"
        clock.now += 60
        assert get(server, f"/siret/{COMPANY}").status_code == 200
    finally:
        server.stop()


def test_search_by_siret_terms_joined_by_or_get_and_post(standin):
    q = f"siret:{COMPANY} OR siret:38512749300018 OR siret:44211783400022"
    response = get(standin, "/siret", q=q, nombre=20)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "2"
    assert [e["siret"] for e in response.json()["etablissements"]] == ["38512749300018", COMPANY]
    posted = requests.post(
        standin.url + "/siret", headers={KEY_HEADER: standin.key}, data={"q": q, "nombre": 1}, timeout=5
    )
    assert posted.json()["header"]["nombre"] == 1
    assert get(standin, "/siret", q="siret:44211783400022").status_code == 404
    assert get(standin, "/siret", q="raisonSociale:x").status_code == 400
    assert get(standin, "/siret", q=f"siret:{COMPANY}", nombre=1001).status_code == 400


def test_legal_unit_and_service_information(standin):
    unit = get(standin, "/siren/812345676").json()["uniteLegale"]
    assert unit["periodesUniteLegale"][0]["denominationUniteLegale"] == "Atelier Textile du Nord"
    assert get(standin, "/informations").json()["etatService"] == "UP"


def test_control_routes_change_close_count_and_reset(standin):
    control = standin.root + "/_standin"
    changed = requests.patch(
        f"{control}/siret/{COMPANY}",
        json={"adresseEtablissement": {"libelleCommuneEtablissement": "Lille"}},
        timeout=5,
    )
    assert changed.json()["adresseEtablissement"]["libelleCommuneEtablissement"] == "Lille"
    assert changed.json()["adresseEtablissement"]["codePostalEtablissement"] == "59100"
    requests.post(f"{control}/siret/{COMPANY}/fermer", json={"date": "2026-01-31"}, timeout=5)
    period = get(standin, f"/siret/{COMPANY}").json()["etablissement"]["periodesEtablissement"][0]
    assert (period["etatAdministratifEtablissement"], period["dateDebut"]) == ("F", "2026-01-31")
    assert requests.get(f"{control}/requests", timeout=5).json()["count"] == 1
    requests.post(f"{control}/reset", timeout=5)
    assert standin.request_count == 0
    assert standin.get(COMPANY)["adresseEtablissement"]["libelleCommuneEtablissement"] == "Roubaix"
    index = requests.get(control, timeout=5).json()
    assert any(e["siret"] == COMPANY and e["description"] for e in index["etablissements"])


def test_python_api_for_tests(standin):
    standin.update(COMPANY, {"uniteLegale": {"denominationUniteLegale": "Nouveau nom"}})
    standin.set_period(COMPANY, enseigne1Etablissement="Nouvelle enseigne")
    body = get(standin, f"/siret/{COMPANY}").json()["etablissement"]
    assert body["uniteLegale"]["denominationUniteLegale"] == "Nouveau nom"
    assert body["uniteLegale"]["categorieJuridiqueUniteLegale"] == "5710"
    assert body["periodesEtablissement"][0]["enseigne1Etablissement"] == "Nouvelle enseigne"
    standin.remove(COMPANY)
    assert get(standin, f"/siret/{COMPANY}").status_code == 404


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_python_dash_m_serves_with_the_given_key_and_stops_on_sigterm():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sirene_standin", "--port", str(port), "--key", "cle-cli", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api-sirene/3.11/siret/{COMPANY}"
    try:
        for _attempt in range(100):
            try:
                refused = requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)  # the process is starting
        assert refused.status_code == 401
        assert requests.get(url, headers={KEY_HEADER: "cle-cli"}, timeout=1).status_code == 200
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=5)
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/api-sirene/3.11" in err


def test_the_readme_lists_every_demo_siret(standin):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## SIRET de démonstration (serveur Sirene local)", 1)[1].split("\n## ", 1)[0]
    assert [siret for siret in standin.sirets() if f"`{siret}`" not in section] == []
