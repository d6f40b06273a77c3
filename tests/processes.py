"""Real processes for the send pipeline's end-to-end tests: throwaway databases, an SMTP sink,
task workers that can be SIGKILLed and restarted, and `manage.py` commands run as subprocesses.

Nothing here uses the test runner's database: every process (the test itself included) talks to
a throwaway database made for one test, migrated once per session from a template:
- SQLite: a file (WAL mode, as in production), copied from a migrated template file;
- PostgreSQL: `CREATE DATABASE ... TEMPLATE` from a migrated template database on the server of
  `DATABASE_URL` when that is PostgreSQL, else `PROCESS_TESTS_PG_URL`
  (default postgres://postgres@127.0.0.1:5432/postgres). Tests skip, saying why, when no
  PostgreSQL answers there.

The test process reads the throwaway database with plain DB-API queries on the models' own table
and column names, so it never shares a connection or a transaction with the workers.

What a send test puts in those databases and reads back from them is in tests/send_scenario.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# The sink refuses addresses at REJECT_DOMAIN for good (550) and greylists those at DEFER_DOMAIN
# (451 the first time).
REJECT_DOMAIN = "refused.example"
DEFER_DOMAIN = "greylisted.example"


def base_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a project process on `database_url`: tasks in that database, mail to
    nowhere until a test points EMAIL_* at its sink, quiet logs."""
    env = {
        key: value
        for key, value in os.environ.items()
        # Variables of the test process that would change what the child does.
        if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "ANYMAIL_ESP", "EMAIL_BACKEND", "TASKS_BACKEND"}
        and not key.startswith(("SEND_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="newsletter.settings",
        DATABASE_URL=database_url,
        TASKS_BACKEND="db",
        DEBUG="1",
        SITE_URL="https://news.example.org",
        DEFAULT_FROM_EMAIL="ML Safety Newsletter <newsletter@news.example.org>",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # Paper lookups never reach the internet (nothing listens on the discard port).
        ARXIV_API_URL="http://127.0.0.1:9",
        CROSSREF_API_URL="http://127.0.0.1:9",
        OPENREVIEW_API_URL="http://127.0.0.1:9",
    )
    env.update(overrides)
    return env


def run_manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """`manage.py <args>` in a subprocess; its stdout, or AssertionError with its output."""
    return run_python(env, MANAGE, *args, timeout=timeout)


def run_python(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(args)}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result.stdout


# Throwaway databases ----------------------------------------------------------------------------


class ThrowawayDatabase:
    """A migrated database for one test: `url` for the processes, `query()` for the test."""

    vendor: str
    url: str

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError


class SQLiteDatabase(ThrowawayDatabase):
    vendor = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        # A reader in WAL mode never blocks the workers' writes, nor waits for them.
        with _closing_sqlite(self.path) as db:
            return db.execute(sql, tuple(params)).fetchall()

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class PostgresDatabase(ThrowawayDatabase):
    vendor = "postgresql"

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self.url = _with_database(admin_url, name)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            return conn.execute(sql.replace("?", "%s"), tuple(params)).fetchall()

    def drop(self) -> None:
        _pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@contextmanager
def _closing_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=30)
    try:
        yield db
    finally:
        db.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _libpq(url: str) -> str:
    # dj-database-url accepts postgres://; libpq wants postgresql:// (it accepts both, but be plain).
    return "postgresql://" + url.split("://", 1)[1]


def _pg_admin(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def postgres_admin_url() -> str:
    """The maintenance database of the PostgreSQL server the process tests use."""
    current = os.environ.get("DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        return _with_database(current, "postgres")
    return os.environ.get("PROCESS_TESTS_PG_URL", DEFAULT_PG_ADMIN_URL)


def skip_unless_reachable(vendor: str) -> None:
    """Skips the calling test, saying why, when it needs PostgreSQL and none answers."""
    if vendor == "postgresql" and (reason := postgres_unreachable_reason()):
        import pytest

        pytest.skip(reason)


def postgres_unreachable_reason() -> str | None:
    """None when PostgreSQL answers, else why not (for pytest.skip)."""
    import psycopg

    url = postgres_admin_url()
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {url} ({exc.__class__.__name__}: {str(exc).strip()[:200]})"
    return None


class Templates:
    """A migrated template per database server, made on first use and reused by every test of
    the session."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="send-process-tests-"))
        self.sqlite_template: Path | None = None
        self.pg_templates: dict[str, str] = {}  # admin URL -> template database

    def sqlite(self, directory: Path) -> SQLiteDatabase:
        if self.sqlite_template is None:
            template = self.dir / "template.sqlite3"
            run_manage(base_env(f"sqlite:///{template}"), "migrate", "--noinput", "-v0")
            self.sqlite_template = template
        path = directory / f"send-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(self.sqlite_template, path)
        return SQLiteDatabase(path)

    def postgres(self, admin: str | None = None) -> PostgresDatabase:
        admin = admin or postgres_admin_url()
        if admin not in self.pg_templates:
            _drop_orphans(admin)
            name = f"send_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            _pg_admin(admin, f'CREATE DATABASE "{name}"')
            try:
                run_manage(base_env(_with_database(admin, name)), "migrate", "--noinput", "-v0")
            except BaseException:
                _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise
            self.pg_templates[admin] = name
        name = f"send_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _pg_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_templates[admin]}"')
        return PostgresDatabase(admin, name)

    def cleanup(self) -> None:
        for admin, name in self.pg_templates.items():
            with suppress(Exception):
                _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(self.dir, ignore_errors=True)


def _drop_orphans(admin_url: str) -> None:
    """Drop the databases that runs killed before their clean-up left behind (their pid is gone)."""
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        names = [
            row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'send\\_%'")
        ]
        for name in names:
            kind, _, rest = name.removeprefix("send_").partition("_")
            pid = rest.partition("_")[0]
            if kind in ("template", "test") and pid.isdigit() and not Path(f"/proc/{pid}").exists():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_templates: Templates | None = None


def templates() -> Templates:
    global _templates
    if _templates is None:
        _templates = Templates()
        import atexit

        atexit.register(_templates.cleanup)
    return _templates


@contextmanager
def throwaway_database(
    vendor: str, directory: Path, pg_admin_url: str | None = None
) -> Iterator[ThrowawayDatabase]:
    """A freshly migrated database of `vendor` ("sqlite" or "postgresql"), dropped afterwards.
    PostgreSQL ones are made on the server of `pg_admin_url` (default: `postgres_admin_url()`)."""
    db = templates().sqlite(directory) if vendor == "sqlite" else templates().postgres(pg_admin_url)
    try:
        yield db
    finally:
        db.drop()


# The SMTP sink ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """One message the sink accepted for one recipient."""

    rcpt: str
    message_id: str
    delivery: str
    received_at: float


class SMTPSink:
    """tests/smtp_sink.py in its own process; `copies()` reads what it accepted."""

    def __init__(self, directory: Path, *, delay_ms: float = 0) -> None:
        self.log_path = directory / f"smtp-sink-{uuid.uuid4().hex[:6]}.sqlite3"
        self.output_path = directory / "smtp-sink.out"
        self.output = open(self.output_path, "w+")  # noqa: SIM115 - closed in stop()
        args = ["-m", "tests.smtp_sink", str(self.log_path), "--reject-domain", REJECT_DOMAIN]
        args += ["--defer-domain", DEFER_DOMAIN]
        self.process = subprocess.Popen(
            [PYTHON, *args, "--delay-ms", str(delay_ms)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.output,
            text=True,
            start_new_session=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the SMTP sink did not start: {line!r} {self.output_path.read_text()}")
        self.port = int(line.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """What a project process needs to send its mail here through Django's SMTP backend."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_TIMEOUT": "10",
        }

    def copies(self) -> list[Copy]:
        if not self.log_path.exists():
            return []
        with _closing_sqlite(self.log_path) as db:
            rows = db.execute("SELECT rcpt, message_id, delivery, received_at FROM messages ORDER BY seq")
            return [Copy(*row) for row in rows]

    def count(self) -> int:
        if not self.log_path.exists():
            return 0
        with _closing_sqlite(self.log_path) as db:
            return db.execute("SELECT count(*) FROM messages").fetchone()[0]

    def refused(self) -> list[tuple[str, int]]:
        """(recipient, SMTP code) of every RCPT TO the sink refused, in order."""
        with _closing_sqlite(self.log_path) as db:
            return db.execute("SELECT rcpt, code FROM refused ORDER BY seq").fetchall()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.output.close()


@contextmanager
def smtp_sink(directory: Path, **options) -> Iterator[SMTPSink]:
    sink = SMTPSink(directory, **options)
    try:
        yield sink
    finally:
        sink.stop()


# Workers ----------------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps its own copy
        log.write(f"\n=== start {self.starts} at {time.time():.3f} ===\n")
        log.flush()
        self.process = subprocess.Popen(
            [PYTHON, *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction commits, the SMTP connection just drops."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self, timeout: float = 10) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""


@dataclass
class WorkerPool:
    workers: list[Worker] = field(default_factory=list)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def outputs(self) -> str:
        return "\n".join(f"--- {worker.name} ---\n{worker.output()}" for worker in self.workers)


def db_workers(env: dict[str, str], directory: Path, count: int = 2) -> WorkerPool:
    """`manage.py db_worker` processes polling every 0.1 s (no autoreload, which would fork)."""
    args = [MANAGE, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1", "-v0"]
    return WorkerPool(
        [
            Worker(
                f"db_worker-{index}",
                [*args, "--worker-id", f"w{index}"],
                env,
                directory / f"worker-{index}.log",
            )
            for index in range(1, count + 1)
        ]
    )


def rq_workers(env: dict[str, str], directory: Path, count: int = 2) -> WorkerPool:
    """`manage.py rqworker default` processes with django-tasks-rq's Job class and RQ's scheduler."""
    return WorkerPool(
        [
            Worker(
                f"rqworker-{index}",
                [
                    MANAGE,
                    "rqworker",
                    "default",
                    "--job-class",
                    "django_tasks_rq.Job",
                    "--with-scheduler",  # runs deferred tasks (a retry's backoff)
                    "--name",
                    f"rq-{index}",
                ],
                env,
                directory / f"rqworker-{index}.log",
            )
            for index in range(1, count + 1)
        ]
    )


@contextmanager
def running(pool: WorkerPool) -> Iterator[WorkerPool]:
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()


def wait_for(predicate, *, timeout: float, what: Callable[[], str], interval: float = 0.25) -> None:
    """Poll `predicate` until it is true; after `timeout` seconds, AssertionError with `what()`,
    called then, so that it describes the state at the time of the failure."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what()}")
        time.sleep(interval)
