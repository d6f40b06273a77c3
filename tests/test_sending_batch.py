"""ESP batch sending: where the ESP fills per-recipient values and headers itself, a batch goes out
as one message per variant (merge_data, merge_headers, merge_metadata) and each recipient's answer
decides their delivery alone. Elsewhere (SMTP, Anymail's test backend unless told otherwise)
every subscriber gets their own message, as before."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from subscribers import sending, tokens
from subscribers.models import Delivery, Send
from subscribers.sending import batching
from subscribers.sending.handover import Prepared, build_message

from .factories import make_subscriber
from .fake_esp import fake_resend
from .sending_fixtures import parse, parts, run_send, sendable_issue_fixtures

pytestmark = pytest.mark.django_db

sections, issue = sendable_issue_fixtures()

TEST_BACKEND = "anymail.backends.test.EmailBackend"
ANSWERS: dict[str, str] = {}  # address -> the status RecipientStatusBackend answers for it


class RecipientStatusBackend(AnymailTestBackend):
    """Anymail's test backend answering a per-recipient status (ANSWERS; "queued" otherwise)."""

    def post_to_esp(self, payload, message):
        super().post_to_esp(payload, message)
        return {
            "recipient_status": {
                email: AnymailRecipientStatus(message_id=f"esp-{email}", status=ANSWERS.get(email, "queued"))
                for email in payload.recipient_emails
            }
        }


class FailingBackend(AnymailTestBackend):
    def post_to_esp(self, payload, message):
        super().post_to_esp(payload, message)
        response = requests.Response()
        response.status_code, response.reason, response._content = 503, "Service Unavailable", b"{}"
        raise AnymailAPIError("Service unavailable", status_code=503, response=response)


def esp_fill(content: str, values: dict) -> str:
    """What Mailgun does with %recipient.name% fields."""
    return re.sub(r"%recipient\.(\w+)%", lambda m: values[m.group(1)], content)


def test_one_message_per_variant_carries_every_recipient_with_their_values(
    settings, issue, sections, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = TEST_BACKEND
    settings.SEND_BATCH_ESP = "Mailgun"
    readers = [make_subscriber(f"all{i}@example.org", name=f"Reader <{i}> & co") for i in range(4)]
    readers += [make_subscriber(f"text{i}@example.org", format="text") for i in range(3)]
    readers += [make_subscriber(f"align{i}@example.org", sections=[sections["alignment"]]) for i in range(2)]

    send = run_send(issue, django_capture_on_commit_callbacks)

    assert send.status == Send.Status.FINISHED
    assert len(mail.outbox) == 3  # html:all, text:all and html:<alignment>
    assert sorted(len(message.to) for message in mail.outbox) == [2, 3, 4]
    for message in mail.outbox:
        assert "{{" not in message.body and "%recipient.unsubscribe_url%" in message.body
        assert message.extra_headers["List-Id"]
        for address in message.to:
            reader = next(r for r in readers if r.email == address)
            delivery = Delivery.objects.get(send=send, subscriber=reader)
            values = message.merge_data[address]
            headers = message.merge_headers[address]
            assert headers["Message-ID"] == delivery.message_id
            assert headers["X-Newsletter-Delivery"] == str(delivery.pk)
            assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert message.merge_metadata[address] == {
                "send_id": str(send.pk),
                "delivery_id": str(delivery.pk),
                "issue": str(issue.number),
            }
            unsubscribe = re.search(r"<(https://[^>]+)>", headers["List-Unsubscribe"]).group(1)
            assert tokens.read_unsubscribe_token(urlsplit(unsubscribe).path.split("/")[2]) == reader
            text = esp_fill(message.body, values)
            assert f"Unsubscribe: {unsubscribe}" in text
            if message.alternatives:
                html = esp_fill(message.alternatives[0][0], values)
                assert f'href="{escape(unsubscribe)}"' in html
                assert values["name_html"] == escape(reader.name)
            assert delivery.status == Delivery.Status.SENT
            assert delivery.esp_message_id and delivery.variant_key


def test_one_refused_recipient_fails_alone_and_unknown_stays_unknown(
    settings, issue, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RecipientStatusBackend"
    settings.SEND_BATCH_ESP = "SendGrid"
    for index in range(5):
        make_subscriber(f"r{index}@example.org")
    ANSWERS.clear()
    ANSWERS.update({"r1@example.org": "rejected", "r3@example.org": "unknown"})

    send = run_send(issue, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1 and len(mail.outbox[0].to) == 5
    status = dict(Delivery.objects.filter(send=send).values_list("subscriber__email", "status"))
    assert status == {
        "r0@example.org": Delivery.Status.SENT,
        "r1@example.org": Delivery.Status.FAILED,
        "r2@example.org": Delivery.Status.SENT,
        "r3@example.org": Delivery.Status.UNKNOWN,
        "r4@example.org": Delivery.Status.SENT,
    }
    sent = Delivery.objects.get(send=send, subscriber__email="r2@example.org")
    assert sent.esp_message_id == "esp-r2@example.org"
    assert "-unsubscribe_url-" in mail.outbox[0].body  # SendGrid's delimited substitution keys
    assert "-unsubscribe_url-" in mail.outbox[0].merge_data["r0@example.org"]
    ANSWERS.clear()


def test_an_error_for_the_whole_batch_applies_to_each_of_its_deliveries(
    settings, issue, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    settings.SEND_BATCH_ESP = "Mailgun"
    settings.SEND_MAX_ATTEMPTS = 2
    settings.SEND_RETRY_SECONDS = 0
    for index in range(3):
        make_subscriber(f"r{index}@example.org")

    send = run_send(issue, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2  # one batch, retried once
    rows = Delivery.objects.filter(send=send)
    assert {(row.status, row.attempts) for row in rows} == {(Delivery.Status.FAILED, 2)}


def test_without_a_batch_esp_each_subscriber_gets_their_own_message(
    settings, issue, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = TEST_BACKEND  # esp_name "Test": not a batch ESP
    for index in range(3):
        make_subscriber(f"r{index}@example.org")

    run_send(issue, django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mail.outbox) == [f"r{i}@example.org" for i in range(3)]
    assert not any(getattr(message, "merge_data", None) for message in mail.outbox)


def test_the_batch_esp_is_chosen_from_the_backend(settings):
    from anymail.backends.mailgun import EmailBackend as Mailgun
    from anymail.backends.postmark import EmailBackend as Postmark
    from anymail.backends.resend import EmailBackend as Resend
    from anymail.backends.sendgrid import EmailBackend as SendGrid
    from django.core.mail.backends.smtp import EmailBackend as Smtp

    from subscribers.sending.esp_backends import ResendBackend

    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "k",
        "POSTMARK_SERVER_TOKEN": "k",
        "RESEND_API_KEY": "k",
        "SENDGRID_API_KEY": "k",
    }
    assert batching.for_connection(Mailgun()).field == "%recipient.{}%"
    assert batching.for_connection(SendGrid()).in_content("name") == "-name-"
    assert batching.for_connection(ResendBackend()).esp_name == "Resend"
    for backend in (Postmark(), Resend(), Smtp(), AnymailTestBackend()):
        assert batching.for_connection(backend) is None
    settings.SEND_BATCH_ESP = ""
    assert batching.for_connection(Mailgun()) is None


@pytest.mark.parametrize("size", [50, 500])
def test_a_batch_runs_the_same_queries_whatever_its_size(settings, issue, size):
    settings.EMAIL_BACKEND = TEST_BACKEND
    settings.SEND_BATCH_ESP = "Mailgun"
    settings.SEND_BATCH_SIZE = size
    for index in range(size):
        make_subscriber(f"r{index}@example.org")
    send = sending.start_send(issue)

    with CaptureQueriesContext(connection) as queries:
        result = sending.send_batch(send.pk)

    assert result.claimed == size and result.counts == {Delivery.Status.SENT: size}
    assert len(mail.outbox) == 1 and len(mail.outbox[0].to) == size
    # As on the message-by-message path (test_sending_claims), with one API call: taking its rows
    # in hand (1) and writing its outcomes (1), whatever the number of recipients it carries.
    assert len(queries.captured_queries) == 12, [q["sql"][:80] for q in queries.captured_queries]


def test_resend_batches_reach_every_subscriber_once_with_their_own_links(
    settings, client, issue, sections, django_capture_on_commit_callbacks
):
    settings.SEND_BATCH_SIZE = 150
    expected = {}
    for index in range(160):
        chosen = [[], [sections["monitoring"]]][index % 2]
        fmt = "text" if index % 9 == 0 else "html"
        reader = make_subscriber(
            f"reader{index}@example.org", sections=chosen, format=fmt, name=f"R&D {index}"
        )
        expected[reader.email] = (reader, fmt)

    with fake_resend(settings, backend="subscribers.sending.esp_backends.ResendBackend") as esp:
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert send.status == Send.Status.FINISHED
    assert sorted(email["to"][0] for email in esp.emails) == sorted(expected)  # one copy each
    assert {email["path"] for email in esp.emails} == {"emails/batch"}
    # 160 recipients in 2 claims (150 + 10), 3 variants each, at most 100 emails per call
    assert len(esp.key_log) <= 8 and all(key.startswith(f"send-{send.pk}-batch-") for key in esp.key_log)
    for address, (reader, fmt) in expected.items():
        [copy] = esp.copies(address)
        delivery = Delivery.objects.get(send=send, subscriber=reader)
        assert delivery.status == Delivery.Status.SENT
        assert delivery.esp_message_id == copy["id"]
        headers = copy["headers"]
        assert headers["Message-ID"] == delivery.message_id
        assert json.loads(headers["X-Metadata"])["delivery_id"] == str(delivery.pk)
        unsubscribe = re.search(r"<(https://[^>]+)>", headers["List-Unsubscribe"]).group(1)
        assert tokens.read_unsubscribe_token(urlsplit(unsubscribe).path.split("/")[2]) == reader
        assert f"Unsubscribe: {unsubscribe}" in copy["text"] and "{{" not in copy["text"]
        assert bool(copy.get("html")) == (fmt == "html")
        if fmt == "html":
            assert f'href="{escape(unsubscribe)}"' in copy["html"] and "{{" not in copy["html"]
        if reader.pk % 50 == 0:
            assert client.get(urlsplit(unsubscribe).path).status_code == 200


def test_resend_copies_parse_as_the_message_by_message_path_would_send_them(
    settings, issue, django_capture_on_commit_callbacks
):
    """The batch path's copy and the single path's message agree, part for part."""
    reader = make_subscriber("solo@example.org", name="Solo")
    with fake_resend(settings, backend="subscribers.sending.esp_backends.ResendBackend") as esp:
        send = run_send(issue, django_capture_on_commit_callbacks)
    [copy] = esp.copies("solo@example.org")

    delivery = Delivery.objects.get(send=send, subscriber=reader)
    delivery.suppressed = False  # as claims.load_claimed annotates it
    item = sending._prepare(send, delivery)
    assert isinstance(item, Prepared)
    single = parse(build_message(send, item, send.variants.get(key=item.key)).message().as_bytes())
    text, html = parts(single)
    # The signed links carry a timestamp; compare with the tokens blanked out.
    blank = re.compile(r"/(unsubscribe|preferences)/[^/\"\s]+/")
    assert blank.sub("/x/", copy["text"]) == blank.sub("/x/", text)
    assert blank.sub("/x/", copy["html"]) == blank.sub("/x/", html.rstrip("\n"))
