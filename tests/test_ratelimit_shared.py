"""Sign-up rate limits are counted where every worker sees them: in the database by default, in
Redis when REDIS_URL is set. Two real processes hitting the same limit get its maximum between
them, not each."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from subscribers import ratelimit
from subscribers.models import RateLimitCounter
from tests import processes

REDIS_URL = "redis://127.0.0.1:6379/14"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# Each process waits for the same moment, then hits the limit as fast as it can.
HIT = """
import time
from subscribers import ratelimit
limit = ratelimit.Limit({bucket!r}, max_hits={max_hits}, period=3600, message="full")
while time.time() < {start_at}:
    time.sleep(0.005)
allowed = 0
for _ in range({hits}):
    try:
        ratelimit.hit(limit, "203.0.113.9")
        allowed += 1
    except ratelimit.RateLimited:
        pass
print("allowed", allowed)
"""


def hit_from_two_processes(env: dict[str, str], *, max_hits: int, hits_each: int) -> list[int]:
    code = HIT.format(
        bucket=f"test-{uuid.uuid4().hex[:8]}", max_hits=max_hits, hits=hits_each, start_at=time.time() + 6
    )
    children = [
        subprocess.Popen(
            [processes.PYTHON, processes.MANAGE, "shell", "-c", code],
            cwd=processes.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    allowed = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-3000:]
        allowed.append(int(out.split("allowed", 1)[1]))
    return allowed


@pytest.mark.own_databases
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_two_processes_share_one_count_in_the_database(vendor, tmp_path):
    processes.skip_unless_reachable(vendor)
    with processes.throwaway_database(vendor, tmp_path) as db:
        env = processes.base_env(db.url, RATELIMIT_STORE="database")

        allowed = hit_from_two_processes(env, max_hits=40, hits_each=30)

        assert sum(allowed) == 40, allowed
        assert db.query("SELECT hits FROM subscribers_ratelimitcounter") == [(40,)]


@pytest.mark.own_databases
def test_two_processes_share_one_count_in_redis(tmp_path):
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    with processes.throwaway_database("sqlite", tmp_path) as db:
        env = processes.base_env(db.url, REDIS_URL=REDIS_URL, RATELIMIT_STORE="cache")

        allowed = hit_from_two_processes(env, max_hits=40, hits_each=30)

        assert sum(allowed) == 40, allowed
        assert db.query("SELECT count(*) FROM subscribers_ratelimitcounter") == [(0,)]


# The database store, in this process -----------------------------------------------------------

LIMIT = ratelimit.Limit("test", max_hits=3, period=3600, message="full")


@pytest.fixture
def database_store(settings):
    settings.RATELIMIT_STORE = "database"


@pytest.mark.django_db
@pytest.mark.usefixtures("database_store")
def test_the_database_store_refuses_past_the_maximum_and_stops_counting():
    for _ in range(3):
        ratelimit.hit(LIMIT, "ann@example.org")

    for _ in range(2):
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.hit(LIMIT, "ann@example.org")

    counter = RateLimitCounter.objects.get()
    assert counter.hits == 3
    assert "ann" not in counter.key  # a hash, never the address
    ratelimit.hit(LIMIT, "bob@example.org")  # another key has its own count


@pytest.mark.django_db
@pytest.mark.usefixtures("database_store")
def test_a_new_window_starts_afresh_and_ended_windows_are_deleted():
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            ratelimit.hit(LIMIT, "ann@example.org")
    with time_machine.travel(START + timedelta(hours=1, minutes=2), tick=False):
        ratelimit.hit(LIMIT, "ann@example.org")

    assert list(RateLimitCounter.objects.values_list("hits", flat=True)) == [1]
