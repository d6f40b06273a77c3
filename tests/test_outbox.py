"""The default email backend keeps every message as a row, and staff read them at /outbox/."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, send_mail
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from newsletter import emails
from newsletter.models import OutboxMessage
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OUTBOX = "newsletter.outbox.DatabaseOutboxBackend"


@pytest.fixture
def staff_client(client):
    """A managing editor, who reads the whole outbox (tests/test_outbox_access.py: who reads what)."""
    client.force_login(make_user("editor", "Managing editor"))
    return client


@pytest.fixture
def message():
    return OutboxMessage.objects.create(
        from_email="news@example.org",
        to="ada@example.org",
        subject="Issue #2 is out",
        text_body="Read it: https://news.example.org/issues/2/\n<not a tag>",
        html_body='<html><body><p style="color: red">Hello</p></body></html>',
        headers={"Subject": "Issue #2 is out", "List-Unsubscribe": "<https://news.example.org/u/x/>"},
        raw="Subject: Issue #2 is out\n\nRead it",
    )


# The backend


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_it_stores_both_parts_of_a_message():
    sent = send_mail(
        "Grüße from the newsletter",
        "The text part",
        "news@example.org",
        ["ada@example.org", "bob@example.org"],
        html_message="<p>The HTML part</p>",
    )

    assert sent == 1
    [row] = OutboxMessage.objects.all()
    assert row.subject == "Grüße from the newsletter"
    assert row.from_email == "news@example.org"
    assert row.to == "ada@example.org\nbob@example.org"
    assert row.text_body == "The text part"
    assert row.html_body == "<p>The HTML part</p>"
    assert row.headers["Subject"] == "Grüße from the newsletter"
    assert row.headers["To"] == "ada@example.org, bob@example.org"
    assert "Message-ID" in row.headers
    assert "multipart/alternative" in row.raw


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_it_stores_an_html_only_message_as_html():
    message = EmailMessage("Hi", "<p>Only HTML</p>", "news@example.org", ["ada@example.org"])
    message.content_subtype = "html"
    message.send()

    row = OutboxMessage.objects.get()
    assert row.html_body == "<p>Only HTML</p>"
    assert row.text_body == ""


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_the_email_factory_sends_into_it():
    emails.send("test", "ada@example.org", {}, headers={"List-Id": "<news.example.org>"})

    row = OutboxMessage.objects.get()
    assert row.subject == "Test email from ML Safety Newsletter"
    assert "This is a test email" in row.text_body
    assert "This is a test email" in row.html_body
    assert row.headers["List-Id"] == "<news.example.org>"


# The pages


@pytest.mark.parametrize("name", ["outbox_list", "outbox_detail", "outbox_html"])
def test_anonymous_visitors_are_sent_to_log_in(client, message, name):
    url = reverse(name) if name == "outbox_list" else reverse(name, args=[message.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


@pytest.mark.parametrize("name", ["outbox_list", "outbox_detail", "outbox_html"])
def test_signed_in_non_staff_are_refused(client, message, name):
    client.force_login(get_user_model().objects.create_user("reader", "r@example.org", "pw"))
    url = reverse(name) if name == "outbox_list" else reverse(name, args=[message.pk])

    assert client.get(url).status_code == 403


def test_the_list_shows_messages_newest_first(staff_client, message):
    newer = OutboxMessage.objects.create(
        from_email="a@x.org", to="bob@example.org", subject="Newer one", raw=""
    )

    response = staff_client.get(reverse("outbox_list"))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("Newer one") < content.index("Issue #2 is out")
    assert newer.get_absolute_url() in content and message.get_absolute_url() in content
    assert "ada@example.org" in content
    assert 'name="robots" content="noindex' in content


def test_the_list_has_an_empty_state(staff_client):
    response = staff_client.get(reverse("outbox_list"))

    assert response.status_code == 200
    assert "No emails yet" in response.content.decode()


def test_the_list_is_paginated(staff_client):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(from_email="a@x.org", to="b@x.org", subject=f"Message {n}", raw="") for n in range(55)
    )

    first = staff_client.get(reverse("outbox_list")).content.decode()
    second = staff_client.get(reverse("outbox_list"), {"page": 2}).content.decode()

    assert first.count("<tr>") - 1 == 50
    assert second.count("<tr>") - 1 == 5


def test_the_detail_page_shows_headers_text_and_a_sandboxed_frame(staff_client, message):
    response = staff_client.get(message.get_absolute_url())

    assert response.status_code == 200
    content = response.content.decode()
    assert "List-Unsubscribe" in content and "&lt;https://news.example.org/u/x/&gt;" in content
    assert content.index(">Subject</th>") < content.index(">List-Unsubscribe</th>")
    assert (
        '<pre class="outbox-text">Read it: https://news.example.org/issues/2/\n&lt;not a tag&gt;</pre>'
        in content
    )
    frame_src = reverse("outbox_html", args=[message.pk])
    assert f'<iframe class="outbox-frame" src="{frame_src}"' in content
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in content
    assert "allow-scripts" not in content and "allow-same-origin" not in content
    assert "<script" not in content and "style=" not in content  # CSP-ready page


def test_the_html_part_is_served_under_a_strict_policy(staff_client, message):
    response = staff_client.get(reverse("outbox_html", args=[message.pk]))

    assert response.status_code == 200
    assert response.content.decode() == message.html_body
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "img-src * data:" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_a_message_without_html_has_no_html_view(staff_client, message):
    message.html_body = ""
    message.save()

    assert staff_client.get(reverse("outbox_html", args=[message.pk])).status_code == 404
    assert "This email has no HTML part" in staff_client.get(message.get_absolute_url()).content.decode()


def test_an_unknown_message_is_404(staff_client):
    assert staff_client.get(reverse("outbox_detail", args=[999])).status_code == 404


# The admin


@pytest.fixture
def outbox_admin():
    """The outbox's admin, registered and routed even before newsletter/admin.py imports it."""
    if not admin.site.is_registered(OutboxMessage):
        importlib.import_module("newsletter.admin_outbox")
        importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
        clear_url_caches()


def test_the_admin_lists_messages_read_only_with_a_link(client, message, outbox_admin):
    admin_user = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(admin_user)

    listing = client.get(reverse("admin:newsletter_outboxmessage_changelist"))
    change = client.get(reverse("admin:newsletter_outboxmessage_change", args=[message.pk]))

    assert listing.status_code == 200
    assert message.get_absolute_url() in listing.content.decode()
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:newsletter_outboxmessage_add")).status_code == 403
