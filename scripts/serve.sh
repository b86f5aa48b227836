#!/usr/bin/env bash
# Serve HTTP and WebSocket with uvicorn; with REDIS_URL set, also a Celery worker and beat.
# Ctrl-C (or any one of them exiting) stops all of them.
set -euo pipefail
VENV_BIN="$(dirname "$0")/../.venv/bin"
# The environment first, then .env (as circles/settings.py reads them), then the default.
from_env_file() { grep -s "^$1=" .env | tail -n 1 | cut -d= -f2- || true; }
HOST="${HOST:-$(from_env_file HOST)}" HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-$(from_env_file PORT)}" PORT="${PORT:-8000}"
REDIS_URL="${REDIS_URL:-$(from_env_file REDIS_URL)}"
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

if [ -n "$REDIS_URL" ]; then
  "$VENV_BIN/celery" -A circles worker --loglevel INFO --concurrency 2 --max-memory-per-child 400000 & pids+=($!)
  "$VENV_BIN/celery" -A circles beat --loglevel INFO --schedule var/celerybeat-schedule & pids+=($!)
fi
# --no-proxy-headers: the socket peer is the client unless TRUSTED_PROXIES says otherwise.
"$VENV_BIN/uvicorn" circles.asgi:application --host "$HOST" --port "$PORT" \
  --no-proxy-headers --no-server-header --lifespan off & pids+=($!)
echo "Circles is serving on http://$HOST:$PORT/ (Ctrl-C stops it)"
wait -n "${pids[@]}"
