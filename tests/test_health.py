"""/healthz says the process answers; /readyz checks the database, the cache, the task queue and its
workers' heartbeat, in a few queries and without secrets; the status page shows the history."""

from __future__ import annotations

import json
import os
import socket
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from operations import health, history
from operations.models import HealthSample, WorkerHeartbeat
from tests.factories import make_user, user_fixture

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
REDIS_URL = os.environ.get("HEALTH_REDIS_URL", "redis://127.0.0.1:6379/11")

managing_editor = user_fixture("max", "Managing editor", logged_in=True)


@pytest.fixture
def db_tasks(settings):
    """The database task backend of production, with no worker running until a test runs one."""
    settings.TASKS = DB_TASKS


def run_db_worker() -> None:
    """What `manage.py db_worker --batch` does: run every due task, then stop. The worker's closing
    of old connections is left out: here the connection holds the test's transaction (and under
    time_machine it looks older than CONN_MAX_AGE)."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        _worker().run()


def _worker() -> Worker:
    return Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )


def readyz(client, **headers):
    response = client.get("/readyz", **headers)
    return response, json.loads(response.content)


# Liveness ----------------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_endpoints_refuse_a_post(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


# Readiness ---------------------------------------------------------------------------------------


def test_readyz_is_ready_when_every_component_answers(client, db_tasks):
    response, body = readyz(client)
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert set(body["components"]) == {"database", "cache", "queue", "workers"}
    assert all(component["status"] == "ok" for component in body["components"].values())
    assert body["components"]["queue"]["backend"] == "db"
    assert body["components"]["database"]["ms"] >= 0
    assert "no-cache" in response["Cache-Control"]


def test_readyz_costs_three_queries_between_samples(client, db_tasks, django_assert_num_queries):
    readyz(client)  # the first poll also asks for a heartbeat and stores a sample
    with django_assert_num_queries(3):  # SELECT 1, the queue's one aggregate, the heartbeat row
        response, _ = readyz(client)
    assert response.status_code == 200


def test_readyz_says_nothing_secret(client, db_tasks, settings):
    response, body = readyz(client)
    text = response.content.decode()
    for secret in (
        settings.SECRET_KEY,
        settings.DATABASES["default"]["NAME"],
        socket.gethostname(),
        "password",
    ):
        assert str(secret) not in text
    # Only statuses, numbers and the backend's short name.
    for component in body["components"].values():
        assert all(isinstance(value, (int, float, str, type(None))) for value in component.values())


def test_a_task_waiting_too_long_makes_the_queue_fail(client, db_tasks, settings):
    from subscribers import tasks

    settings.HEALTH_QUEUE_MAX_AGE = 600
    tasks.send_confirmation_email.enqueue(1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=20))
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["failing"] == ["queue"]
    queue = body["components"]["queue"]
    assert queue["status"] == "failing"
    assert queue["depth"] >= 1
    assert 1199 <= queue["oldest_age_seconds"] <= 1300


def test_a_task_deferred_to_later_is_not_waiting(client, db_tasks):
    from subscribers import tasks

    tasks.send_batch.using(run_after=timezone.now() + timedelta(hours=2)).enqueue(1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))
    response, body = readyz(client)
    assert response.status_code == 200, body
    assert body["components"]["queue"]["oldest_age_seconds"] is None or (
        body["components"]["queue"]["oldest_age_seconds"] < 60
    )


def test_workers_fail_when_no_worker_takes_the_heartbeat_and_recover_when_one_does(
    client, db_tasks, settings
):
    settings.HEALTH_HEARTBEAT_MAX_AGE = 180
    settings.HEALTH_QUEUE_MAX_AGE = 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response, body = readyz(client)
        assert response.status_code == 200, body
    heartbeat_task = DBTaskResult.objects.get(task_path="operations.tasks.worker_heartbeat")
    assert heartbeat_task.priority == 100  # ahead of a long send's batches
    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        response, body = readyz(client)
    assert response.status_code == 503
    assert body["failing"] == ["workers"]
    assert body["components"]["workers"]["waiting_seconds"] == pytest.approx(200, abs=1)
    # Still waiting: no second heartbeat piles up behind the first.
    assert DBTaskResult.objects.filter(task_path="operations.tasks.worker_heartbeat").count() == 1

    with time_machine.travel(start + timedelta(seconds=210), tick=False):
        run_db_worker()
        response, body = readyz(client)
    assert response.status_code == 200, body
    beat = WorkerHeartbeat.objects.get()
    assert beat.beat_at == start + timedelta(seconds=210)
    assert body["components"]["workers"]["last_heartbeat_age_seconds"] == 0


def test_a_heartbeat_is_asked_for_at_most_once_a_minute(client, db_tasks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        readyz(client)
        run_db_worker()
        readyz(client)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        readyz(client)
    assert DBTaskResult.objects.filter(task_path="operations.tasks.worker_heartbeat").count() == 1
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        readyz(client)
    assert DBTaskResult.objects.filter(task_path="operations.tasks.worker_heartbeat").count() == 2


def test_a_database_error_fails_readiness_naming_only_its_class(client, monkeypatch):
    def broken():
        raise OperationalError('connection to "db.internal" failed: password authentication for "hunter2"')

    monkeypatch.setattr(health, "_database", broken)
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["components"]["database"] == {"status": "error", "error": "OperationalError"}
    assert "database" in body["failing"]
    assert "hunter2" not in response.content.decode()
    assert "db.internal" not in response.content.decode()


def test_an_unreachable_cache_fails_readiness(client, settings):
    # A Redis on a port nobody listens on: the client's error is the answer, not a 500.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:s3cret@127.0.0.1:1/0",
        }
    }
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["failing"] == ["cache"]
    assert body["components"]["cache"]["status"] == "error"
    assert "s3cret" not in response.content.decode()


def test_the_rq_queue_is_measured_on_redis(monkeypatch):
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.ping()
    except RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    connection.flushdb()
    try:
        queue = Queue("default", connection=connection)
        queue.enqueue("operations.tasks.not_run", job_id="waiting-job")
        queue.enqueue("operations.tasks.not_run", job_id="second-job")
        import django_rq

        monkeypatch.setattr(django_rq, "get_queue", lambda name: queue)
        monkeypatch.setattr(health, "backend_kind", lambda: "rq")
        check = health._queue(timezone.now() + timedelta(seconds=30))
    finally:
        connection.flushdb()
        connection.close()
    assert check.ok
    assert check.values["backend"] == "rq"
    assert check.values["depth"] == 2
    assert 29 <= check.values["oldest_age_seconds"] <= 40


# Exemptions ------------------------------------------------------------------------------------


def test_probes_over_plain_http_are_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_two_factor_does_not_stand_in_front_of_the_probes(client, settings):
    settings.OTP_REQUIRED_FOR = "staff"
    client.force_login(make_user("max", "Managing editor"))
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    # The status page is a staff page: the managing editor is sent to enrol first.
    assert client.get("/admin/status/").status_code == 302


# History and the status page -------------------------------------------------------------------


def test_polling_stores_one_sample_a_minute_and_prunes_old_ones(client, settings):
    settings.HEALTH_HISTORY_DAYS = 7
    start = timezone.now()
    HealthSample.objects.create(taken_at=start - timedelta(days=8), ready=True)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            readyz(client)
    assert HealthSample.objects.count() == 1  # the old one went when the new one came
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        from django.core.cache import cache

        cache.clear()  # as another process would, with its own gate
        readyz(client)
        readyz(client)
    assert HealthSample.objects.count() == 2


def test_another_process_does_not_store_a_second_sample_in_the_same_minute(client):
    from django.core.cache import cache

    readyz(client)
    cache.clear()  # a second web process: its own gate is open, the database says no
    readyz(client)
    assert HealthSample.objects.count() == 1


def test_the_status_page_shows_the_checks_the_heartbeat_and_the_history(client, managing_editor, db_tasks):
    now = timezone.now()
    HealthSample.objects.create(
        taken_at=now - timedelta(hours=3), ready=False, failing="workers", queue_depth=4, heartbeat_wait=400
    )
    HealthSample.objects.create(taken_at=now - timedelta(hours=2), ready=True, oldest_task_age=12)
    health.record_heartbeat("default")
    response = client.get("/admin/status/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Operations status" in page
    assert "Ready" in page
    for component in ("database", "cache", "queue", "workers"):
        assert f'<th scope="row">{component}</th>' in page
    beat = WorkerHeartbeat.objects.get()
    assert f"by worker {beat.worker}" in page  # staff see which worker; /readyz never says
    assert '<svg class="ops-status-chart"' in page
    assert "400 s for a heartbeat" in page  # the slot with the failing sample, in the chart's titles
    assert "<td>workers</td>" in page  # the failing sample in the table of failures
    chart = response.context["chart"]
    assert len(chart.slots) == 48
    assert chart.samples == 3  # the two above and the one this visit took
    assert chart.not_ready == 1


def test_the_status_page_is_for_managing_editors(client):
    assert client.get("/admin/status/").status_code == 302  # to the sign-in page
    client.force_login(make_user("edna", "Editor"))
    response = client.get("/admin/status/")
    assert response.status_code == 403
    assert "operations status page" in response.content.decode()


def test_the_chart_buckets_the_last_day_by_half_hours():
    now = timezone.now()
    samples = [
        HealthSample(taken_at=now - timedelta(minutes=5), ready=True, oldest_task_age=30.4),
        HealthSample(
            taken_at=now - timedelta(minutes=6), ready=False, oldest_task_age=90, heartbeat_wait=250
        ),
        HealthSample(taken_at=now - timedelta(days=2), ready=False, oldest_task_age=9999),
    ]
    slots = history.slots(samples, now)
    assert len(slots) == 48
    assert sum(slot.samples for slot in slots) <= 2
    latest = [slot for slot in slots if slot.samples]
    assert max(slot.task_wait for slot in latest) == 90
    assert max(slot.heartbeat_wait for slot in latest) == 250
    assert all(slot.task_wait < 9999 for slot in slots)  # two days ago is off the chart
