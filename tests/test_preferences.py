"""The preferences page: sections, format, pause and name; the data we hold, its export and its deletion."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.utils import timezone

from subscribers import importing, subscriptions, suppression, tokens
from subscribers.models import Subscriber, Suppression

from .factories import make_section

pytestmark = pytest.mark.django_db


@pytest.fixture
def sections():
    return [make_section("Robustness", position=0), make_section("Monitoring", position=1)]


@pytest.fixture
def subscriber(sections) -> Subscriber:
    now = timezone.now()
    return Subscriber.objects.create(
        email="ann@example.org",
        name="Ann",
        status=Subscriber.Status.ACTIVE,
        confirmed_at=now,
        consent_at=now,
        consent_ip="203.0.113.9",
        consent_user_agent="Mozilla/5.0 (Test)",
        consent_wording_version=subscriptions.CONSENT_WORDING_VERSION,
    )


def url(subscriber, suffix: str = "") -> str:
    return f"/preferences/{tokens.preferences_token(subscriber)}/{suffix}"


def test_it_shows_the_settings_and_what_we_hold(client, subscriber):
    response = client.get(url(subscriber))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in [
        "ann@example.org",
        "Ann",
        "203.0.113.9",
        "Mozilla/5.0 (Test)",
        "all sections, including new ones",
    ]:
        assert shown in html
    assert subscriptions.consent_wording() in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_it_saves_sections_format_pause_and_name(client, subscriber, sections):
    response = client.post(
        url(subscriber),
        {
            "name": "Ann Lee",
            "sections": ["monitoring"],
            "sections_shown": "True",
            "format": Subscriber.Format.TEXT,
            "paused_issues": "2",
        },
    )
    assert response.status_code == 200
    assert "Your preferences are saved." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.name == "Ann Lee"
    assert [s.slug for s in subscriber.sections.all()] == ["monitoring"]
    assert subscriber.format == Subscriber.Format.TEXT
    assert subscriber.paused_issues == 2
    assert not Subscriber.objects.mailable().filter(pk=subscriber.pk).exists()


def test_a_pause_counts_down_with_each_issue(subscriber):
    subscriptions.update_preferences(subscriber, name="", sections=None, format="html", paused_issues=2)
    assert subscriptions.count_down_pauses() == 1
    subscriber.refresh_from_db()
    assert subscriber.paused_issues == 1
    subscriptions.count_down_pauses()
    assert Subscriber.objects.mailable().filter(pk=subscriber.pk).exists()


def test_it_refuses_no_section_at_all(client, subscriber):
    response = client.post(
        url(subscriber), {"sections_shown": "True", "format": "html", "paused_issues": "0", "name": ""}
    )
    assert response.status_code == 400
    assert "Choose at least one section." in response.content.decode()


def test_every_section_ticked_means_all(client, subscriber, sections):
    subscriber.sections.set(sections[:1])
    client.post(
        url(subscriber),
        {
            "sections": [s.slug for s in sections],
            "sections_shown": "True",
            "format": "html",
            "paused_issues": "0",
            "name": "",
        },
    )
    assert list(subscriber.sections.all()) == []


def test_a_pause_in_progress_stays_selectable(client, subscriber):
    subscriber.paused_issues = 5
    subscriber.save()
    html = client.get(url(subscriber)).content.decode()
    assert '<option value="5" selected>Skip the next 5 issues</option>' in html


def test_the_export_holds_everything_as_json(client, subscriber, sections):
    subscriber.sections.set([sections[1]])
    response = client.get(url(subscriber, "export/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "ann@example.org"
    assert data["sections"] == ["Monitoring"]
    assert data["consent"]["ip_address"] == "203.0.113.9"
    assert data["consent"]["wording"] == subscriptions.consent_wording()


def test_the_delete_page_asks_first(client, subscriber):
    response = client.get(url(subscriber, "delete/"))
    assert response.status_code == 200
    response = client.post(url(subscriber, "delete/"), {})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_deleting_removes_the_row_and_keeps_only_a_hash(client, subscriber):
    token_url = url(subscriber, "delete/")
    response = client.post(token_url, {"confirm": "on"})
    assert response.status_code == 200
    assert "Your data is deleted" in response.content.decode()
    assert not Subscriber.objects.filter(email="ann@example.org").exists()
    entry = Suppression.objects.get()
    assert entry.reason == Suppression.Reason.DELETED
    assert "ann" not in entry.email_hash and len(entry.email_hash) == 64
    assert suppression.is_suppressed("ANN@example.org")
    # Its links now refuse clearly.
    assert client.get(token_url).status_code == 410
    # And no import ever adds the address back.
    report = importing.import_file("email\nann@example.org\n", consent_basis="old list")
    assert report.skipped == 1 and report.created == 0


def test_a_deleted_person_can_come_back_by_double_opt_in(client, subscriber):
    subscriptions.erase(subscriber)
    subscriptions.request_subscription("ann@example.org")
    [message] = mail.outbox
    assert "/subscribe/confirm/" in message.body


def test_an_unsubscribed_person_can_resubscribe_from_preferences(client, subscriber):
    subscriptions.unsubscribe(subscriber, Subscriber.Channel.ONE_CLICK)
    page = client.get(url(subscriber)).content.decode()
    assert "Subscribe again" in page
    response = client.post(url(subscriber), {"action": "resubscribe"})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert not suppression.is_suppressed(subscriber.email)


def test_a_pending_subscriber_can_manage_and_delete_too(client, sections):
    pending = Subscriber.objects.create(email="new@example.org")
    assert "not confirmed yet" in client.get(url(pending)).content.decode()
    client.post(url(pending, "delete/"), {"confirm": "on"})
    assert not Subscriber.objects.filter(email="new@example.org").exists()


def test_sign_ups_never_confirmed_are_purged(sections):
    import io
    from datetime import timedelta

    import time_machine
    from django.core.management import call_command

    subscriptions.request_subscription("late@example.org")
    active = Subscriber.objects.create(
        email="kept@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        out = io.StringIO()
        call_command("purge_pending_subscribers", stdout=out)
    assert "1 unconfirmed sign-ups deleted" in out.getvalue()
    assert list(Subscriber.objects.all()) == [active]
