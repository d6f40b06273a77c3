"""The global send rate limit: SEND_RATE_LIMIT messages per second across every worker.

The clock is one database row (SendThrottle "global") holding the next free sending slot. A batch
reserves a window of n slots with a conditional UPDATE (compare-and-set on the value it read), so
two workers never get the same window, on SQLite and PostgreSQL alike, with one round trip per
batch rather than per message; the batch then sends message i at window_start + i / rate. The
database was chosen over Redis because it is always there (the default cache is per process) and
a reservation per batch is cheap; a worker that dies leaves at most its window unused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from ..models import SendThrottle

GLOBAL = "global"
_MICRO = 1_000_000


@dataclass
class Window:
    start: float  # epoch seconds of the first slot
    interval: float  # seconds between slots (0 = unlimited)

    def wait_for(self, index: int) -> None:
        """Sleep until message `index` of the window may go."""
        if self.interval <= 0:
            return
        delay = self.start + index * self.interval - time.time()
        if delay > 0:
            time.sleep(delay)


def rate_limit() -> float:
    return max(float(getattr(settings, "SEND_RATE_LIMIT", 0) or 0), 0.0)


def reserve(count: int) -> Window:
    """Reserve `count` consecutive sending slots; returns when they start."""
    rate = rate_limit()
    if rate <= 0 or count <= 0:
        return Window(start=time.time(), interval=0.0)
    interval_us = max(int(_MICRO / rate), 1)
    SendThrottle.objects.get_or_create(name=GLOBAL)
    while True:
        current = SendThrottle.objects.filter(name=GLOBAL).values_list("next_slot_us", flat=True).get()
        start = max(current, int(time.time() * _MICRO))
        won = SendThrottle.objects.filter(name=GLOBAL, next_slot_us=current).update(
            next_slot_us=start + count * interval_us
        )
        if won:
            return Window(start=start / _MICRO, interval=interval_us / _MICRO)
