"""Times a newcomer's first minute: `git clone`, then `make run` until the first page is served,
then a second `make run`, and optionally `make test` and `.ci/run`, each on a fresh clone.

    python3 benchmarks/first_run.py                   # clone + first and second `make run`
    python3 benchmarks/first_run.py --test --ci       # also `make test` and `.ci/run`

By default uv's download cache is a new empty folder, as on a new machine; `--warm-cache` keeps
the user's cache. Only the standard library is used: it runs before any install. The figures
and the load average are printed as one Markdown table (docs/dependencies.md keeps the last).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def first_page(port, process, timeout):
    """Seconds until http://127.0.0.1:port/ answers, or None if `make run` stopped or timed out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    return None


def make_run(clone, env, port, log):
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"SIRENE_STANDIN_PORT={port + 1}"],
        cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        served = first_page(port, process, timeout=600)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    if served is None:
        sys.exit(f"`make run` served no page: see {log.name}")
    return served


def timed(command, clone, env, log):
    started = time.monotonic()
    status = subprocess.run(command, cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    elapsed = time.monotonic() - started
    if status:
        sys.exit(f"`{' '.join(command)}` failed ({status}): see {log.name}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--test", action="store_true", help="also time `make test` (SQLite)")
    parser.add_argument("--ci", action="store_true", help="also time `.ci/run`")
    parser.add_argument("--warm-cache", action="store_true", help="keep uv's download cache")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="first-run-"))
    env = dict(os.environ)
    for variable in ("DATABASE_URL", "VIRTUAL_ENV", "SIRENE_API_URL"):
        env.pop(variable, None)
    if not args.warm_cache:
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
    log = open(work / "log.txt", "w")
    rows = []

    clone = work / "clone"
    started = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True)
    cloned = time.monotonic() - started
    first = make_run(clone, env, args.port, log)
    rows.append(("`git clone` then `make run`, to the first page", cloned + first))
    rows.append(("second `make run`, to the first page", make_run(clone, env, args.port, log)))
    if args.test:
        rows.append(("`make test` (SQLite, both cores)", timed(["make", "test"], clone, env, log)))
    if args.ci:
        ci_clone = work / "ci"
        subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(ci_clone)], check=True)
        rows.append(("`.ci/run` on a fresh clone", timed([".ci/run"], ci_clone, env, log)))

    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    print("| step | seconds |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} |")
    print(f"\n{os.cpu_count()} cores, load average after the run {load}; log: {log.name}")
    log.close()
    shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    main()
