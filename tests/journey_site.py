"""The whole site in real processes, for the role-by-role browser journey
(tests/test_journey_browser.py): one throwaway database, migrated with `manage.py migrate`; the
web server (gunicorn, started once and kept up for the whole story); one `manage.py db_worker`;
and a real SMTP server that keeps every message it accepts, whole, for the test to parse.

The database is SQLite (a file, WAL mode) unless the tests run with a PostgreSQL `DATABASE_URL`;
then it is a database named `nl_journey_<pid>_<random>` on that server, dropped afterwards.

The SMTP server is tests/smtp_server.py's aiosmtpd recorder, listening on 127.0.0.1 in a thread of
the test process: the site's processes reach it through Django's SMTP backend like any mail server.
(tests/smtp_sink.py, the send tests' sink process, logs only each message's headers; the journey
needs the bodies, to follow the links in them.)

Accounts, sections and subscribers are made by `manage.py shell -c` in the site's environment,
with the project's own functions, before the story starts.
"""

from __future__ import annotations

import email
import email.policy
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from tests import processes
from tests.smtp_server import RecordingHandler, free_port

JOURNEY_DB_PREFIX = "nl_journey"


@dataclass
class JourneySite:
    base_url: str
    env: dict[str, str]
    db: processes.ThrowawayDatabase
    mail: RecordingHandler
    web: processes.Worker
    worker: processes.Worker
    directory: Path

    # The site's processes ---------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 120) -> str:
        return processes.run_manage(self.env, *args, timeout=timeout)

    def shell(self, code: str) -> str:
        """Python run by `manage.py shell -c` in the site's environment; its stdout."""
        return self.manage("shell", "-c", code)

    def query(self, sql: str, params=()) -> list[tuple]:
        """Plain SQL on the site's database (table and column names of the models)."""
        return self.db.query(sql, params)

    def logs(self, tail: int = 3000) -> str:
        """The processes' output and the task queue, for a failure's message."""
        try:
            rows = self.query(
                "SELECT task_path, status, enqueued_at, run_after, exception_class_path"
                " FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at"
            )
            tasks = "\n".join(" ".join(str(value) for value in row) for row in rows) or "(none)"
        except Exception as exc:  # the story's failure matters more than this report's
            tasks = f"(unreadable: {exc})"
        return (
            f"--- web ---\n{self.web.output(tail)}\n--- db_worker ---\n{self.worker.output(tail)}\n"
            f"--- tasks ---\n{tasks}"
        )

    def check_alive(self) -> None:
        for process in (self.web, self.worker):
            if not process.alive:
                raise AssertionError(f"the site's {process.name} process died:\n{self.logs()}")

    # Mail -------------------------------------------------------------------------------------

    def messages(self) -> list[tuple[str, EmailMessage]]:
        """(recipient, parsed message) of every message accepted so far, in order."""
        return [
            (rcpt, parse(received.data))
            for received in list(self.mail.messages)
            for rcpt in received.rcpt_tos
        ]

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.messages() if rcpt == address]

    def wait_for_message(
        self, address: str, subject_contains: str, timeout: float = 30, count: int = 1
    ) -> list[EmailMessage]:
        """The messages to `address` whose subject contains `subject_contains`, once `count` are in."""

        def found() -> list[EmailMessage]:
            return [m for m in self.messages_to(address) if subject_contains in str(m["Subject"])]

        deadline = time.monotonic() + timeout
        while len(found()) < count:
            self.check_alive()
            if time.monotonic() > deadline:
                subjects = [(rcpt, str(m["Subject"])) for rcpt, m in self.messages()]
                raise AssertionError(
                    f"no message to {address} with “{subject_contains}” in its subject "
                    f"after {timeout:.0f} s; "
                    f"the SMTP server got: {subjects}\n{self.logs()}"
                )
            time.sleep(0.2)
        return found()


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts of a message ("" when absent), with plain newlines."""
    parts = (message.get_body(("plain",)), message.get_body(("html",)))
    return tuple(part.get_content().replace("\r\n", "\n") if part else "" for part in parts)


# Starting it all ------------------------------------------------------------------------------


def _vendor() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


@contextmanager
def _database(directory: Path) -> Iterator[processes.ThrowawayDatabase]:
    if _vendor() == "sqlite":
        db = processes.SQLiteDatabase(directory / f"{JOURNEY_DB_PREFIX}.sqlite3")
    else:
        admin = processes.postgres_admin_url()
        _drop_orphan_databases(admin)
        db = processes.PostgresDatabase(admin, f"{JOURNEY_DB_PREFIX}_{os.getpid()}_{uuid.uuid4().hex[:6]}")
        processes._pg_admin(admin, f'CREATE DATABASE "{db.name}"')
    try:
        processes.run_manage(processes.base_env(db.url), "migrate", "--noinput", "-v0")
        yield db
    finally:
        db.drop()


def _drop_orphan_databases(admin_url: str) -> None:
    """Drop journey databases that a killed run left behind (their process is gone)."""
    import psycopg

    with psycopg.connect(processes._libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{JOURNEY_DB_PREFIX}\\_%"]
        )
        for (name,) in list(rows):
            pid = name.removeprefix(f"{JOURNEY_DB_PREFIX}_").partition("_")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _wait_until_serving(base_url: str, web: processes.Worker, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not web.alive:
            raise AssertionError(f"the web server exited:\n{web.output()}")
        try:
            with urllib.request.urlopen(f"{base_url}/robots.txt", timeout=2) as response:
                if response.status == 200:
                    return
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the web server did not answer within {timeout:.0f} s:\n{web.output()}")
        time.sleep(0.2)


@contextmanager
def journey_site(directory: Path) -> Iterator[JourneySite]:
    """Database, SMTP server, web server and task worker, up until the `with` block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    with _database(directory) as db, _smtp_server() as (mail, smtp_port):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = processes.base_env(
            db.url,
            DEBUG="1",
            SITE_URL=base_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            MEDIA_ROOT=str(directory / "media"),
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            EMAIL_TIMEOUT="10",
            DEFAULT_FROM_EMAIL="ML Safety Newsletter <newsletter@127.0.0.1>",
            LOG_LEVEL="WARNING",
        )
        web = processes.Worker(
            "web",
            [
                "-m",
                "gunicorn",
                "newsletter.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                # Its default control socket is one path for every gunicorn of the user.
                "--no-control-socket",
            ],
            env,
            directory / "web.log",
        )
        (worker,) = processes.db_workers(env, directory, count=1).workers
        web.start()
        worker.start()
        try:
            _wait_until_serving(base_url, web)
            yield JourneySite(base_url, env, db, mail, web, worker, directory)
        finally:
            with suppress(Exception):
                worker.stop()
            with suppress(Exception):
                web.stop()
