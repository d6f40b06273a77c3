"""settings.OTP_REQUIRED_FOR makes two-factor sign-in required: a managing editor (or, with
"staff", anyone in the admin) without a confirmed device is sent to enrol before any admin page,
and one whose session gave no code is asked for one."""

from __future__ import annotations

import binascii

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from newsletter.account_views import ENROL_SECRET
from tests.factories import user_fixture

pytestmark = pytest.mark.django_db

ENROL = "/admin/two-factor/"
VERIFY = "/admin/login/verify/"


managing_editor = user_fixture("max", "Managing editor")
writer = user_fixture("wanda", "Writer")


@pytest.fixture
def required_for_managing_editors(settings):
    settings.OTP_REQUIRED_FOR = "managing_editors"


@pytest.mark.usefixtures("required_for_managing_editors")
@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/newsletter/issue/",
        "/admin/subscribers/send/",
        "/outbox/",
        "/markdownx/upload/",
        "/markdownx/markdownify/",
    ],
)
def test_a_managing_editor_without_a_device_is_sent_to_enrol(client, managing_editor, url):
    client.force_login(managing_editor)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next={url.replace('/', '%2F')}"


@pytest.mark.usefixtures("required_for_managing_editors")
def test_the_enrolment_page_says_why_and_enrolling_opens_the_admin(client, managing_editor):
    client.force_login(managing_editor)
    page = client.get(f"{ENROL}?next=/admin/newsletter/issue/")
    assert "Your role needs two-factor sign-in" in page.content.decode()
    secret = client.session[ENROL_SECRET]

    response = client.post(
        ENROL,
        {
            "action": "enrol",
            "otp_token": f"{TOTP(binascii.unhexlify(secret)).token():06d}",
            "next": "/admin/newsletter/issue/",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/admin/newsletter/issue/"
    assert client.get("/admin/newsletter/issue/").status_code == 200


@pytest.mark.usefixtures("required_for_managing_editors")
def test_a_writer_is_not_asked(client, writer):
    client.force_login(writer)

    assert client.get("/admin/").status_code == 200


@pytest.mark.usefixtures("required_for_managing_editors")
def test_a_superuser_counts_as_a_managing_editor(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))

    assert client.get("/admin/")["Location"].startswith(ENROL)


@pytest.mark.usefixtures("required_for_managing_editors")
def test_a_session_that_gave_no_code_is_asked_for_one(client, managing_editor):
    device = TOTPDevice.objects.create(user=managing_editor, name="Phone", confirmed=True)
    client.force_login(managing_editor)  # signed in without the code step

    asked = client.get("/admin/")
    assert asked.status_code == 302 and asked["Location"] == f"{VERIFY}?next=%2Fadmin%2F"

    response = client.post(VERIFY, {"otp_token": f"{TOTP(device.bin_key).token():06d}", "next": "/admin/"})

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.usefixtures("required_for_managing_editors")
def test_signing_out_and_the_public_site_stay_open(client, managing_editor):
    client.force_login(managing_editor)

    assert client.get(reverse("home")).status_code == 200
    assert client.post(reverse("admin:logout")).status_code == 200


def test_with_staff_every_admin_user_must_enrol(client, writer, settings):
    settings.OTP_REQUIRED_FOR = "staff"
    client.force_login(writer)

    assert client.get("/admin/")["Location"].startswith(ENROL)


def test_with_none_nobody_is_asked(client, managing_editor, settings):
    settings.OTP_REQUIRED_FOR = "none"
    client.force_login(managing_editor)

    assert client.get("/admin/").status_code == 200
