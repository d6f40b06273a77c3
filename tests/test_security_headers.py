"""Every page, public and admin, has a strict Content-Security-Policy (django-csp: no inline
script or style, nothing from elsewhere but images) and a Permissions-Policy denying the browser
features no page uses; CSP_REPORT_ONLY=1 sends the policy as report-only instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from subscribers import sending
from tests.browser_helpers import build_small_content, public_paths
from tests.factories import make_sections, make_subscriber, user_fixture
from tests.sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
DENIED_FEATURES = (
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "interest-cohort",
    "browsing-topics",
)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def assert_strict_policy(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    for name in ("script-src", "style-src"):
        assert policy[name] == ["'self'"], (name, policy[name])
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def assert_features_denied(response) -> None:
    permissions = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    for feature in DENIED_FEATURES:
        assert permissions[feature] == "()", feature


def assert_both_policies(client, path: str, status: int = 200) -> None:
    response = client.get(path)
    assert response.status_code == status, path
    assert_strict_policy(response)
    assert_features_denied(response)


def test_every_public_page_has_the_strict_policy_and_the_permissions_policy(client):
    build_small_content()
    paths = [path for _, path in public_paths()]
    paths += [reverse("subscribe"), reverse("subscribe_sent"), reverse("paper_index") + "?page=1"]

    for path in paths:
        assert_both_policies(client, path)


def test_error_pages_and_feeds_have_them_too(client):
    for path, status in [("/no-such-page/", 404), (reverse("feed_rss"), 200), (reverse("robots"), 200)]:
        assert_both_policies(client, path, status)


managing_editor = user_fixture("max", "Managing editor", logged_in=True)


def test_admin_pages_have_the_strict_policy(client, managing_editor):
    issue = make_sendable_issue(make_sections())
    make_subscriber("reader@example.org")
    send = sending.start_send(issue, managing_editor)
    urls = [
        reverse("admin:index"),
        reverse("admin:newsletter_issue_changelist"),
        reverse("admin:newsletter_issue_change", args=[issue.pk]),  # the Markdown editor
        reverse("admin:editorial_email", args=[issue.pk]),
        reverse("admin:editorial_revisions", args=[issue.pk]),
        reverse("admin:subscribers_send_change", args=[send.pk]),  # the progress script
        reverse("account_two_factor"),
    ]

    for url in urls:
        assert_both_policies(client, url)


def test_the_login_and_lockout_pages_have_it(client):
    assert_strict_policy(client.get(reverse("admin:login")))
    for _ in range(5):
        response = client.post(reverse("admin:login"), {"username": "nobody", "password": "x"})
    assert response.status_code == 429
    assert_strict_policy(response)


def test_an_email_frame_keeps_its_own_stricter_policy(client, managing_editor):
    issue = make_sendable_issue(make_sections())

    response = client.get(reverse("admin:editorial_email_html", args=[issue.pk]))

    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert policy["frame-ancestors"] == ["'self'"]


# The environment switches, read once at start-up -------------------------------------------------

FETCH = """
from django.test import Client
response = Client().get("/robots.txt")
print("CSP=" + response.get("Content-Security-Policy", ""))
print("CSP-RO=" + response.get("Content-Security-Policy-Report-Only", ""))
"""


def fetch_headers(tmp_path, **env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CSP_", "DJANGO_SETTINGS"))}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}", DEBUG="1", **env)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", FETCH],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("CSP=", "CSP-RO="))]
    return dict(line.split("=", 1) for line in lines)


def test_by_default_the_policy_is_enforced(tmp_path):
    headers = fetch_headers(tmp_path)

    assert "script-src 'self'" in headers["CSP"]
    assert headers["CSP-RO"] == ""


@pytest.mark.slow
def test_csp_report_only_sends_the_same_policy_as_report_only(tmp_path):
    enforced = fetch_headers(tmp_path)["CSP"]

    headers = fetch_headers(tmp_path, CSP_REPORT_ONLY="1", CSP_REPORT_URI="https://reports.example.org/csp")

    assert headers["CSP"] == ""
    report_only = directives(headers["CSP-RO"])
    assert report_only.pop("report-uri") == ["https://reports.example.org/csp"]
    assert report_only == directives(enforced)
