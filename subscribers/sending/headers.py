"""The headers every issue email carries, per recipient.

- `Message-ID: <send-{send}.delivery-{delivery}@{install}.{domain}>`: unique per recipient, and
  the same on every retry and every resend of one delivery, so a copy that did get through twice
  is folded by mail clients. The domain is SITE_URL's host, else DEFAULT_FROM_EMAIL's domain
  (newsletter.emails.message_domain). `install` (`install_id()`) tells installs apart that send
  from one domain (staging beside production, two publications of one organisation), whose send
  and delivery numbers overlap: it is derived from SECRET_KEY, so it needs no state, is the same
  in every process of one install and survives a backup restored elsewhere with the same
  settings. It sits on the right of the @ so that older ids and the webhooks' parser
  (tracking/webhooks.py) read the same way.
- `List-Id` (RFC 2919): "<site name> <LIST_ID>", LIST_ID defaulting to "<site-slug>.<domain>"
  (newsletter.emails.list_id, which every other email of the site carries too).
- `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 2369, RFC 8058) from subscribers.links.
- `X-Newsletter-Delivery`: the delivery id, for relays whose bounce reports echo headers.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.crypto import salted_hmac

from newsletter.emails import list_id, message_domain

__all__ = ["install_id", "list_id", "message_domain", "message_id"]


@functools.lru_cache(maxsize=4)
def _install_id(secret_key: str) -> str:
    digest = salted_hmac("subscribers.sending.headers.install_id", "message-id", secret=secret_key)
    return digest.hexdigest()[:12]


def install_id() -> str:
    """Twelve hex digits that tell this install's Message-IDs from another's on the same domain."""
    return _install_id(settings.SECRET_KEY)


def message_id(send_id: int, delivery_id: int) -> str:
    return f"<send-{send_id}.delivery-{delivery_id}@{install_id()}.{message_domain()}>"
