"""The send page's rate and ETA are computed over the time the messages actually took, and shown
in a unit that reads: five messages sent in two seconds are "2.5 per second", not "1 per minute"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending.progress import describe_rate

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def send():
    issue = make_sendable_issue(make_sections())
    for index in range(20):
        make_subscriber(f"r{index}@example.org")
    with time_machine.travel(START, tick=False):
        return sending.start_send(issue)


def mark_sent(send: Send, count: int, first: float, every: float) -> None:
    """`count` deliveries sent, the first `first` seconds after the start, then one every `every` s."""
    for index, pk in enumerate(send.deliveries.order_by("pk").values_list("pk", flat=True)[:count]):
        at = START + timedelta(seconds=first + index * every)
        Delivery.objects.filter(pk=pk).update(status=Delivery.Status.SENT, sent_at=at)


def progress_at(send: Send, seconds: float) -> dict:
    with time_machine.travel(START + timedelta(seconds=seconds), tick=False):
        return sending.progress(send)


def test_five_messages_in_two_seconds_are_2_5_per_second(send):
    mark_sent(send, 5, first=0.2, every=0.4)

    data = progress_at(send, 2)

    assert data["rate"] == "2.5 per second"
    assert data["rate_per_second"] == 2.5 and data["rate_per_minute"] == 150.0
    assert data["eta_seconds"] == 6  # 15 left at 2.5 a second


def test_a_slow_send_is_shown_per_minute_over_the_last_five_minutes(send):
    mark_sent(send, 12, first=30, every=60)  # one a minute for twelve minutes

    data = progress_at(send, 12 * 60)

    assert data["rate"] == "1 per minute"
    assert data["eta_seconds"] == 8 * 60


def test_a_finished_send_keeps_the_rate_it_went_at(send):
    mark_sent(send, 20, first=1, every=0.1)  # 20 messages in 3 s
    Send.objects.filter(pk=send.pk).update(
        status=Send.Status.FINISHED, finished_at=START + timedelta(seconds=4)
    )

    data = progress_at(send, 3600)

    assert data["rate"] == "5 per second"
    assert data["eta_seconds"] is None


def test_nothing_sent_yet_has_no_rate(send):
    data = progress_at(send, 10)

    assert data["rate"] == "–" and data["rate_per_minute"] == 0 and data["eta_seconds"] is None


def test_rates_read_in_the_best_unit():
    assert describe_rate(0) == "–"
    assert describe_rate(40) == "40 per second"
    assert describe_rate(1.25) == "1.2 per second"
    assert describe_rate(0.5) == "30 per minute"
    assert describe_rate(1 / 60) == "1 per minute"
    assert describe_rate(3 / 3600) == "3 per hour"


def test_the_send_page_shows_the_rate_with_its_unit(client, django_user_model, send):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.org", "pw"))
    mark_sent(send, 5, first=0.2, every=0.4)

    with time_machine.travel(START + timedelta(seconds=2), tick=False):
        page = client.get(reverse("admin:subscribers_send_change", args=[send.pk])).content.decode()
        progress = client.get(reverse("admin:subscribers_send_progress", args=[send.pk])).json()

    assert '<dd data-field="rate">2.5 per second</dd>' in page
    assert progress["rate"] == "2.5 per second"
