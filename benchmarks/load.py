"""Load benchmark of the key pages on the production stack (`make bench`).

    .venv/bin/python benchmarks/load.py                       # 1,000 structures, portail_bench
    .venv/bin/python benchmarks/load.py --structures 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/portail_scale --label 100k

Steps: create and migrate the PostgreSQL database if needed, generate the data if it
holds none (generate_scale_data), count the SQL queries of each page in-process, start
gunicorn with the production settings (DEBUG off, generated SECRET_KEY, Redis for cache
and sessions when it answers, plus DEVTOOLS for the generator and the two reference
pages), then
run Locust headless on each page in turn (4 users, no think time) and write
docs/benchmarks/<date>-<label>.md and .csv.

--url uses a server already running (e.g. `make prod-local`, started with
DEVTOOLS=true and the same DATABASE_URL and SECRET_KEY, so that the sessions this
script creates are valid there).
"""

import argparse
import csv
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portail_bench"
FIELDS = [
    "page",
    "label",
    "persona",
    "requests",
    "failures",
    "rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "queries",
    "ratio_to_shell",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means: run without Redis
        return False


def configure_environment(args):
    env = os.environ
    env["DATABASE_URL"] = args.database_url
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    env["DEBUG"] = "false"
    env["DEVTOOLS"] = "true"
    # Plain http on the loopback, as make prod-local: no redirect, cookies not Secure.
    env["SECURE_SSL_REDIRECT"] = "false"
    env["SECURE_COOKIES"] = "false"
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    env.setdefault("LOG_LEVEL", "WARNING")
    if args.redis_url and redis_answers(args.redis_url):
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"


def manage(*arguments):
    subprocess.run([str(BIN / "python"), "manage.py", *arguments], cwd=ROOT, check=True)


def prepare_database(structures: int, *, migrate=True):
    subprocess.run([str(BIN / "python"), "deploy/ensure_database.py"], cwd=ROOT, check=True)
    if migrate:
        manage("migrate", "--noinput", "--verbosity", "0")
    from devtools import scale
    from users.models import User

    if not User.objects.filter(email=scale.REFERENCE_ACCOUNTS["principal_manager"]).exists():
        manage("generate_scale_data", "--structures", str(structures))


def sessions() -> tuple[dict, str]:
    """A logged-in session per persona (as after the login form; logging in through it
    would time the password hash), and a CSRF token for the POST pages."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils.crypto import get_random_string

    from devtools import scale

    cookies = {}
    for persona, email in scale.REFERENCE_ACCOUNTS.items():
        client = Client()
        client.force_login(get_user_model().objects.get(email=email))
        cookies[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = get_random_string(32)
    return cookies, csrf


def cookie_header(page, cookies, csrf):
    from django.conf import settings

    parts = [f"{settings.CSRF_COOKIE_NAME}={csrf}"]
    if page.persona:
        parts.append(f"{settings.SESSION_COOKIE_NAME}={cookies[page.persona]}")
    return "; ".join(parts)


def start_gunicorn(port: int, workdir: Path):
    env = dict(os.environ)
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus")
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            "deploy/gunicorn.conf.py",
            # No worker recycling during a run: a fresh worker's first requests are slow.
            "--max-requests",
            "0",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/banc-d-essai/constante/", timeout=10)
            return process, url
        except OSError:  # refused while binding, or a timeout while the workers boot
            if process.poll() is not None:
                break
            time.sleep(1)
    process.terminate()
    sys.exit(f"gunicorn n’a pas démarré : voir {workdir / 'gunicorn.log'}")


def check_page(url, page, cookie, csrf):
    """The page must answer 200 to its persona (no redirect), or its figures mean nothing."""
    data = None
    if page.method == "POST":
        data = urllib.parse.urlencode(dict(page.data)).encode()
    request = urllib.request.Request(
        url + page.path, data=data, headers={"Cookie": cookie, "X-CSRFToken": csrf}, method=page.method
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        status = opener.open(request, timeout=120).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        sys.exit(f"{page.path} répond {status} à {page.persona or 'un visiteur'} : banc d’essai arrêté.")


def run_locust(url, page, cookie, csrf, *, users, seconds, workdir) -> dict:
    prefix = workdir / page.name
    env = dict(os.environ)
    env.update(
        BENCH_NAME=page.name,
        BENCH_PATH=page.path,
        BENCH_METHOD=page.method,
        BENCH_DATA=json.dumps(dict(page.data)),
        BENCH_COOKIE=cookie,
        BENCH_CSRF=csrf,
    )
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--skip-log-setup",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with open(f"{prefix}_stats.csv", newline="") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == page.name)
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
    }


def uptime() -> str:
    try:
        output = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout
        return "load average" + output.rsplit("load average", 1)[-1].strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def write_report(results, *, args, structures, loads, started, output_dir):
    day = started.strftime("%Y-%m-%d")
    stem = output_dir / f"{day}-{args.label}"
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(f"{stem}.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(results)
    lines = [
        f"# Banc d’essai du {started:%Y-%m-%d %H:%M} UTC — {args.label}",
        "",
        f"- Données : {structures} structures ({args.database_url.rsplit('/', 1)[-1]}), PostgreSQL, "
        f"gunicorn ({os.environ.get('WEB_CONCURRENCY') or 2 * (os.cpu_count() or 1) + 1} workers), "
        f"Redis : {'oui' if os.environ.get('REDIS_URL') else 'non'}.",
        f"- Charge : Locust, {args.users} utilisateurs simultanés sans temps de réflexion, "
        f"{args.seconds} s par page, {os.cpu_count()} cœurs partagés avec le générateur de charge.",
        f"- Charge de la machine (uptime) : avant « {loads[0]} », après « {loads[1]} ».",
        "",
        "| Page | Profil | Req/s | p50 (ms) | p95 (ms) | p99 (ms) | Requêtes SQL "
        "| Débit / page vide | Échecs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['persona'] or 'visiteur'} | {r['rps']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['queries']} | {r['ratio_to_shell']:.0%} "
            f"| {r['failures']} |"
        )
    lines += ["", f"Commande : `{' '.join(sys.argv)}`", ""]
    Path(f"{stem}.md").write_text("\n".join(lines), encoding="utf-8")
    return stem


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--structures", type=int, default=1000, help="generated when the database is empty")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--url", help="a server already running instead of our own gunicorn")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each page's run")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument(
        "--no-migrate", action="store_true", help="bench the schema as it is (e.g. before new indexes)"
    )
    parser.add_argument("--label", help="suffix of the report's name (default: the structure count)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks"))
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    configure_environment(args)
    import django

    django.setup()
    prepare_database(args.structures, migrate=not args.no_migrate)

    from django.test.utils import setup_test_environment

    from benchmarks import scenarios
    from structures.models import Structure

    setup_test_environment()  # lets the in-process client count queries; ALLOWED_HOSTS gains testserver
    structures = Structure.objects.count()
    args.label = args.label or f"{structures}-structures"
    pages = scenarios.resolve()
    if args.pages:
        wanted = set(args.pages.split(",")) | {scenarios.SHELL}
        pages = [page for page in pages if page.name in wanted]
    # DEBUG off: pages need the hashed static files' manifest, also in-process.
    manage("collectstatic", "--noinput", "--verbosity", "0")
    queries = scenarios.count_queries(pages)
    cookies, csrf = sessions()

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    process = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        process, url = start_gunicorn(free_port(), workdir)
    started = datetime.datetime.now(datetime.UTC)
    loads = [uptime()]
    results = []
    try:
        for page in pages:
            cookie = cookie_header(page, cookies, csrf)
            check_page(url, page, cookie, csrf)
            for _ in range(5):  # warm every worker's caches (templates, catalogue)
                check_page(url, page, cookie, csrf)
            figures = run_locust(
                url, page, cookie, csrf, users=args.users, seconds=args.seconds, workdir=workdir
            )
            results.append(
                {
                    "page": page.name,
                    "label": page.label,
                    "persona": page.persona,
                    "queries": queries[page.name],
                    **figures,
                }
            )
            print(
                f"{page.name:26} {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:5.0f}  "
                f"p95 {figures['p95_ms']:5.0f}  p99 {figures['p99_ms']:5.0f} ms  {queries[page.name]:3} SQL"
                f"  {figures['failures']} échecs",
                flush=True,
            )
    finally:
        loads.append(uptime())
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    shell = next((r["rps"] for r in results if r["page"] == scenarios.SHELL), 0) or 1
    for r in results:
        r["ratio_to_shell"] = r["rps"] / shell
    stem = write_report(
        results, args=args, structures=structures, loads=loads, started=started, output_dir=Path(args.output)
    )
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"Rapport : {stem}.md et {stem}.csv")


if __name__ == "__main__":
    main()
