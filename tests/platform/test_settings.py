"""Production settings: refuse to start without secrets, and pass `check --deploy`."""

import subprocess
import sys

import pytest

from tests.servers import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "circles.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://circles.example.com",
    "PATH": "/usr/bin:/bin",
}


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_wildcard_hosts():
    result = manage("check", **{**PRODUCTION, "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS may not contain '*'" in result.stderr


def test_a_mistyped_trusted_proxy_refuses_to_start():
    result = manage("check", **{**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.1,10.0.0.0/33"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: '10.0.0.0/33' is not an address or a range." in result.stderr


def test_a_mistyped_metrics_network_refuses_to_start():
    result = manage("check", **{**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/40"})
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS: '10.0.0.0/40' is not" in result.stderr


@pytest.mark.slow
def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_rate_limit_is_set_from_the_environment():
    code = "from django.conf import settings; print(settings.RATELIMIT_RATES['login_ip'])"
    result = manage("shell", "-c", code, **{**PRODUCTION, "RATELIMIT_LOGIN_IP": "7/10m"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "7/10m"
    bad = manage("check", **{**PRODUCTION, "RATELIMIT_REGISTER": "lots"})
    assert bad.returncode != 0
    assert "RATELIMIT_REGISTER: 'lots' is not a rate." in bad.stderr
