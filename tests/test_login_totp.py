"""A staff user with a confirmed TOTP device signs in to the admin with their password and then a
code from the device; without a device, the password alone signs them in."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
VERIFY = "/admin/login/verify/"


@pytest.fixture
def editor() -> User:
    return make_user("edith", "Editor", password=PASSWORD)


@pytest.fixture
def device(editor) -> TOTPDevice:
    return TOTPDevice.objects.create(user=editor, name="Phone", confirmed=True)


def code(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + offset_steps)
    return f"{totp.token():06d}"


def log_in(client, password: str = PASSWORD):
    return client.post(reverse("admin:login"), {"username": "edith", "password": password, "next": "/admin/"})


def give_code(client, token: str):
    return client.post(VERIFY, {"otp_token": token, "next": "/admin/"})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_without_a_device_the_password_alone_signs_in(client, editor):
    response = log_in(client)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)


def test_with_a_device_the_password_leads_to_the_code_step_not_into_the_admin(client, device):
    response = log_in(client)

    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert not signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()


def test_the_right_code_signs_in_and_marks_the_session_verified(client, device):
    log_in(client)

    response = give_code(client, code(device))

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_is_refused_and_counts_as_a_failed_login(client, device):
    log_in(client)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    response = give_code(client, wrong)

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not signed_in(client)
    assert AccessAttempt.objects.get(username="edith").failures_since_start == 1


def test_guessing_codes_locks_out_like_guessing_passwords(client, device):
    log_in(client)
    for _ in range(5):
        response = give_code(client, "000000" if code(device) != "000000" else "111111")
    assert response.status_code == 429

    assert give_code(client, code(device)).status_code == 429
    assert not signed_in(client)


def test_a_code_is_accepted_once(client, device):
    log_in(client)
    token = code(device)
    give_code(client, token)
    client.post(reverse("admin:logout"))
    log_in(client)

    response = give_code(client, token)

    assert response.status_code == 400
    assert not signed_in(client)


def test_the_code_step_expires_after_five_minutes(client, device):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        log_in(client)
    with time_machine.travel(now + timedelta(minutes=6), tick=False):
        response = give_code(client, code(device))

        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
        assert not signed_in(client)


def test_a_code_alone_signs_nobody_in(client, device):
    response = give_code(client, code(device))

    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert not signed_in(client)


def test_the_code_step_never_sends_anyone_off_site(client, device):
    log_in(client)

    response = client.post(VERIFY, {"otp_token": code(device), "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/admin/"
