"""Staff turn two-factor sign-in on from the admin: a page with a QR code and the key, then a code
from the app to confirm; they can replace the device, and turn it off with a current code."""

from __future__ import annotations

import base64
import binascii

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from newsletter.account_views import ENROL_SECRET
from tests.factories import user_fixture

pytestmark = pytest.mark.django_db

PAGE = "/admin/two-factor/"


writer = user_fixture("wanda", "Writer", logged_in=True)


def code_for(secret: str) -> str:
    return f"{TOTP(binascii.unhexlify(secret)).token():06d}"


def device_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, drift=device.drift).token():06d}"


def test_the_page_shows_a_qr_code_and_the_key_and_saves_nothing_yet(client, writer):
    response = client.get(PAGE)

    html = response.content.decode()
    secret = client.session[ENROL_SECRET]
    typed = base64.b32encode(binascii.unhexlify(secret)).decode()
    assert response.status_code == 200
    assert '<div class="qr-code"' in html and "<svg" in html and "<path" in html
    assert " ".join(typed[i : i + 4] for i in range(0, len(typed), 4)) in html
    assert 'id="site-name"' in html  # in the admin's layout
    assert not TOTPDevice.objects.exists()


def test_the_admin_links_to_the_page(client, writer):
    assert f'href="{PAGE}"' in client.get(reverse("admin:index")).content.decode()


def test_a_code_from_the_app_turns_it_on(client, writer):
    client.get(PAGE)
    secret = client.session[ENROL_SECRET]

    response = client.post(PAGE, {"action": "enrol", "otp_token": code_for(secret)})

    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=writer)
    assert device.confirmed and device.key == secret
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert "Two-factor sign-in is on" in client.get(PAGE).content.decode()


def test_a_wrong_code_turns_nothing_on(client, writer):
    client.get(PAGE)
    wrong = f"{(int(code_for(client.session[ENROL_SECRET])) + 1) % 1_000_000:06d}"

    response = client.post(PAGE, {"action": "enrol", "otp_token": wrong})

    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.exists()


def test_a_new_device_replaces_the_old_one(client, writer):
    old = TOTPDevice.objects.create(user=writer, name="Old phone", confirmed=True)
    client.get(PAGE + "?replace=1")
    secret = client.session[ENROL_SECRET]

    client.post(PAGE + "?replace=1", {"action": "enrol", "otp_token": code_for(secret)})

    assert list(TOTPDevice.objects.values_list("key", flat=True)) == [secret]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_turning_it_off_needs_a_current_code(client, writer):
    device = TOTPDevice.objects.create(user=writer, name="Phone", confirmed=True)

    refused = client.post(
        PAGE, {"action": "turn_off", "otp_token": "000000" if device_code(device) != "000000" else "1"}
    )
    assert refused.status_code == 400 and TOTPDevice.objects.exists()

    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(PAGE, {"action": "turn_off", "otp_token": device_code(device)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()


def test_where_it_is_required_it_cannot_be_turned_off(client, writer, settings):
    settings.OTP_REQUIRED_FOR = "staff"
    device = TOTPDevice.objects.create(user=writer, name="Phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    response = client.post(PAGE, {"action": "turn_off", "otp_token": device_code(device)})

    assert response.status_code == 200
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_page_is_for_staff_only(client, django_user_model):
    assert client.get(PAGE).status_code == 302
    client.force_login(django_user_model.objects.create_user("reader", "r@example.org", "pw"))
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_admin_list_of_devices_never_shows_a_secret(client, django_user_model):
    owner = django_user_model.objects.create_user("wanda", "wanda@example.org", "pw", is_staff=True)
    device = TOTPDevice.objects.create(user=owner, name="Phone", confirmed=True)
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))

    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    assert change.status_code == 200 and device.key not in change.content.decode()
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
