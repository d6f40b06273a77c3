"""A junk or unknown id in an admin URL is answered, never a server error: every custom view (the
editorial screens, the send's progress and controls, the outbox pages...) answers 404 (or 405 to
a GET of a POST-only view), and the admin's own change, delete and history pages go back to the
index saying there is no such object.

The URLs come from the resolver, as in test_access_matrix.py; each id in a URL is replaced in turn
by a junk one (where the URL accepts any text) and by an unknown number.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client

from tests.test_access_matrix import Content, Route, ask, routes, url_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning"),
]

IDS = {"object_id", "pk", "id", "content_type_id", "comment_id", "version_id", "link_id"}
JUNK, UNKNOWN = "no-such-id", "987654"
# The admin's own object pages: for an unknown object they go back to the index with a message
# (or refuse first, for an action nobody may take on that model).
ADMIN_OWN = {
    f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    for model in admin.site._registry
    for view in ("change", "delete", "history")
}
# django-otp's device pages (config, QR code) would fail on an unknown id (DoesNotExist), but
# OTP_ADMIN_HIDE_SENSITIVE_DATA refuses them to everyone before they look anything up.
REFUSED_TO_ALL = {"admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"}


def id_urls(content: Content, route: Route) -> list[tuple[str, str]]:
    """(what was changed, URL) for each id of the route, replaced by a junk and an unknown one."""
    values = content.values(route, "own")
    urls = []
    for name in route.params:
        if name not in IDS:
            continue
        takes_text = not re.search(rf"<int:{name}>", route.route)
        for bad in (JUNK, UNKNOWN) if takes_text else (UNKNOWN,):
            urls.append((f"{name}={bad}", url_of(route, {**values, name: bad})))
    return urls


def expected_answers(route: Route) -> set[str]:
    if route.key in ADMIN_OWN or re.fullmatch(r"admin/\w+/\w+/<path:object_id>/", route.route):
        return {"go", "403"}
    if route.key in REFUSED_TO_ALL:
        return {"403"}
    return {"404", "405"}  # 405: a GET to a POST-only view is refused before anything is looked up


@pytest.fixture
def content() -> Content:
    return Content()


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def check(client: Client, content: Content, chosen: list[Route]) -> tuple[list[str], int]:
    wrong, checked = [], 0
    for route in chosen:
        for changed, url in id_urls(content, route):
            for method in ("GET", "POST"):
                got, want = ask(client, method, url), expected_answers(route)
                checked += 1
                if got not in want:
                    expected = " or ".join(sorted(want))
                    wrong.append(f"{method} {url} ({route.key}, {changed}): expected {expected}, got {got}")
    return wrong, checked


@pytest.mark.slow
def test_a_superuser_gets_404_or_the_admins_own_answer_for_unknown_ids(content, summary_count):
    chosen = [route for route in routes() if route.route.startswith(("admin/", "outbox/"))]

    wrong, checked = check(signed_in(content.users["superuser"]), content, chosen)
    summary_count("unknown-id cases checked", checked)

    assert checked > 100
    assert not wrong, "\n".join(wrong)


def test_a_writer_gets_404_from_the_editorial_screens_for_unknown_ids(content):
    chosen = [route for route in routes() if route.key.startswith("admin:editorial_")]

    wrong, checked = check(signed_in(content.users["writer"]), content, chosen)

    assert checked > 20
    assert not wrong, "\n".join(wrong)
