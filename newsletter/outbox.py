"""The default email backend: every message becomes an OutboxMessage row that staff read at /outbox/.

It only writes rows, so it works the same from the web process, the task worker and tests, and
nothing leaves the machine until EMAIL_BACKEND (or ANYMAIL_ESP) says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.header import decode_header, make_header

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from .models import OutboxMessage


class DatabaseOutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        rows = []
        for message in email_messages:
            try:
                rows.append(outbox_row(message))
            except Exception:
                if not self.fail_silently:
                    raise
        with transaction.atomic():
            OutboxMessage.objects.bulk_create(rows)
        return len(rows)


def outbox_row(message: EmailMessage) -> OutboxMessage:
    """The message as an unsaved OutboxMessage: its parts, its decoded headers and the raw MIME."""
    mime = message.message()
    text_body, html_body = message.body, ""
    if message.content_subtype == "html":
        text_body, html_body = "", message.body
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html" and not html_body:
            html_body = content
        elif mimetype == "text/plain" and not text_body:
            text_body = content
    headers: dict[str, str] = {}
    for key, value in mime.items():
        value = _decoded(value)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return OutboxMessage(
        from_email=_decoded(mime["From"] or message.from_email),
        to="\n".join(message.recipients()),
        subject=_decoded(mime["Subject"] or message.subject)[:1000],
        text_body=text_body,
        html_body=html_body,
        headers=headers,
        raw=mime.as_string(),
    )


def _decoded(value: object) -> str:
    # Non-ASCII headers go out as RFC 2047 encoded words; staff read them decoded.
    return str(make_header(decode_header(str(value))))


# The headers a person looks for first; the rest follow alphabetically. (PostgreSQL's jsonb does
# not keep the order the message had.)
_HEADER_ORDER = [
    "Subject",
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Date",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
]


def ordered_headers(headers: dict[str, str]) -> list[tuple[str, str]]:
    def position(item: tuple[str, str]) -> tuple[int, str]:
        name = item[0]
        return (_HEADER_ORDER.index(name) if name in _HEADER_ORDER else len(_HEADER_ORDER), name.lower())

    return sorted(headers.items(), key=position)
