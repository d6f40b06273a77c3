"""Signing up: one form, one answer for every address, the right email for each case, abuse refused."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from subscribers import ratelimit, subscriptions, suppression
from subscribers.models import Subscriber, Suppression

from .factories import make_section, make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sections():
    return [
        make_section("Robustness", position=0),
        make_section("Monitoring", position=1),
        make_section("Alignment", position=2),
    ]


def test_the_form_offers_every_section_ticked(client, sections):
    response = client.get("/subscribe/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in sections:
        assert re.search(rf'<input[^>]*value="{section.slug}"[^>]*checked', html)
    assert 'name="website"' in html  # the honeypot
    assert subscriptions.consent_wording() in html


def test_it_records_a_pending_subscriber_and_sends_a_confirmation(client, sections):
    response = client.post(
        "/subscribe/",
        {
            "email": "Ann@Example.ORG",
            "name": "Ann",
            "sections": ["robustness", "alignment"],
            "sections_shown": "True",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/subscribe/sent/"
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ann@example.org"
    assert subscriber.name == "Ann"
    assert subscriber.status == Subscriber.Status.PENDING
    assert {s.slug for s in subscriber.sections.all()} == {"robustness", "alignment"}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann@example.org"]
    assert message.subject == "Confirm your subscription to ML Safety Newsletter"
    assert "https://news.example.org/subscribe/confirm/" in message.body
    assert "1 Example Street" in message.body  # the postal address (CAN-SPAM)
    html = message.alternatives[0][0]
    assert "https://news.example.org/subscribe/confirm/" in html
    assert "<style" not in html.split("</head>")[1]  # CSS is inlined into the body


def test_the_subscribe_box_on_other_pages_gets_every_section(client, sections):
    response = client.post("/subscribe/", {"email": "bob@example.org"})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert list(subscriber.sections.all()) == []  # none chosen = all, including new sections


def test_ticking_every_section_is_stored_as_all(client, sections):
    client.post(
        "/subscribe/",
        {"email": "bob@example.org", "sections": [s.slug for s in sections], "sections_shown": "True"},
    )
    assert list(Subscriber.objects.get().sections.all()) == []


def test_it_refuses_a_form_with_every_section_unticked(client, sections):
    response = client.post("/subscribe/", {"email": "bob@example.org", "sections_shown": "True"})
    assert response.status_code == 400
    assert "Choose at least one section." in response.content.decode()
    assert not Subscriber.objects.exists()


def test_it_answers_the_same_for_known_and_unknown_addresses(client, sections):
    make_subscriber("known@example.org")
    Subscriber.objects.create(email="bounced@example.org", status=Subscriber.Status.BOUNCED)
    suppression.suppress("complained@example.org", Suppression.Reason.COMPLAINT)

    answers = []
    for email in ["new@example.org", "known@example.org", "bounced@example.org", "complained@example.org"]:
        response = client.post("/subscribe/", {"email": email}, follow=True)
        csrf_free = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        answers.append((response.status_code, response.redirect_chain, csrf_free))
    assert all(answer == answers[0] for answer in answers)
    assert "Check your inbox" in answers[0][2]


def test_an_active_subscriber_gets_their_preferences_link_instead(client, sections):
    subscriber = make_subscriber("known@example.org", name="Kim")
    client.post("/subscribe/", {"email": "KNOWN@example.org", "name": "Someone else"})
    subscriber.refresh_from_db()
    assert subscriber.name == "Kim"  # the form never changes a confirmed subscriber
    [message] = mail.outbox
    assert message.subject == "You are already subscribed to ML Safety Newsletter"
    assert "https://news.example.org/preferences/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")


def test_suppressed_bounced_and_complained_addresses_get_nothing(client, sections):
    Subscriber.objects.create(email="bounced@example.org", status=Subscriber.Status.BOUNCED)
    suppression.suppress("complained@example.org", Suppression.Reason.COMPLAINT)
    suppression.suppress("manual@example.org", Suppression.Reason.MANUAL)
    for email in ["bounced@example.org", "complained@example.org", "manual@example.org"]:
        client.post("/subscribe/", {"email": email})
    assert mail.outbox == []
    assert Subscriber.objects.count() == 1


def test_someone_who_unsubscribed_can_sign_up_again_with_a_new_confirmation(client, sections):
    from django.utils import timezone

    subscriber = make_subscriber("back@example.org")
    subscriptions.unsubscribe(subscriber, Subscriber.Channel.ONE_CLICK)
    client.post("/subscribe/", {"email": "back@example.org"})
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    assert suppression.is_suppressed("back@example.org")  # lifted only by confirming
    [message] = mail.outbox
    assert "/subscribe/confirm/" in message.body
    assert subscriber.unsubscribed_at <= timezone.now()


@pytest.mark.parametrize(
    "first, second",
    [
        ("ann@example.org", "ANN@Example.org"),
        ("ann@bücher.de", "ann@xn--bcher-kva.de"),
        ("Ann@Bücher.DE", "  ann@BÜCHER.de  "),
    ],
)
def test_the_same_address_typed_twice_is_one_row(client, sections, first, second):
    client.post("/subscribe/", {"email": first})
    client.post("/subscribe/", {"email": second})
    assert Subscriber.objects.count() == 1
    assert len(mail.outbox) == 2  # a second confirmation, to the same row


def test_it_stores_international_domains_in_their_unicode_form(client, sections):
    client.post("/subscribe/", {"email": "ann@xn--bcher-kva.de"})
    assert Subscriber.objects.get().email == "ann@bücher.de"


@pytest.mark.parametrize(
    "email, message",
    [
        ("not-an-address", "An email address must have an @-sign."),
        ("ann@localhost", "It should have a period."),
        ("ann@@example.org", "contains invalid characters"),
        ("a" * 300 + "@example.org", "at most"),
    ],
)
def test_it_explains_an_invalid_address(client, sections, email, message):
    response = client.post("/subscribe/", {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_it_never_looks_up_dns_by_default(client, sections, monkeypatch):
    import dns.resolver

    def refuse(*args, **kwargs):
        raise AssertionError("DNS lookup attempted")

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", refuse)
    response = client.post("/subscribe/", {"email": "ann@no-such-domain-for-tests.example"})
    assert response.status_code == 302


def test_the_honeypot_refuses_a_bot_with_a_clear_message(client, sections):
    response = client.post("/subscribe/", {"email": "bot@example.org", "website": "https://spam.example"})
    assert response.status_code == 400
    assert "filled in automatically" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_it_limits_sign_ups_per_address(client, sections):
    for n in range(ratelimit.SIGNUPS_PER_ADDRESS.max_hits):
        response = client.post("/subscribe/", {"email": "ann@example.org"}, REMOTE_ADDR=f"10.0.0.{n + 1}")
        assert response.status_code == 302
    response = client.post("/subscribe/", {"email": "ANN@example.org"}, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429
    assert "several emails to this address" in response.content.decode()
    assert len(mail.outbox) == ratelimit.SIGNUPS_PER_ADDRESS.max_hits


def test_it_limits_sign_ups_per_ip(client, sections):
    for n in range(ratelimit.SIGNUPS_PER_IP.max_hits):
        response = client.post("/subscribe/", {"email": f"person{n}@example.org"}, REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 302
    response = client.post("/subscribe/", {"email": "one-more@example.org"}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    assert "Too many sign-ups from your network" in response.content.decode()
    assert not Subscriber.objects.filter(email="one-more@example.org").exists()
    # Another network is not affected.
    response = client.post("/subscribe/", {"email": "one-more@example.org"}, REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302


def test_junk_posts_count_against_the_ip_limit_too(client, sections):
    for _ in range(ratelimit.SIGNUPS_PER_IP.max_hits):
        client.post("/subscribe/", {"email": "junk"}, REMOTE_ADDR="192.0.2.9")
    response = client.post("/subscribe/", {"email": "real@example.org"}, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 429


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert ratelimit.client_ip(request) == "203.0.113.5"


def test_a_double_submission_creates_one_row(sections):
    subscriptions.request_subscription("twice@example.org")
    subscriptions.request_subscription("twice@example.org")
    assert Subscriber.objects.filter(email="twice@example.org").count() == 1


def test_the_database_refuses_two_rows_for_one_address_in_any_case(sections):
    from django.db import IntegrityError, transaction

    Subscriber.objects.create(email="ann@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.bulk_create([Subscriber(email="ANN@example.org", email_hash="x")])


def test_the_sent_page_is_a_plain_page(client):
    response = client.get("/subscribe/sent/")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()


def test_the_subscribe_box_with_a_typo_comes_back_as_the_full_form_all_ticked(client, sections):
    response = client.post("/subscribe/", {"email": "typo@"})
    assert response.status_code == 400
    html = response.content.decode()
    for section in sections:
        assert re.search(rf'<input[^>]*value="{section.slug}"[^>]*checked', html)
    # Resubmitted with one section unticked, the choice is kept.
    client.post(
        "/subscribe/", {"email": "typo@example.org", "sections": ["robustness"], "sections_shown": "1"}
    )
    assert [s.slug for s in Subscriber.objects.get().sections.all()] == ["robustness"]
