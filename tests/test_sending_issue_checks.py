"""Starting a send runs the email's checks again (newsletter.checks): an issue whose subject or
preheader grew past the limits after it was published, or that was published without the
editorial workflow, is refused with IssueChecksFailed, which says what failed, wherever the send
is started from: the admin, `manage.py send_issue`, or the scheduled "send when published"."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from editorial import hooks
from subscribers import sending
from subscribers.models import Delivery, Send

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue, start_send_in_admin

pytestmark = pytest.mark.django_db

# The demo issue #2 went out with these: an 88-character subject and a 148-character preheader.
LONG_SUBJECT = "ML Safety Newsletter #2: Adversarial Training, Feature Visualization, and Machine Ethics"
LONG_PREHEADER = (
    "Adversarial training for continuous and discrete inputs, feature visualizations vs. natural "
    "images, and steering RL agents from causing wanton harm."
)


@pytest.fixture
def issue():
    issue = make_sendable_issue(make_sections())
    make_subscriber("reader@example.org")
    return issue


def test_a_send_is_refused_while_the_subject_and_preheader_are_too_long(issue):
    issue.subject, issue.preheader = LONG_SUBJECT, LONG_PREHEADER
    issue.save()

    with pytest.raises(sending.IssueChecksFailed) as refused:
        sending.start_send(issue)

    assert refused.value.problems == [
        "The email subject has 88 characters; at most 78 fit.",
        "The preheader has 148 characters; at most 140 fit.",
    ]
    assert refused.value.message.startswith("Issue #7 was not sent: it fails the email checks.")
    assert all(problem in refused.value.message for problem in refused.value.problems)
    assert not Send.objects.exists() and not Delivery.objects.exists()


def test_an_issue_without_a_preheader_is_judged_by_the_intro_its_email_shows(issue):
    issue.preheader, issue.intro = "", "A long opening sentence about robustness research. " * 4
    issue.save()

    with pytest.raises(sending.IssueChecksFailed, match="taken from the intro"):
        sending.start_send(issue)


def test_a_resend_is_refused_too(issue):
    sending.start_send(issue)
    Send.objects.update(status=Send.Status.FINISHED, finished_at=timezone.now())
    issue.subject = LONG_SUBJECT
    issue.save()

    with pytest.raises(sending.IssueChecksFailed):
        sending.start_send(issue, kind=Send.Kind.RESEND)


def test_an_issue_within_the_limits_is_sent(issue):
    issue.subject, issue.preheader = "s" * 78, "p" * 140
    issue.save()

    send = sending.start_send(issue)

    assert send.recipient_count == 1


def test_the_command_says_what_failed(issue):
    issue.subject = LONG_SUBJECT
    issue.save()

    with pytest.raises(CommandError, match="The email subject has 88 characters; at most 78 fit."):
        call_command("send_issue", str(issue.number))
    assert not Send.objects.exists()


def test_the_admin_form_says_what_failed(client, django_user_model, issue):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.org", "pw"))
    issue.preheader = LONG_PREHEADER
    issue.save()

    response = start_send_in_admin(client, issue)

    assert response.status_code == 200
    assert "The preheader has 148 characters; at most 140 fit." in response.content.decode()
    assert not Send.objects.exists()


def test_send_when_published_reports_what_failed(issue):
    issue.subject = LONG_SUBJECT
    issue.save()

    outcome = hooks.start_send(issue, None)

    assert outcome.startswith("The send was not started: Issue #7 was not sent")
    assert "88 characters" in outcome
    assert not Send.objects.exists()


def test_a_test_send_to_editors_goes_out_and_notes_what_fails(issue):
    issue.subject = LONG_SUBJECT
    issue.save()

    send = sending.start_test_send(issue, ["editor@example.org"])

    assert "The email subject has 88 characters" in send.note
