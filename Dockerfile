# Circles: one image for every process kind (web, worker, beat); docker-compose.yml
# picks the command. Configuration comes from the environment (see .env.example).
FROM python:3.11-slim

# PYTHONPATH: import the project from /app, not the copy pip puts in site-packages,
# because settings find templates/ and static/ beside the circles package.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var

WORKDIR /app

# pg_dump and pg_restore for `manage.py backup` / `restore`, of the PostgreSQL major version
# the database server runs (a client older than the server refuses to dump it; ops/backup.py
# looks in /usr/lib/postgresql/<major>/bin). Debian carries one major per release, so the
# client comes from the PostgreSQL project's own apt repository. docker-compose.yml passes
# the major of its postgres image.
ARG POSTGRES_MAJOR=16
ADD https://www.postgresql.org/media/keys/ACCC4CF8.asc /etc/apt/keyrings/postgresql.asc
RUN chmod 644 /etc/apt/keyrings/postgresql.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/etc/apt/keyrings/postgresql.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/postgresql.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}" \
    && rm -rf /var/lib/apt/lists/* \
    && "/usr/lib/postgresql/${POSTGRES_MAJOR}/bin/pg_dump" --version

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Static files are baked into the image; the secret here only lets settings load.
COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin circles \
    && mkdir -p /app/var \
    && SECRET_KEY=build-only-not-a-secret DEBUG=false \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R circles:circles /app/var

USER circles
EXPOSE 8000
# --no-proxy-headers: the socket peer is the client unless TRUSTED_PROXIES says otherwise.
CMD ["uvicorn", "circles.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--no-server-header", "--lifespan", "off"]
