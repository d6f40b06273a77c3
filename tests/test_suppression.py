"""The suppression list: a stable hash per address, consulted by every send."""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail
from django.utils import timezone

from subscribers import notifications, subscriptions, suppression
from subscribers.addresses import address_hash
from subscribers.models import Subscriber, Suppression

from .factories import make_section, make_subscriber

pytestmark = pytest.mark.django_db

Reason = Suppression.Reason


def test_the_hash_is_stable_and_ignores_case_and_idn_spelling(settings):
    expected = hashlib.sha256(b"newsletter-cms/suppression/v1:ann@example.org").hexdigest()
    assert address_hash("ann@example.org") == expected
    assert address_hash("  ANN@Example.org ") == expected
    assert address_hash("ann@bücher.de") == address_hash("Ann@xn--bcher-kva.DE")
    settings.SECRET_KEY = "a-completely-different-key-after-a-rotation-0123456789"
    assert address_hash("ann@example.org") == expected  # survives a SECRET_KEY rotation


def test_the_hash_of_an_unparseable_address_is_still_stable():
    assert address_hash("Not An Address") == address_hash("not an address")


def test_suppress_and_is_suppressed():
    assert not suppression.is_suppressed("ann@example.org")
    suppression.suppress("Ann@Example.org", Reason.UNSUBSCRIBED)
    assert suppression.is_suppressed("ann@example.org")
    assert Suppression.objects.count() == 1


def test_a_stronger_reason_replaces_an_opt_out_and_never_the_reverse():
    suppression.suppress("ann@example.org", Reason.UNSUBSCRIBED)
    suppression.suppress("ann@example.org", Reason.COMPLAINT)
    assert suppression.suppression_reason("ann@example.org") == Reason.COMPLAINT
    suppression.suppress("ann@example.org", Reason.UNSUBSCRIBED)
    assert suppression.suppression_reason("ann@example.org") == Reason.COMPLAINT
    assert Suppression.objects.count() == 1


def test_only_opt_outs_are_lifted_by_opting_in_again():
    suppression.suppress("left@example.org", Reason.UNSUBSCRIBED)
    suppression.suppress("bounced@example.org", Reason.HARD_BOUNCE)
    assert suppression.lift_opt_out("left@example.org")
    assert not suppression.lift_opt_out("bounced@example.org")
    assert suppression.is_suppressed("bounced@example.org")


def test_mailable_means_active_confirmed_unpaused_and_not_suppressed():
    mailable = make_subscriber("ok@example.org")
    make_subscriber("paused@example.org", paused_issues=1)
    make_subscriber("suppressed@example.org")
    suppression.suppress("suppressed@example.org", Reason.MANUAL)
    Subscriber.objects.create(email="pending@example.org")
    Subscriber.objects.create(email="bounced@example.org", status=Subscriber.Status.BOUNCED)
    Subscriber.objects.create(
        email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    assert list(Subscriber.objects.mailable()) == [mailable]


def test_receiving_section_counts_those_who_take_everything():
    robustness, monitoring = make_section("Robustness"), make_section("Monitoring", position=1)
    everything = make_subscriber("all@example.org")
    chose = make_subscriber("robust@example.org")
    chose.sections.set([robustness])
    other = make_subscriber("monitor@example.org")
    other.sections.set([monitoring])
    assert set(Subscriber.objects.receiving_section(robustness)) == {everything, chose}


def test_no_subscriber_email_goes_to_a_suppressed_address():
    subscriber = make_subscriber("ann@example.org")
    suppression.suppress("ann@example.org", Reason.MANUAL)
    assert not notifications.send_welcome(subscriber.pk)
    assert not notifications.send_already_subscribed(subscriber.pk)
    subscriber.status = Subscriber.Status.PENDING
    subscriber.confirmed_at = None
    subscriber.save()
    assert not notifications.send_confirmation(subscriber.pk)
    assert mail.outbox == []


def test_emails_for_a_vanished_subscriber_do_nothing():
    assert not notifications.send_welcome(987654)
    assert not notifications.send_goodbye(987654)


def test_a_hard_bounce_or_complaint_suppresses_and_marks_the_subscriber():
    bounced = make_subscriber("bounced@example.org")
    complained = make_subscriber("complained@example.org")
    subscriptions.record_hard_bounce("Bounced@example.org")
    subscriptions.record_complaint("complained@example.org")
    bounced.refresh_from_db()
    complained.refresh_from_db()
    assert bounced.status == Subscriber.Status.BOUNCED
    assert complained.status == Subscriber.Status.COMPLAINED
    assert suppression.suppression_reason("bounced@example.org") == Reason.HARD_BOUNCE
    assert suppression.suppression_reason("complained@example.org") == Reason.COMPLAINT
    assert not Subscriber.objects.mailable().exists()


def test_the_subscriber_row_keeps_its_hash_in_step_with_its_address():
    subscriber = Subscriber.objects.create(email="ann@example.org")
    assert subscriber.email_hash == address_hash("ann@example.org")
