"""Send analytics: totals and rates, clicks per link, opens and clicks over time, the admin panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string

from subscribers.models import Delivery, DeliveryEvent, Send, Subscriber
from subscribers.tracking import analytics
from tests.factories import make_issue, make_subscriber

pytestmark = pytest.mark.django_db

STARTED = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
SUBSCRIBED = STARTED - timedelta(days=100)


def make_send(started: datetime = STARTED) -> Send:
    send = Send.objects.create(issue=make_issue(), status=Send.Status.FINISHED, finished_at=started)
    Send.objects.filter(pk=send.pk).update(created_at=started)
    send.refresh_from_db()
    return send


def make_delivery(send: Send, subscriber: Subscriber | None = None, **fields) -> Delivery:
    subscriber = subscriber or make_subscriber(confirmed_at=SUBSCRIBED)
    fields.setdefault("status", Delivery.Status.SENT)
    if fields["status"] == Delivery.Status.SENT:
        fields.setdefault("sent_at", send.created_at + timedelta(minutes=1))
    return Delivery.objects.create(
        send=send, subscriber=subscriber, email_hash=subscriber.email_hash, **fields
    )


def record(delivery: Delivery, event_type: str, when: datetime, url: str = "") -> DeliveryEvent:
    return DeliveryEvent.objects.create(
        delivery=delivery,
        send=delivery.send,
        esp_name="Postmark",
        esp_event_id=f"test-{DeliveryEvent.objects.count() + 1}",
        event_type=event_type,
        url=url,
        occurred_at=when,
    )


@pytest.fixture
def send() -> Send:
    """Ten recipients: 6 delivered (4 opened, 2 of them clicked; 1 complained), 1 bounced,
    1 sent with no report, 1 failed, 1 unknown."""
    send = make_send()
    at = STARTED + timedelta(minutes=5)
    delivered = [make_delivery(send, delivered_at=at) for _ in range(6)]
    for delivery in delivered[:4]:
        Delivery.objects.filter(pk=delivery.pk).update(opened_at=at)
    for delivery in delivered[:2]:
        Delivery.objects.filter(pk=delivery.pk).update(first_click_at=at)
    Delivery.objects.filter(pk=delivered[5].pk).update(complained_at=at)
    make_delivery(send, bounced_at=at)
    make_delivery(send)
    make_delivery(send, status=Delivery.Status.FAILED, error="550 no such user")
    make_delivery(send, status=Delivery.Status.UNKNOWN)
    return send


def test_totals_count_each_outcome_once(send, django_assert_num_queries):
    with django_assert_num_queries(2):
        totals = analytics.send_totals(send)

    assert {key: totals[key] for key in totals if key != "rates"} == {
        "recipients": 10,
        "queued": 0,
        "sent": 8,
        "failed": 1,
        "unknown": 1,
        "skipped": 0,
        "delivered": 6,
        "bounced": 1,
        "complained": 1,
        "opened": 4,
        "clicked": 2,
        "unsubscribed": 0,
    }
    rates = totals["rates"]
    assert rates["base"] == "delivered"
    assert rates["delivered"] == pytest.approx(6 / 8)
    assert rates["bounced"] == pytest.approx(1 / 8)
    assert rates["opened"] == pytest.approx(4 / 6)
    assert rates["clicked"] == pytest.approx(2 / 6)
    assert rates["click_to_open"] == pytest.approx(2 / 4)


def test_an_open_or_click_proves_delivery_when_the_esp_reports_no_deliveries():
    send = make_send()
    make_delivery(send, opened_at=STARTED)
    make_delivery(send)

    totals = analytics.send_totals(send)

    assert (totals["sent"], totals["delivered"], totals["opened"]) == (2, 1, 1)
    assert totals["rates"]["opened"] == pytest.approx(1.0)


def test_rates_fall_back_to_sent_before_any_delivery_is_reported():
    send = make_send()
    make_delivery(send)
    make_delivery(send, bounced_at=STARTED)

    totals = analytics.send_totals(send)

    assert totals["rates"]["base"] == "sent"
    assert totals["rates"]["opened"] == 0
    assert totals["rates"]["click_to_open"] is None


def test_a_bounced_message_never_counts_as_delivered():
    send = make_send()
    make_delivery(send, delivered_at=STARTED, bounced_at=STARTED + timedelta(minutes=1))

    totals = analytics.send_totals(send)

    assert (totals["delivered"], totals["bounced"]) == (0, 1)


def test_an_unsubscribe_counts_for_the_last_issue_the_person_received():
    first, second = make_send(STARTED), make_send(STARTED + timedelta(days=30))
    left_after_first = make_subscriber(
        status=Subscriber.Status.UNSUBSCRIBED,
        confirmed_at=SUBSCRIBED,
        unsubscribed_at=STARTED + timedelta(days=2),
    )
    left_after_second = make_subscriber(
        status=Subscriber.Status.UNSUBSCRIBED,
        confirmed_at=SUBSCRIBED,
        unsubscribed_at=STARTED + timedelta(days=31),
    )
    stayed = make_subscriber(confirmed_at=SUBSCRIBED)
    for subscriber in (left_after_first, left_after_second, stayed):
        make_delivery(first, subscriber)
    make_delivery(second, left_after_second)
    make_delivery(second, stayed)

    assert analytics.send_totals(first)["unsubscribed"] == 1
    assert analytics.send_totals(second)["unsubscribed"] == 1


def test_an_unsubscribe_reported_by_the_esp_counts():
    send = make_send()
    delivery = make_delivery(send)
    record(delivery, "unsubscribed", STARTED + timedelta(hours=1))

    assert analytics.send_totals(send)["unsubscribed"] == 1


def test_clicks_per_link_counts_clicks_and_unique_clickers(django_assert_num_queries):
    send = make_send()
    ann, bob = make_delivery(send), make_delivery(send)
    paper, archive = "https://arxiv.org/abs/2111.15121", "https://news.example.org/issues/2/"
    at = STARTED + timedelta(hours=1)
    for delivery, url in [(ann, paper), (ann, paper), (bob, paper), (bob, archive)]:
        record(delivery, "clicked", at, url)
    record(ann, "opened", at)

    with django_assert_num_queries(1):
        links = analytics.clicks_per_link(send)

    assert links == [
        {"url": paper, "clicks": 3, "clickers": 2},
        {"url": archive, "clicks": 1, "clickers": 1},
    ]


def test_the_timeline_counts_opens_and_clicks_per_hour_with_empty_hours(django_assert_num_queries):
    send = make_send()
    delivery = make_delivery(send)
    record(delivery, "opened", STARTED + timedelta(minutes=10))
    record(delivery, "opened", STARTED + timedelta(minutes=50))
    record(delivery, "clicked", STARTED + timedelta(hours=3, minutes=5), "https://arxiv.org/abs/1")
    record(delivery, "delivered", STARTED + timedelta(hours=3))

    with django_assert_num_queries(1):
        bucket, buckets = analytics.timeline(send)

    assert bucket == "hour"
    assert [(b.start, b.opens, b.clicks) for b in buckets] == [
        (STARTED, 2, 0),
        (STARTED + timedelta(hours=1), 0, 0),
        (STARTED + timedelta(hours=2), 0, 0),
        (STARTED + timedelta(hours=3), 0, 1),
    ]


def test_the_timeline_switches_to_days_for_a_long_tail():
    send = make_send()
    delivery = make_delivery(send)
    record(delivery, "opened", STARTED + timedelta(hours=1))
    record(delivery, "opened", STARTED + timedelta(days=5, hours=2))

    bucket, buckets = analytics.timeline(send)

    assert bucket == "day"
    assert len(buckets) == 6
    assert (buckets[0].opens, buckets[-1].opens, sum(b.opens for b in buckets)) == (1, 1, 2)


def test_the_timeline_of_a_send_without_events_is_one_empty_bucket():
    bucket, buckets = analytics.timeline(make_send())

    assert bucket == "hour"
    assert [(b.opens, b.clicks) for b in buckets] == [(0, 0)]


def test_open_and_click_tracking_are_off_by_default(settings):
    del settings.TRACK_OPENS, settings.TRACK_CLICKS  # whatever settings.py says, the default is off
    assert analytics.tracking_options() == {"track_opens": False, "track_clicks": False}

    settings.TRACK_OPENS = True
    assert analytics.tracking_options() == {"track_opens": True, "track_clicks": False}


def test_the_panel_renders_totals_links_and_an_svg_chart(send, settings):
    settings.TRACK_OPENS = settings.TRACK_CLICKS = True
    delivery = send.deliveries.filter(first_click_at__isnull=False).first()
    record(delivery, "opened", STARTED + timedelta(minutes=20))
    record(delivery, "clicked", STARTED + timedelta(minutes=30), "https://arxiv.org/abs/2111.15121?a=1&b=<x>")

    html = render_to_string(
        "admin/subscribers/send/_analytics.html", {"analytics": analytics.analytics_context(send)}
    )

    assert "<svg" in html and "<polyline" in html
    assert "Opened (unique)" in html and "66.7%" in html  # 4 of 6 delivered
    assert "https://arxiv.org/abs/2111.15121?a=1&amp;b=&lt;x&gt;" in html  # escaped
    assert "Click-to-open rate: 50.0%" in html
    assert "style=" not in html and "<script" not in html  # CSP-ready
    assert "Open tracking is off" not in html


def test_the_panel_says_when_tracking_is_off(settings):
    settings.TRACK_OPENS = settings.TRACK_CLICKS = False
    html = render_to_string(
        "admin/subscribers/send/_analytics.html", {"analytics": analytics.analytics_context(make_send())}
    )

    assert "Open tracking is off" in html
    assert "No clicks recorded." in html


@pytest.mark.parametrize("recipients", [3, 30])
def test_the_panel_costs_the_same_queries_however_large_the_send(recipients, django_assert_num_queries):
    send = make_send()
    for _ in range(recipients):
        delivery = make_delivery(send, delivered_at=STARTED, opened_at=STARTED)
        record(delivery, "opened", STARTED + timedelta(minutes=5))
        record(delivery, "clicked", STARTED + timedelta(minutes=6), f"https://arxiv.org/abs/{recipients}")

    with django_assert_num_queries(4):
        analytics.analytics_context(send)


def test_the_send_admin_page_shows_the_analytics_panel(admin_client, send):
    delivery = send.deliveries.filter(first_click_at__isnull=False).first()
    record(delivery, "clicked", STARTED + timedelta(minutes=30), "https://arxiv.org/abs/2111.15121")

    response = admin_client.get(f"/admin/subscribers/send/{send.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="send-analytics-title"' in html
    assert "<svg" in html and "https://arxiv.org/abs/2111.15121" in html
    assert "css/send-analytics.css" in html
