"""An SMTP server for end-to-end tests that keeps every message it accepts in a SQLite log.

Run it as its own process, so workers that are killed never take it down with them:

    python -m tests.smtp_sink LOG.sqlite3 [--port 0] [--reject-domain D] [--defer-domain D] [--delay-ms N]

It prints `listening 127.0.0.1:<port>` once it accepts connections, and stops on SIGTERM.

The log is the proof of what reached "the ESP": one row per accepted recipient of each message,
written and committed *before* the server answers `250` to the message's DATA. So a row may exist
for a message whose sender died before reading that answer (the case that makes a delivery
"unknown"), and no message the sender saw accepted is ever missing from the log.

`--reject-domain` answers `550 5.1.1` to RCPT TO for addresses at that domain (a permanent
refusal), `--defer-domain` answers `451 4.7.1` to the first RCPT TO of each address at that domain
(greylisting: a transient refusal); both are logged in the `refused` table. `--delay-ms` waits
before accepting each message, to keep a send running long enough to kill its workers mid-send.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import socketserver
import sqlite3
import sys
import threading
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rcpt TEXT NOT NULL,
    message_id TEXT NOT NULL,
    delivery TEXT NOT NULL,
    subject TEXT NOT NULL,
    connection INTEGER NOT NULL,
    received_at REAL NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rcpt TEXT NOT NULL,
    code INTEGER NOT NULL,
    received_at REAL NOT NULL
);
"""
MAX_LINE = 1 << 20


class Log:
    """The SQLite log, shared by every connection's thread (one writer at a time)."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # Durable against a crash of this process (what matters here), without an fsync per message.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def accepted(self, rows: list[tuple]) -> None:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO messages (rcpt, message_id, delivery, subject, connection, received_at, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.execute("COMMIT")

    def refused(self, rcpt: str, code: int) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO refused (rcpt, code, received_at) VALUES (?, ?, ?)", (rcpt, code, time.time())
            )


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: SinkServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        connection = next(self.server.connection_ids)
        self.reply("220 sink ESMTP ready")
        mail_from, rcpts = None, []
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return
            command, _, argument = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            verb = command.upper()
            if verb == "EHLO":
                self.reply("250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 104857600")
            elif verb == "HELO":
                self.reply("250 sink")
            elif verb == "MAIL":
                mail_from, rcpts = _address(argument), []
                self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                rcpt = _address(argument)
                domain = rcpt.rpartition("@")[2].lower()
                if domain == self.server.reject_domain:
                    self.server.log.refused(rcpt, 550)
                    self.reply("550 5.1.1 No such user here")
                elif domain == self.server.defer_domain and self.server.first_time(rcpt):
                    self.server.log.refused(rcpt, 451)
                    self.reply("451 4.7.1 Greylisted, try again later")
                else:
                    rcpts.append(rcpt)
                    self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self.reply("503 5.5.1 Need MAIL and RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                if data is None:
                    return
                self.accept(connection, rcpts, data)
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 2.0.0 OK")
            elif verb == "NOOP":
                self.reply("250 2.0.0 OK")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not implemented")

    def read_data(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return None  # the client went away mid-message: nothing was accepted
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)

    def accept(self, connection: int, rcpts: list[str], data: bytes) -> None:
        if self.server.delay:
            time.sleep(self.server.delay)
        headers = BytesHeaderParser(policy=compat32).parsebytes(data)
        now = time.time()
        fields = (
            str(headers.get("Message-ID", "")).strip(),
            str(headers.get("X-Newsletter-Delivery", "")).strip(),
            str(headers.get("Subject", "")),
            connection,
            now,
            len(data),
        )
        self.server.log.accepted([(rcpt, *fields) for rcpt in rcpts])
        self.reply("250 2.0.0 OK: queued")


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, log: Log, reject_domain: str, defer_domain: str, delay_ms: float) -> None:
        super().__init__(("127.0.0.1", port), SMTPHandler)
        self.log = log
        self.reject_domain = reject_domain.lower()
        self.defer_domain = defer_domain.lower()
        self.delay = delay_ms / 1000
        self.connection_ids = itertools.count(1)
        self.deferred: set[str] = set()
        self.deferred_lock = threading.Lock()

    def first_time(self, rcpt: str) -> bool:
        with self.deferred_lock:
            if rcpt in self.deferred:
                return False
            self.deferred.add(rcpt)
            return True


def _address(argument: str) -> str:
    """The address of `FROM:<a@b> SIZE=1` or `TO:<a@b>`."""
    value = argument.partition(":")[2].strip()
    if value.startswith("<"):
        value = value[1 : value.find(">")]
    return value.split()[0] if value else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject-domain", default="")
    parser.add_argument("--defer-domain", default="")
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args(argv)

    server = SinkServer(args.port, Log(args.log), args.reject_domain, args.defer_domain, args.delay_ms)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    host, port = server.server_address[:2]
    print(f"listening {host}:{port}", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
