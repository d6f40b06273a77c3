"""Every message: RFC 8058 unsubscribe headers, List-Id, a Message-ID unique per recipient and
stable across retries, the delivery's ids in Anymail metadata and tags; plus the rate limit."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command

from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending import throttle
from subscribers.sending.headers import list_id, message_id

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db

SENT_AT: list[float] = []


class TimingBackend(LocmemBackend):
    def send_messages(self, messages):
        SENT_AT.append(time.monotonic())
        return super().send_messages(messages)


@pytest.fixture
def issue():
    issue = make_sendable_issue(make_sections(), number=12)
    make_subscriber("ada@example.org", name="Ada")
    make_subscriber("bob@example.org")
    return issue


def send_now(issue) -> Send:
    send = sending.start_send(issue)
    sending.dispatch(send.pk)
    send.refresh_from_db()
    return send


def test_every_message_carries_the_list_headers_and_its_delivery(issue):
    send = send_now(issue)

    assert len(mail.outbox) == 2
    ids = set()
    for message in mail.outbox:
        delivery = Delivery.objects.get(send=send, subscriber__email=message.to[0])
        headers = message.extra_headers
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
        assert "<mailto:" in headers["List-Unsubscribe"]
        assert headers["List-Id"] == '"ML Safety Newsletter" <ml-safety-newsletter.news.example.org>'
        assert headers["Message-ID"] == message_id(send.pk, delivery.pk)
        assert headers["X-Newsletter-Delivery"] == str(delivery.pk)
        assert message.metadata == {"send_id": str(send.pk), "delivery_id": str(delivery.pk), "issue": "12"}
        assert message.tags == ["issue-12", f"send-{send.pk}"]
        assert "View in browser" in message.alternatives[0][0]
        assert "1 Example Street" in message.body
        ids.add(headers["Message-ID"])
        raw = message.message().as_string()
        assert f"Message-ID: {headers['Message-ID']}" in raw
    assert len(ids) == 2


def test_the_message_id_is_stable_across_retries(issue):
    send = sending.start_send(issue)
    delivery = Delivery.objects.filter(send=send).first()
    assert message_id(send.pk, delivery.pk) == delivery.message_id == message_id(send.pk, delivery.pk)


def test_list_id_can_be_set(settings):
    settings.LIST_ID = "digest.example.org"
    assert list_id() == '"ML Safety Newsletter" <digest.example.org>'


def test_a_test_send_goes_to_editors_without_unsubscribe_headers(issue):
    send = sending.start_test_send(issue, ["Editor@Example.org"])
    sending.dispatch(send.pk)

    (message,) = mail.outbox
    assert message.to == ["editor@example.org"]
    assert "List-Unsubscribe" not in message.extra_headers
    assert "{{" not in message.body
    send.refresh_from_db()
    assert send.kind == Send.Kind.TEST and send.status == Send.Status.FINISHED


def test_the_rate_limit_spaces_messages_across_batches(settings, issue):
    for index in range(8):
        make_subscriber(f"r{index}@example.org")
    settings.SEND_RATE_LIMIT = 20
    settings.SEND_BATCH_SIZE = 4
    settings.EMAIL_BACKEND = "tests.test_sending_headers.TimingBackend"
    SENT_AT.clear()

    send_now(issue)

    assert len(SENT_AT) == 10
    # Message k goes out no sooner than k / rate after the first (each waits for its own slot).
    # Pairs may stand closer when a message was delayed past its slot (a busy machine) and the next
    # one is on time: the rate over any stretch still holds, which is the promise.
    early = [k for k, at in enumerate(SENT_AT) if at - SENT_AT[0] < k / 20 - 0.01]
    assert not early, [round(at - SENT_AT[0], 3) for at in SENT_AT]


def test_reserved_windows_never_overlap(settings):
    settings.SEND_RATE_LIMIT = 100
    first = throttle.reserve(10)
    second = throttle.reserve(5)
    assert second.start >= first.start + 10 * first.interval - 1e-6


def test_the_command_sends_and_refuses_a_second_time(issue, capsys):
    call_command("send_issue", "12")
    assert "2 recipients" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already been sent"):
        call_command("send_issue", "12")
    with pytest.raises(CommandError, match="unknown"):
        call_command("send_issue", "12", "--resend-unknown")
    call_command("send_issue", "--reap")
    assert "enqueued" in capsys.readouterr().out
    assert len(mail.outbox) == 2
