"""The headers every issue email carries, per recipient.

- `Message-ID: <send-{send}.delivery-{delivery}@{domain}>`: unique per recipient, and the same on
  every retry of one delivery, so a copy that did get through twice is folded by mail clients.
  The domain is SITE_URL's host, else DEFAULT_FROM_EMAIL's domain.
- `List-Id` (RFC 2919): "<site name> <LIST_ID>", LIST_ID defaulting to "<site-slug>.<domain>".
- `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 2369, RFC 8058) from subscribers.links.
- `X-Newsletter-Delivery`: the delivery id, for relays whose bounce reports echo headers.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.text import slugify


def message_domain() -> str:
    host = urlsplit(settings.SITE_URL).hostname or ""
    if not host or host in {"localhost", "127.0.0.1", "::1"}:
        host = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or host or "localhost"
    return host.encode("idna").decode("ascii") if not host.isascii() else host


def message_id(send_id: int, delivery_id: int) -> str:
    return f"<send-{send_id}.delivery-{delivery_id}@{message_domain()}>"


def list_id() -> str:
    identifier = settings.LIST_ID or f"{slugify(settings.SITE_NAME) or 'newsletter'}.{message_domain()}"
    name = settings.SITE_NAME.replace('"', "").replace("<", "").replace(">", "")
    return f'"{name}" <{identifier}>'
