"""Claims are atomic, each message's outcome is written as soon as the backend answers, and a worker
that dies mid-batch never causes a second copy nor loses anyone: once its lease runs out, the one
message it had in hand is shown as "unknown" and the rest of its batch goes back to the queue. A
working batch keeps its lease renewed, so the lease can be short."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscribers import sending
from subscribers.addresses import address_hash
from subscribers.models import Delivery, Send, Subscriber
from subscribers.sending import claims

from .factories import make_sections
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs (it is not an Exception, so nothing catches it)."""


class DiesAfterTwoBackend(LocmemBackend):
    """Hands two messages over, then the worker dies while handing over the third."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 2:
            raise WorkerKilled()
        return super().send_messages(messages)


class DiesOnSecondCallBackend(AnymailTestBackend):
    """Anymail's test backend; the worker dies during its second API call."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 1:
            raise WorkerKilled()
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """Each message takes SECONDS_PER_MESSAGE of (travelled) time; `clock` is the test's traveller."""

    clock = None
    seconds_per_message = 0.0
    during = None  # called after each message, as another process would act meanwhile

    def send_messages(self, messages):
        type(self).clock.shift(timedelta(seconds=type(self).seconds_per_message))
        sent = super().send_messages(messages)
        if type(self).during:
            type(self).during()
        return sent


@pytest.fixture
def issue():
    return make_sendable_issue(make_sections())


@pytest.fixture(autouse=True)
def no_waiting(settings):
    """A test that goes wrong fails at once, rather than waiting out a retry's backoff."""
    settings.SEND_RETRY_SECONDS = 0
    yield
    SlowBackend.clock = SlowBackend.during = None


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
def test_a_batch_writes_each_message_with_one_statement(settings, issue, size):
    subscribers(size)
    settings.SEND_BATCH_SIZE = size
    send = sending.start_send(issue)

    with CaptureQueriesContext(connection) as queries:
        result = sending.send_batch(send.pk)

    assert result.claimed == size and len(mail.outbox) == size
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == size
    # reap (1), send (1), claim (1), claimed rows + sections (2), variants (1),
    # one statement per message that writes the previous outcome and takes it in hand (size),
    # the last outcome (1), finish: nothing left (1), mark finished (1), pauses counted (1),
    # count down (1)
    assert len(queries.captured_queries) == 11 + size, [q["sql"][:80] for q in queries.captured_queries]


def test_a_worker_killed_mid_batch_leaves_only_the_message_in_hand_unknown(settings, issue):
    subscribers(5)
    settings.EMAIL_BACKEND = "tests.test_sending_claims.DiesAfterTwoBackend"
    settings.SEND_LEASE_SECONDS = 40
    send = sending.start_send(issue)
    deliveries = Delivery.objects.filter(send=send).order_by("pk")

    with pytest.raises(WorkerKilled):
        sending.send_batch(send.pk)
    # Two handed over and written; the third in hand when the worker died; two never handed over.
    assert [d.status for d in deliveries.all()] == ["sent", "sent", "sending", "sending", "sending"]
    first_two = sorted(m.to[0] for m in mail.outbox)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(seconds=41)):
        assert sending.send_batch(send.pk).claimed == 2  # released first, then claimed again

    send.refresh_from_db()
    assert [d.status for d in deliveries.all()] == ["sent", "sent", "unknown", "sent", "sent"]
    assert send.status == Send.Status.FINISHED
    # Nobody got a second copy; the one in hand may or may not have reached the server.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        first_two + [d.subscriber.email for d in deliveries.all()[3:]]
    )
    assert sending.progress(send)["unknown"] == 1


def test_a_working_batch_keeps_its_lease_renewed(settings, issue):
    subscribers(6)
    settings.EMAIL_BACKEND = "tests.test_sending_claims.SlowBackend"
    settings.SEND_LEASE_SECONDS = 40
    SlowBackend.seconds_per_message = 15  # 90 s for the batch: more than two leases
    send = sending.start_send(issue)
    held = Delivery.objects.filter(send=send, status=Delivery.Status.SENDING)
    leases = []  # after each message: the seconds left on the lease of each row still held
    SlowBackend.during = lambda: leases.append(
        [(d.lease_expires_at - timezone.now()).total_seconds() for d in held.all()]
    )

    with time_machine.travel(timezone.now(), tick=False) as clock:
        SlowBackend.clock = clock
        result = sending.send_batch(send.pk)
        # Another worker's reaper, an hour later, finds nothing to release.
        clock.shift(timedelta(hours=1))
        assert sending.reap_expired_leases() == 0

    assert result.counts == {Delivery.Status.SENT: 6}
    assert len(mail.outbox) == 6
    assert [len(rows) for rows in leases] == [6, 5, 4, 3, 2, 1]  # the one in hand, the rest waiting
    assert min(min(rows) for rows in leases) > 0  # none ever ran out, though the batch took 90 s


def test_rows_back_in_the_queue_are_not_sent_by_the_batch_that_lost_them(settings, issue):
    """A worker stuck longer than its lease (here, in its first message) loses the rows it had
    not handed over; when it wakes up it sends none of them, as another batch has them."""
    subscribers(4)
    settings.EMAIL_BACKEND = "tests.test_sending_claims.SlowBackend"
    settings.SEND_LEASE_SECONDS = 40
    SlowBackend.seconds_per_message = 0
    send = sending.start_send(issue)
    released = []

    with time_machine.travel(timezone.now(), tick=False) as clock:
        SlowBackend.clock = clock

        def stuck_past_the_lease():
            if not released:
                clock.shift(timedelta(seconds=60))
                released.append(sending.reap_expired_leases())

        SlowBackend.during = stuck_past_the_lease
        result = sending.send_batch(send.pk)

    # The first message was in hand (unknown for a moment), then its real outcome was written.
    assert released == [4]
    assert result.counts == {Delivery.Status.SENT: 1}
    assert len(mail.outbox) == 1
    statuses = Counter(Delivery.objects.filter(send=send).values_list("status", flat=True))
    assert statuses == {"sent": 1, "queued": 3}


def test_a_worker_killed_during_an_esp_batch_call_leaves_that_calls_recipients_unknown(settings, issue):
    for index in range(5):
        Subscriber.objects.create(
            email=f"r{index}@example.org",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=timezone.now(),
            format=Subscriber.Format.TEXT if index >= 3 else Subscriber.Format.HTML,
        )
    settings.EMAIL_BACKEND = "tests.test_sending_claims.DiesOnSecondCallBackend"
    settings.SEND_BATCH_ESP = "Mailgun"
    settings.SEND_LEASE_SECONDS = 40
    send = sending.start_send(issue)

    with pytest.raises(WorkerKilled):
        sending.send_batch(send.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=41)):
        assert sending.reap_expired_leases() == 2

    statuses = dict(Delivery.objects.filter(send=send).values_list("subscriber__email", "status"))
    # One API call per variant: the HTML readers' call went through, the text readers' was in hand.
    assert statuses == {
        "r0@example.org": "sent",
        "r1@example.org": "sent",
        "r2@example.org": "sent",
        "r3@example.org": "unknown",
        "r4@example.org": "unknown",
    }


def test_resending_the_unknown_reaches_each_once_with_the_same_message_id(settings, issue):
    subscribers(3)
    send = sending.start_send(issue)
    token = claims.claim_batch(send, 10, 1)
    ids = list(Delivery.objects.filter(claim_token=token).values_list("pk", flat=True))
    claims.Claim(send.pk, token, 1).take(ids)  # in hand, then the worker died
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
        assert message.extra_headers["Message-ID"] == delivery.message_id
    with pytest.raises(sending.SendRefused, match="unknown"):
        sending.resend_unknown(send)


def test_rows_a_dead_worker_never_handed_over_go_back_to_the_queue(issue):
    subscribers(3)
    send = sending.start_send(issue)
    token = claims.claim_batch(send, 10, 1)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert sending.reap_expired_leases() == 3

    assert set(Delivery.objects.filter(send=send).values_list("status", "claim_token")) == {("queued", "")}
    sending.dispatch(send.pk)
    assert len(mail.outbox) == 3
    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED and token


def test_rows_back_in_the_queue_of_a_cancelled_send_are_cancelled(issue):
    subscribers(2)
    send = sending.start_send(issue)
    claims.claim_batch(send, 10, 1)
    sending.cancel(send)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        sending.reap_expired_leases()

    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {"cancelled"}


def test_a_late_batch_still_records_its_real_outcome(issue):
    subscribers(2)
    send = sending.start_send(issue)
    token = claims.claim_batch(send, 10, 1)
    ids = list(Delivery.objects.filter(claim_token=token).values_list("pk", flat=True))
    claims.Claim(send.pk, token, 1).take(ids)
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
