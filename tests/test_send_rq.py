"""Scale-out is real: the same send, end to end through an SMTP server, runs on Redis with two RQ
worker processes (`TASKS_BACKEND=rq`, django-tasks-rq) and delivers exactly one copy each.

The Redis is the one on 127.0.0.1:6379 (database 13, emptied before and after; set
SEND_RQ_REDIS_URL to use another). The test is skipped, saying why, when no Redis answers.
Greylisted addresses (451 once) are retried through RQ's scheduler (`--with-scheduler`), so a
deferred batch task works on this backend too.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import ExitStack

import pytest

from tests import processes
from tests.processes import DEFER_DOMAIN
from tests.send_scenario import SendObserver

pytestmark = pytest.mark.own_databases

ISSUE = 5
SUBSCRIBERS = 400
GREYLISTED_EVERY = 50
REDIS_URL = os.environ.get("SEND_RQ_REDIS_URL", processes.DEFAULT_REDIS_URL)


@pytest.fixture
def redis_connection():
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.ping()
    except RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_two_rq_workers_deliver_one_copy_each(redis_connection, tmp_path):
    from rq import Worker
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    with ExitStack() as stack:
        db = stack.enter_context(processes.throwaway_database("sqlite", tmp_path))
        sink = stack.enter_context(processes.smtp_sink(tmp_path))
        env = processes.base_env(
            db.url,
            **sink.env(),
            TASKS_BACKEND="rq",
            REDIS_URL=REDIS_URL,
            SEND_BATCH_SIZE="25",
            SEND_RETRY_SECONDS="1",
        )
        processes.run_python(
            env,
            *["-m", "tests.send_scenario", "seed", "--subscribers", str(SUBSCRIBERS), "--issue", str(ISSUE)],
            *["--greylisted-every", str(GREYLISTED_EVERY)],
        )
        workers = stack.enter_context(processes.running(processes.rq_workers(env, tmp_path)))
        processes.wait_for(
            lambda: len(Worker.all(connection=redis_connection)) == 2,
            timeout=30,
            what=lambda: f"two RQ workers to register\n{workers.outputs()}",
        )
        observer = SendObserver(db)

        processes.run_manage(env, "send_issue", str(ISSUE))
        send_id, _ = observer.send(ISSUE)
        processes.wait_for(
            lambda: observer.send(ISSUE)[1] == "finished",
            timeout=45,
            interval=0.5,
            what=lambda: f"the send to finish: {observer.pending(send_id)}\n{workers.outputs()}",
        )
        time.sleep(0.5)  # let the last jobs' results reach their registry
        registry = FinishedJobRegistry("default", connection=redis_connection)
        jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=redis_connection) if job]
        deliveries = observer.deliveries(send_id)

    copies = sink.copies()
    per_recipient = Counter(copy.rcpt for copy in copies)
    assert Counter(row.status for row in deliveries.values()) == {"sent": SUBSCRIBERS}
    assert len(per_recipient) == SUBSCRIBERS and set(per_recipient.values()) == {1}
    assert {(c.message_id, c.delivery) for c in copies} == {
        (row.esp_message_id, str(row.id)) for row in deliveries.values()
    }
    greylisted = [row for row in deliveries.values() if row.email.endswith(DEFER_DOMAIN)]
    assert greylisted and all(row.attempts == 2 for row in greylisted)
    batches_by_worker = Counter(job.worker_name for job in jobs if job.func_name.endswith("send_batch"))
    print(f"send_batch jobs per RQ worker: {dict(batches_by_worker)}")
    assert len(batches_by_worker) == 2, f"one worker did all the batches: {batches_by_worker}"
