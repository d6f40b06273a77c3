"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port) whose answers tests choose."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """Keeps every message it accepts. `rcpt_reply(address)` may answer RCPT with an error
    ("550 ..."); `data_reply(envelope)` may answer the end of DATA with one, or "DROP" to close
    the connection after the message was received, without answering."""

    messages: list[Received] = field(default_factory=list)
    rcpt_reply: Callable[[str], str | None] = lambda address: None
    data_reply: Callable[[object], str | None] = lambda envelope: None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.data_reply(envelope)
        if reply == "DROP":
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            server.transport.close()
            return "250 never seen"
        if reply:
            return reply
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@contextmanager
def smtp_server(settings, handler: RecordingHandler | None = None):
    """Run the server and point Django's SMTP backend at it."""
    handler = handler or RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()
