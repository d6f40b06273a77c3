"""The subscribers admin: counts, growth chart, import, filtered export, actions, suppressions."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from subscribers import stats, suppression, tokens
from subscribers.addresses import address_hash
from subscribers.models import Subscriber, Suppression

from .factories import make_section, make_subscriber

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/subscribers/subscriber/"


@pytest.fixture
def sections():
    return [make_section("Robustness", position=0), make_section("Monitoring", position=1)]


def test_the_list_shows_counts_and_a_growth_chart(admin_client, sections):
    make_subscriber("a@example.org").sections.set([sections[0]])
    make_subscriber("b@example.org")
    Subscriber.objects.create(email="p@example.org")
    Subscriber.objects.create(
        email="u@example.org", status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Subscribers by status" in html
    assert '<th scope="row">Active</th><td class="numeric">2</td>' in html
    assert '<th scope="row">Pending confirmation</th><td class="numeric">1</td>' in html
    # Robustness: chosen by one, received by two (b takes every section).
    assert '<th scope="row">Robustness</th><td class="numeric">2</td><td class="numeric">1</td>' in html
    assert '<svg class="growth-chart"' in html
    assert "2 joined" in html and "1 unsubscribed" in html
    assert "cdn" not in html.lower()


def test_the_list_searches_and_filters(admin_client, sections):
    make_subscriber("ann@example.org", name="Ann")
    make_subscriber("bob@example.org", name="Bob", consent_source=Subscriber.Source.IMPORT)
    html = admin_client.get(CHANGELIST, {"q": "ann"}).content.decode()
    assert "ann@example.org" in html and "bob@example.org" not in html
    html = admin_client.get(CHANGELIST, {"consent_source__exact": "import"}).content.decode()
    assert "bob@example.org" in html and "ann@example.org" not in html
    Subscriber.objects.get(email="bob@example.org").sections.set([sections[0]])
    html = admin_client.get(CHANGELIST, {"sections__id__exact": sections[0].pk}).content.decode()
    assert "bob@example.org" in html and "ann@example.org" not in html


def test_weekly_growth_buckets_by_monday():
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    now = timezone.now()
    make_subscriber("this-week@example.org", confirmed_at=now)
    make_subscriber("last-week@example.org", confirmed_at=now - timedelta(weeks=1))
    Subscriber.objects.create(
        email="left@example.org",
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=now,
        confirmed_at=now - timedelta(weeks=40),
    )
    weeks = stats.weekly_growth(weeks=4)
    assert [w.start for w in weeks][-1] == monday
    assert weeks[-1].joined == 1 and weeks[-1].left == 1
    assert weeks[-2].joined == 1 and weeks[-2].left == 0
    chart = stats.growth_chart(weeks)
    assert len(chart.joined_bars) == 4
    assert all(bar.y + bar.height == chart.baseline for bar in chart.joined_bars)


def test_import_in_the_admin_reports_each_row(admin_client, sections):
    suppression.suppress("gone@example.org", Suppression.Reason.UNSUBSCRIBED)
    upload = SimpleUploadedFile(
        "list.csv",
        b"email,name\nann@example.org,Ann\ngone@example.org,\nnope,\nann@example.org,\n",
        "text/csv",
    )
    response = admin_client.post(
        f"{CHANGELIST}import/", {"file": upload, "consent_basis": "Conference sign-up sheet, May 2025"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Created: 1" in html and "Skipped: 2" in html and "Invalid: 1" in html
    assert "Duplicate of line 2." in html
    assert Subscriber.objects.get().consent_basis == "Conference sign-up sheet, May 2025"


def test_import_in_the_admin_requires_a_consent_basis(admin_client, sections):
    upload = SimpleUploadedFile("list.csv", b"email\nann@example.org\n", "text/csv")
    response = admin_client.post(f"{CHANGELIST}import/", {"file": upload, "consent_basis": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Subscriber.objects.exists()


def test_export_follows_the_current_filter(admin_client, sections):
    make_subscriber("ann@example.org")
    Subscriber.objects.create(email="pending@example.org")
    response = admin_client.get(f"{CHANGELIST}export/", {"status__exact": "active"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["email"] for row in rows] == ["ann@example.org"]
    changelist = admin_client.get(CHANGELIST, {"status__exact": "active"}).content.decode()
    assert f'href="{CHANGELIST}export/?status__exact=active"' in changelist


def test_the_revoke_action_bumps_the_token_version(admin_client, client):
    subscriber = make_subscriber("ann@example.org")
    old = tokens.preferences_token(subscriber)
    response = admin_client.post(CHANGELIST, {"action": "revoke_links", "_selected_action": [subscriber.pk]})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.token_version == 2
    assert client.get(f"/preferences/{old}/").status_code == 410


def test_the_unsubscribe_and_erase_actions(admin_client):
    ann = make_subscriber("ann@example.org")
    bob = make_subscriber("bob@example.org")
    admin_client.post(CHANGELIST, {"action": "unsubscribe_selected", "_selected_action": [ann.pk]})
    ann.refresh_from_db()
    assert ann.status == Subscriber.Status.UNSUBSCRIBED
    assert ann.unsubscribe_channel == Subscriber.Channel.ADMIN
    admin_client.post(CHANGELIST, {"action": "erase_selected", "_selected_action": [bob.pk]})
    assert not Subscriber.objects.filter(pk=bob.pk).exists()
    assert suppression.suppression_reason("bob@example.org") == Suppression.Reason.DELETED


def test_adding_a_subscriber_needs_a_consent_basis_and_refuses_suppressed(admin_client, sections):
    add = reverse("admin:subscribers_subscriber_add")
    response = admin_client.post(add, {"email": "ann@example.org", "format": "html", "consent_basis": ""})
    assert response.status_code == 200
    assert not Subscriber.objects.exists()
    suppression.suppress("gone@example.org", Suppression.Reason.COMPLAINT)
    response = admin_client.post(
        add, {"email": "gone@example.org", "format": "html", "consent_basis": "Asked in person"}
    )
    assert "suppression list" in response.content.decode()
    response = admin_client.post(
        add,
        {
            "email": "Ann@Example.org",
            "name": "Ann",
            "format": "text",
            "sections": [sections[0].pk],
            "consent_basis": "Asked in person",
        },
    )
    assert response.status_code == 302
    ann = Subscriber.objects.get()
    assert ann.email == "ann@example.org"
    assert ann.status == Subscriber.Status.ACTIVE
    assert ann.consent_source == Subscriber.Source.ADMIN
    assert ann.consent_basis == "Asked in person"
    assert [s.slug for s in ann.sections.all()] == ["robustness"]


def test_the_change_form_opens(admin_client, sections):
    subscriber = make_subscriber("ann@example.org")
    response = admin_client.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]))
    assert response.status_code == 200


def test_suppressions_are_searched_by_address_and_added_by_address(admin_client):
    suppression.suppress("ann@example.org", Suppression.Reason.MANUAL)
    html = admin_client.get("/admin/subscribers/suppression/", {"q": "ANN@example.org"}).content.decode()
    assert address_hash("ann@example.org")[:16] in html
    response = admin_client.post(
        reverse("admin:subscribers_suppression_add"),
        {"email": "bob@example.org", "reason": "manual", "note": "asked by phone"},
    )
    assert response.status_code == 302
    assert suppression.suppression_reason("bob@example.org") == Suppression.Reason.MANUAL
    assert not Suppression.objects.filter(email_hash__contains="bob").exists()
