"""Previews: signed share links (expiry, revocation, tampering), the email in the admin and the
test email."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.signing import dumps
from django.utils import timezone

from editorial import previews
from editorial.models import PreviewLink
from newsletter.models import Issue
from tests import test_roles
from tests.factories import make_ready_issue, make_user

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
other_writer = test_roles.other_writer
writer = test_roles.writer


def preview_path(link: PreviewLink) -> str:
    return f"/preview/{previews.token_for(link)}/"


def test_a_share_link_shows_the_draft_as_the_public_page_with_a_banner(client, writer):
    issue = make_ready_issue(created_by=writer, title="Robust vision transformers")
    link = previews.create_link(issue, writer)

    response = client.get(preview_path(link))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Robust vision transformers" in page and "Pyramid training" in page
    assert 'class="preview-banner"' in page
    assert '<meta name="robots" content="noindex' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "newsletter/issue_detail.html" in [t.name for t in response.templates]
    assert client.get(f"/issues/{issue.number}/").status_code == 404  # still not public


def test_a_share_link_expires_after_seven_days(client, writer):
    issue = make_ready_issue(created_by=writer)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        link = previews.create_link(issue, writer)
        path = preview_path(link)
        clock.shift(timedelta(days=7) - timedelta(minutes=1))
        assert client.get(path).status_code == 200
        clock.shift(timedelta(minutes=2))

        response = client.get(path)

    assert response.status_code == 404
    assert "This preview link has expired" in response.content.decode()


def test_a_revoked_link_stops_working(client, writer):
    link = previews.create_link(make_ready_issue(created_by=writer), writer)
    path = preview_path(link)

    previews.revoke(link, writer)

    response = client.get(path)
    assert response.status_code == 404 and "This preview link was revoked." in response.content.decode()


@pytest.mark.parametrize("tamper", ["flip_a_character", "another_salt", "made_up"])
def test_a_tampered_link_is_refused(client, writer, tamper):
    link = previews.create_link(make_ready_issue(created_by=writer), writer)
    token = previews.token_for(link)
    forged = {
        "flip_a_character": token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
        "another_salt": dumps({"link": link.pk}, salt="subscribers.unsubscribe"),
        "made_up": "eyJsaW5rIjoxfQ:1abcde:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }[tamper]

    response = client.get(f"/preview/{forged}/")

    assert response.status_code == 404
    assert "This is not a valid preview link." in response.content.decode()


def test_links_are_made_and_revoked_from_the_admin(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/previews/", follow=True)

    link = PreviewLink.objects.get()
    assert previews.url_for(link).split("/preview/")[0] == "https://news.example.org"
    assert "Share this preview link" in response.content.decode()
    client.post(f"/admin/newsletter/issue/{issue.pk}/previews/{link.pk}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_a_writer_cannot_share_another_writers_draft(writer, other_writer):
    with pytest.raises(previews.PreviewRefused):
        previews.create_link(make_ready_issue(created_by=other_writer), writer)


def test_the_admin_shows_the_email_as_html_in_a_frame_and_as_text(client, writer):
    issue = make_ready_issue(created_by=writer, subject="Robustness, monitoring and more")
    client.force_login(writer)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/email/").content.decode()
    frame = client.get(f"/admin/newsletter/issue/{issue.pk}/email/html/")

    assert "Robustness, monitoring and more" in page
    assert (
        f'<iframe class="editorial-email-frame" src="/admin/newsletter/issue/{issue.pk}/email/html/" sandbox'
        in page
    )
    assert "Pyramid training" in page  # the plain-text part
    assert frame.status_code == 200 and "Pyramid training" in frame.content.decode()
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'none'" in frame["Content-Security-Policy"]


def test_send_me_a_test_email_sends_it_to_the_editor(client, writer):
    issue = make_ready_issue(created_by=writer, subject="Issue one")
    client.force_login(writer)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/email/test/", follow=True)

    assert "on its way to wanda@example.org" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["wanda@example.org"]
    assert message.subject == "[Test] Issue one"
    assert "Pyramid training" in message.body
    assert "Pyramid training" in message.alternatives[0].content


def test_an_editor_without_an_email_address_is_told_so(client, writer):
    nobody = make_user("noemail", "Editor", email="")
    issue = make_ready_issue(created_by=writer)
    client.force_login(nobody)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/email/test/", follow=True)

    assert "Your account has no email address" in response.content.decode()
    assert mail.outbox == []


def test_a_get_never_sends(client, writer):
    issue = make_ready_issue(created_by=writer)
    client.force_login(writer)

    assert client.get(f"/admin/newsletter/issue/{issue.pk}/email/test/").status_code == 405
    assert mail.outbox == []
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
