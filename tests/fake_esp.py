"""A local HTTP server that speaks enough of Resend's API for Anymail's Resend backend, and fails
the way tests script it, per recipient: an HTTP status, "timeout" (answers after the client
gave up, having taken the message) or "drop" (takes the message, closes without an answer)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .smtp_server import free_port


class FakeResend:
    def __init__(self) -> None:
        self.script: dict[str, list] = {}  # address -> actions, one per request; then "ok"
        self.requests: list[tuple[str, object]] = []  # (address, action) for every request seen
        self.lock = threading.Lock()

    def accepted(self, address: str) -> int:
        """How many copies for `address` the ESP took (answered or not)."""
        return sum(1 for to, action in self.requests if to == address and action in ("ok", "timeout", "drop"))

    def next_action(self, address: str):
        with self.lock:
            actions = self.script.get(address) or []
            action = actions.pop(0) if actions else "ok"
            self.requests.append((address, action))
            return action


@contextmanager
def fake_resend(settings, timeout: float = 0.5):
    esp = FakeResend()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            action = esp.next_action(body["to"][0])
            if action == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if action == "timeout":
                time.sleep(timeout * 3)
                action = "ok"
            status, payload = (
                (200, {"id": str(uuid.uuid4())}) if action == "ok" else (action, {"message": "no"})
            )
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
    settings.EMAIL_BACKEND = "anymail.backends.resend.EmailBackend"
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
