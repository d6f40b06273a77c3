"""Settings come from the environment, and production refuses unsafe values."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

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


def production(**env: str) -> dict[str, str]:
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "news.example.org", **env}


def print_setting(name: str, **env: str) -> str:
    result = run_manage("shell", "-c", f"from django.conf import settings; print(settings.{name})", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def assert_deploy_check_is_clean(**env: str) -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production(**env))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        pytest.param(
            {"DEBUG": "0", "ALLOWED_HOSTS": "news.example.org"},
            "SECRET_KEY must be set",
            id="production-with-the-development-secret-key",
        ),
        pytest.param(
            {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(60)},
            "ALLOWED_HOSTS must list",
            id="production-with-empty-allowed-hosts",
        ),
        pytest.param(
            {"TASKS_BACKEND": "carrier-pigeon"}, "TASKS_BACKEND must be one of", id="unknown-tasks-backend"
        ),
        pytest.param(
            {"OTP_REQUIRED_FOR": "admins"}, "OTP_REQUIRED_FOR must be", id="unknown-two-factor-requirement"
        ),
        pytest.param(
            {"REDIS_URL": "", "RATELIMIT_STORE": "cache"},
            "RATELIMIT_STORE=cache needs REDIS_URL",
            id="rate-limits-in-a-per-process-cache",
        ),
    ],
)
def test_an_unsafe_or_unknown_value_is_refused(env, refusal):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_check_deploy_is_clean_with_production_values():
    assert_deploy_check_is_clean()


def test_check_deploy_is_clean_with_a_report_only_policy_and_required_two_factor():
    assert_deploy_check_is_clean(
        CSP_REPORT_ONLY="1", CSP_REPORT_URI="https://reports.example.org/csp", OTP_REQUIRED_FOR="staff"
    )


def test_anymail_esp_and_keys_come_from_the_environment():
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND); print(settings.ANYMAIL)"
    result = run_manage(
        "shell", "-c", code, ANYMAIL_ESP="postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="token-123"
    )
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.postmark.EmailBackend" in result.stdout
    assert "'POSTMARK_SERVER_TOKEN': 'token-123'" in result.stdout


@pytest.mark.slow
def test_two_factor_is_required_for_managing_editors_in_production_and_off_in_development():
    assert print_setting("OTP_REQUIRED_FOR", **production()) == "managing_editors"
    assert print_setting("OTP_REQUIRED_FOR", DEBUG="1") == "none"
    assert print_setting("OTP_REQUIRED_FOR", **production(OTP_REQUIRED_FOR="staff")) == "staff"


def test_login_lockout_limits_come_from_the_environment():
    code = "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    result = run_manage("shell", "-c", code, LOGIN_FAILURE_LIMIT="8", LOGIN_COOLOFF_MINUTES="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "8 0:30:00"


@pytest.mark.slow
def test_rate_limits_count_in_the_database_unless_redis_is_set():
    assert print_setting("RATELIMIT_STORE", REDIS_URL="") == "database"
    assert print_setting("RATELIMIT_STORE", REDIS_URL="redis://127.0.0.1:6379/0") == "cache"
