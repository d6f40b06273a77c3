"""Anymail tracking webhooks: authenticated, idempotent, monotonic; bounces and complaints suppress.

Payloads are the ESPs' real shapes (tests/webhook_payloads/), posted through Anymail's own views at
the URLs the site mounts, so Anymail's authentication and parsing run exactly as in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail

from subscribers import subscriptions, suppression
from subscribers.models import Delivery, DeliveryEvent, Send, Subscriber, Suppression
from tests.factories import make_issue

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "webhook_payloads"
SECRET = "anymail:old-webhook-secret-31c9"
NEW_SECRET = "anymail:new-webhook-secret-8d02"
SIGNING_KEY = "key-mailgun-webhook-signing-test"
EVENT_TIME = datetime(2025, 6, 3, 9, 30, 15, 250000, tzinfo=UTC)

POSTMARK_URL = "/webhooks/anymail/postmark/tracking/"
MAILGUN_URL = "/webhooks/anymail/mailgun/tracking/"
SES_URL = "/webhooks/anymail/amazon_ses/tracking/"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET], "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    return settings


@pytest.fixture
def subscriber() -> Subscriber:
    return Subscriber.objects.create(
        email="ann@example.org",
        status=Subscriber.Status.ACTIVE,
        confirmed_at=EVENT_TIME - timedelta(days=90),
    )


@pytest.fixture
def send() -> Send:
    send = Send.objects.create(issue=make_issue(), recipient_count=1)
    Send.objects.filter(pk=send.pk).update(created_at=EVENT_TIME - timedelta(hours=1))
    send.refresh_from_db()
    return send


@pytest.fixture
def delivery(send, subscriber) -> Delivery:
    return make_delivery(send, subscriber.email, esp_message_id="2706ee8a-737c-4285-b032-ccd317af53ed")


def make_delivery(send: Send, email: str, **fields) -> Delivery:
    subscriber = Subscriber.objects.filter(email=email).first() or Subscriber.objects.create(
        email=email, status=Subscriber.Status.ACTIVE, confirmed_at=EVENT_TIME - timedelta(days=90)
    )
    fields.setdefault("sent_at", EVENT_TIME - timedelta(minutes=30))
    return Delivery.objects.create(
        send=send,
        subscriber=subscriber,
        email_hash=subscriber.email_hash,
        status=Delivery.Status.SENT,
        **fields,
    )


# Building and posting real payloads ---------------------------------------------------------------


def payload(esp: str, name: str, delivery: Delivery | None = None, **values) -> dict:
    """One event from tests/webhook_payloads/<esp>.json with its placeholders filled in."""
    when = values.pop("when", EVENT_TIME)
    fill = {
        "RECIPIENT": values.pop("recipient", "ann@example.org"),
        "MESSAGE_ID": values.pop("message_id", delivery.esp_message_id if delivery else "no-such-message"),
        "SEND_ID": str(delivery.send_id if delivery else 0),
        "DELIVERY_ID": str(delivery.pk if delivery else 0),
        "EVENT_TIME": when.isoformat().replace("+00:00", "Z"),
        "SNS_MESSAGE_ID": values.pop("sns_message_id", "19ba9823-d7f2-53c1-860e-cb10e0d13dfc"),
        "CLICK_URL": values.pop("click_url", "https://arxiv.org/abs/2111.15121"),
        "EVENT_EPOCH": str(int(when.timestamp())),
    }
    assert not values, f"unknown placeholders {values}"
    text = json.dumps(json.loads((PAYLOADS / f"{esp}.json").read_text())[name])
    text = text.replace('"EVENT_EPOCH_FLOAT"', f"{when.timestamp():.6f}")
    for placeholder in sorted(fill, key=len, reverse=True):
        text = text.replace(placeholder, fill[placeholder])
    body = json.loads(text)
    if not delivery:  # an email that carried no metadata
        body.pop("Metadata", None)
        body.get("event-data", {}).pop("user-variables", None)
    return body


def basic_auth(secret: str | None) -> dict[str, str]:
    if secret is None:
        return {}
    return {"authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def post_postmark(client, body: dict, secret: str | None = SECRET):
    return client.post(
        POSTMARK_URL, json.dumps(body), content_type="application/json", headers=basic_auth(secret)
    )


def mailgun_sign(body: dict, key: str = SIGNING_KEY, token: str | None = None) -> dict:
    signature = body["signature"]
    signature["token"] = token or secrets.token_hex(25)
    signature["signature"] = hmac.new(
        key.encode(), f"{signature['timestamp']}{signature['token']}".encode(), hashlib.sha256
    ).hexdigest()
    return body


def post_mailgun(client, body: dict, secret: str | None = SECRET, key: str = SIGNING_KEY, token=None):
    signed = mailgun_sign(json.loads(json.dumps(body)), key=key, token=token)
    return client.post(
        MAILGUN_URL, json.dumps(signed), content_type="application/json", headers=basic_auth(secret)
    )


def post_ses(client, sns: dict, secret: str | None = SECRET):
    sns = {**sns, "Message": json.dumps(sns["Message"]) + "\n"}  # SNS posts the SES event as a string
    headers = {
        "x-amz-sns-message-id": sns["MessageId"],
        "x-amz-sns-message-type": sns["Type"],
        **basic_auth(secret),
    }
    return client.post(SES_URL, json.dumps(sns), content_type="text/plain; charset=UTF-8", headers=headers)


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


# Authentication ---------------------------------------------------------------------------------


def test_a_post_without_the_webhook_secret_is_refused_and_records_nothing(client, delivery):
    response = post_postmark(client, payload("postmark", "hard_bounce", delivery), secret=None)
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()
    assert not suppression.is_suppressed("ann@example.org")


def test_a_post_with_a_wrong_secret_is_refused(client, delivery):
    response = post_postmark(
        client, payload("postmark", "spam_complaint", delivery), secret="anymail:guessed"
    )
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()
    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


def test_a_forged_mailgun_signature_is_refused_even_with_the_secret(client, delivery):
    response = post_mailgun(
        client, payload("mailgun", "failed_permanent", delivery), key="not-the-signing-key"
    )
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()
    assert not suppression.is_suppressed("ann@example.org")


def test_an_unsigned_mailgun_post_is_refused(client, delivery):
    body = payload("mailgun", "complained", delivery)
    del body["signature"]
    response = client.post(
        MAILGUN_URL, json.dumps(body), content_type="application/json", headers=basic_auth(SECRET)
    )
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()


def test_amazon_sns_without_credentials_is_challenged_and_nothing_is_recorded(client, delivery):
    response = post_ses(client, payload("amazon_ses", "complaint", delivery), secret=None)
    assert response.status_code == 401  # SNS sends basic auth only after this challenge
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not DeliveryEvent.objects.exists()


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_webhooks_are_refused_while_no_secret_is_configured(client, delivery, settings):
    # Anymail alone would only warn and accept anyone's posts.
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    response = post_postmark(client, payload("postmark", "hard_bounce", delivery), secret=None)
    assert response.status_code == 404  # not set up on this site (subscribers/tracking/urls.py)
    assert not DeliveryEvent.objects.exists()
    assert not suppression.is_suppressed("ann@example.org")


def test_the_secret_rotates_without_downtime(client, delivery, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": [SECRET, NEW_SECRET]}  # during rotation
    assert post_postmark(client, payload("postmark", "delivery", delivery), secret=SECRET).status_code == 200
    assert post_postmark(client, payload("postmark", "open", delivery), secret=NEW_SECRET).status_code == 200

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": [NEW_SECRET]}  # the ESP now uses the new one
    assert post_postmark(client, payload("postmark", "click", delivery), secret=SECRET).status_code == 400
    assert sorted(DeliveryEvent.objects.values_list("event_type", flat=True)) == ["delivered", "opened"]


# Recording events -------------------------------------------------------------------------------


def test_a_postmark_delivery_is_recorded_against_its_delivery(client, delivery):
    response = post_postmark(client, payload("postmark", "delivery", delivery))

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.send, event.esp_name) == (delivery, delivery.send, "Postmark")
    assert event.event_type == DeliveryEvent.EventType.DELIVERED
    assert event.esp_message_id == delivery.esp_message_id
    assert event.esp_event_id.startswith("sha256:")  # Postmark gives deliveries no event id
    assert event.occurred_at == EVENT_TIME
    assert event.recipient_hash == delivery.email_hash
    assert "ann@example.org" not in json.dumps(event.raw)  # events keep only the address's hash
    assert event.raw["Recipient"] == "[recipient]"
    refresh(delivery)
    assert delivery.delivered_at == EVENT_TIME
    assert delivery.status == Delivery.Status.SENT


@pytest.mark.parametrize(
    ("event", "stamp", "status", "reason"),
    [
        ("hard_bounce", "bounced_at", Subscriber.Status.BOUNCED, Suppression.Reason.HARD_BOUNCE),
        ("spam_complaint", "complained_at", Subscriber.Status.COMPLAINED, Suppression.Reason.COMPLAINT),
    ],
)
def test_a_postmark_hard_bounce_or_complaint_suppresses_the_address_at_once(
    client, delivery, event, stamp, status, reason
):
    post_postmark(client, payload("postmark", event, delivery))

    refresh(delivery, delivery.subscriber)
    assert getattr(delivery, stamp) == EVENT_TIME
    assert delivery.subscriber.status == status
    assert suppression.suppression_reason("ann@example.org") == reason
    assert Subscriber.objects.mailable().count() == 0
    assert mail.outbox == []


def test_a_postmark_hard_bounce_records_the_bounce_and_its_reason(client, delivery):
    post_postmark(client, payload("postmark", "hard_bounce", delivery))

    event = DeliveryEvent.objects.get()
    assert (event.event_type, event.esp_event_id, event.reject_reason) == (
        "bounced",
        "4323372036854775807",
        "bounced",
    )
    assert "5.1.1" in event.description
    assert mail.outbox == []


def test_a_postmark_soft_bounce_is_recorded_but_suppresses_nothing(client, delivery):
    post_postmark(client, payload("postmark", "soft_bounce", delivery))

    refresh(delivery, delivery.subscriber)
    assert DeliveryEvent.objects.get().event_type == DeliveryEvent.EventType.BOUNCED
    assert delivery.bounced_at == EVENT_TIME
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed("ann@example.org")


def test_a_postmark_unsubscribe_unsubscribes_through_the_esp_channel(client, delivery):
    post_postmark(client, payload("postmark", "unsubscribe", delivery))

    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert delivery.subscriber.unsubscribe_channel == "esp"
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.UNSUBSCRIBED
    assert DeliveryEvent.objects.get().event_type == DeliveryEvent.EventType.UNSUBSCRIBED
    assert mail.outbox == []  # no goodbye email for an unsubscribe made at the ESP


def test_mailgun_opens_and_clicks_are_recorded_per_delivery(client, delivery):
    delivery.esp_message_id = "<20250603093015.1.DF5966851B4BAA99@news.example.org>"
    delivery.save()
    opened = payload(
        "mailgun", "opened", delivery, message_id="20250603093015.1.DF5966851B4BAA99@news.example.org"
    )
    clicked = payload("mailgun", "clicked", delivery, when=EVENT_TIME + timedelta(minutes=2))

    assert post_mailgun(client, opened).status_code == 200
    assert post_mailgun(client, clicked).status_code == 200

    refresh(delivery)
    assert delivery.opened_at == EVENT_TIME
    assert delivery.first_click_at == EVENT_TIME + timedelta(minutes=2)
    click = DeliveryEvent.objects.get(event_type="clicked")
    assert click.url == "https://arxiv.org/abs/2111.15121"
    assert click.esp_name == "Mailgun"
    assert click.esp_event_id == f"Cl1ck3d-event-id@{(EVENT_TIME + timedelta(minutes=2)).timestamp()}"


def test_a_click_on_a_personal_link_is_stored_without_its_token(client, delivery):
    from subscribers import links

    url = links.unsubscribe_url(delivery.subscriber)
    post_mailgun(client, payload("mailgun", "clicked", delivery, click_url=url))

    event = DeliveryEvent.objects.get()
    assert event.url == "https://news.example.org/unsubscribe/{token}/"
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert token not in json.dumps(event.raw)


def test_a_mailgun_permanent_failure_suppresses_and_a_temporary_one_does_not(client, delivery, send):
    other_delivery = make_delivery(send, "bob@example.org")
    other = other_delivery.subscriber

    post_mailgun(client, payload("mailgun", "failed_temporary", other_delivery, recipient="bob@example.org"))
    post_mailgun(client, payload("mailgun", "failed_permanent", delivery))

    refresh(delivery.subscriber, other, other_delivery)
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.HARD_BOUNCE
    assert other.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed("bob@example.org")
    assert other_delivery.bounced_at is None
    assert DeliveryEvent.objects.get(delivery=other_delivery).event_type == DeliveryEvent.EventType.DEFERRED


def test_a_mailgun_complaint_and_unsubscribe_suppress(client, delivery):
    post_mailgun(client, payload("mailgun", "complained", delivery))

    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.COMPLAINT


def test_an_amazon_ses_permanent_bounce_suppresses_and_a_transient_one_does_not(client, delivery, send):
    other_delivery = make_delivery(send, "bob@example.org", esp_message_id="0000014644fe5ef6-9a48-000000")
    other = other_delivery.subscriber

    transient = payload("amazon_ses", "bounce_transient", other_delivery, recipient="bob@example.org")
    assert post_ses(client, transient).status_code == 200
    permanent = payload("amazon_ses", "bounce_permanent", delivery, sns_message_id="5f3b-permanent")
    assert post_ses(client, permanent).status_code == 200

    refresh(delivery.subscriber, other)
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.HARD_BOUNCE
    assert other.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed("bob@example.org")
    assert DeliveryEvent.objects.filter(event_type="bounced").count() == 2
    hard = DeliveryEvent.objects.get(delivery=delivery)
    assert hard.description == "Permanent: General | smtp; 550 5.1.1 <[recipient]>... User unknown"
    assert "ann@example.org" not in json.dumps(hard.raw)


def test_an_amazon_ses_complaint_suppresses(client, delivery):
    assert post_ses(client, payload("amazon_ses", "complaint", delivery)).status_code == 200

    refresh(delivery, delivery.subscriber)
    assert delivery.complained_at is not None
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.COMPLAINT


# Idempotency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hard_bounce", "open", "delivery", "unsubscribe"])
def test_a_replayed_postmark_event_changes_nothing(client, delivery, name):
    body = payload("postmark", name, delivery)
    assert post_postmark(client, body).status_code == 200
    refresh(delivery, delivery.subscriber)
    before = (
        list(Delivery.objects.values()),
        list(Subscriber.objects.values()),
        list(Suppression.objects.values()),
    )

    assert post_postmark(client, body).status_code == 200

    assert DeliveryEvent.objects.count() == 1
    after = (
        list(Delivery.objects.values()),
        list(Subscriber.objects.values()),
        list(Suppression.objects.values()),
    )
    assert after == before


def test_a_mailgun_retry_with_a_fresh_signature_token_is_the_same_event(client, delivery):
    body = payload("mailgun", "opened", delivery)
    post_mailgun(client, body, token="a" * 50)
    post_mailgun(client, body, token="b" * 50)  # Mailgun re-signs each post

    assert DeliveryEvent.objects.count() == 1


def test_two_different_opens_are_two_events(client, delivery):
    post_postmark(client, payload("postmark", "open", delivery))
    post_postmark(client, payload("postmark", "open", delivery, when=EVENT_TIME + timedelta(hours=5)))

    assert DeliveryEvent.objects.filter(event_type="opened").count() == 2
    refresh(delivery)
    assert delivery.opened_at == EVENT_TIME


# Late and out-of-order events -------------------------------------------------------------------


def test_a_late_delivered_event_never_undoes_a_bounce(client, delivery):
    post_postmark(client, payload("postmark", "hard_bounce", delivery))
    post_postmark(client, payload("postmark", "delivery", delivery, when=EVENT_TIME - timedelta(minutes=1)))

    refresh(delivery, delivery.subscriber)
    assert delivery.bounced_at == EVENT_TIME
    assert delivery.subscriber.status == Subscriber.Status.BOUNCED
    assert suppression.is_suppressed("ann@example.org")
    from subscribers.tracking.analytics import send_totals

    totals = send_totals(delivery.send)
    assert (totals["bounced"], totals["delivered"]) == (1, 0)


def test_an_open_after_an_unsubscribe_does_not_resubscribe(client, delivery):
    post_postmark(client, payload("postmark", "unsubscribe", delivery))
    post_postmark(client, payload("postmark", "open", delivery, when=EVENT_TIME + timedelta(hours=1)))
    post_postmark(client, payload("postmark", "click", delivery, when=EVENT_TIME + timedelta(hours=1)))

    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert suppression.is_suppressed("ann@example.org")


def test_a_late_open_moves_the_first_open_earlier_but_never_later(client, delivery):
    post_postmark(client, payload("postmark", "open", delivery, when=EVENT_TIME + timedelta(hours=2)))
    post_postmark(client, payload("postmark", "open", delivery, when=EVENT_TIME))
    post_postmark(client, payload("postmark", "open", delivery, when=EVENT_TIME + timedelta(hours=9)))

    refresh(delivery)
    assert delivery.opened_at == EVENT_TIME


def test_a_delivered_event_after_a_complaint_keeps_the_complaint(client, delivery):
    post_mailgun(client, payload("mailgun", "complained", delivery))
    post_mailgun(client, payload("mailgun", "delivered", delivery, when=EVENT_TIME - timedelta(minutes=3)))

    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.COMPLAINED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.COMPLAINT


def test_a_late_esp_unsubscribe_does_not_undo_a_later_sign_up(client, delivery):
    subscriber = delivery.subscriber
    subscriptions.unsubscribe(subscriber, Subscriber.Channel.LINK)
    mail.outbox.clear()
    Subscriber.objects.filter(pk=subscriber.pk).update(
        status=Subscriber.Status.ACTIVE, confirmed_at=EVENT_TIME + timedelta(days=1)
    )
    suppression.lift_opt_out(subscriber.email)

    post_postmark(client, payload("postmark", "unsubscribe", delivery))  # dated before the new sign-up

    refresh(subscriber)
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed("ann@example.org")


# Finding the delivery ---------------------------------------------------------------------------


def test_an_unknown_delivery_becomes_sent_when_the_esp_reports_on_it(client, delivery):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.UNKNOWN, sent_at=None, esp_message_id=""
    )

    post_postmark(
        client, payload("postmark", "delivery", delivery, message_id="883953f4-6105-42a2-a16a-77a8eac79483")
    )

    refresh(delivery)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.sent_at == EVENT_TIME
    assert delivery.esp_message_id == "883953f4-6105-42a2-a16a-77a8eac79483"


def test_an_event_without_metadata_is_matched_by_the_esp_message_id(client, delivery):
    body = payload("postmark", "open", delivery)
    del body["Metadata"]

    post_postmark(client, body)

    assert DeliveryEvent.objects.get().delivery == delivery


def test_metadata_naming_another_recipients_delivery_is_not_trusted(client, delivery):
    body = payload("postmark", "hard_bounce", delivery, recipient="mallory@example.org", message_id="other")

    post_postmark(client, body)

    event = DeliveryEvent.objects.get()
    assert event.delivery is None
    refresh(delivery, delivery.subscriber)
    assert delivery.bounced_at is None
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE
    assert suppression.is_suppressed("mallory@example.org")  # the address that did bounce


def test_a_bounce_of_a_mail_outside_the_send_pipeline_still_suppresses(client, subscriber):
    # e.g. a confirmation or welcome email: no Delivery row, no metadata.
    post_mailgun(client, payload("mailgun", "failed_permanent", None))

    refresh(subscriber)
    assert subscriber.status == Subscriber.Status.BOUNCED
    assert suppression.suppression_reason("ann@example.org") == Suppression.Reason.HARD_BOUNCE
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.send) == (None, None)


def test_a_reactivation_at_the_esp_never_resubscribes(client, delivery):
    post_postmark(client, payload("postmark", "unsubscribe", delivery))
    reactivated = payload("postmark", "unsubscribe", delivery, when=EVENT_TIME + timedelta(days=1))
    reactivated.update(SuppressSending=False, SuppressionReason=None)  # Postmark's "Subscribe" change

    post_postmark(client, reactivated)

    refresh(delivery.subscriber)
    assert delivery.subscriber.status == Subscriber.Status.UNSUBSCRIBED  # only double opt-in brings them back
    assert suppression.is_suppressed("ann@example.org")
    stored = DeliveryEvent.objects.order_by("occurred_at").last()
    assert (stored.event_type, stored.description) == ("unknown", "Anymail event type: subscribed")
