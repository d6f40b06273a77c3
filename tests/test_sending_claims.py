"""Claims are atomic, results are recorded in bulk, and a worker that dies mid-batch never causes
a second copy nor loses anyone: its rows are shown as "unknown" once their lease runs out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscribers import claims, sending
from subscribers.addresses import address_hash
from subscribers.models import Delivery, Send, Subscriber

from .sending_fixtures import make_sections, make_sendable_issue

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs (it is not an Exception, so nothing catches it)."""


class DiesAfterTwoBackend(LocmemBackend):
    """Hands two messages over, then the worker dies before recording anything."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 2:
            raise WorkerKilled()
        return super().send_messages(messages)


@pytest.fixture
def issue():
    return make_sendable_issue(make_sections())


def subscribers(count: int, prefix: str = "r") -> None:
    now = timezone.now()
    rows = [
        Subscriber(
            email=f"{prefix}{index}@example.org",
            email_hash=address_hash(f"{prefix}{index}@example.org"),
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
        )
        for index in range(count)
    ]
    Subscriber.objects.bulk_create(rows)


def test_two_claims_never_share_a_delivery(issue):
    subscribers(10)
    send = sending.start_send(issue)

    first = claims.claim_batch(send, 6, 600)
    second = claims.claim_batch(send, 6, 600)
    third = claims.claim_batch(send, 6, 600)

    ids = [set(Delivery.objects.filter(claim_token=t).values_list("pk", flat=True)) for t in (first, second)]
    assert len(ids[0]) == 6 and len(ids[1]) == 4 and not ids[0] & ids[1]
    assert third == ""


def test_a_paused_send_claims_nothing(issue):
    subscribers(3)
    send = sending.start_send(issue)
    sending.pause(send)
    assert claims.claim_batch(send, 10, 600) == ""


@pytest.mark.parametrize("size", [50, 500])
def test_a_batch_runs_the_same_queries_whatever_its_size(settings, issue, size):
    subscribers(size)
    settings.SEND_BATCH_SIZE = size
    send = sending.start_send(issue)

    with CaptureQueriesContext(connection) as queries:
        result = sending.send_batch(send.pk)

    assert result.claimed == size and len(mail.outbox) == size
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == size
    # reap (1), send (1), claim (1), claimed rows + sections (2), variants (1), record (1),
    # finish: nothing left (1), mark finished (1), pauses counted (1), count down (1)
    assert len(queries.captured_queries) == 11, [q["sql"][:80] for q in queries.captured_queries]


def test_a_worker_killed_mid_batch_leaves_unknown_rows_never_resent(settings, issue):
    subscribers(5)
    settings.EMAIL_BACKEND = "tests.test_sending_claims.DiesAfterTwoBackend"
    settings.SEND_LEASE_SECONDS = 60
    send = sending.start_send(issue)

    with pytest.raises(WorkerKilled):
        sending.send_batch(send.pk)
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).count() == 5

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert sending.send_batch(send.pk).claimed == 0  # the reaper ran; nothing is claimable

    send.refresh_from_db()
    assert Delivery.objects.filter(send=send, status=Delivery.Status.UNKNOWN).count() == 5
    assert send.status == Send.Status.FINISHED
    assert len(mail.outbox) == 2  # nobody got a second copy
    assert sending.progress(send)["unknown"] == 5


def test_resending_the_unknown_reaches_each_once_with_the_same_message_id(settings, issue):
    subscribers(3)
    send = sending.start_send(issue)
    token = claims.claim_batch(send, 10, 1)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert sending.reap_expired_leases() == 3
    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED and token

    sending.resend_unknown(send)
    sending.dispatch(send.pk)

    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED
    assert sorted(m.to[0] for m in mail.outbox) == [f"r{i}@example.org" for i in range(3)]
    for message in mail.outbox:
        delivery = Delivery.objects.get(send=send, subscriber__email=message.to[0])
        assert (
            message.extra_headers["Message-ID"] == f"<send-{send.pk}.delivery-{delivery.pk}@news.example.org>"
        )
    with pytest.raises(sending.SendRefused, match="unknown"):
        sending.resend_unknown(send)


def test_a_late_batch_still_records_its_real_outcome(issue):
    subscribers(2)
    send = sending.start_send(issue)
    token = claims.claim_batch(send, 10, 1)
    ids = list(Delivery.objects.filter(claim_token=token).values_list("pk", flat=True))
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        sending.reap_expired_leases()

    claims.record_outcomes(
        token, [claims.Outcome(pk, Delivery.Status.SENT, "esp-1", tried=True) for pk in ids]
    )

    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {"sent"}


def test_a_recorded_outcome_needs_the_batch_token(issue):
    subscribers(1)
    send = sending.start_send(issue)
    claims.claim_batch(send, 10, 600)
    delivery = Delivery.objects.get(send=send)

    assert claims.record_outcomes("not-the-token", [claims.Outcome(delivery.pk, Delivery.Status.SENT)]) == 0
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENDING
