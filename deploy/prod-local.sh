#!/usr/bin/env bash
# `make prod-local`: the production topology on one machine. PostgreSQL and Redis must
# already run locally (or DATABASE_URL / REDIS_URL point elsewhere); gunicorn, the Celery
# worker (with beat) and the Sirene stand-in are started here and stopped by Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
SIRENE_STANDIN_PORT=${SIRENE_STANDIN_PORT:-8765}
export SIRENE_STANDIN_PORT

export DEBUG=false
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portail}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
# Plain http on the loopback: no redirect to https, and cookies not marked Secure (a
# client would not send them back over http). Everything else stays as in production.
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-false}
export SECURE_COOKIES=${SECURE_COOKIES:-false}
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:$PORT}

# Ports first: a port already taken stops here with one line, before anything started.
"$BIN/python" -m sirene_standin.ports "${GUNICORN_BIND##*:}" PORT || exit 1
standin=0
if [ -z "${SIRENE_API_URL:-}" ] && ! grep -qs '^SIRENE_API_URL=' .env; then
    # 0: free, to start below; 3: a stand-in already serves there, reused; else taken.
    "$BIN/python" -m sirene_standin --check --port "$SIRENE_STANDIN_PORT" || standin=$?
    [ "$standin" -eq 0 ] || [ "$standin" -eq 3 ] || exit 1
    export SIRENE_API_URL=http://127.0.0.1:$SIRENE_STANDIN_PORT/api-sirene/3.11 SIRENE_API_KEY=demo-sirene-key
    if [ "$standin" -eq 0 ]; then standin=start; fi
fi

mkdir -p var
chmod 700 var
if [ -z "${SECRET_KEY:-}" ]; then
    # Generated once, kept private: sessions survive a restart.
    if [ ! -s var/secret_key ]; then
        (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key)
    fi
    SECRET_KEY=$(cat var/secret_key)
    export SECRET_KEY
fi
# Each gunicorn worker writes its metrics here; files of a previous run would be summed in.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
export CELERY_BEAT_SCHEDULE_FILENAME=${CELERY_BEAT_SCHEDULE_FILENAME:-$PWD/var/celerybeat-schedule}

"$BIN/python" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2).ping()' \
    2>/dev/null || { echo "Redis injoignable à $REDIS_URL : démarrez-le ou réglez REDIS_URL." >&2; exit 1; }
"$BIN/python" deploy/ensure_database.py
"$BIN/python" manage.py migrate --noinput
# The demo seeding lives in devtools, which the servers below do not install.
accounts=$(DEVTOOLS=true "$BIN/python" manage.py seed_demo)
"$BIN/python" manage.py collectstatic --noinput --verbosity 0

pids=()
stop() {
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ "$standin" = start ]; then
    "$BIN/python" -m sirene_standin --port "$SIRENE_STANDIN_PORT" --key demo-sirene-key &
    pids+=($!)
fi
if [ -f config/celery.py ]; then
    "$BIN/celery" -A config worker --beat --loglevel INFO &
    pids+=($!)
fi
"$BIN/gunicorn" --config deploy/gunicorn.conf.py config.wsgi:application &
gunicorn=$!
pids+=("$gunicorn")

# Wait until gunicorn listens before printing the address. A bash redirection, not a
# client process: Ctrl-C during the wait must reach this script's trap.
host=${GUNICORN_BIND%:*}
for _ in $(seq 1 60); do
    if (exec 3<>"/dev/tcp/$host/${GUNICORN_BIND##*:}") 2>/dev/null; then
        break
    fi
    kill -0 "$gunicorn" 2>/dev/null || break
    sleep 1
done
cat <<MESSAGE

$accounts

Portail (production locale) : http://$GUNICORN_BIND/
  base $DATABASE_URL · Redis $REDIS_URL · DEBUG désactivé · Ctrl-C arrête tout.

MESSAGE
# The first process to stop (or Ctrl-C) stops the others.
wait -n "${pids[@]}"
