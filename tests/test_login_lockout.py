"""The admin login locks a username and IP out after repeated failures (django-axes), with the
failures kept in the database so that every worker and machine sees the same count."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.urls import reverse

from tests import processes

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def managing_editor() -> User:
    user = User.objects.create_user("max", "max@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Managing editor"))
    return user


def log_in(client, password: str, username: str = "max", **extra):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, managing_editor):
    for _ in range(30):
        log_in(client, "wrong guess")

    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_failures_are_counted_in_the_database(client, managing_editor, settings):
    for _ in range(3):
        log_in(client, "wrong guess")

    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("max", "127.0.0.1", 3)
    assert "correct horse" not in attempt.post_data and "wrong guess" not in attempt.post_data


def test_the_lockout_page_is_in_the_admin_layout_and_says_when_to_try_again(client, managing_editor):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            response = log_in(client, "wrong guess")

    html = response.content.decode()
    assert response.status_code == 429
    assert 'id="site-name"' in html  # the admin's header
    assert "Too many failed sign-in attempts" in html
    assert "10:15 UTC" in html and "in 15 minutes" in html


def test_the_lock_lifts_after_the_cool_off_time(client, managing_editor, settings):
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            log_in(client, "wrong guess")
        assert log_in(client, PASSWORD).status_code == 429

    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        response = log_in(client, PASSWORD)

        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert signed_in(client)


def test_a_success_clears_the_earlier_failures(client, managing_editor):
    for _ in range(4):
        log_in(client, "wrong guess")
    assert log_in(client, PASSWORD).status_code == 302
    client.post(reverse("admin:logout"))

    for _ in range(4):
        log_in(client, "wrong guess")

    assert log_in(client, PASSWORD).status_code == 302


def test_a_lockout_holds_for_that_username_from_that_ip_only(client, managing_editor):
    for _ in range(5):
        log_in(client, "wrong guess")

    from_elsewhere = log_in(client, PASSWORD, REMOTE_ADDR="198.51.100.7")

    assert from_elsewhere.status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_the_forwarded_client_ip_is_the_one_locked_out(client, managing_editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        log_in(client, "wrong guess", HTTP_X_FORWARDED_FOR="203.0.113.5", REMOTE_ADDR="10.0.0.1")

    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302


# Another process ---------------------------------------------------------------------------------

GUESS = """
import json
from django.contrib.auth.models import User
from django.test import Client
User.objects.create_user("max", "max@example.org", {password!r}, is_staff=True)
client = Client()
codes = [
    client.post("/admin/login/", {{"username": "max", "password": "wrong", "next": "/admin/"}}).status_code
    for _ in range(5)
]
print(json.dumps(codes))
"""
RIGHT_PASSWORD = """
from django.test import Client
client = Client()
response = client.post("/admin/login/", {{"username": "max", "password": {password!r}, "next": "/admin/"}})
print(response.status_code, "_auth_user_id" in client.session)
"""


@pytest.mark.own_databases
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_a_lockout_made_in_one_process_holds_in_another(vendor, tmp_path):
    processes.skip_unless_reachable(vendor)
    with processes.throwaway_database(vendor, tmp_path) as db:
        env = processes.base_env(db.url)

        guesses = json.loads(
            last_line(processes.run_manage(env, "shell", "-c", GUESS.format(password=PASSWORD)))
        )
        answer = last_line(
            processes.run_manage(env, "shell", "-c", RIGHT_PASSWORD.format(password=PASSWORD))
        ).split()

        assert guesses == [200, 200, 200, 200, 429]
        assert answer == ["429", "False"]
        assert db.query("SELECT username, failures_since_start FROM axes_accessattempt") == [("max", 6)]


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]
