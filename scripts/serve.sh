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
# A warm shutdown lets a running job finish (a photo takes seconds); whatever is still up
# after GRACE seconds, with its own children (the worker's pool), is killed, and said so.
GRACE="${STOP_GRACE_SECONDS:-20}"
any_up() { local pid; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  local tenths=0 pid
  while any_up && [ "$tenths" -lt $((GRACE * 10)) ]; do sleep 0.1; tenths=$((tenths + 1)); done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "serve.sh: $(ps -o args= -p "$pid") did not stop within $GRACE s; killing it" >&2
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}
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
