"""Workflow notifications: who hears of each move, comment and send, on the dashboard and by email;
never of their own action, never of a kind they turned off, only after the action commits, and a
mail server that fails never breaks the workflow. Every person is a real role account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from editorial import hooks, notifications, review, workflow
from editorial.models import Notification, NotificationPreference
from newsletter.models import Issue
from subscribers import sending
from subscribers.models import Delivery, Send
from tests import test_roles
from tests.factories import make_author, make_ready_issue, make_sections, make_subscriber, make_user
from tests.sending_fixtures import make_sendable_issue, run_send

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Status = Issue.Status

writer = test_roles.writer  # wanda
other_writer = test_roles.other_writer  # otto
editor = test_roles.editor  # edith
managing_editor = test_roles.managing_editor  # max


@pytest.fixture
def second_managing_editor():
    return make_user("mona", "Managing editor")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block registers for after its commit, as a real request's commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def told(kind: Kind | None = None) -> set[str]:
    """The usernames that got a notification (of `kind`)."""
    rows = Notification.objects.all() if kind is None else Notification.objects.filter(kind=kind)
    return set(rows.values_list("recipient__username", flat=True))


def mailed() -> set[str]:
    return {address.split("@")[0] for message in mail.outbox for address in message.to}


# Workflow moves -----------------------------------------------------------------------------------


def test_a_submitted_issue_tells_the_reviewers_not_the_writer_nor_other_writers(
    committed, writer, other_writer, editor, managing_editor
):
    issue = make_ready_issue(created_by=writer)

    with committed():
        workflow.submit(issue, writer)

    assert told(Kind.SUBMITTED) == {"edith", "max"}
    assert mailed() == {"edith", "max"}
    note = Notification.objects.get(recipient=editor)
    assert note.message == f"wanda submitted issue #{issue.number} “{issue.title}” for review."
    assert (note.actor, note.issue, note.read_at) == (writer, issue, None)


def test_an_editor_submitting_their_own_issue_is_not_told_of_it(committed, editor, managing_editor):
    issue = make_ready_issue(created_by=editor)

    with committed():
        workflow.submit(issue, editor)

    assert told() == {"max"}


def test_changes_requested_tell_the_writer(committed, writer, editor, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with committed():
        workflow.request_changes(issue, editor, "Shorten the intro.")

    assert told(Kind.CHANGES_REQUESTED) == {"wanda"}
    note = Notification.objects.get()
    assert note.detail == "Shorten the intro." and note.url.endswith("#editorial-workflow")
    message = mail.outbox[0]
    assert message.to == ["wanda@example.org"]
    assert "edith requested changes" in message.subject and "Shorten the intro." in message.body
    assert f"https://news.example.org/admin/newsletter/issue/{issue.pk}/change/" in message.body
    assert "https://news.example.org/admin/notifications/settings/" in message.body
    assert isinstance(message, EmailMultiAlternatives)
    assert "Shorten the intro." in str(message.alternatives[0][0])  # the HTML part


def test_an_approval_tells_the_managing_editors_but_not_the_approver(
    committed, writer, editor, managing_editor, second_managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with committed():
        workflow.approve(issue, managing_editor)

    assert told(Kind.APPROVED) == {"mona"}
    assert told() == {"mona"}  # neither the writer nor the editor


def test_scheduling_and_publishing_tell_the_other_managing_editors(
    committed, writer, managing_editor, second_managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)

    with committed():
        workflow.schedule(issue, managing_editor, timezone.now() + timedelta(days=1))
    with committed():
        workflow.publish(issue, managing_editor)

    assert told(Kind.SCHEDULED) == {"mona"} and told(Kind.PUBLISHED) == {"mona"}
    assert Notification.objects.get(kind=Kind.SCHEDULED).detail.startswith("For ")


def test_a_scheduled_publication_tells_every_managing_editor_the_scheduler_too(
    committed, writer, managing_editor, second_managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)
    workflow.schedule(issue, managing_editor, timezone.now() + timedelta(hours=1))
    issue.refresh_from_db()

    with committed():
        workflow.publish_scheduled(issue.schedule, timezone.now())

    assert told(Kind.PUBLISHED) == {"max", "mona"}  # the system published it, not max
    assert Notification.objects.get(recipient=managing_editor).message.endswith("was published as scheduled.")


def test_a_move_that_is_rolled_back_tells_nobody(committed, writer, editor):
    issue = make_ready_issue(created_by=writer)

    with committed(), transaction.atomic():
        workflow.submit(issue, writer)
        transaction.set_rollback(True)

    assert not Notification.objects.exists() and not mail.outbox


def test_back_to_draft_tells_nobody(committed, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with committed():
        workflow.back_to_draft(issue, writer)

    assert not Notification.objects.exists()


# Review comments --------------------------------------------------------------------------------


def test_every_new_review_comment_tells_the_writer_and_a_reply_tells_the_thread(
    committed, writer, editor, managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with committed():
        thread = review.add_comment(issue, editor, "Cite the workshop version?")
    assert told(Kind.COMMENTED) == {"wanda"}
    assert Notification.objects.get().detail == "Cite the workshop version?"

    with committed():
        review.add_comment(issue, writer, "Done, see the link.", parent=thread)

    reply = Notification.objects.get(recipient=editor)
    assert reply.message == f"wanda replied to a review comment on issue #{issue.number} “{issue.title}”."
    assert Notification.objects.filter(recipient=writer).count() == 1  # not told of their own reply


def test_a_comment_on_a_summary_tells_its_bylined_writer_when_they_may_see_the_issue(
    committed, writer, other_writer, editor, managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)
    summary = issue.summaries.get()
    summary.writer = make_author("Edith", user=editor)
    summary.save()

    with committed():
        review.add_comment(issue, managing_editor, "Which dataset?", summary=summary)
    assert told(Kind.COMMENTED) == {"wanda", "edith"}
    assert (
        Notification.objects.filter(recipient=editor)
        .get()
        .message.endswith(f"on the summary “{summary.headline}”.")
    )

    # A byline whose account may not see the issue (another writer's) hears nothing of it.
    summary.writer = make_author("Otto", user=other_writer)
    summary.save()
    with committed():
        review.add_comment(issue, managing_editor, "And the baseline?", summary=summary)
    assert "otto" not in told()


def test_a_writer_commenting_on_their_own_issue_tells_nobody(committed, writer, editor):
    issue = make_ready_issue(created_by=writer)

    with committed():
        review.add_comment(issue, writer, "Note to self: add figure.")

    assert not Notification.objects.exists()


# Preferences ------------------------------------------------------------------------------------


def test_a_kind_turned_off_gives_neither_row_nor_email_and_other_kinds_still_come(committed, writer, editor):
    NotificationPreference.objects.create(user=writer, kind=Kind.COMMENTED, enabled=False)
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with committed():
        review.add_comment(issue, editor, "Typo in the title.")
    assert not Notification.objects.exists() and not mail.outbox

    with committed():
        workflow.request_changes(issue, editor, "")
    assert told() == {"wanda"} and mailed() == {"wanda"}


def test_the_settings_page_lists_the_kinds_of_the_role_and_saves_them(client, writer, managing_editor):
    client.force_login(writer)
    url = reverse("editorial:notification_preferences")

    page = client.get(url).content.decode()
    assert Kind.COMMENTED.label in page and Kind.SEND_FINISHED.label not in page

    response = client.post(url, {"kinds": [Kind.CHANGES_REQUESTED]})

    assert response.status_code == 302
    assert notifications.enabled_kinds(writer) == {Kind.CHANGES_REQUESTED}
    client.force_login(managing_editor)
    assert Kind.SEND_FINISHED.label in client.get(url).content.decode()


def test_the_settings_page_refuses_a_kind_that_is_not_the_users(client, writer):
    client.force_login(writer)

    response = client.post(reverse("editorial:notification_preferences"), {"kinds": [Kind.SEND_FINISHED]})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# Sends ------------------------------------------------------------------------------------------


@pytest.fixture
def sendable():
    make_subscriber("reader@example.org")
    return make_sendable_issue(make_sections())


def test_a_finished_send_tells_the_managing_editors(
    django_capture_on_commit_callbacks, sendable, writer, managing_editor
):
    send = run_send(sendable, django_capture_on_commit_callbacks)

    assert send.status == Send.Status.FINISHED
    assert told() == {"max"}
    note = Notification.objects.get()
    assert note.kind == Kind.SEND_FINISHED and note.message.endswith("finished: 1 sent.")
    assert note.url == reverse("admin:subscribers_send_change", args=[send.pk])
    assert "max@example.org" in {address for message in mail.outbox for address in message.to}


def test_a_send_that_finishes_with_failures_is_a_problem_even_with_finished_turned_off(
    django_capture_on_commit_callbacks, settings, sendable, managing_editor
):
    NotificationPreference.objects.create(user=managing_editor, kind=Kind.SEND_FINISHED, enabled=False)
    make_subscriber("second@example.org")
    settings.EMAIL_BACKEND = "tests.test_notifications.RefusingBackend"

    send = run_send(sendable, django_capture_on_commit_callbacks)

    assert Delivery.objects.filter(send=send, status=Delivery.Status.FAILED).count() == 2
    note = Notification.objects.get()
    assert note.kind == Kind.SEND_PROBLEM
    assert note.message.endswith("finished with problems: 2 failed.")


def test_pausing_with_unknown_deliveries_tells_the_other_managing_editors(
    committed, sendable, managing_editor, second_managing_editor
):
    send = Send.objects.create(issue=sendable, recipient_count=2)
    for index, status in enumerate([Delivery.Status.UNKNOWN, Delivery.Status.QUEUED]):
        Delivery.objects.create(send=send, email_hash=f"{index}" * 64, status=status)

    with committed():
        sending.pause(send, managing_editor)

    assert told(Kind.SEND_PROBLEM) == {"mona"}
    note = Notification.objects.get()
    assert "max paused the send" in note.message and "1 delivery has an unknown outcome" in note.message


def test_pausing_without_unknown_deliveries_tells_nobody(
    committed, sendable, managing_editor, second_managing_editor
):
    send = Send.objects.create(issue=sendable, recipient_count=1)
    Delivery.objects.create(send=send, email_hash="0" * 64, status=Delivery.Status.QUEUED)

    with committed():
        sending.pause(send, managing_editor)

    assert not Notification.objects.exists()


def test_a_test_send_tells_nobody(django_capture_on_commit_callbacks, sendable, managing_editor):
    with django_capture_on_commit_callbacks(execute=True):
        sending.start_test_send(sendable, ["max@example.org"], managing_editor)

    assert not Notification.objects.exists()


def test_a_send_that_does_not_start_after_a_scheduled_publication_is_a_problem(
    committed, writer, managing_editor
):
    issue = make_ready_issue(created_by=writer, status=Status.PUBLISHED, published_at=timezone.now())
    Send.objects.create(
        issue=issue, recipient_count=0, status=Send.Status.FINISHED, finished_at=timezone.now()
    )

    with committed():
        outcome = hooks.start_send(issue, None)

    assert outcome.startswith("The send was not started: ")
    note = Notification.objects.get()
    assert (note.kind, note.recipient, note.detail) == (Kind.SEND_PROBLEM, managing_editor, outcome)


# Mail that fails --------------------------------------------------------------------------------


class RefusingBackend:
    """An email backend whose server refuses everything."""

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"No such user") for m in messages})


def test_a_failing_mail_server_never_breaks_the_move(committed, settings, writer, editor):
    settings.EMAIL_BACKEND = "tests.test_notifications.RefusingBackend"
    issue = make_ready_issue(created_by=writer)

    with committed():
        workflow.submit(issue, writer)

    issue.refresh_from_db()
    assert issue.status == Status.IN_REVIEW
    assert told() == {"edith"}  # still on the dashboard


def test_a_task_queue_that_is_down_never_breaks_the_move(committed, monkeypatch, writer, editor):
    class Down:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("The task queue is down.")

    monkeypatch.setattr(notifications, "send_email_task", Down())
    issue = make_ready_issue(created_by=writer)

    with committed():
        workflow.submit(issue, writer)

    issue.refresh_from_db()
    assert issue.status == Status.IN_REVIEW and told() == {"edith"} and not mail.outbox


def test_notifying_that_fails_outright_never_breaks_the_move(committed, monkeypatch, writer, editor):
    def broken(*args, **kwargs):
        raise RuntimeError("A bug in the notifications.")

    monkeypatch.setattr(notifications, "notify", broken)
    issue = make_ready_issue(created_by=writer)

    with committed():
        transition = workflow.submit(issue, writer)

    assert transition.pk and Issue.objects.get(pk=issue.pk).status == Status.IN_REVIEW


# The dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_shows_the_unread_count_and_marks_one_or_all_read(committed, client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)
    with committed():
        first = review.add_comment(issue, editor, "First remark.")
        review.add_comment(issue, editor, "Second remark.", parent=first)
    client.force_login(writer)

    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="notifications-count">2 unread' in page and "First remark." in page
    assert reverse("editorial:notification_preferences") in page

    oldest = Notification.objects.order_by("pk")[0]
    response = client.post(
        reverse("editorial:notifications_read"), {"notification": oldest.pk, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert notifications.unread_count(writer) == 1
    assert 'id="notifications-count">1 unread' in client.get(reverse("admin:index")).content.decode()

    client.post(reverse("editorial:notifications_read"), {"all": "1"})
    assert notifications.unread_count(writer) == 0
    assert 'id="notifications-count"' not in client.get(reverse("admin:index")).content.decode()


def test_nobody_marks_another_persons_notification_read(committed, client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)
    with committed():
        review.add_comment(issue, editor, "Remark.")
    client.force_login(editor)

    response = client.post(
        reverse("editorial:notifications_read"),
        {"notification": Notification.objects.get().pk, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("admin:index")  # not off-site
    assert notifications.unread_count(writer) == 1


def test_marking_read_without_saying_which_is_refused_with_a_reason(client, writer):
    client.force_login(writer)

    response = client.post(reverse("editorial:notifications_read"), {"notification": "abc"}, follow=True)

    assert "Nothing was marked as read" in response.content.decode()


def test_the_notifications_page_lists_only_ones_own(committed, client, writer, editor, managing_editor):
    issue = make_ready_issue(created_by=writer)
    with committed():
        workflow.submit(issue, writer)
    client.force_login(editor)

    page = client.get(reverse("editorial:notifications")).content.decode()

    assert "1 unread notification." in page and "wanda submitted" in page
    client.force_login(writer)
    assert "No notifications yet" in client.get(reverse("editorial:notifications")).content.decode()


# In a real browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_writer_reads_a_review_comment_on_the_dashboard_and_marks_it_read(
    page, live_server, settings, artifacts_dir
):
    from playwright.sync_api import expect

    from tests.factories import create_roles

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    create_roles()
    wanda = make_user("wanda", "Writer", password="pw-for-wanda")
    issue = make_ready_issue(created_by=wanda, status=Status.IN_REVIEW)
    review.add_comment(issue, make_user("edith", "Editor"), "Cite the workshop version?")  # commits
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "wanda")
    page.fill("#id_password", "pw-for-wanda")
    page.click("input[type=submit]")

    panel = page.locator("#dashboard-notifications")
    expect(page.locator("#notifications-count")).to_have_text("1 unread")
    expect(panel).to_contain_text("edith commented on issue")
    expect(panel).to_contain_text("Cite the workshop version?")
    page.screenshot(path=str(artifacts_dir / "notifications-dashboard.png"), full_page=True)
    panel.get_by_role("button", name="Mark as read").click()

    expect(page.locator("#notifications-count")).to_have_count(0)
    expect(panel.locator(".notification-unread")).to_have_count(0)
    assert page.url.endswith("/admin/") and not page.console_errors
    assert [m.to for m in mail.outbox] == [["wanda@example.org"]]
