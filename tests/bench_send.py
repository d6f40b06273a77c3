"""The send pipeline's benchmark: `make bench` runs it as `send` (`python -m tests.bench send`).

Every measurement runs in a process of its own, on a throwaway database of its own (tests/
processes.py): a temporary SQLite file by default, a new database on the PostgreSQL server of
BENCH_DATABASE_URL when that is set. Each database holds the demo publication (`load_demo`: the
real seed issue #2, with its figures) and N active subscribers; one in five reads plain text and
one in four chose two sections, so a send has several variants. Mail goes to Anymail's test
backend (BenchTestBackend below), so the figures are ours, not a network's.

Figures, each with its goal (a missed goal prints MISSED and fails `make bench`):
- snapshot + fan-out: `start_send` (variants rendered and checked, the audience frozen with one
  INSERT ... SELECT) and `dispatch` (one batch task enqueued per SEND_BATCH_SIZE recipients) for
  100,000 recipients, in recipients per second. Goal >= 10,000/s (Ghost prepares ~4,000/s).
- personalisation: `newsletter.rendering.personalize` of the stored HTML variant with one
  recipient's values, against two plain `str.replace` calls on the same HTML. Goal <= 1x.
- hand-off: whole batches (`send_batch`: claim, re-check, personalise, build, hand each message to
  Anymail's test backend, record) in messages per second, in one process on one core.
  Goal >= 500/s. The pipeline makes one ESP call per message.
- CSS inlining calls per send: goal one per HTML variant, none per recipient or per batch.
- SQL queries per recipient: the queries of a batch of 50 and of a batch of 200; the difference
  per extra recipient is the figure. Goal 1: each message's outcome is written as the ESP answers
  it, in the statement that takes the next message in hand (claims.Claim), so a killed worker
  leaves one message unknown, not its batch; claims, re-checks and renders stay in bulk.
- peak memory, 10,000 vs 100,000 recipients: Python's allocations (tracemalloc) of `start_send`,
  `dispatch` and the first 20 batches, in a fresh process per size. Goal <= 1.2x (stream the
  audience, never hold it). Memory that SQLite or libpq allocate in C is not counted.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from anymail.backends.test import EmailBackend as AnymailTestBackend

from tests import processes, send_scenario

RECIPIENTS = 100_000
MEMORY_SIZES = (10_000, 100_000)
MEMORY_BATCHES = 20
HANDOFF_MESSAGES = 10_000
HANDOFF_SECONDS = 20.0
PERSONALIZE_RUNS = 2_000
SEED_ISSUE = 2
GOALS = {
    "fanout": 10_000.0,
    "personalize_ratio": 1.0,
    "handoff": 500.0,
    "queries_per_recipient": 1.0,
    "memory_ratio": 1.2,
}

_message_ids = itertools.count(1)


class BenchTestBackend(AnymailTestBackend):
    """Anymail's test backend without its growing memory: the stock one keeps every message in
    `django.core.mail.outbox` and finds each message's id with `list.index` (O(n) per message),
    which would measure the test backend instead of the pipeline."""

    def get_esp_message_id(self, message) -> str:
        return f"bench-{next(_message_ids)}"

    def post_to_esp(self, payload, message):
        from django.core import mail

        response = super().post_to_esp(payload, message)
        mail.outbox.clear()
        return response


# The orchestrator (runs in `make bench`'s process; Django is not needed here) ----------------------


def bench_send() -> bool:
    """Run every measurement in its own process and print the figures with their goals."""
    pg_url = os.environ.get("BENCH_DATABASE_URL", "")
    vendor = "postgresql" if pg_url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="bench-send-") as directory:
        directory = Path(directory)
        figures = _measure(vendor, pg_url, directory, "figures", RECIPIENTS)
        memory = {size: _measure(vendor, pg_url, directory, "memory", size) for size in MEMORY_SIZES}
    return report(vendor, figures, memory)


def _measure(vendor: str, pg_url: str, directory: Path, what: str, recipients: int) -> dict:
    with processes.throwaway_database(vendor, directory, pg_admin_url=pg_url or None) as db:
        env = processes.base_env(
            db.url,
            EMAIL_BACKEND="tests.bench_send.BenchTestBackend",
            MEDIA_ROOT=str(directory / "media"),
            SEND_BATCH_SIZE="100",
        )
        out = processes.run_python(
            env, "-m", "tests.bench_send", what, "--recipients", str(recipients), timeout=600
        )
    return json.loads(out.strip().splitlines()[-1])


def report(vendor: str, figures: dict, memory: dict[int, dict]) -> bool:
    small, large = (memory[size] for size in MEMORY_SIZES)
    memory_ratio = large["peak_bytes"] / small["peak_bytes"]
    rows = [
        (
            f"snapshot + fan-out of {figures['recipients']:,} recipients",
            f"{figures['fanout_per_second']:,.0f}/s",
            f">= {GOALS['fanout']:,.0f}/s (Ghost ~4,000/s)",
            figures["fanout_per_second"] >= GOALS["fanout"],
        ),
        (
            "personalise one recipient vs 2 x str.replace",
            f"{figures['personalize_ratio']:.2f}x",
            f"<= {GOALS['personalize_ratio']:.0f}x",
            figures["personalize_ratio"] <= GOALS["personalize_ratio"],
        ),
        (
            "messages handed to Anymail (test backend), 1 core",
            f"{figures['handoff_per_second']:,.0f}/s",
            f">= {GOALS['handoff']:,.0f}/s",
            figures["handoff_per_second"] >= GOALS["handoff"],
        ),
        (
            f"CSS inlining calls ({figures['html_variants']} HTML variants)",
            f"{figures['inline_calls_start']} + {figures['inline_calls_batches']} in batches",
            "one per HTML variant",
            figures["inline_calls_start"] == figures["html_variants"] and not figures["inline_calls_batches"],
        ),
        (
            "SQL queries per extra recipient in a batch",
            f"{figures['queries_per_recipient']:.2f}",
            "<= 1 (the outcome, written as it comes)",
            figures["queries_per_recipient"] <= GOALS["queries_per_recipient"],
        ),
        (
            "peak memory 100,000 vs 10,000 recipients",
            f"{memory_ratio:.2f}x",
            f"<= {GOALS['memory_ratio']}x",
            memory_ratio <= GOALS["memory_ratio"],
        ),
    ]
    print(
        f"Send pipeline on {vendor}: SEND_BATCH_SIZE=100, the demo's issue #{SEED_ISSUE}, "
        f"{figures['variants']} variants ({figures['html_variants']} HTML), Anymail's test backend."
    )
    header = f"{'figure':<52} {'measured':>26}  {'goal':<28} verdict"
    print(header)
    print("-" * len(header))
    for label, measured, goal, met in rows:
        print(f"{label:<52} {measured:>26}  {goal:<28} {'ok' if met else 'MISSED'}")
    print("Details:")
    print(
        f"  start_send {figures['start_seconds']:.2f} s + dispatch {figures['dispatch_seconds']:.2f} s "
        f"({figures['batches']} batch tasks) for {figures['recipients']:,} recipients"
    )
    print(
        f"  personalise: {figures['personalize_us']:.1f} us, 2 x str.replace: {figures['replace_us']:.1f} us,"
        f" the whole message (subject, HTML, text): {figures['personalize_message_us']:.1f} us "
        f"({figures['html_bytes']:,} bytes of HTML)"
    )
    print(
        f"  hand-off: {figures['handoff_messages']:,} messages in {figures['handoff_seconds']:.1f} s; "
        f"queries per batch: {figures['queries_batch_50']} (50 recipients), "
        f"{figures['queries_batch_200']} (200 recipients)"
    )
    for size in MEMORY_SIZES:
        m = memory[size]
        print(
            f"  memory, {size:,} recipients: peak {m['peak_bytes'] / 2**20:.1f} MiB traced "
            f"(start_send {m['start_peak_bytes'] / 2**20:.1f} MiB), "
            f"process max RSS {m['maxrss_kib'] / 1024:.0f} MiB"
        )
    ok = all(met for *_, met in rows)
    print("send: " + ("ok" if ok else "MISSED a goal"))
    return ok


# The measurements (each in its own process, with DATABASE_URL of its throwaway database) ---------


def _setup(recipients: int):
    import django

    django.setup()
    from django.core.management import call_command

    from newsletter.models import Issue, Section

    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    send_scenario.add_subscribers(recipients, list(Section.objects.order_by("position")))
    return Issue.objects.get(number=SEED_ISSUE)


def measure_figures(recipients: int) -> dict:
    issue = _setup(recipients)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from newsletter import rendering
    from subscribers import sending
    from subscribers.models import Delivery, SendVariant

    inliner = _CountingInliner(rendering._INLINER)
    rendering._INLINER = inliner
    start = time.perf_counter()
    send = sending.start_send(issue)
    start_seconds = time.perf_counter() - start
    start = time.perf_counter()
    batches = sending.dispatch(send.pk)
    dispatch_seconds = time.perf_counter() - start
    inline_calls_start = inliner.calls
    variants = list(SendVariant.objects.filter(send=send))
    html_variants = sum(1 for variant in variants if variant.html)

    personalize = _personalisation(variants, send)

    queries = {}
    for size in (50, 200):
        with override_settings(SEND_BATCH_SIZE=size), CaptureQueriesContext(connection) as captured:
            claimed = sending.send_batch(send.pk).claimed
        assert claimed == size, claimed
        queries[size] = len(captured)

    sent_before = Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count()
    start = time.perf_counter()
    handed = 0
    while handed < HANDOFF_MESSAGES and time.perf_counter() - start < HANDOFF_SECONDS:
        claimed = sending.send_batch(send.pk).claimed
        if not claimed:
            break
        handed += claimed
    handoff_seconds = time.perf_counter() - start
    sent = Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() - sent_before
    assert sent == handed, (sent, handed)

    return {
        "recipients": send.recipient_count,
        "start_seconds": start_seconds,
        "dispatch_seconds": dispatch_seconds,
        "batches": batches,
        "fanout_per_second": send.recipient_count / (start_seconds + dispatch_seconds),
        "variants": len(variants),
        "html_variants": html_variants,
        "inline_calls_start": inline_calls_start,
        "inline_calls_batches": inliner.calls - inline_calls_start,
        **personalize,
        "queries_batch_50": queries[50],
        "queries_batch_200": queries[200],
        "queries_per_recipient": (queries[200] - queries[50]) / 150,
        "handoff_messages": handed,
        "handoff_seconds": handoff_seconds,
        "handoff_per_second": handed / handoff_seconds,
    }


def _personalisation(variants, send) -> dict:
    """Personalising the stored HTML against two plain str.replace calls, on the same string."""
    from newsletter.rendering import personalize, placeholder
    from subscribers import links
    from subscribers.sending.variants import as_rendered

    variant = max((v for v in variants if v.html), key=lambda v: len(v.html))
    subscriber = send.deliveries.select_related("subscriber").first().subscriber
    values = {
        "name": subscriber.name,
        "email": subscriber.email,
        "unsubscribe_url": links.unsubscribe_url(subscriber),
        "preferences_url": links.preferences_url(subscriber),
    }
    html = variant.html
    unsubscribe, preferences = placeholder("unsubscribe_url"), placeholder("preferences_url")
    assert unsubscribe in html and preferences in html
    personalize(html, values, html=True)  # the split is cached per variant, as in a batch

    def best_of_three(function) -> float:
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(PERSONALIZE_RUNS):
                function()
            timings.append((time.perf_counter() - start) / PERSONALIZE_RUNS * 1e6)
        return min(timings)

    ours = best_of_three(lambda: personalize(html, values, html=True))
    plain = best_of_three(
        lambda: html.replace(unsubscribe, values["unsubscribe_url"]).replace(
            preferences, values["preferences_url"]
        )
    )
    rendered = as_rendered(variant)
    whole = best_of_three(lambda: rendered.personalize(values))
    return {
        "personalize_us": ours,
        "replace_us": plain,
        "personalize_ratio": ours / plain,
        "personalize_message_us": whole,
        "html_bytes": len(html.encode()),
    }


class _CountingInliner:
    def __init__(self, inliner) -> None:
        self.inliner = inliner
        self.calls = 0

    def inline(self, html: str) -> str:
        self.calls += 1
        return self.inliner.inline(html)


def measure_memory(recipients: int) -> dict:
    issue = _setup(recipients)
    _warm_up(issue)
    from subscribers import sending

    gc.collect()
    tracemalloc.start()
    send = sending.start_send(issue)
    start_peak = tracemalloc.get_traced_memory()[1]
    sending.dispatch(send.pk)
    for _ in range(MEMORY_BATCHES):
        sending.send_batch(send.pk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "recipients": send.recipient_count,
        "peak_bytes": peak,
        "start_peak_bytes": start_peak,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _warm_up(issue) -> None:
    """Import, compile and cache what the first send would (modules, templates, the backend), so
    that the memory measured is the send's own and not the same for every size."""
    from django.core.mail import EmailMultiAlternatives, get_connection

    from newsletter.rendering import EmailFormat, render_issue_email
    from subscribers import sending  # noqa: F401 - imported for its side effect, like the rest

    render_issue_email(issue, fmt=EmailFormat.HTML)
    render_issue_email(issue, fmt=EmailFormat.TEXT)
    get_connection().send_messages([EmailMultiAlternatives("Warm-up", "Text.", to=["warm-up@example.com"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["all", "figures", "memory"], default="all")
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    args = parser.parse_args(argv)
    if args.what == "all":
        return 0 if bench_send() else 1
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
    measure = measure_figures if args.what == "figures" else measure_memory
    print(json.dumps(measure(args.recipients)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
