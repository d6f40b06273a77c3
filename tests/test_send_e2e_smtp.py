"""End to end: an issue sent to a few hundred subscribers through Django's SMTP backend to a real
SMTP server, every received message parsed and checked."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from subscribers import sending, tokens
from subscribers.models import Delivery, Send, Subscriber

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue, parse, parts
from .smtp_server import smtp_server

pytestmark = pytest.mark.django_db

AUDIENCE = 300


def choices(index: int, sections: dict) -> tuple[list, str]:
    chosen = [[], [sections["robustness"]], [sections["monitoring"], sections["alignment"]]][index % 3]
    return chosen, "text" if index % 5 == 0 else "html"


@pytest.fixture
def audience():
    sections = make_sections()
    issue = make_sendable_issue(sections)
    expected = {}
    for index in range(AUDIENCE):
        chosen, fmt = choices(index, sections)
        subscriber = make_subscriber(
            f"reader{index}@example.org", sections=chosen, format=fmt, name=f"Reader {index}"
        )
        expected[subscriber.email] = (
            subscriber,
            {s.name for s in chosen} or {s.name for s in sections.values()},
            fmt,
        )
    return issue, sections, expected


@pytest.mark.slow
def test_every_subscriber_gets_one_correct_message(
    settings, client, audience, django_capture_on_commit_callbacks
):
    issue, sections, expected = audience
    settings.SEND_BATCH_SIZE = 64
    with smtp_server(settings) as server, django_capture_on_commit_callbacks(execute=True):
        send = sending.start_send(issue)

    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED
    assert send.recipient_count == AUDIENCE
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == AUDIENCE
    recipients = [rcpt for message in server.messages for rcpt in message.rcpt_tos]
    assert sorted(recipients) == sorted(expected)  # one each, nobody twice, nobody missed

    message_ids = set()
    for received in server.messages:
        (address,) = received.rcpt_tos
        subscriber, section_names, fmt = expected[address]
        message = parse(received.data)
        text, html = parts(message)
        message_ids.add(message["Message-ID"])
        delivery = Delivery.objects.get(send=send, subscriber=subscriber)
        assert message["Message-ID"] == delivery.message_id
        assert delivery.esp_message_id == message["Message-ID"]
        assert message["To"] == address
        assert message["List-Id"].endswith("<ml-safety-newsletter.news.example.org>")
        # RFC 8058: an https URI in List-Unsubscribe and the one-click POST header.
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https_target = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
        assert "<mailto:" in message["List-Unsubscribe"]
        assert "{{" not in text and "{{" not in html

        # Text for everyone; HTML only for those who chose it.
        assert text and (bool(html) == (fmt == "html"))
        for section in sections.values():
            heading = f"\n{section.name}\n{'-' * len(section.name)}\n"
            assert (heading in text) == (section.name in section_names), (address, section.name)
            if html:
                assert (f">{section.name}</h2>" in html) == (section.name in section_names)
        assert "View in browser" in html if html else "Read it on the web" in text
        assert "1 Example Street" in text

        # The personal links are this subscriber's.
        unsubscribe = re.search(r"Unsubscribe: (\S+)", text).group(1)
        preferences = re.search(r"Choose sections or format: (\S+)", text).group(1)
        assert unsubscribe == https_target
        assert tokens.read_unsubscribe_token(urlsplit(unsubscribe).path.split("/")[2]) == subscriber
        assert tokens.read_preferences_token(urlsplit(preferences).path.split("/")[2]) == subscriber
        if subscriber.pk % 25 == 0:
            assert client.get(urlsplit(unsubscribe).path).status_code == 200
            assert client.get(urlsplit(preferences).path).status_code == 200
    assert len(message_ids) == AUDIENCE


def test_a_second_full_send_is_refused_and_a_resend_reaches_only_the_newcomers(
    settings, audience, django_capture_on_commit_callbacks
):
    issue, _, _ = audience
    with smtp_server(settings) as server:
        with django_capture_on_commit_callbacks(execute=True):
            sending.start_send(issue)
        with pytest.raises(sending.SendRefused, match="already been sent"):
            sending.start_send(issue)
        make_subscriber("late@example.org")
        with django_capture_on_commit_callbacks(execute=True):
            resend = sending.start_send(issue, kind=Send.Kind.RESEND)

    assert resend.recipient_count == 1
    assert [m.rcpt_tos for m in server.messages].count(["late@example.org"]) == 1
    assert len(server.messages) == AUDIENCE + 1
    assert Subscriber.objects.count() == AUDIENCE + 1
