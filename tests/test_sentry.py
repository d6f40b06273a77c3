"""Errors go to Sentry when SENTRY_DSN is set, and nowhere otherwise.

A local HTTP server stands in for Sentry's ingest endpoint (`/api/<project>/envelope/`, where
sentry-sdk posts its envelopes, gzipped). Each case runs Django in a process of its own (sentry-sdk
patches Django once per process), requests a view that raises, and reads what arrived.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from newsletter import urls as site_urls

ROOT = Path(__file__).resolve().parent.parent
# The session cookie the request carries, which Sentry must not receive (send_default_pii off);
# random, since Sentry sends the source lines around each frame (this file's among them).
COOKIE = secrets.token_hex(16)


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom in a view")


# The URLconf the child process uses (ROOT_URLCONF="tests.test_sentry"): the site's, and a view that raises.
urlpatterns = [path("boom/", boom), *site_urls.urlpatterns]

REQUEST_THE_VIEW = """
import os
import sentry_sdk
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.test_sentry"):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = os.environ["TEST_SESSION_COOKIE"]
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-boom-7")
print("status", response.status_code)
print("active", sentry_sdk.get_client().is_active())
sentry_sdk.flush(timeout=10)
"""


@contextmanager
def sentry_ingest():
    """A stand-in for Sentry: yields (dsn, received), received being the envelopes posted so far."""
    received: list[tuple[str, dict[str, str], bytes]] = []

    class Ingest(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "0"}')

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_port}/42", received
    finally:
        server.shutdown()
        server.server_close()


def run_django(**env: str) -> subprocess.CompletedProcess:
    skipped = {"SENTRY_DSN", "DJANGO_ALLOW_ASYNC_UNSAFE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}
    environment = {key: value for key, value in os.environ.items() if key.upper() not in skipped}
    environment.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "TASKS_BACKEND": "immediate",
            "TEST_SESSION_COOKIE": COOKIE,
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", REQUEST_THE_VIEW],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def envelope_items(body: bytes) -> list[tuple[dict, dict]]:
    """An envelope's items as (item header, payload): a header line, then header/payload pairs."""
    lines = body.split(b"\n")
    items = []
    index = 1
    while index + 1 < len(lines):
        header = json.loads(lines[index])
        payload = lines[index + 1]
        items.append((header, json.loads(payload) if payload.startswith(b"{") else {}))
        index += 2
    return items


def test_an_exception_in_a_view_reaches_sentry_as_an_envelope_without_personal_data():
    with sentry_ingest() as (dsn, received):
        result = run_django(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="ci", SENTRY_RELEASE="1.2.3")
    assert result.returncode == 0, result.stderr
    assert "status 500" in result.stdout and "active True" in result.stdout
    assert received, f"nothing arrived at the stand-in Sentry\n{result.stderr}"
    path, headers, body = received[0]
    assert path == "/api/42/envelope/"
    assert "sentry_key=publickey" in headers.get("X-Sentry-Auth", "")
    events = [payload for header, payload in envelope_items(body) if header.get("type") == "event"]
    assert len(events) == 1
    (event,) = events
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["value"] == "boom in a view"
    assert event["environment"] == "ci" and event["release"] == "1.2.3"
    assert event["tags"]["request_id"] == "req-boom-7"  # the id its log lines carry
    assert event["transaction"] == "/boom/"
    # No personal data: no cookies, no user, no IP address.
    raw = b"".join(b for _, _, b in received)
    assert COOKIE.encode() not in raw
    assert "user" not in event or "ip_address" not in event["user"]


def test_without_a_dsn_nothing_is_sent():
    with sentry_ingest() as (_, received):
        result = run_django(SENTRY_DSN="")
    assert result.returncode == 0, result.stderr
    assert "status 500" in result.stdout
    assert "active False" in result.stdout  # sentry-sdk was never started: no client, no transport
    assert received == []
