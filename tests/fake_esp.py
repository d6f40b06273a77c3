"""A local HTTP server that speaks enough of Resend's API for Anymail's Resend backend (and ours,
subscribers.sending.esp_backends.ResendBackend), and fails the way tests script it, per recipient: an
HTTP status, "timeout" (answers after the client gave up, having taken the message) or "drop"
(takes the message, closes without an answer).

- POST /emails (one email) and POST /emails/batch (a list of emails, each with one `to`). A batch
  takes the first scripted failure among its recipients for the whole request (Resend validates
  a batch as a whole).
- Every email the ESP took is kept in `emails` (the JSON Resend would send, with the request's
  path and Idempotency-Key), so tests can read each recipient's copy and headers.
- Idempotency-Key: a request whose key the ESP already took is answered with the first answer
  and sends nothing (recorded in `requests` as "replayed"), as Resend does within 24 hours.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .smtp_server import free_port

TAKEN = ("ok", "timeout", "drop")


class FakeResend:
    def __init__(self) -> None:
        self.script: dict[str, list] = {}  # address -> actions, one per request; then "ok"
        self.requests: list[tuple[str, object]] = []  # (address, action) for every request seen
        self.emails: list[dict] = []  # every email taken: Resend's JSON + "path", "idempotency_key"
        self.keys: dict[str, tuple[int, dict]] = {}  # idempotency key -> the first answer
        self.key_log: list[str] = []  # the Idempotency-Key of every request ("" when none)
        self.lock = threading.Lock()

    def accepted(self, address: str) -> int:
        """How many copies for `address` the ESP took (answered or not)."""
        return sum(1 for to, action in self.requests if to == address and action in TAKEN)

    def copies(self, address: str) -> list[dict]:
        return [email for email in self.emails if email["to"] == [address]]

    def next_action(self, address: str):
        with self.lock:
            actions = self.script.get(address) or []
            action = actions.pop(0) if actions else "ok"
            self.requests.append((address, action))
            return action

    def take(self, path: str, emails: list[dict], key: str):
        """The request's action and answer; records what was taken."""
        with self.lock:
            self.key_log.append(key)
            if key and key in self.keys:
                self.requests += [(email["to"][0], "replayed") for email in emails]
                return "replayed", self.keys[key]
        actions = [self.next_action(email["to"][0]) for email in emails]
        action = next((a for a in actions if a != "ok"), "ok")
        if action not in TAKEN:
            return action, (action, {"name": "scripted_error", "message": "no"})
        ids = [str(uuid.uuid4()) for _ in emails]
        answer = (200, {"data": [{"id": pk} for pk in ids]} if path.endswith("batch") else {"id": ids[0]})
        with self.lock:
            for email, pk in zip(emails, ids, strict=True):
                self.emails.append({**email, "id": pk, "path": path, "idempotency_key": key})
            if key:
                self.keys[key] = answer
        return action, answer


@contextmanager
def fake_resend(settings, timeout: float = 0.5, backend: str = "anymail.backends.resend.EmailBackend"):
    esp = FakeResend()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            path = self.path.strip("/")
            emails = body if isinstance(body, list) else [body]
            action, (status, payload) = esp.take(path, emails, self.headers.get("Idempotency-Key", ""))
            if action == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if action == "timeout":
                time.sleep(timeout * 3)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (the timeout case)

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = backend
    settings.ANYMAIL = {
        "RESEND_API_KEY": "re_test",
        "RESEND_API_URL": f"http://127.0.0.1:{port}/",
        "REQUESTS_TIMEOUT": timeout,
    }
    try:
        yield esp
    finally:
        server.shutdown()
        server.server_close()
