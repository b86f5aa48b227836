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
