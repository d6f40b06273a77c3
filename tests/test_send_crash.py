"""Workers SIGKILLed in the middle of a send, on SQLite and on PostgreSQL: nobody gets two copies,
nobody is lost, and resending the unknown ones completes the send.

Real processes only: two `manage.py db_worker` processes, the `manage.py send_issue --reap` step
that cron runs, and an SMTP server (tests/smtp_sink.py) that logs every message it accepts
*before* answering 250, all on a throwaway database (tests/processes.py).

What the pipeline guarantees, and what this test proves with the SMTP server's log:

1. Through any number of SIGKILLs, no recipient receives two copies. A worker killed mid-batch
   leaves its claimed rows "sending"; when their lease runs out they become "unknown" and are
   never sent again by themselves.
2. Every delivery ends "sent", "failed" or "unknown"; none is lost in "queued" or "sending".
   A "sent" delivery has exactly one copy in the log, with the Message-ID the database recorded.
   A "failed" one (the server refused the address with a 550) has none. An address the server
   greylisted (451 once) is retried and ends "sent". An "unknown" one has zero copies (the
   worker died before handing it over) or one (the server took it, the worker died before
   recording it) and there are at most as many of them as killed workers times the batch size.
3. `send_issue N --resend-unknown` sends the unknown ones, and only those, again. Afterwards every
   recipient the server did not refuse has a copy. A recipient with two copies is one whose
   first copy reached the server just before its worker died: both copies carry the same
   Message-ID, so mail providers and clients fold them into one. Nobody has three.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from contextlib import ExitStack

import pytest

from tests import processes, send_scenario
from tests.processes import DEFER_DOMAIN, REJECT_DOMAIN
from tests.send_scenario import SendObserver

ISSUE = 7
SUBSCRIBERS = 3000
REFUSED_EVERY = 200  # 15 addresses the server refuses for good
GREYLISTED_EVERY = 250  # 12 addresses it refuses once
BATCH_SIZE = 50
LEASE_SECONDS = 3
KILLS = 5
# Each message waits this long in the server, so the send lasts long enough to be killed often.
SINK_DELAY_MS = 4
SEED = int(os.environ.get("SEND_CRASH_SEED", "20250611"))


def pipeline_env(db, sink) -> dict[str, str]:
    return processes.base_env(
        db.url,
        **sink.env(),
        SEND_BATCH_SIZE=str(BATCH_SIZE),
        SEND_LEASE_SECONDS=str(LEASE_SECONDS),
        SEND_RETRY_SECONDS="0.5",
        SEND_MAX_ATTEMPTS="5",
    )


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_killed_workers_never_send_twice_or_lose_anyone(vendor, tmp_path):
    if vendor == "postgresql" and (reason := processes.postgres_unreachable_reason()):
        pytest.skip(reason)
    rng = random.Random(SEED)
    print(f"seed {SEED} (set SEND_CRASH_SEED to replay another)")
    with ExitStack() as stack:
        db = stack.enter_context(processes.throwaway_database(vendor, tmp_path))
        sink = stack.enter_context(processes.smtp_sink(tmp_path, delay_ms=SINK_DELAY_MS))
        env = pipeline_env(db, sink)
        processes.run_python(
            env,
            *["-m", "tests.send_scenario", "seed", "--subscribers", str(SUBSCRIBERS), "--issue", str(ISSUE)],
            *["--refused-every", str(REFUSED_EVERY), "--greylisted-every", str(GREYLISTED_EVERY)],
        )
        observer = SendObserver(db)
        workers = stack.enter_context(processes.running(processes.db_workers(env, tmp_path)))
        stack.enter_context(processes.running(send_scenario.cron(env, tmp_path)))
        diagnostics = lambda: f"{workers.outputs()}\nsink: {sink.count()} copies"  # noqa: E731

        started = time.monotonic()
        processes.run_manage(env, "send_issue", str(ISSUE))
        send_id, _ = observer.send(ISSUE)

        # Kill at random points of the send, judged by the server's log, never at a fixed time.
        victims_killed = 0
        thresholds = sorted(rng.sample(range(SUBSCRIBERS // 20, SUBSCRIBERS * 4 // 5), KILLS))
        kill_all = rng.randrange(KILLS)
        for index, threshold in enumerate(thresholds):
            processes.wait_for(
                lambda threshold=threshold: sink.count() >= threshold,
                timeout=60,
                what=lambda threshold=threshold: f"{threshold} messages at the server\n{diagnostics()}",
            )
            time.sleep(rng.uniform(0, 0.05))
            victims = workers.workers if index == kill_all else [rng.choice(workers.workers)]
            for worker in victims:
                worker.kill()
            victims_killed += len(victims)
            print(
                f"{time.monotonic() - started:5.1f} s: kill {index + 1} of {[w.name for w in victims]} "
                f"at {sink.count()} copies"
            )
            time.sleep(rng.uniform(0.1, 1.0))
            for worker in victims:
                worker.start()
        assert sink.count() < SUBSCRIBERS, "the send finished before the last kill; slow the server down"

        settle(observer, send_id, diagnostics)
        first = observer.deliveries(send_id)
        copies = copies_by_recipient(sink)
        unknown = {row.email for row in first.values() if row.status == "unknown"}
        statuses = Counter(row.status for row in first.values())
        print(
            f"{time.monotonic() - started:5.1f} s: after the kills: {statuses}; "
            f"{sum(1 for email in unknown if copies.get(email))} of the {len(unknown)} unknown "
            "had reached the server"
        )

        # 1. Nobody got two copies.
        assert {email: len(c) for email, c in copies.items() if len(c) > 1} == {}
        # 2. Every delivery has an outcome, and the log agrees with it.
        assert len(first) == SUBSCRIBERS
        assert set(Counter(row.status for row in first.values())) <= {"sent", "failed", "unknown"}
        for row in first.values():
            received = copies.get(row.email, [])
            if row.status == "sent":
                assert [(c.message_id, c.delivery) for c in received] == [
                    (row.esp_message_id, str(row.id))
                ], row
                assert not row.email.endswith(REJECT_DOMAIN), row
            elif row.status == "failed":
                assert received == [] and row.email.endswith(REJECT_DOMAIN), row
            else:
                assert len(received) <= 1, row
        for row in first.values():
            if row.email.endswith(DEFER_DOMAIN) and row.status != "unknown":
                assert row.status == "sent" and row.attempts >= 2, row
        assert 0 < len(unknown) <= victims_killed * BATCH_SIZE
        assert observer.failed_tasks() == []

        # 3. Resending the unknown ones completes the send.
        resend_started = time.time()
        processes.run_manage(env, "send_issue", str(ISSUE), "--resend-unknown")
        settle(observer, send_id, diagnostics)
        final = observer.deliveries(send_id)
        copies = copies_by_recipient(sink)

        assert observer.send(ISSUE) == (send_id, "finished")
        assert {row.status for row in final.values() if row.email.endswith(REJECT_DOMAIN)} == {"failed"}
        assert {row.status for row in final.values() if not row.email.endswith(REJECT_DOMAIN)} == {"sent"}
        for row in final.values():
            received = copies.get(row.email, [])
            if row.email.endswith(REJECT_DOMAIN):
                assert received == [], row
                continue
            assert 1 <= len(received) <= 2, row
            assert {(c.message_id, c.delivery) for c in received} == {(row.esp_message_id, str(row.id))}, row
            if len(received) == 2:
                assert row.email in unknown, row
            resent = [c for c in received if c.received_at >= resend_started]
            assert not resent or row.email in unknown, row
        assert observer.failed_tasks() == []
        twice = sum(1 for c in copies.values() if len(c) == 2)
        print(
            f"{time.monotonic() - started:5.1f} s: after the resend: {len(unknown)} unknown resent; "
            f"{twice} recipients hold two copies (with the same Message-ID)"
        )


def settle(observer: SendObserver, send_id: int, diagnostics, timeout: float = 90) -> None:
    """Wait until nothing of the send is queued or in flight and the send is finished."""

    def settled() -> bool:
        counts = observer.counts(send_id)
        return (
            not counts.get("queued") and not counts.get("sending") and observer.send(ISSUE)[1] == "finished"
        )

    processes.wait_for(
        settled,
        timeout=timeout,
        interval=0.5,
        what=lambda: f"the send to settle: {observer.pending(send_id)}\n{diagnostics()}",
    )


def copies_by_recipient(sink) -> dict[str, list]:
    copies = defaultdict(list)
    for copy in sink.copies():
        copies[copy.rcpt].append(copy)
    return copies
