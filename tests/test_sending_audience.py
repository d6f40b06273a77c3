"""Who gets an issue: the audience is frozen once, one copy per person, and re-checked when each
recipient's turn comes."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscribers import sending, subscriptions, suppression
from subscribers.models import Delivery, Send, SendVariant, Subscriber, Suppression
from subscribers.sending import variants

from .factories import make_subscriber
from .sending_fixtures import sendable_issue_fixtures

pytestmark = pytest.mark.django_db

sections, issue = sendable_issue_fixtures()


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def dispatch(send: Send) -> None:
    sending.dispatch(send.pk)
    send.refresh_from_db()


def test_one_copy_per_person_whatever_the_case_or_domain_form(issue):
    make_subscriber("ann@bücher.de")
    make_subscriber("ANN@XN--BCHER-KVA.DE")  # the same mailbox, typed another way, on an old row
    make_subscriber("Bob@Example.org")

    send = sending.start_send(issue)
    dispatch(send)

    assert send.recipient_count == 2
    assert Delivery.objects.filter(send=send).count() == 2
    assert len(mail.outbox) == 2


def test_only_mailable_subscribers_are_in_the_snapshot(issue):
    make_subscriber("active@example.org")
    make_subscriber("pending@example.org", status=Subscriber.Status.PENDING)
    make_subscriber("left@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    make_subscriber("bounced@example.org", status=Subscriber.Status.BOUNCED, confirmed_at=timezone.now())
    make_subscriber("paused@example.org", paused_issues=2)
    make_subscriber("suppressed@example.org")
    suppression.suppress("suppressed@example.org", Suppression.Reason.MANUAL)

    send = sending.start_send(issue)
    dispatch(send)

    assert send.recipient_count == 1
    assert recipients() == ["active@example.org"]


def test_the_snapshot_is_one_insert_select(issue):
    for index in range(30):
        make_subscriber(f"r{index}@example.org")
    with CaptureQueriesContext(connection) as queries:
        send = sending.start_send(issue)

    inserts = [q["sql"] for q in queries.captured_queries if 'INSERT INTO "subscribers_delivery"' in q["sql"]]
    assert len(inserts) == 1 and "SELECT" in inserts[0]
    assert Delivery.objects.filter(send=send).count() == 30


def test_someone_who_unsubscribes_during_the_send_is_not_mailed(issue):
    stays = make_subscriber("stays@example.org")
    leaves = make_subscriber("leaves@example.org")
    send = sending.start_send(issue)

    subscriptions.unsubscribe(leaves, Subscriber.Channel.ONE_CLICK)
    dispatch(send)

    assert recipients() == [stays.email]
    skipped = Delivery.objects.get(send=send, subscriber=leaves)
    assert skipped.status == Delivery.Status.SKIPPED and "No longer subscribed" in skipped.error
    assert send.status == Send.Status.FINISHED


def test_someone_erased_or_suppressed_during_the_send_is_not_mailed(issue):
    erased = make_subscriber("erased@example.org")
    suppressed = make_subscriber("suppressed@example.org")
    make_subscriber("stays@example.org")
    send = sending.start_send(issue)

    subscriptions.erase(erased)
    suppression.suppress(suppressed.email, Suppression.Reason.HARD_BOUNCE)
    dispatch(send)

    assert recipients() == ["stays@example.org"]
    statuses = dict(Delivery.objects.filter(send=send).values_list("email_hash", "status"))
    assert sorted(statuses.values()) == ["sent", "skipped", "skipped"]
    assert Delivery.objects.filter(send=send, subscriber=None).count() == 1  # SET_NULL on erase
    assert not Delivery.objects.filter(address__contains="erased").exists()


def test_each_variant_is_rendered_once(issue, sections, monkeypatch):
    calls = []
    real = variants.render_issue_email
    monkeypatch.setattr(variants, "render_issue_email", lambda *a, **k: calls.append(k) or real(*a, **k))
    for index in range(12):
        chosen = [[], [sections["robustness"]], [sections["alignment"], sections["monitoring"]]][index % 3]
        make_subscriber(f"r{index}@example.org", sections=chosen, format="text" if index % 2 else "html")

    send = sending.start_send(issue)
    dispatch(send)

    keys = set(SendVariant.objects.filter(send=send).values_list("key", flat=True))
    ids = ",".join(str(pk) for pk in sorted([sections["alignment"].pk, sections["monitoring"].pk]))
    assert keys == {
        "html:all",
        "text:all",
        f"html:{sections['robustness'].pk}",
        f"text:{sections['robustness'].pk}",
        f"html:{ids}",
        f"text:{ids}",
    }
    assert len(calls) == len(keys)  # once per variant, not per recipient
    assert len(mail.outbox) == 12


def test_a_paused_subscriber_skips_the_issue_and_counts_down_once(issue):
    paused = make_subscriber("paused@example.org", paused_issues=2)
    make_subscriber("reader@example.org")

    send = sending.start_send(issue)
    dispatch(send)
    assert send.status == Send.Status.FINISHED
    paused.refresh_from_db()
    assert paused.paused_issues == 1

    make_subscriber("newcomer@example.org")
    dispatch(sending.start_send(issue, kind=Send.Kind.RESEND))
    paused.refresh_from_db()
    assert paused.paused_issues == 1  # a resend is the same issue
    assert recipients() == ["newcomer@example.org", "reader@example.org"]


def test_an_unpublished_issue_cannot_be_sent(sections):
    from .factories import make_issue

    draft = make_issue(99, published=False)
    with pytest.raises(sending.SendRefused, match="published"):
        sending.start_send(draft)
    assert not Send.objects.exists()


def test_only_a_managing_editor_may_send(issue, django_user_model):
    writer = django_user_model.objects.create_user("writer", password="x")
    with pytest.raises(sending.SendRefused, match="managing editor"):
        sending.start_send(issue, writer)
    boss = django_user_model.objects.create_superuser("boss", password="x")
    assert sending.start_send(issue, boss).created_by == boss
