"""In a real browser, under the site's Content-Security-Policy: the admin pages other browser tests
don't open (the send's progress page with its polling script, the email preview frame, the
outbox) and the whole two-factor journey (enrol from the QR page's key, sign out, sign in with
password and code, get locked out) run without one console error. Chromium reports every CSP
violation as a console error, so `console_errors == []` is the assertion that nothing was blocked.

The user is a superuser: this test is about what the browser allows, not about roles (a
transactional test starts without the role groups), and a superuser sees every page."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP

from subscribers import sending
from tests.factories import make_sections, make_subscriber
from tests.sending_fixtures import make_sendable_issue

PASSWORD = "correct horse battery staple"


def code_from_typed_key(typed: str) -> str:
    key = base64.b32decode(typed.replace(" ", ""))
    return f"{TOTP(key).token():06d}"


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_pages_and_two_factor_sign_in_break_no_policy(page, live_server, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_superuser("boss", "boss@example.org", PASSWORD)
    issue = make_sendable_issue(make_sections())
    make_subscriber("reader@example.org")
    send = sending.start_send(issue)
    base = live_server.url

    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    visit(page, f"{base}/admin/subscribers/send/{send.pk}/change/")
    page.wait_for_timeout(3500)  # one poll of progress.json
    visit(page, f"{base}/admin/newsletter/issue/{issue.pk}/email/")
    page.frame_locator("iframe").locator("body").wait_for()
    visit(page, f"{base}/outbox/")

    visit(page, f"{base}/admin/two-factor/")
    assert page.locator(".qr-code svg").is_visible()
    page.fill("#id_otp_token", code_from_typed_key(page.locator("code.secret").inner_text()))
    page.click("input[value='Turn on two-factor sign-in']")
    assert "Two-factor sign-in is on" in page.content()
    device = django_user_model.objects.get().totpdevice_set.get()

    page.click("#logout-form button")
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/login/verify/**")
    # The enrolment spent the code of step device.last_t; the next step's code is within the
    # tolerance, whichever 30 s step the clock is in now (a slow machine may have moved on).
    login_totp = TOTP(device.bin_key)
    login_totp.drift = device.last_t + 1 - login_totp.t()
    page.fill("#id_otp_token", f"{login_totp.token():06d}")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    page.click("#logout-form button")
    for _ in range(5):
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "wrong guess")
        page.click("input[type=submit]")
    assert "You can try again after" in page.content()

    # The lockout answers 429, which Chromium logs; anything else (a blocked script, style or
    # frame) fails the test.
    assert [error for error in page.console_errors if "status of 429" not in error] == []
