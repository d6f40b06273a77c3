"""Workers racing for the same send never send the same delivery.

Two proofs with real processes on a throwaway database (tests/processes.py):
- the whole pipeline on PostgreSQL: two `db_worker` processes, every batch task enqueued twice
  (as a queue that delivers at least once may do), the SMTP server's log showing exactly one copy
  per recipient, and both workers having sent a share;
- the claim alone, on PostgreSQL and SQLite: three processes claiming small batches of the same
  send as fast as they can, from the same instant, never claim one row twice and leave none.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from contextlib import ExitStack

import pytest

from tests import processes
from tests.send_scenario import SendObserver

pytestmark = pytest.mark.own_databases

ISSUE = 11


@pytest.mark.own_databases("postgresql")
def test_two_workers_on_postgresql_never_send_the_same_delivery(tmp_path):
    processes.skip_unless_reachable("postgresql")
    subscribers = 2000
    with ExitStack() as stack:
        db = stack.enter_context(processes.throwaway_database("postgresql", tmp_path))
        sink = stack.enter_context(processes.smtp_sink(tmp_path))
        env = processes.base_env(db.url, **sink.env(), SEND_BATCH_SIZE="20")
        processes.run_python(
            env, "-m", "tests.send_scenario", "seed", "--subscribers", str(subscribers), "--issue", str(ISSUE)
        )
        observer = SendObserver(db)
        processes.run_manage(env, "send_issue", str(ISSUE))
        send_id, _ = observer.send(ISSUE)
        # A second fan-out before any worker runs: every batch task exists twice.
        processes.run_python(env, "-m", "tests.send_scenario", "dispatch", "--send", str(send_id))
        workers = stack.enter_context(processes.running(processes.db_workers(env, tmp_path)))

        processes.wait_for(
            lambda: observer.send(ISSUE)[1] == "finished" and not observer.tasks().get("READY"),
            timeout=120,
            what=lambda: f"the send to finish: {observer.pending(send_id)}\n{workers.outputs()}",
        )
        deliveries = observer.deliveries(send_id)
        failed_tasks = observer.failed_tasks()
        claimed_by = claimed_per_worker(observer)

    copies = Counter(copy.rcpt for copy in sink.copies())
    assert Counter(row.status for row in deliveries.values()) == {"sent": subscribers}
    assert len(copies) == subscribers and set(copies.values()) == {1}
    assert {copy.message_id for copy in sink.copies()} == {row.esp_message_id for row in deliveries.values()}
    assert failed_tasks == []
    print(f"deliveries claimed per worker: {claimed_by}")
    assert sum(claimed_by.values()) == subscribers
    assert len(claimed_by) == 2 and min(claimed_by.values()) > 0, claimed_by


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_racing_claims_take_every_row_once(vendor, tmp_path):
    processes.skip_unless_reachable(vendor)
    subscribers, racers, limit = 3000, 3, 7
    with processes.throwaway_database(vendor, tmp_path) as db:
        # No worker runs: the send's own tasks stay queued while the racers claim its rows.
        env = processes.base_env(db.url)
        processes.run_python(
            env, "-m", "tests.send_scenario", "seed", "--subscribers", str(subscribers), "--issue", str(ISSUE)
        )
        processes.run_manage(env, "send_issue", str(ISSUE))
        send_id, _ = SendObserver(db).send(ISSUE)
        start_at = time.time() + 3  # after every racer has started Django and connected
        args = ["-m", "tests.send_scenario", "claim-race", "--send", str(send_id), "--limit", str(limit)]
        racing = [
            subprocess.Popen(
                [processes.PYTHON, *args, "--start-at", str(start_at)],
                cwd=processes.ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(racers)
        ]
        results = []
        for process in racing:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))

    claimed = Counter(pk for result in results for batch in result["batches"] for pk in batch)
    per_racer = [sum(len(batch) for batch in result["batches"]) for result in results]
    print(f"{vendor}: rows claimed per racer: {per_racer}")
    assert [pk for pk, times in claimed.items() if times > 1] == []
    assert len(claimed) == subscribers
    assert all(len(batch) <= limit for result in results for batch in result["batches"])
    assert sum(1 for n in per_racer if n) >= 2, "the racers did not overlap; nothing was proved"


def claimed_per_worker(observer: SendObserver) -> dict[str, int]:
    """Deliveries each worker claimed, from the return values of its send_batch tasks."""
    rows = observer.db.query(
        f"SELECT worker_ids, return_value FROM {observer.task_table} WHERE status = ? AND task_path LIKE ?",
        ["SUCCESSFUL", "%.send_batch"],
    )
    claimed: Counter = Counter()
    for worker_ids, return_value in rows:
        worker_ids = json.loads(worker_ids) if isinstance(worker_ids, str) else worker_ids
        value = json.loads(return_value) if isinstance(return_value, str) else return_value
        claimed[worker_ids[-1]] += value["claimed"]
    return dict(claimed)
