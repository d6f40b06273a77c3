"""Who reads the outbox. It keeps every email the site sent: subscribers' addresses with their
personal preference and unsubscribe links, and other writers' test emails of unpublished drafts.
Managing editors and superusers read all of it; other staff only the emails sent to their own
address (their test emails); a refusal is a page in the admin's layout saying why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from newsletter.models import OutboxMessage
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def emails():
    return {
        "subscriber": OutboxMessage.objects.create(
            to="reader@example.org",
            subject="Issue #2 is out",
            text_body="Unsubscribe: https://news.example.org/unsubscribe/secret-token/",
            html_body="<p>Issue #2</p>",
            raw="",
        ),
        "wanda": OutboxMessage.objects.create(
            to="wanda@example.org", subject="[Test] Wanda's draft", html_body="<p>Draft</p>", raw=""
        ),
        "otto": OutboxMessage.objects.create(
            to="someone@example.org\notto@example.org", subject="[Test] Otto's draft", raw=""
        ),
    }


def subjects_listed(client) -> list[str]:
    return [message.subject for message in client.get(reverse("outbox_list")).context["page"].object_list]


def test_a_managing_editor_reads_the_whole_outbox(client, emails):
    client.force_login(make_user("max", "Managing editor"))

    assert subjects_listed(client) == ["[Test] Otto's draft", "[Test] Wanda's draft", "Issue #2 is out"]
    assert client.get(reverse("outbox_detail", args=[emails["subscriber"].pk])).status_code == 200


def test_a_superuser_reads_the_whole_outbox(admin_client, emails):
    assert len(subjects_listed(admin_client)) == 3


@pytest.mark.parametrize("role", ["Writer", "Editor"])
def test_other_staff_see_only_the_emails_sent_to_them(client, emails, role):
    client.force_login(make_user("wanda", role))

    response = client.get(reverse("outbox_list"))

    assert [message.subject for message in response.context["page"].object_list] == ["[Test] Wanda's draft"]
    assert "You see only the emails sent to your own address, wanda@example.org" in response.content.decode()
    assert client.get(reverse("outbox_detail", args=[emails["wanda"].pk])).status_code == 200
    assert client.get(reverse("outbox_html", args=[emails["wanda"].pk])).status_code == 200


def test_an_email_to_one_of_several_recipients_is_theirs_to_read(client, emails):
    client.force_login(make_user("otto", "Writer"))

    assert subjects_listed(client) == ["[Test] Otto's draft"]


@pytest.mark.parametrize("page", ["outbox_detail", "outbox_html"])
def test_a_writer_is_refused_a_subscribers_email_with_a_page_saying_why(client, emails, page):
    client.force_login(make_user("wanda", "Writer"))

    response = client.get(reverse(page, args=[emails["subscriber"].pk]))

    assert response.status_code == 403
    assert "admin/base_site.html" in [template.name for template in response.templates]
    content = response.content.decode()
    assert "read only the emails sent to your own address (wanda@example.org)" in content
    assert "secret-token" not in content and "reader@example.org" not in content


def test_a_writer_cannot_read_another_writers_test_email(client, emails):
    client.force_login(make_user("wanda", "Writer"))

    assert client.get(reverse("outbox_detail", args=[emails["otto"].pk])).status_code == 403


def test_staff_without_an_address_see_nothing(client, emails):
    client.force_login(make_user("nomail", "Editor", email=""))

    assert subjects_listed(client) == []


def test_an_unknown_email_is_not_found_for_anyone(client, emails):
    client.force_login(make_user("wanda", "Writer"))

    assert client.get(reverse("outbox_detail", args=[987654])).status_code == 404


def test_signed_in_non_staff_are_refused_with_the_refusal_page(client, django_user_model, emails):
    client.force_login(django_user_model.objects.create_user("reader", "reader@example.org", "pw"))

    response = client.get(reverse("outbox_list"))

    assert response.status_code == 403
    assert "The outbox is for the newsletter&#x27;s staff" in response.content.decode()
    assert 'id="access-refused"' in response.content.decode()
