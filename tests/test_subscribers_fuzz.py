"""Junk in every public form field and URL token gets a 4xx or a form error, never a 500.

The test client re-raises any exception a view lets escape, so "never a 500" is checked twice:
no exception, and no 5xx status.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers import ratelimit, tokens
from subscribers.models import Subscriber

from .factories import make_section

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ example store in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(
        ["", " ", "\x00", "a@b", "@", "ann@example.org\x00", "x" * 5000, "ann@ex ample.org", "é@é.é"]
    ),
)
junk_list = st.lists(junk, max_size=4)
token_junk = st.one_of(
    st.text(min_size=1, max_size=300),
    st.sampled_from(["..", ".", "%00", "a:b:c", "W1td:1:x", "eyJ:abc:def", "A" * 2000]),
)


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch):
    cache.clear()
    monkeypatch.setattr(ratelimit, "SIGNUPS_PER_IP", ratelimit.Limit("fuzz-ip", 10**9, 3600, "x"))
    monkeypatch.setattr(ratelimit, "SIGNUPS_PER_ADDRESS", ratelimit.Limit("fuzz-address", 10**9, 3600, "x"))


@pytest.fixture
def subscriber():
    make_section("Robustness")
    return Subscriber.objects.create(
        email="ann@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )


def assert_client_error_or_ok(response, allowed=(200, 302)):
    assert response.status_code < 500
    assert response.status_code in allowed or 400 <= response.status_code < 500


@FUZZ
@given(email=junk, name=junk, sections=junk_list, shown=junk, website=junk)
def test_junk_in_the_subscribe_form(client, subscriber, email, name, sections, shown, website):
    response = client.post(
        "/subscribe/",
        {"email": email, "name": name, "sections": sections, "sections_shown": shown, "website": website},
    )
    assert_client_error_or_ok(response)
    if response.status_code == 200:
        pytest.fail("a POST either redirects to the sent page or explains what was wrong")


@FUZZ
@given(token=token_junk, method=st.sampled_from(["get", "post", "head"]))
def test_junk_tokens_in_every_link(token, method):
    client = Client(enforce_csrf_checks=True)
    for prefix in ("/subscribe/confirm/", "/preferences/", "/unsubscribe/"):
        for suffix in ("", "export/", "delete/"):
            if suffix and prefix != "/preferences/":
                continue
            url = f"{prefix}{quote(token, safe='')}/{suffix}"
            data = {"List-Unsubscribe": "One-Click"} if method == "post" else None
            response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
            assert 400 <= response.status_code < 500, (url, response.status_code)


@FUZZ
@given(
    name=junk,
    sections=junk_list,
    fmt=junk,
    paused=junk,
    action=st.one_of(junk, st.sampled_from(["resubscribe", "unsubscribe"])),
    shown=junk,
)
def test_junk_in_the_preferences_form(client, subscriber, name, sections, fmt, paused, action, shown):
    url = f"/preferences/{tokens.preferences_token(subscriber)}/"
    response = client.post(
        url,
        {
            "name": name,
            "sections": sections,
            "format": fmt,
            "paused_issues": paused,
            "action": action,
            "sections_shown": shown,
        },
    )
    assert_client_error_or_ok(response, allowed=(200, 302, 409))


@FUZZ
@given(confirm=junk, action=junk, one_click=junk)
def test_junk_in_the_delete_and_unsubscribe_forms(client, subscriber, confirm, action, one_click):
    response = client.post(
        f"/preferences/{tokens.preferences_token(subscriber)}/delete/", {"confirm": confirm}
    )
    assert_client_error_or_ok(response)
    if not Subscriber.objects.filter(pk=subscriber.pk).exists():
        subscriber.save()  # recreated for the next example; the old row's links died with it
        subscriber.refresh_from_db()
    response = client.post(
        f"/unsubscribe/{tokens.unsubscribe_token(subscriber)}/",
        {"action": action, "List-Unsubscribe": one_click},
    )
    assert_client_error_or_ok(response, allowed=(200, 409))
