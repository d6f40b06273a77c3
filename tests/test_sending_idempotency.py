"""Idempotency keys: where the ESP takes one (Resend's Idempotency-Key header, Brevo's
idempotencyKey), every request carries its delivery's key (a batch: its deliveries' key), so
sending again what the ESP may already have never makes a second copy."""

from __future__ import annotations

import uuid

import pytest
from anymail.backends.brevo import EmailBackend as BrevoBackend
from django.core.mail import EmailMessage

from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending.esp_backends import set_idempotency_key
from subscribers.sending.handover import batch_key

from .factories import make_sections, make_subscriber
from .fake_esp import fake_resend
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db

RESEND = "subscribers.sending.esp_backends.ResendBackend"
ADDRESSES = [f"r{index}@example.org" for index in range(4)]


@pytest.fixture
def issue(settings):
    settings.SEND_RETRY_SECONDS = 0
    settings.SEND_BATCH_SIZE = 10
    for address in ADDRESSES:
        make_subscriber(address)
    return make_sendable_issue(make_sections())


def run(capture, action, *args) -> Send:
    with capture(execute=True):
        result = action(*args)
    return result


def test_each_request_carries_its_deliverys_key(settings, issue, django_capture_on_commit_callbacks):
    settings.SEND_BATCH_ESP = ""  # message by message
    with fake_resend(settings, backend=RESEND) as esp:
        send = run(django_capture_on_commit_callbacks, sending.start_send, issue)

    for address in ADDRESSES:
        delivery = Delivery.objects.get(send=send, subscriber__email=address)
        [copy] = esp.copies(address)
        assert copy["path"] == "emails"
        assert copy["idempotency_key"] == f"send-{send.pk}-delivery-{delivery.pk}"
        assert delivery.status == Delivery.Status.SENT


def test_resending_after_a_timeout_sends_the_same_key_and_the_esp_keeps_one_copy(
    settings, issue, django_capture_on_commit_callbacks
):
    settings.SEND_BATCH_ESP = ""
    with fake_resend(settings, backend=RESEND) as esp:
        esp.script[ADDRESSES[1]] = ["timeout"]
        send = run(django_capture_on_commit_callbacks, sending.start_send, issue)
        delivery = Delivery.objects.get(send=send, subscriber__email=ADDRESSES[1])
        assert delivery.status == Delivery.Status.UNKNOWN
        [first] = esp.copies(ADDRESSES[1])  # the ESP took it; its answer was lost

        run(django_capture_on_commit_callbacks, sending.resend_unknown, send)

    key = f"send-{send.pk}-delivery-{delivery.pk}"
    assert esp.key_log.count(key) == 2  # tried twice, with the same key
    assert esp.accepted(ADDRESSES[1]) == 1 and len(esp.copies(ADDRESSES[1])) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.esp_message_id == first["id"]  # the ESP's first answer, replayed


def test_a_batch_sent_again_carries_the_same_key(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings, backend=RESEND) as esp:
        esp.script[ADDRESSES[2]] = ["timeout"]  # the whole batch's answer is lost
        send = run(django_capture_on_commit_callbacks, sending.start_send, issue)
        assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {
            Delivery.Status.UNKNOWN
        }

        run(django_capture_on_commit_callbacks, sending.resend_unknown, send)

    ids = list(Delivery.objects.filter(send=send).values_list("pk", flat=True))
    assert esp.key_log == [batch_key(send, ids)] * 2
    assert all(len(esp.copies(address)) == 1 for address in ADDRESSES)
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_a_batch_retried_after_a_503_carries_the_same_key(
    settings, issue, django_capture_on_commit_callbacks
):
    with fake_resend(settings, backend=RESEND) as esp:
        esp.script[ADDRESSES[0]] = [503]
        send = run(django_capture_on_commit_callbacks, sending.start_send, issue)

    ids = list(Delivery.objects.filter(send=send).values_list("pk", flat=True))
    assert esp.key_log == [batch_key(send, ids)] * 2
    assert all(len(esp.copies(address)) == 1 for address in ADDRESSES)
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT, attempts=2).count() == len(
        ADDRESSES
    )


def test_brevo_gets_the_key_as_a_uuid_in_its_headers_object(settings):
    settings.ANYMAIL = {"BREVO_API_KEY": "k"}
    backend = BrevoBackend()
    message = EmailMessage("Subject", "Body", "news@example.org", ["r@example.org"])

    set_idempotency_key(message, "send-1-delivery-2", backend)
    payload = backend.build_message_payload(message, backend.send_defaults)

    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, "send-1-delivery-2"))
    assert payload.data["headers"]["idempotencyKey"] == expected


def test_the_stock_resend_backend_sends_no_key(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings) as esp:
        run(django_capture_on_commit_callbacks, sending.start_send, issue)

    assert esp.key_log == [""] * len(ADDRESSES)
