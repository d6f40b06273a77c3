"""Email backends that add what Anymail leaves out, and idempotency keys for the ESPs that take one.

`set_idempotency_key` attaches a message's key (built in handover.py) the way the connection's ESP
reads it: Resend as an `Idempotency-Key` header (added by `ResendBackend`), Brevo as an
`idempotencyKey` entry in the message headers; other ESPs get none. `ResendBackend` also fills
`merge_data` itself for batch sends (see batching.py), which the stock Anymail backend refuses.
Select it with EMAIL_BACKEND = "subscribers.sending.esp_backends.ResendBackend" (or ANYMAIL_ESP=resend).

What each ESP accepts, checked against the pinned Anymail: docs/esp-notes.md.
"""

from __future__ import annotations

import json
import re
import uuid

from anymail.backends.resend import EmailBackend as AnymailResendBackend
from anymail.backends.resend import ResendPayload as AnymailResendPayload

IDEMPOTENCY_HEADER = "Idempotency-Key"
_FIELD = re.compile(r"\{\{(\w+)\}\}")


def set_idempotency_key(message, key: str, connection) -> None:
    """Attach `key` to `message` the way the connection's ESP reads it (nothing for other ESPs)."""
    message.idempotency_key = key
    if getattr(connection, "esp_name", None) == "Brevo":
        message.extra_headers["idempotencyKey"] = str(uuid.uuid5(uuid.NAMESPACE_URL, key))


class ResendBackend(AnymailResendBackend):
    """Anymail's Resend backend, plus `Idempotency-Key` and merge_data filled in batch sends."""

    fills_merge_data = True  # read by batching.for_connection

    def build_message_payload(self, message, defaults):
        return ResendPayload(message, defaults, self)


class ResendPayload(AnymailResendPayload):
    def __init__(self, message, defaults, backend, *args, **kwargs):
        self.merge_data: dict = {}
        super().__init__(message, defaults, backend, *args, **kwargs)

    def set_merge_data(self, merge_data):
        self.merge_data = merge_data  # filled in serialize_data, per recipient

    def get_request_params(self, api_url):
        params = super().get_request_params(api_url)
        key = getattr(self.message, "idempotency_key", None)
        if key:
            params["headers"] = {**params["headers"], IDEMPOTENCY_HEADER: str(key)[:256]}
        return params

    def serialize_data(self):
        serialized = super().serialize_data()
        if not (self.is_batch() and self.merge_data):
            return serialized
        emails = json.loads(serialized)
        for email, recipient in zip(emails, self.to_recipients, strict=True):
            values = self.merge_data.get(recipient.addr_spec, {})
            for part in ("subject", "html", "text"):
                if email.get(part):
                    email[part] = _fill(email[part], values)
        return self.serialize_json(emails)


def _fill(content: str, values: dict) -> str:
    return _FIELD.sub(lambda match: str(values.get(match.group(1), match.group(0))), content)
