"""The stand-in server: INSEE Sirene 3.11 as the portal's client speaks it.

Standard library only (http.server). What it answers, as INSEE does:
- `GET {PREFIX}/siret/{siret}`: 200 with `etablissement`; 400 for a malformed SIRET;
  404 unknown; 301 to the SIRET kept for a duplicate; 403 for an establishment INSEE
  does not disclose; 5xx or a slow answer for the establishments set to behave so.
- `GET|POST {PREFIX}/siret?q=…` searches on `siret:` and `siren:` terms joined by OR,
  with `nombre` (max 1000), `debut`, and cursor paging (`curseur`, `curseurSuivant`).
- `GET {PREFIX}/siren/{siren}` and `GET {PREFIX}/informations`.
- Every API call needs the key in `X-INSEE-Api-Key-Integration` (401 otherwise) and
  counts towards a quota per key and per minute (429 beyond), with the
  `X-Rate-Limit-*` headers on every answer (reset in epoch milliseconds).

For tests and demos, unauthenticated control routes under `/_standin/` (and the same
methods on StandinServer): reset, change or close an establishment, count requests.
Demo establishments live in data.json; each may carry a `_standin` object: a
`description`, a `status` to answer instead of 200, a `redirect` SIRET (301), a
`delay` in seconds before answering.
"""

import base64
import copy
import json
import re
import sys
import threading
import time
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/api-sirene/3.11"
CONTROL = "/_standin"
DEFAULT_PORT = 8765
DEFAULT_KEY = "demo-sirene-key"
DEFAULT_QUOTA = 30
QUOTA_PERIOD = 60.0
KEY_HEADER = "X-INSEE-Api-Key-Integration"
DATA_FILE = Path(__file__).with_name("data.json")
MAX_NOMBRE = 1000
META = "_standin"

UNIT_KEYS = [
    "etatAdministratifUniteLegale",
    "statutDiffusionUniteLegale",
    "dateCreationUniteLegale",
    "categorieJuridiqueUniteLegale",
    "denominationUniteLegale",
    "sigleUniteLegale",
    "denominationUsuelle1UniteLegale",
    "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale",
    "sexeUniteLegale",
    "nomUniteLegale",
    "nomUsageUniteLegale",
    "prenom1UniteLegale",
    "prenom2UniteLegale",
    "prenom3UniteLegale",
    "prenom4UniteLegale",
    "prenomUsuelUniteLegale",
    "pseudonymeUniteLegale",
    "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
    "identifiantAssociationUniteLegale",
    "economieSocialeSolidaireUniteLegale",
    "societeMissionUniteLegale",
    "caractereEmployeurUniteLegale",
    "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale",
    "nicSiegeUniteLegale",
    "dateDernierTraitementUniteLegale",
    "categorieEntreprise",
    "anneeCategorieEntreprise",
]
ADDRESS_KEYS = [
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
]
ADDRESS2_KEYS = [
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
]
PERIOD_KEYS = [
    "dateFin",
    "dateDebut",
    "etatAdministratifEtablissement",
    "changementEtatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "changementEnseigneEtablissement",
    "denominationUsuelleEtablissement",
    "changementDenominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "changementActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "changementCaractereEmployeurEtablissement",
]
ESTABLISHMENT_KEYS = [
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
]

SIRET_PATTERN = re.compile(r"^\d{14}$")
SIREN_PATTERN = re.compile(r"^\d{9}$")
TERM_PATTERN = re.compile(r"^\(?\s*(siret|siren)\s*:\s*(\d+)\s*\)?$", re.IGNORECASE)
OR_PATTERN = re.compile(r"\s+OR\s+")


def complete(entry: dict) -> dict:
    """A data-file entry in the full 3.11 shape: every key present, null when unset."""
    result = {key: entry.get(key) for key in ESTABLISHMENT_KEYS}
    unit = entry.get("uniteLegale") or {}
    result["uniteLegale"] = {key: unit.get(key) for key in UNIT_KEYS} | unit
    address = entry.get("adresseEtablissement") or {}
    result["adresseEtablissement"] = {key: address.get(key) for key in ADDRESS_KEYS} | address
    address2 = entry.get("adresse2Etablissement") or {}
    result["adresse2Etablissement"] = {key: address2.get(key) for key in ADDRESS2_KEYS} | address2
    result["periodesEtablissement"] = [
        {key: period.get(key) for key in PERIOD_KEYS} | period
        for period in entry.get("periodesEtablissement") or []
    ]
    result["nombrePeriodesEtablissement"] = len(result["periodesEtablissement"])
    for key, value in entry.items():
        if key not in result:
            result[key] = value
    return result


def deep_merge(target: dict, changes: dict) -> dict:
    """Merge `changes` into `target`: dicts recursively, everything else replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def _encode_cursor(siret: str) -> str:
    return base64.urlsafe_b64encode(f"apres:{siret}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, siret = text.partition(":")
    return siret if prefix == "apres" and SIRET_PATTERN.match(siret) else None


class StandinServer:
    """The server, its data and its counters. `clock` gives epoch seconds (the quota
    window and X-Rate-Limit-Reset use it): tests may replace it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str = DEFAULT_KEY,
        quota: int = DEFAULT_QUOTA,
        data_file: str | Path | None = None,
        clock=time.time,
        verbose: bool = False,
    ):
        self.key = key
        self.quota = quota
        self.data_file = Path(data_file) if data_file else DATA_FILE
        self.clock = clock
        self.verbose = verbose
        self.lock = threading.RLock()
        self.released = threading.Event()  # set on stop: slow answers end at once
        self.requests: list[dict] = []
        self._windows: dict[str, list] = {}
        self._load()
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.standin = self
        self._thread = None

    # Life cycle

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def root(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL to configure as SIRENE_API_URL."""
        return self.root + PREFIX

    def start(self) -> "StandinServer":
        """Serve from a background thread (tests)."""
        self._thread = threading.Thread(target=self.serve_forever, name="sirene-standin", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)

    def stop(self):
        self.released.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()

    # Data

    def _load(self):
        with open(self.data_file, encoding="utf-8") as f:
            entries = json.load(f)["etablissements"]
        self.establishments = {entry["siret"]: complete(entry) for entry in entries}

    def reset(self):
        """Back to the data file, with no request counted and a fresh quota."""
        with self.lock:
            self._load()
            self.requests.clear()
            self._windows.clear()
            self.released.clear()

    def sirets(self) -> list[str]:
        with self.lock:
            return sorted(self.establishments)

    def get(self, siret: str) -> dict | None:
        with self.lock:
            entry = self.establishments.get(siret)
            return copy.deepcopy(entry) if entry is not None else None

    def describe(self) -> list[dict]:
        """[{siret, name, description}] of the demo establishments (README, index page)."""
        with self.lock:
            return [
                {
                    "siret": siret,
                    "description": (entry.get(META) or {}).get("description", ""),
                }
                for siret, entry in sorted(self.establishments.items())
            ]

    def put(self, siret: str, entry: dict):
        """Add or replace an establishment (given in the 3.11 shape, completed here)."""
        entry = dict(
            entry, siret=siret, siren=entry.get("siren") or siret[:9], nic=entry.get("nic") or siret[9:]
        )
        with self.lock:
            self.establishments[siret] = complete(entry)

    def update(self, siret: str, changes: dict):
        """Deep-merge changes into an establishment, e.g.
        {"uniteLegale": {"denominationUniteLegale": "Nouveau nom"}}. A list (the
        periods) is replaced as a whole; `set_period` changes the current one."""
        with self.lock:
            deep_merge(self.establishments[siret], changes)

    def set_period(self, siret: str, **changes):
        """Change the current period (the one without an end date)."""
        with self.lock:
            periods = self.establishments[siret]["periodesEtablissement"]
            current = next((p for p in periods if p.get("dateFin") is None), periods[0])
            current.update(changes)

    def close(self, siret: str, on: str | None = None):
        """The establishment closes: a new current period in state F."""
        day = on or date.today().isoformat()
        with self.lock:
            entry = self.establishments[siret]
            periods = entry["periodesEtablissement"]
            current = next((p for p in periods if p.get("dateFin") is None), None)
            new = dict(current or {key: None for key in PERIOD_KEYS})
            if current is not None:
                current["dateFin"] = day
            new.update(
                dateDebut=day,
                dateFin=None,
                etatAdministratifEtablissement="F",
                changementEtatAdministratifEtablissement=True,
            )
            periods.insert(0, new)
            entry["nombrePeriodesEtablissement"] = len(periods)

    def remove(self, siret: str):
        with self.lock:
            self.establishments.pop(siret, None)

    def behave(self, siret: str, **behaviour):
        """Set how one establishment answers: status=503, delay=2.0, redirect="…"
        (None removes a behaviour)."""
        with self.lock:
            meta = self.establishments[siret].setdefault(META, {})
            for name, value in behaviour.items():
                if value is None:
                    meta.pop(name, None)
                else:
                    meta[name] = value

    # Counters

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def clear_requests(self):
        with self.lock:
            self.requests.clear()

    def _take_quota(self, key: str) -> tuple[bool, int, int]:
        """Count one request for a key: (allowed, remaining, reset in epoch ms)."""
        with self.lock:
            now = self.clock()
            window = self._windows.get(key)
            if window is None or now >= window[0] + QUOTA_PERIOD:
                window = self._windows[key] = [now, 0]
            reset_ms = int((window[0] + QUOTA_PERIOD) * 1000)
            if window[1] >= self.quota:
                return False, 0, reset_ms
            window[1] += 1
            return True, self.quota - window[1], reset_ms

    # The API

    def answer(self, method: str, path: str, query: dict, headers) -> tuple[int, dict, dict | None]:
        """(status, headers, JSON body) of one API call."""
        key = headers.get(KEY_HEADER)
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "key": key})
        if not key or key != self.key:
            return 401, {}, {"message": "Unauthorized", "http_status_code": 401}
        allowed, remaining, reset_ms = self._take_quota(key)
        rate_headers = {
            "X-Rate-Limit-Limit": str(self.quota),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": str(reset_ms),
        }
        if not allowed:
            return 429, rate_headers, {"message": "Too Many Requests", "http_status_code": 429}
        status, extra, body = self._route(method, path[len(PREFIX) :], query)
        return status, rate_headers | extra, body

    def _route(self, method, path, query):
        path = path.rstrip("/")
        if path.startswith("/siret/") and method == "GET":
            return self._one_establishment(unquote(path[len("/siret/") :]))
        if path == "/siret" and method in ("GET", "POST"):
            return self._search(query)
        if path.startswith("/siren/") and method == "GET":
            return self._legal_unit(unquote(path[len("/siren/") :]))
        if path == "/informations" and method == "GET":
            return 200, {}, self._informations()
        return 404, {}, _header(404, f"Ressource inconnue : {path or '/'}")

    def _one_establishment(self, siret):
        if not SIRET_PATTERN.match(siret):
            return 400, {}, _header(400, f"Erreur de syntaxe dans le paramètre siret={siret}")
        entry = self.get(siret)
        if entry is None:
            return 404, {}, _header(404, f"Aucun élément trouvé pour le siret {siret}")
        meta = entry.pop(META, None) or {}
        if meta.get("delay"):
            # Released at once when the server stops, so that tests end quickly.
            self.released.wait(float(meta["delay"]))
        if meta.get("redirect"):
            return 301, {"Location": f"{PREFIX}/siret/{meta['redirect']}"}, _header(301, "Moved Permanently")
        status = int(meta.get("status") or 200)
        if status == 403:
            return 403, {}, _header(403, f"Établissement non diffusable ({siret})")
        if status != 200:
            return status, {}, _header(status, "Service momentanément indisponible")
        return 200, {}, {"header": {"statut": 200, "message": "ok"}, "etablissement": entry}

    def _search(self, query):
        try:
            q, terms, nombre, debut = _search_parameters(query)
        except _BadRequest as error:
            return 400, {}, _header(400, str(error))
        cursor = query.get("curseur")
        matches = self._matching(terms)
        total = len(matches)
        try:
            start = _page_start(cursor, debut, matches)
        except _BadRequest as error:
            return 400, {}, _header(400, str(error))
        page = matches[start : start + nombre]
        if not matches:
            return 404, {}, _header(404, f"Aucun élément trouvé pour q={q}")
        for entry in page:
            entry.pop(META, None)
        header = {"statut": 200, "message": "OK", "total": total, "debut": start, "nombre": len(page)}
        if cursor:
            header["curseur"] = cursor
            more = start + len(page) < total
            header["curseurSuivant"] = _encode_cursor(page[-1]["siret"]) if more and page else cursor
        return 200, {"X-Total-Count": str(total)}, {"header": header, "etablissements": page}

    def _matching(self, terms):
        """Copies of the establishments one of the terms names, by SIRET order."""
        with self.lock:
            return [
                copy.deepcopy(entry)
                for siret, entry in sorted(self.establishments.items())
                if not (entry.get(META) or {}).get("redirect")
                and any(
                    (field == "siret" and value == siret) or (field == "siren" and value == siret[:9])
                    for field, value in terms
                )
            ]

    def _legal_unit(self, siren):
        if not SIREN_PATTERN.match(siren):
            return 400, {}, _header(400, f"Erreur de syntaxe dans le paramètre siren={siren}")
        with self.lock:
            entries = [e for s, e in sorted(self.establishments.items()) if s.startswith(siren)]
        if not entries:
            return 404, {}, _header(404, f"Aucun élément trouvé pour le siren {siren}")
        head = next((e for e in entries if e.get("etablissementSiege")), entries[0])
        unit = copy.deepcopy(head["uniteLegale"])
        history = {
            "dateFin": None,
            "dateDebut": unit.get("dateCreationUniteLegale"),
            "etatAdministratifUniteLegale": unit.pop("etatAdministratifUniteLegale", "A"),
            "denominationUniteLegale": unit.pop("denominationUniteLegale", None),
            "nomUniteLegale": unit.pop("nomUniteLegale", None),
            "categorieJuridiqueUniteLegale": unit.pop("categorieJuridiqueUniteLegale", None),
            "activitePrincipaleUniteLegale": unit.pop("activitePrincipaleUniteLegale", None),
            "nicSiegeUniteLegale": head["nic"],
        }
        unit.update(siren=siren, periodesUniteLegale=[history])
        return 200, {}, {"header": {"statut": 200, "message": "ok"}, "uniteLegale": unit}

    def _informations(self):
        today = date.today().isoformat()
        return {
            "etatService": "UP",
            "etatsDesServices": [{"Collection": "Établissements", "etatCollection": "UP"}],
            "versionService": "3.11",
            "datesDernieresMisesAJourDesDonnees": [
                {"collection": "Établissements", "dateDerniereMiseADisposition": today}
            ],
        }

    # Control routes (tests and demos): no key, no quota.

    def control(self, method: str, path: str, body) -> tuple[int, dict]:
        parts = [unquote(p) for p in path[len(CONTROL) :].strip("/").split("/") if p]
        if method == "GET" and not parts:
            return 200, {"url": self.url, "quota": self.quota, "etablissements": self.describe()}
        if method == "POST" and parts == ["reset"]:
            self.reset()
            return 200, {"reset": True}
        if method == "GET" and parts == ["requests"]:
            with self.lock:
                return 200, {"count": len(self.requests), "requests": list(self.requests)}
        if method == "DELETE" and parts == ["requests"]:
            self.clear_requests()
            return 200, {"count": 0}
        if method == "POST" and parts == ["quota"] and isinstance(body, dict):
            self.quota = int(body.get("quota", self.quota))
            with self.lock:
                self._windows.clear()
            return 200, {"quota": self.quota}
        if len(parts) >= 2 and parts[0] == "siret":
            return self._control_siret(method, parts, body)
        return 404, {"message": "Route de contrôle inconnue"}

    def _control_siret(self, method: str, parts: list[str], body) -> tuple[int, dict]:
        siret = parts[1]
        exists = self.get(siret) is not None
        if method == "GET" and len(parts) == 2 and exists:
            return 200, self.get(siret)
        if method == "PUT" and len(parts) == 2 and isinstance(body, dict):
            self.put(siret, body)
            return 200, self.get(siret)
        if method == "PATCH" and len(parts) == 2 and isinstance(body, dict) and exists:
            self.update(siret, body)
            return 200, self.get(siret)
        if method == "DELETE" and len(parts) == 2:
            self.remove(siret)
            return 200, {"deleted": siret}
        if method == "POST" and parts[2:] == ["fermer"] and exists:
            self.close(siret, (body or {}).get("date") if isinstance(body, dict) else None)
            return 200, self.get(siret)
        if not exists:
            return 404, {"message": f"SIRET inconnu du serveur local : {siret}"}
        return 404, {"message": "Route de contrôle inconnue"}


class _BadRequest(Exception):
    """A search parameter the real API answers with 400; the message is its own."""


def _search_parameters(query):
    q = (query.get("q") or "").strip()
    if not q:
        raise _BadRequest("Le paramètre q est obligatoire")
    terms = []
    for part in OR_PATTERN.split(q):
        match = TERM_PATTERN.match(part.strip())
        if not match:
            raise _BadRequest(f"Erreur de syntaxe dans la requête : {part.strip()}")
        terms.append((match.group(1).lower(), match.group(2)))
    try:
        nombre = int(query.get("nombre") or 20)
        debut = int(query.get("debut") or 0)
    except ValueError:
        raise _BadRequest("Les paramètres nombre et debut sont des nombres") from None
    if not 0 < nombre <= MAX_NOMBRE or not 0 <= debut <= MAX_NOMBRE:
        raise _BadRequest(f"nombre doit être compris entre 1 et {MAX_NOMBRE}")
    return q, terms, nombre, debut


def _page_start(cursor, debut, matches):
    """Where the page starts: at `debut`, or after the SIRET a cursor encodes ("*" is
    the first page of a cursor walk)."""
    if not cursor:
        return debut
    if cursor == "*":
        return 0
    after = _decode_cursor(cursor)
    if after is None:
        raise _BadRequest("Curseur invalide")
    return next((i for i, entry in enumerate(matches) if entry["siret"] > after), len(matches))


def _header(status: int, message: str) -> dict:
    return {"header": {"statut": status, "message": message}}


class Handler(BaseHTTPRequestHandler):
    server_version = "SireneStandin/3.11"
    protocol_version = "HTTP/1.1"

    @property
    def standin(self) -> StandinServer:
        return self.server.standin

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        parts = urlsplit(self.path)
        raw = self._body()
        try:
            if parts.path == CONTROL or parts.path.startswith(CONTROL + "/"):
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    self._send(400, {}, {"message": "Corps JSON invalide"})
                    return
                status, payload = self.standin.control(method, parts.path, body)
                self._send(status, {}, payload)
                return
            if not (parts.path == PREFIX or parts.path.startswith(PREFIX + "/")):
                self._send(404, {}, {"message": "Not Found", "http_status_code": 404})
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            if method == "POST" and raw:
                # Searches may be posted as a form, like INSEE allows for long queries.
                form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
                query.update({k: v[-1] for k, v in form.items()})
            status, headers, body = self.standin.answer(method, parts.path, query, self.headers)
            self._send(status, headers, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, headers, body):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if self.standin.verbose:
            sys.stderr.write(f"[sirene] {self.address_string()} {format % args}\n")

    def log_request(self, code="-", size="-"):
        if isinstance(code, HTTPStatus):
            code = code.value
        self.log_message('"%s" %s', self.requestline, code)
