"""Unsubscribing: RFC 8058 one-click POST without cookies, a page with a button, an undo, a record."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from subscribers import links, subscriptions, suppression, tokens
from subscribers.models import Subscriber, Suppression

pytestmark = pytest.mark.django_db
ONE_CLICK = {"List-Unsubscribe": "One-Click"}  # the RFC 8058 body, sent as a multipart form


@pytest.fixture
def subscriber() -> Subscriber:
    return Subscriber.objects.create(
        email="ann@example.org", name="Ann", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )


@pytest.fixture
def strict_client() -> Client:
    """A client that enforces CSRF like a real browser session would, and sends no cookies."""
    return Client(enforce_csrf_checks=True)


def page_url(subscriber: Subscriber) -> str:
    """The path of `subscriber`'s unsubscribe page (one-click posts go there too)."""
    return f"/unsubscribe/{tokens.unsubscribe_token(subscriber)}/"


def assert_status(subscriber: Subscriber, status: Subscriber.Status) -> None:
    """`subscriber`, read again from the database, is in `status` (its other fields are fresh too)."""
    subscriber.refresh_from_db()
    assert subscriber.status == status


# Tokens carry the second they were signed in: the header's and the page's must be made in one.
@time_machine.travel("2025-01-06 09:00 +0000", tick=False)
def test_the_headers_follow_rfc_8058(subscriber):
    headers = links.list_unsubscribe_headers(subscriber)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = re.fullmatch(r"<([^>]+)>, <([^>]+)>", headers["List-Unsubscribe"]).groups()
    assert https == links.unsubscribe_url(subscriber)
    assert https.startswith("https://news.example.org/unsubscribe/")
    assert mailto.startswith("mailto:newsletter@localhost?subject=unsubscribe%20")
    token = unquote(mailto.split("%20", 1)[1])
    assert tokens.read_unsubscribe_token(token) == subscriber


def test_one_click_post_unsubscribes_without_cookies_or_csrf(strict_client, subscriber):
    url = links.unsubscribe_url(subscriber).removeprefix("https://news.example.org")
    response = strict_client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200  # answered here: no redirect, no login, no confirm step
    assert "Unsubscribed" in response.content.decode()
    assert not response.cookies
    assert_status(subscriber, Subscriber.Status.UNSUBSCRIBED)
    assert subscriber.unsubscribe_channel == Subscriber.Channel.ONE_CLICK
    assert subscriber.unsubscribed_at is not None
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.UNSUBSCRIBED
    assert mail.outbox == []  # the mail client's user expects no goodbye


def test_one_click_post_also_accepts_multipart(strict_client, subscriber):
    response = strict_client.post(page_url(subscriber), ONE_CLICK)
    assert response.status_code == 200
    assert_status(subscriber, Subscriber.Status.UNSUBSCRIBED)


def test_one_click_twice_is_still_200(strict_client, subscriber):
    url = page_url(subscriber)
    strict_client.post(url, ONE_CLICK)
    response = strict_client.post(url, ONE_CLICK)
    assert response.status_code == 200


def test_a_get_never_unsubscribes(client, subscriber):
    url = page_url(subscriber)
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
    client.head(url)
    html = response.content.decode()
    assert '<input type="hidden" name="action" value="unsubscribe">' in html
    assert_status(subscriber, Subscriber.Status.ACTIVE)
    assert not suppression.is_suppressed("ann@example.org")


def test_the_page_button_unsubscribes_and_says_goodbye(client, subscriber):
    url = page_url(subscriber)
    response = client.post(url, {"action": "unsubscribe"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert "Undo" in response.content.decode()
    assert_status(subscriber, Subscriber.Status.UNSUBSCRIBED)
    assert subscriber.unsubscribe_channel == Subscriber.Channel.LINK
    [goodbye] = mail.outbox
    assert goodbye.subject == "You have unsubscribed from ML Safety Newsletter"
    assert "https://news.example.org/preferences/" in goodbye.body
    assert "List-Unsubscribe" not in goodbye.extra_headers


def test_the_page_button_needs_its_csrf_token(strict_client, subscriber):
    url = page_url(subscriber)
    response = strict_client.post(url, {"action": "unsubscribe"})
    assert response.status_code == 403
    assert_status(subscriber, Subscriber.Status.ACTIVE)

    page = strict_client.get(url)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict_client.post(url, {"action": "unsubscribe", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert_status(subscriber, Subscriber.Status.UNSUBSCRIBED)


def test_undo_resubscribes_and_lifts_the_suppression(client, subscriber):
    url = page_url(subscriber)
    client.post(url, {"action": "unsubscribe"})
    response = client.post(url, {"action": "resubscribe"})
    assert response.status_code == 200
    assert "You are subscribed again" in response.content.decode()
    assert_status(subscriber, Subscriber.Status.ACTIVE)
    assert not suppression.is_suppressed("ann@example.org")
    assert Subscriber.objects.mailable().filter(pk=subscriber.pk).exists()


def test_undo_cannot_resubscribe_a_complaint(client, subscriber):
    url = page_url(subscriber)
    client.post(url, {"action": "unsubscribe"})
    subscriptions.record_complaint("ann@example.org")
    response = client.post(url, {"action": "resubscribe"})
    assert response.status_code == 409
    assert_status(subscriber, Subscriber.Status.COMPLAINED)


def test_an_unknown_action_is_a_clear_400(client, subscriber):
    response = client.post(page_url(subscriber), {"action": "explode"})
    assert response.status_code == 400
    assert "not understood" in response.content.decode()
    assert_status(subscriber, Subscriber.Status.ACTIVE)


def test_an_invalid_token_one_click_is_refused(strict_client, subscriber):
    response = strict_client.post("/unsubscribe/not-a-token/", ONE_CLICK)
    assert response.status_code == 400
    assert_status(subscriber, Subscriber.Status.ACTIVE)


def test_the_footer_link_in_emails_is_the_same_page(client, subscriber):
    subscriptions.request_subscription("ann@example.org")  # an active subscriber: already-subscribed email
    [message] = mail.outbox
    footer_url = re.search(r"Unsubscribe: (https://\S+)", message.body).group(1)
    header_url = re.match(r"<([^>]+)>", message.extra_headers["List-Unsubscribe"]).group(1)
    assert footer_url == header_url
    assert f'href="{footer_url}"' in message.alternatives[0][0]


def test_a_reply_to_the_mailto_unsubscribes(subscriber):
    mailto = links.list_unsubscribe_headers(subscriber)["List-Unsubscribe"].split(", ")[1]
    subject = unquote(mailto.split("subject=", 1)[1].rstrip(">"))
    assert subscriptions.unsubscribe_by_mail(f"Re: {subject}") is True
    assert_status(subscriber, Subscriber.Status.UNSUBSCRIBED)
    assert subscriber.unsubscribe_channel == Subscriber.Channel.MAILTO
    assert subscriptions.unsubscribe_by_mail("unsubscribe not-a-token") is False
    assert subscriptions.unsubscribe_by_mail("hello") is False
