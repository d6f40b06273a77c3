"""Settings come from the environment, and production refuses unsafe values."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_production_refuses_the_development_secret_key():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="news.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_empty_allowed_hosts():
    result = run_manage("check", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="news.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_anymail_esp_and_keys_come_from_the_environment():
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND); print(settings.ANYMAIL)"
    result = run_manage(
        "shell", "-c", code, ANYMAIL_ESP="postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="token-123"
    )
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.postmark.EmailBackend" in result.stdout
    assert "'POSTMARK_SERVER_TOKEN': 'token-123'" in result.stdout


def test_an_unknown_tasks_backend_is_refused():
    result = run_manage("check", TASKS_BACKEND="carrier-pigeon")
    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of" in result.stderr
