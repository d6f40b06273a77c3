"""Logs are one JSON object a line in production, each with the request id, which follows a request
into the tasks it enqueues; every send start, pause, finish and failure, every workflow transition
and every subscription change is one event."""

from __future__ import annotations

import io
import json
import logging
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from editorial import workflow
from operations import logs, request_id
from operations.models import TaskOrigin
from subscribers import subscriptions
from subscribers.models import Send, Subscriber
from tests.factories import create_roles, make_ready_issue, make_sections, make_subscriber, make_user
from tests.fake_esp import fake_resend
from tests.sending_fixtures import make_sendable_issue, run_send
from tests.test_health import DB_TASKS, run_db_worker

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_lines():
    """The root logger's records as the production handler writes them (settings.LOGGING with
    LOG_FORMAT=json): a function returning the lines written so far, each parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def events(lines: list[dict], prefix: str = "") -> list[dict]:
    return [line for line in lines if line.get("event", "").startswith(prefix) and "event" in line]


@pytest.fixture
def managing_editor(client):
    user = make_user("max", "Managing editor")
    client.force_login(user)
    return user


def test_a_send_started_in_a_request_logs_its_events_with_that_request_id_in_every_task(
    client, settings, transactional_db, log_lines
):
    # Real commits, as in production: the send's first task is enqueued when the view's
    # transaction commits, inside the request; the tasks run later, in a worker.
    settings.TASKS = DB_TASKS
    create_roles()
    client.force_login(make_user("max", "Managing editor"))
    issue = make_sendable_issue(make_sections())
    for index in range(3):
        make_subscriber(f"reader{index}@example.org")

    response = client.post(
        reverse("admin:subscribers_send_add"),
        {"issue": issue.pk, "kind": "full", "confirm": "on"},
        HTTP_X_REQUEST_ID="req-send-42",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-send-42"
    assert request_id.current() == ""  # the request is over
    assert TaskOrigin.objects.filter(request_id="req-send-42").count() == 1  # dispatch_send

    run_db_worker()  # dispatch_send, then the send_batch it enqueued

    send = Send.objects.get()
    assert send.status == Send.Status.FINISHED
    lines = log_lines()
    sends = {line["event"]: line for line in events(lines, "send.")}
    assert set(sends) >= {"send.started", "send.finished"}
    started, finished = sends["send.started"], sends["send.finished"]
    assert started["request_id"] == "req-send-42" and started["task_id"] is None
    assert started["send_id"] == send.pk and started["recipients"] == 3
    assert started["level"] == "INFO" and started["logger"] == "subscribers.sending"
    # Finished in a worker, in the send_batch task that dispatch_send enqueued: the id followed.
    assert finished["request_id"] == "req-send-42"
    assert finished["task_id"] is not None
    task_lines = [line for line in lines if line["task_id"]]
    assert task_lines and all(line["request_id"] == "req-send-42" for line in task_lines)
    assert TaskOrigin.objects.count() == 0  # each row went once its task had started
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)


def test_pausing_resuming_and_a_failed_delivery_are_events(
    client, settings, managing_editor, log_lines, django_capture_on_commit_callbacks
):
    settings.SEND_RETRY_SECONDS = 0
    issue = make_sendable_issue(make_sections())
    for index in range(3):
        make_subscriber(f"reader{index}@example.org")
    send = Send.objects.create(issue=issue, kind=Send.Kind.FULL)  # a running send, nothing queued
    control = "admin:subscribers_send_control"
    client.post(reverse(control, args=[send.pk, "pause"]), HTTP_X_REQUEST_ID="req-pause")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(control, args=[send.pk, "resume"]), HTTP_X_REQUEST_ID="req-resume")
    send.delete()

    with fake_resend(settings) as esp:
        esp.script["reader1@example.org"] = [422]
        failing = run_send(issue, django_capture_on_commit_callbacks)

    by_event = {line["event"]: line for line in events(log_lines(), "send.")}
    assert by_event["send.paused"]["request_id"] == "req-pause"
    assert by_event["send.paused"]["actor_id"] == managing_editor.pk
    assert by_event["send.resumed"]["request_id"] == "req-resume"
    failed = by_event["send.failed"]
    assert failed["send_id"] == failing.pk and failed["failed"] == 1 and failed["level"] == "WARNING"


def test_every_workflow_transition_is_one_event(log_lines, django_capture_on_commit_callbacks):
    writer = make_user("wanda", "Writer")
    issue = make_ready_issue(created_by=writer)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(issue, writer)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(workflow.WorkflowError):
        workflow.submit(issue, writer)  # refused: no move, no event

    (event,) = events(log_lines(), "workflow.")
    assert event == {
        **event,
        "event": "workflow.transition",
        "issue_id": issue.pk,
        "action": "submit",
        "from_status": "draft",
        "to_status": "in_review",
        "actor_id": writer.pk,
    }


def test_a_transition_rolled_back_logs_nothing(log_lines, django_capture_on_commit_callbacks):
    from django.db import transaction

    writer = make_user("wanda", "Writer")
    issue = make_ready_issue(created_by=writer)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        workflow.submit(issue, writer)
        raise RuntimeError("something after the move failed")
    assert events(log_lines(), "workflow.") == []


def test_subscription_changes_are_events_without_the_address(client, log_lines):
    make_sections()
    response = client.post(
        reverse("subscribe"), {"email": "ada@example.org", "name": "Ada"}, HTTP_X_REQUEST_ID="req-signup"
    )
    assert response.status_code in (200, 302)
    subscriber = Subscriber.objects.get(email="ada@example.org")
    subscriptions.unsubscribe(make_subscriber("bob@example.org"), Subscriber.Channel.LINK)

    lines = log_lines()
    changes = events(lines, "subscription.")
    requested = next(line for line in changes if line["event"] == "subscription.requested")
    assert requested["request_id"] == "req-signup"
    assert requested["subscriber_id"] == subscriber.pk
    assert requested["outcome"] == "confirmation sent"
    unsubscribed = next(line for line in changes if line["event"] == "subscription.unsubscribed")
    assert unsubscribed["channel"] == "link"
    text = "\n".join(json.dumps(line) for line in lines)
    assert "ada@example.org" not in text and "bob@example.org" not in text


def test_an_incoming_request_id_that_is_not_a_short_token_is_replaced(client):
    honoured = client.get("/healthz", HTTP_X_REQUEST_ID="Root=1-67891233-abcdef012345678912345678")
    assert honoured["X-Request-ID"] == "Root=1-67891233-abcdef012345678912345678"
    for junk in ("<script>alert(1)</script>", "x" * 65, "two words", "ünïcode"):
        replaced = client.get("/healthz", HTTP_X_REQUEST_ID=junk)["X-Request-ID"]
        assert replaced != junk and len(replaced) == 32 and replaced.isalnum()
    fresh = client.get("/healthz")["X-Request-ID"]
    assert len(fresh) == 32 and fresh != client.get("/healthz")["X-Request-ID"]


# The settings, in a process of their own ------------------------------------------------------


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "LOG_FORMAT", "SENTRY_DSN"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


LOG_ONE_EVENT = (
    "import logging; logging.getLogger('subscribers.sending').info("
    "'Send 3 finished.', extra={'event': 'send.finished', 'send_id': 3})"
)
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "news.example.org"}


def test_production_logs_are_json_lines():
    result = run_manage("shell", "-c", LOG_ONE_EVENT, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "send.finished" and line["send_id"] == 3
    assert line["message"] == "Send 3 finished." and line["level"] == "INFO"
    assert line["request_id"] is None  # no request here


def test_log_format_text_keeps_plain_lines_and_an_unknown_format_is_refused():
    plain = run_manage("shell", "-c", LOG_ONE_EVENT, **PRODUCTION, LOG_FORMAT="text")
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.strip().splitlines()[-1] == "Send 3 finished."
    refused = run_manage("check", LOG_FORMAT="xml")
    assert refused.returncode != 0
    assert 'LOG_FORMAT must be "json" or "text"' in refused.stderr


def test_a_not_found_line_carries_its_request_id(client, log_lines):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    (line,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert line["request_id"] == "req-404" and line["level"] == "WARNING"
    assert "request" not in line  # the request object itself is never written
