#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 before the tests run: start them
# when they are installed but stopped, say plainly what is missing otherwise.
set -uo pipefail
PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379
fail=0

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null || \
  (exec 3<>/dev/tcp/$PG_HOST/$PG_PORT) 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
wait_for() { for _ in $(seq 1 30); do "$1" && return 0; sleep 0.5; done; return 1; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is stopped; starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    wait_for pg_up || { echo "PostgreSQL did not start on $PG_HOST:$PG_PORT."; fail=1; }
  else
    echo "PostgreSQL is not installed (no pg_ctlcluster). Install PostgreSQL 15+ (apt-get install postgresql) or point TEST_DATABASE_URL at one."; fail=1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is stopped; starting it."
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    wait_for redis_up || { echo "Redis did not start on 127.0.0.1:$REDIS_PORT."; fail=1; }
  else
    echo "Redis is not installed (no redis-server). Install Redis 7 (apt-get install redis-server) or point TEST_REDIS_URL at one."; fail=1
  fi
fi

[ "$fail" = 0 ] && echo "PostgreSQL and Redis are up."
exit "$fail"
