"""The send's admin: start a send, watch its progress (a staff-only JSON endpoint and a script
file), pause, resume, cancel and resend the unknown, all through subscribers.sending."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending import claims

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue, start_send_in_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = make_sendable_issue(make_sections())
    for index in range(3):
        make_subscriber(f"r{index}@example.org")
    return issue


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    return user


def control(client, send, action):
    return client.post(reverse("admin:subscribers_send_control", args=[send.pk, action]))


def test_starting_a_send_from_the_admin(client, boss, issue, django_capture_on_commit_callbacks):
    url = reverse("admin:subscribers_send_add")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"issue": issue.pk, "kind": "full", "confirm": "on"})

    send = Send.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{send.pk}/change/")
    assert send.created_by == boss and send.recipient_count == 3
    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED

    again = client.post(url, {"issue": issue.pk, "kind": "full", "confirm": "on"})
    assert again.status_code == 200
    assert "already been sent" in again.content.decode()
    assert Send.objects.count() == 1


def test_a_send_refused_by_the_checks_says_why(client, boss, issue):
    issue.intro = "A very long intro. " * 8000
    issue.save()
    response = start_send_in_admin(client, issue)
    assert response.status_code == 200
    assert "Gmail clips" in response.content.decode()
    assert not Send.objects.exists()


def test_the_progress_page_has_a_bar_and_no_inline_script(client, boss, issue):
    send = sending.start_send(issue)
    response = client.get(reverse("admin:subscribers_send_change", args=[send.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert re.search(r'<progress max="3" value="0"', html)
    assert f'data-progress-url="/admin/subscribers/send/{send.pk}/progress.json"' in html
    assert "js/send-progress.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)  # every script is a file
    assert ' style="' not in html.split('<div id="content"', 1)[1].split("</section>", 1)[0]


def test_the_progress_json_is_staff_only(client, issue, django_user_model):
    send = sending.start_send(issue)
    url = reverse("admin:subscribers_send_progress", args=[send.pk])
    assert client.get(url).status_code == 302  # to the login page
    reader = django_user_model.objects.create_user("reader", password="pw")
    client.force_login(reader)
    assert client.get(url).status_code == 302

    reader.is_staff = True
    reader.save()
    reader.user_permissions.add(Permission.objects.get(codename="view_send"))
    data = client.get(url).json()
    assert data["total"] == 3 and data["queued"] == 3 and data["status"] == "sending"
    assert {"sent", "failed", "unknown", "remaining", "rate_per_minute", "eta_seconds", "percent"} <= set(
        data
    )


def test_pause_resume_and_cancel(client, boss, issue, django_capture_on_commit_callbacks):
    send = sending.start_send(issue)
    assert client.get(reverse("admin:subscribers_send_control", args=[send.pk, "pause"])).status_code == 405

    control(client, send, "pause")
    send.refresh_from_db()
    assert send.status == Send.Status.PAUSED
    assert sending.send_batch(send.pk).claimed == 0  # a paused send claims nothing

    with django_capture_on_commit_callbacks(execute=True):
        control(client, send, "resume")
    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED

    response = control(client, send, "cancel")
    assert response.status_code == 302
    send.refresh_from_db()
    assert send.status == Send.Status.FINISHED  # refused: it is over


def test_cancel_stops_queued_deliveries(client, boss, issue):
    send = sending.start_send(issue)
    control(client, send, "cancel")
    send.refresh_from_db()
    assert send.status == Send.Status.CANCELLED
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {"cancelled"}
    assert sending.send_batch(send.pk).claimed == 0


def test_resend_the_unknown_from_the_page(client, boss, issue, django_capture_on_commit_callbacks):
    from django.core import mail

    send = sending.start_send(issue)
    claims.claim_batch(send, 10, 600)
    Delivery.objects.filter(send=send).update(status=Delivery.Status.UNKNOWN)
    page = client.get(reverse("admin:subscribers_send_change", args=[send.pk])).content.decode()
    assert "Resend the 3 unknown" in page

    with django_capture_on_commit_callbacks(execute=True):
        control(client, send, "resend-unknown")

    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == 3
    assert len(mail.outbox) == 3


def test_staff_without_the_send_permission_cannot_start_or_control(client, issue, django_user_model):
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="view_send"))
    client.force_login(editor)
    send = sending.start_send(issue)

    assert client.get(reverse("admin:subscribers_send_add")).status_code == 403
    control(client, send, "cancel")
    send.refresh_from_db()
    assert send.status == Send.Status.SENDING


def test_the_delivery_list_shows_recipients(client, boss, issue):
    send = sending.start_send(issue)
    sending.dispatch(send.pk)
    response = client.get(reverse("admin:subscribers_delivery_changelist") + f"?send__id__exact={send.pk}")
    assert response.status_code == 200
    assert "r0@example.org" in response.content.decode()
