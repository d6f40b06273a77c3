"""Every kind of mail-server failure ends as the design says: retried (with a limit), failed for
that recipient alone, or "unknown" (never resent by itself). Real failing servers: a local
ESP-shaped HTTP server behind Anymail's Resend backend, and aiosmtpd answering SMTP errors."""

from __future__ import annotations

import smtplib

import pytest
from anymail.exceptions import AnymailAPIError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending.delivery_errors import CONNECT, Action, classify

from .factories import make_sections, make_subscriber
from .fake_esp import fake_resend
from .sending_fixtures import make_sendable_issue, run_send
from .smtp_server import RecordingHandler, free_port, smtp_server

pytestmark = pytest.mark.django_db

ADDRESSES = [f"r{index}@example.org" for index in range(6)]


@pytest.fixture
def issue(settings):
    settings.SEND_RETRY_SECONDS = 0
    settings.SEND_MAX_ATTEMPTS = 3
    settings.SEND_BATCH_SIZE = 10
    for address in ADDRESSES:
        make_subscriber(address)
    return make_sendable_issue(make_sections())


def delivery(send: Send, address: str) -> Delivery:
    return Delivery.objects.get(send=send, subscriber__email=address)


def test_a_429_is_retried_and_then_sent_once(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[2]] = [429]
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert send.status == Send.Status.FINISHED
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == len(ADDRESSES)
    assert delivery(send, ADDRESSES[2]).attempts == 2
    assert all(esp.accepted(address) == 1 for address in ADDRESSES)


def test_a_503_that_persists_is_retried_up_to_the_limit_then_fails(
    settings, issue, django_capture_on_commit_callbacks
):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[0]] = [503] * 10
        send = run_send(issue, django_capture_on_commit_callbacks)

    failed = delivery(send, ADDRESSES[0])
    assert failed.status == Delivery.Status.FAILED
    assert failed.attempts == 3 and "Gave up after 3 attempts" in failed.error
    assert [to for to, _ in esp.requests].count(ADDRESSES[0]) == 3  # nothing retried forever
    assert send.status == Send.Status.FINISHED
    assert all(esp.accepted(address) == 1 for address in ADDRESSES[1:])


def test_connection_refused_is_retried_then_fails(settings, issue, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "anymail.backends.resend.EmailBackend"
    settings.ANYMAIL = {"RESEND_API_KEY": "re_test", "RESEND_API_URL": f"http://127.0.0.1:{free_port()}/"}
    send = run_send(issue, django_capture_on_commit_callbacks)

    rows = Delivery.objects.filter(send=send)
    assert {row.status for row in rows} == {Delivery.Status.FAILED}
    assert all(row.attempts == 3 and "Could not reach the ESP" in row.error for row in rows)


def test_a_timeout_after_the_request_was_sent_is_unknown_and_not_resent(
    settings, issue, django_capture_on_commit_callbacks
):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[1]] = ["timeout"]
        send = run_send(issue, django_capture_on_commit_callbacks)

    unknown = delivery(send, ADDRESSES[1])
    assert unknown.status == Delivery.Status.UNKNOWN
    assert "answer was lost" in unknown.error
    assert esp.accepted(ADDRESSES[1]) == 1  # the ESP has it once; we did not send it again
    assert all(esp.accepted(address) == 1 for address in ADDRESSES)
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == len(ADDRESSES) - 1
    assert send.status == Send.Status.FINISHED
    assert sending.progress(send)["unknown"] == 1


def test_a_connection_lost_mid_response_is_unknown(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[3]] = ["drop"]
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[3]).status == Delivery.Status.UNKNOWN
    assert all(esp.accepted(address) == 1 for address in ADDRESSES)


def test_a_gateway_timeout_is_unknown(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[0]] = [504]
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[0]).status == Delivery.Status.UNKNOWN
    assert [to for to, _ in esp.requests].count(ADDRESSES[0]) == 1


def test_a_4xx_rejection_of_one_recipient_fails_only_that_delivery(
    settings, issue, django_capture_on_commit_callbacks
):
    with fake_resend(settings) as esp:
        esp.script[ADDRESSES[4]] = [422]
        send = run_send(issue, django_capture_on_commit_callbacks)

    rejected = delivery(send, ADDRESSES[4])
    assert rejected.status == Delivery.Status.FAILED and rejected.attempts == 1
    assert "422" in rejected.error
    others = Delivery.objects.filter(send=send).exclude(pk=rejected.pk)
    assert {row.status for row in others} == {Delivery.Status.SENT}
    assert len(esp.requests) == len(ADDRESSES)


def test_the_esp_message_id_is_recorded(settings, issue, django_capture_on_commit_callbacks):
    with fake_resend(settings):
        send = run_send(issue, django_capture_on_commit_callbacks)
    ids = list(Delivery.objects.filter(send=send).values_list("esp_message_id", flat=True))
    assert len(set(ids)) == len(ADDRESSES) and all(len(value) == 36 for value in ids)


# SMTP -------------------------------------------------------------------------------------------


def test_smtp_550_for_one_recipient_fails_it_alone(settings, issue, django_capture_on_commit_callbacks):
    handler = RecordingHandler(rcpt_reply=lambda a: "550 5.1.1 No such user" if a == ADDRESSES[0] else None)
    with smtp_server(settings, handler):
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[0]).status == Delivery.Status.FAILED
    assert "550" in delivery(send, ADDRESSES[0]).error
    assert sorted(m.rcpt_tos[0] for m in handler.messages) == sorted(ADDRESSES[1:])


def test_smtp_450_is_retried_and_then_sent(settings, issue, django_capture_on_commit_callbacks):
    refusals = {ADDRESSES[1]: 1}

    def rcpt_reply(address):
        if refusals.get(address):
            refusals[address] -= 1
            return "450 4.2.1 Mailbox busy, try later"
        return None

    handler = RecordingHandler(rcpt_reply=rcpt_reply)
    with smtp_server(settings, handler):
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[1]).status == Delivery.Status.SENT
    assert delivery(send, ADDRESSES[1]).attempts == 2
    assert sorted(m.rcpt_tos[0] for m in handler.messages) == sorted(ADDRESSES)


@pytest.mark.parametrize(
    ("reply", "status"),
    [("451 4.3.0 Try again", Delivery.Status.SENT), ("554 5.7.1 Spam", Delivery.Status.FAILED)],
)
def test_smtp_replies_after_data_are_classified(
    settings, issue, django_capture_on_commit_callbacks, reply, status
):
    seen = []

    def data_reply(envelope):
        if envelope.rcpt_tos == [ADDRESSES[2]] and not seen:
            seen.append(1)
            return reply
        return None

    handler = RecordingHandler(data_reply=data_reply)
    with smtp_server(settings, handler):
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[2]).status == status
    copies = [m for m in handler.messages if m.rcpt_tos == [ADDRESSES[2]]]
    assert len(copies) == (1 if status == Delivery.Status.SENT else 0)


def test_smtp_connection_dropped_after_data_is_unknown_and_not_resent(
    settings, issue, django_capture_on_commit_callbacks
):
    handler = RecordingHandler(
        data_reply=lambda envelope: "DROP" if envelope.rcpt_tos == [ADDRESSES[3]] else None
    )
    with smtp_server(settings, handler):
        send = run_send(issue, django_capture_on_commit_callbacks)

    assert delivery(send, ADDRESSES[3]).status == Delivery.Status.UNKNOWN
    received = [m.rcpt_tos[0] for m in handler.messages]
    assert sorted(received) == sorted(ADDRESSES)  # the rest went out on a new connection, each once
    assert send.status == Send.Status.FINISHED


def test_smtp_server_down_is_retried_then_fails(settings, issue, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    send = run_send(issue, django_capture_on_commit_callbacks)

    rows = Delivery.objects.filter(send=send)
    assert {row.status for row in rows} == {Delivery.Status.FAILED}
    assert all(row.attempts == 3 for row in rows)


# The classification itself, for errors the servers above do not produce ----------------------


def test_boto_throttling_and_connection_errors_are_retried():
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "SendEmail")
    wrapped = AnymailAPIError("SES failed")
    wrapped.__cause__ = throttled
    assert classify(wrapped).action is Action.RETRY
    unreachable = AnymailAPIError("SES failed")
    unreachable.__cause__ = EndpointConnectionError(endpoint_url="https://email.example")
    assert classify(unreachable).action is Action.RETRY


def test_boto_read_timeout_is_unknown_and_rejection_fails():
    timeout = AnymailAPIError("SES failed")
    timeout.__cause__ = ReadTimeoutError(endpoint_url="https://email.example")
    assert classify(timeout).action is Action.UNKNOWN
    rejected = AnymailAPIError("SES failed")
    rejected.__cause__ = ClientError({"Error": {"Code": "MessageRejected", "Message": "x"}}, "SendEmail")
    assert classify(rejected).action is Action.FAILED


def test_anything_while_connecting_is_retried_and_unknown_errors_are_unknown():
    assert classify(smtplib.SMTPServerDisconnected("gone"), CONNECT).action is Action.RETRY
    assert classify(smtplib.SMTPServerDisconnected("gone")).action is Action.UNKNOWN
    assert classify(TimeoutError("timed out")).action is Action.UNKNOWN
    assert classify(RuntimeError("surprise")).action is Action.UNKNOWN
