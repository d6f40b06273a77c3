"""Scheduled publication: a managing editor schedules an issue; at its time (frozen clock) it is
published, unless it was rescheduled, cancelled or fails its checks."""

from __future__ import annotations

import io
import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from editorial import scheduling, workflow
from editorial.models import Schedule, Transition
from editorial.tasks import publish_scheduled_issue
from newsletter.models import Issue
from tests import test_roles
from tests.test_roles import make_ready_issue

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
writer = test_roles.writer
editor = test_roles.editor
managing_editor = test_roles.managing_editor
Status = Issue.Status
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=PARIS)
AT = datetime(2025, 3, 12, 8, 30, tzinfo=PARIS)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def approved(writer):
    return make_ready_issue(created_by=writer, status=Status.APPROVED)


def test_a_managing_editor_schedules_an_approved_issue(clock, approved, managing_editor):
    transition = workflow.schedule(approved, managing_editor, AT, timezone_name="Europe/Paris")

    assert approved.status == Status.SCHEDULED and approved.scheduled_for == AT
    schedule = Schedule.objects.get()
    assert (schedule.local_publish_at, schedule.time_zone, schedule.scheduled_by) == (
        AT,
        "Europe/Paris",
        managing_editor,
    )
    assert transition.comment == "For 2025-03-12 08:30 Europe/Paris."
    assert str(schedule).endswith("at 2025-03-12 08:30 Europe/Paris")


@pytest.mark.parametrize("role_fixture", ["writer", "editor"])
def test_only_a_managing_editor_schedules(request, clock, approved, role_fixture):
    with pytest.raises(workflow.NotAllowed):
        workflow.schedule(approved, request.getfixturevalue(role_fixture), AT)

    assert not Schedule.objects.exists()


def test_a_time_in_the_past_is_refused(clock, approved, managing_editor):
    with pytest.raises(workflow.NotReady, match="in the future"):
        workflow.schedule(approved, managing_editor, NOW - timedelta(minutes=1))


def test_an_issue_in_review_cannot_be_scheduled(clock, writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with pytest.raises(workflow.WrongState):
        workflow.schedule(issue, managing_editor, AT)


def test_it_is_published_when_its_time_comes_and_not_before(clock, approved, managing_editor, client):
    workflow.schedule(approved, managing_editor, AT)
    clock.move_to(AT - timedelta(seconds=1))
    assert scheduling.publish_due_issues() == []
    assert Issue.objects.get(pk=approved.pk).status == Status.SCHEDULED

    clock.move_to(AT)
    [outcome] = scheduling.publish_due_issues()

    approved.refresh_from_db()
    assert outcome.published and approved.status == Status.PUBLISHED and approved.published_at == AT
    assert not Schedule.objects.exists()
    last = Transition.objects.last()
    assert (last.actor, last.from_status, last.to_status) == (None, Status.SCHEDULED, Status.PUBLISHED)
    assert client.get(f"/issues/{approved.number}/").status_code == 200
    assert scheduling.publish_due_issues() == []  # idempotent


def test_the_task_publishes_with_the_current_token_only(clock, approved, managing_editor):
    workflow.schedule(approved, managing_editor, AT)
    old_token = str(Schedule.objects.get().token)
    later = AT + timedelta(hours=2)
    workflow.schedule(approved, managing_editor, later)  # rescheduled
    clock.move_to(AT)

    assert publish_scheduled_issue.call(approved.pk, old_token) == "rescheduled since this task was enqueued"
    assert Issue.objects.get(pk=approved.pk).status == Status.SCHEDULED

    clock.move_to(later)
    assert publish_scheduled_issue.call(approved.pk, str(Schedule.objects.get().token)) == "published"
    assert Issue.objects.get(pk=approved.pk).status == Status.PUBLISHED


def test_rescheduling_is_recorded(clock, approved, managing_editor):
    workflow.schedule(approved, managing_editor, AT)

    transition = workflow.schedule(
        approved, managing_editor, AT + timedelta(days=1), timezone_name="Europe/Paris"
    )

    assert (transition.action, transition.from_status, transition.to_status) == (
        Transition.Action.RESCHEDULE,
        Status.SCHEDULED,
        Status.SCHEDULED,
    )
    assert Issue.objects.get(pk=approved.pk).scheduled_for == AT + timedelta(days=1)


def test_a_cancelled_schedule_publishes_nothing(clock, approved, managing_editor):
    workflow.schedule(approved, managing_editor, AT)
    token = str(Schedule.objects.get().token)

    workflow.cancel_schedule(approved, managing_editor)
    clock.move_to(AT + timedelta(minutes=5))

    assert approved.status == Status.APPROVED and approved.scheduled_for is None
    assert scheduling.publish_due_issues() == []
    assert publish_scheduled_issue.call(approved.pk, token) == "not scheduled any more"
    assert Issue.objects.get(pk=approved.pk).status == Status.APPROVED


def test_an_issue_failing_its_checks_at_publish_time_is_not_published(
    clock, approved, managing_editor, client
):
    workflow.schedule(approved, managing_editor, AT)
    Issue.objects.filter(pk=approved.pk).update(subject="x" * 80)  # changed behind the workflow's back
    clock.move_to(AT)

    [outcome] = scheduling.publish_due_issues()

    approved.refresh_from_db()
    assert not outcome.published and approved.status == Status.APPROVED and approved.scheduled_for is None
    schedule = Schedule.objects.get()
    assert schedule.failed_at == AT and "80 characters" in schedule.failure
    assert "Not published: The pre-publish checks fail" in Transition.objects.last().comment
    client.force_login(managing_editor)
    assert "80 characters" in client.get("/admin/").content.decode()  # the dashboard says why
    assert "did not happen" in client.get(f"/admin/newsletter/issue/{approved.pk}/change/").content.decode()


def test_start_send_is_handed_to_the_send_pipeline(clock, approved, managing_editor):
    from subscribers.models import Send

    workflow.schedule(approved, managing_editor, AT, start_send=True)
    clock.move_to(AT)

    scheduling.publish_due_issues()

    last = Transition.objects.last()
    assert last.to_status == Status.PUBLISHED
    assert last.comment.startswith("Send started"), last.comment
    assert Send.objects.filter(issue=approved).count() == 1


def test_the_command_publishes_what_is_due(clock, approved, managing_editor):
    workflow.schedule(approved, managing_editor, AT)
    clock.move_to(AT + timedelta(minutes=1))
    out = io.StringIO()

    call_command("publish_scheduled", stdout=out, stderr=io.StringIO())

    assert f"Published issue {approved.pk}." in out.getvalue()
    assert Issue.objects.get(pk=approved.pk).status == Status.PUBLISHED


def test_a_backend_that_can_defer_gets_the_task_for_the_publication_time(
    clock, approved, managing_editor, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    with django_capture_on_commit_callbacks(execute=True):
        workflow.schedule(approved, managing_editor, AT)

    [result] = default_task_backend.results
    assert result.task.run_after == AT
    assert result.args == [approved.pk, str(Schedule.objects.get().token)]


def test_the_schedule_form_takes_a_time_in_the_editors_time_zone(clock, approved, managing_editor, client):
    client.force_login(managing_editor)

    response = client.post(
        f"/admin/newsletter/issue/{approved.pk}/schedule/",
        {
            "publish_on": "2025-03-12",
            "publish_time": "08:30",
            "time_zone": "America/New_York",
            "start_send": "on",
        },
        follow=True,
    )

    schedule = Schedule.objects.select_related("issue").get()
    publish_at = schedule.issue.scheduled_for
    assert publish_at == datetime(2025, 3, 12, 8, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert schedule.start_send
    assert "2025-03-12 at 08:30 (America/New_York)" in response.content.decode()
    assert timezone.is_aware(publish_at)


def test_the_database_ties_the_scheduled_status_to_its_time(approved):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Issue.objects.filter(pk=approved.pk).update(status=Status.SCHEDULED)  # no time
    with transaction.atomic(), pytest.raises(IntegrityError):
        Issue.objects.filter(pk=approved.pk).update(scheduled_for=AT)  # a time, but approved

    Issue.objects.filter(pk=approved.pk).update(status=Status.SCHEDULED, scheduled_for=AT)
    assert Issue.objects.get(pk=approved.pk).scheduled_for == AT
