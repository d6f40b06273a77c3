"""Confirmation links and the tokens in every link: signed, purpose-bound, expiring, one-use, revocable."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from subscribers import subscriptions, suppression, tokens
from subscribers.models import Subscriber, Suppression

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def confirmation_path(message) -> str:
    return re.search(r"https://news\.example\.org(/subscribe/confirm/[^/\s]+/)", message.body).group(1)


def sign_up(client, email="ann@example.org") -> str:
    client.post("/subscribe/", {"email": email})
    return confirmation_path(mail.outbox[-1])


def test_the_confirmation_link_shows_a_button_and_changes_nothing(client):
    path = sign_up(client)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm my subscription" in html
    assert subscriptions.consent_wording() in html  # consent is given here, on this wording
    assert '<form class="button-form" method="post">' in html
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert len(mail.outbox) == 1


def test_confirming_records_consent_and_sends_a_welcome(client):
    path = sign_up(client)
    response = client.post(path, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Mozilla/5.0 (Test)")
    assert response.status_code == 200
    assert "You are subscribed" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert subscriber.consent_at == subscriber.confirmed_at
    assert subscriber.consent_ip == "203.0.113.9"
    assert subscriber.consent_user_agent == "Mozilla/5.0 (Test)"
    assert subscriber.consent_wording_version == subscriptions.CONSENT_WORDING_VERSION
    assert subscriber.consent_source == Subscriber.Source.FORM
    welcome = mail.outbox[-1]
    assert welcome.subject == "Welcome to ML Safety Newsletter"
    assert welcome.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://news.example.org/unsubscribe/" in welcome.body
    assert "https://news.example.org/preferences/" in welcome.body
    assert "1 Example Street" in welcome.alternatives[0][0]


def test_confirming_lifts_an_earlier_unsubscribe(client):
    subscriber = Subscriber.objects.create(
        email="ann@example.org",
        status=Subscriber.Status.ACTIVE,
        confirmed_at=timezone.now() - timedelta(days=90),
    )
    subscriptions.unsubscribe(subscriber, Subscriber.Channel.ONE_CLICK)
    path = sign_up(client)
    client.post(path)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed("ann@example.org")


def test_a_tampered_link_is_refused_with_a_clear_page(client):
    path = sign_up(client)
    token = path.split("/")[3]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for method in (client.get, client.post):
        response = method(f"/subscribe/confirm/{tampered}/")
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_an_expired_link_is_refused(client):
    path = sign_up(client)
    with time_machine.travel(timezone.now() + tokens.CONFIRM_MAX_AGE + timedelta(minutes=1)):
        response = client.post(path)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_a_link_still_works_on_its_last_day(client):
    path = sign_up(client)
    with time_machine.travel(timezone.now() + tokens.CONFIRM_MAX_AGE - timedelta(minutes=5)):
        response = client.post(path)
    assert response.status_code == 200


def test_a_confirmation_link_works_once(client):
    path = sign_up(client)
    assert client.post(path).status_code == 200
    welcome_count = len(mail.outbox)
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 410
        assert "already been used" in response.content.decode()
    assert len(mail.outbox) == welcome_count


def test_a_second_confirmation_email_stops_working_once_either_is_used(client):
    first = sign_up(client)
    second = sign_up(client)
    assert client.post(second).status_code == 200
    assert client.post(first).status_code == 410


def test_an_old_confirmation_link_cannot_undo_a_later_unsubscribe(client):
    path = sign_up(client)
    client.post(path)
    subscriber = Subscriber.objects.get()
    subscriptions.unsubscribe(subscriber, Subscriber.Channel.LINK)
    response = client.post(path)
    assert response.status_code == 410
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_revoking_links_refuses_every_earlier_link(client):
    path = sign_up(client)
    subscriber = Subscriber.objects.get()
    preferences = tokens.preferences_token(subscriber)
    unsubscribe = tokens.unsubscribe_token(subscriber)
    assert subscriptions.revoke_links(Subscriber.objects.filter(pk=subscriber.pk)) == 1
    for url in (path, f"/preferences/{preferences}/", f"/unsubscribe/{unsubscribe}/"):
        response = client.get(url)
        assert response.status_code == 410, url
        assert "This link no longer works" in response.content.decode()
    response = client.post(f"/unsubscribe/{unsubscribe}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 410
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    # New links work.
    assert client.get(f"/preferences/{tokens.preferences_token(subscriber)}/").status_code == 200


def test_a_token_only_works_for_its_purpose(client):
    subscriber = Subscriber.objects.create(
        email="ann@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )
    preferences = tokens.preferences_token(subscriber)
    unsubscribe = tokens.unsubscribe_token(subscriber)
    assert client.post(f"/unsubscribe/{preferences}/", {"List-Unsubscribe": "One-Click"}).status_code == 400
    assert client.get(f"/preferences/{unsubscribe}/").status_code == 400
    assert client.get(f"/subscribe/confirm/{preferences}/").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_links_of_an_erased_subscriber_are_refused(client):
    subscriber = Subscriber.objects.create(
        email="ann@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )
    token = tokens.preferences_token(subscriber)
    subscriptions.erase(subscriber)
    response = client.get(f"/preferences/{token}/")
    assert response.status_code == 410


def test_tokens_do_not_carry_the_row_id():
    subscriber = Subscriber.objects.create(email="ann@example.org")
    from django.core import signing

    payload = signing.loads(tokens.preferences_token(subscriber), salt=tokens.PREFERENCES)
    assert payload == [subscriber.key.hex, subscriber.token_version]


def test_a_suppressed_address_cannot_confirm(client):
    path = sign_up(client)
    suppression.suppress("ann@example.org", Suppression.Reason.COMPLAINT)
    response = client.post(path)
    assert response.status_code == 409
    assert "can no longer send email" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


@pytest.mark.parametrize("method", ["get", "post"])
def test_token_pages_are_private(client, method):
    path = sign_up(client)
    for url in (path, "/subscribe/confirm/junk/"):
        response = getattr(client, method)(url)
        assert response["Referrer-Policy"] == "same-origin"
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
