"""End to end through Anymail's Amazon SES backend (SES v2 SendEmail, raw MIME) to a local moto
server: every message SES received is parsed and checked."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import boto3
import pytest
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

from subscribers import sending, tokens
from subscribers.models import Delivery, Send

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue, parse, parts
from .smtp_server import free_port

pytestmark = pytest.mark.django_db

AUDIENCE = 200
REGION = "us-east-1"


@pytest.fixture
def ses(settings):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    params = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    boto3.client("sesv2", **params).create_email_identity(EmailIdentity="news.example.org")
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.ANYMAIL = {"AMAZON_SES_CLIENT_PARAMS": params}
    settings.DEFAULT_FROM_EMAIL = "ML Safety Newsletter <news@news.example.org>"
    backend = get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION]
    backend.sent_messages.clear()
    try:
        yield backend
    finally:
        backend.sent_messages.clear()
        server.stop()


@pytest.mark.slow
def test_an_issue_reaches_every_subscriber_through_ses(
    settings, client, ses, django_capture_on_commit_callbacks
):
    settings.SEND_BATCH_SIZE = 50
    sections = make_sections()
    issue = make_sendable_issue(sections)
    expected = {}
    for index in range(AUDIENCE):
        chosen = [[], [sections["alignment"]]][index % 2]
        fmt = "text" if index % 7 == 0 else "html"
        subscriber = make_subscriber(f"reader{index}@example.org", sections=chosen, format=fmt)
        names = {s.name for s in chosen} or {s.name for s in sections.values()}
        expected[subscriber.email] = (subscriber, names, fmt)

    with django_capture_on_commit_callbacks(execute=True):
        send = sending.start_send(issue)

    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED
    received = {}
    for raw in ses.sent_messages:
        message = parse(raw.raw_data)
        received.setdefault(message["To"], []).append((raw.id, message))
    assert sorted(received) == sorted(expected)
    assert all(len(copies) == 1 for copies in received.values())

    for address, [(ses_id, message)] in received.items():
        subscriber, names, fmt = expected[address]
        delivery = Delivery.objects.get(send=send, subscriber=subscriber)
        assert delivery.status == Delivery.Status.SENT
        assert delivery.esp_message_id == ses_id  # SES's MessageId, for its webhooks
        assert message["Message-ID"] == delivery.message_id
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"]
        # What SES's webhooks (SNS notifications) carry back, to find the delivery again.
        assert json.loads(message["X-Metadata"]) == {
            "send_id": str(send.pk),
            "delivery_id": str(delivery.pk),
            "issue": str(issue.number),
        }
        assert message.get_all("X-Tag") == [f"issue-{issue.number}", f"send-{send.pk}"]
        text, html = parts(message)
        assert text and bool(html) == (fmt == "html")
        for section in sections.values():
            assert (f"\n{section.name}\n{'-' * len(section.name)}\n" in text) == (section.name in names)
        unsubscribe = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
        assert unsubscribe in text
        assert tokens.read_unsubscribe_token(urlsplit(unsubscribe).path.split("/")[2]) == subscriber
        if subscriber.pk % 40 == 0:
            preferences = re.search(r"Choose sections or format: (\S+)", text).group(1)
            assert client.get(urlsplit(unsubscribe).path).status_code == 200
            assert client.get(urlsplit(preferences).path).status_code == 200
