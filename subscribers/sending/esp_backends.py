"""Email backends that add what Anymail 15.2 leaves out, and idempotency keys for the ESPs that take one.

Idempotency keys: a retried request carrying the key of one already accepted is answered with the
first answer instead of sending the email again.
- Resend: an `Idempotency-Key` HTTP header (up to 256 characters, kept 24 hours) on POST /emails
  and POST /emails/batch. Anymail's `esp_extra` for Resend goes into the JSON body, so
  `ResendBackend` adds the header from `message.idempotency_key`. Resend answers a reused key
  with a *different* body with an error (409); our bodies carry signed links that include a
  timestamp, so a resent copy differs and that answer comes back: delivery_errors reads a 409
  as "unknown" (the ESP already holds a request with this key), never as a failure.
- Brevo: an `idempotencyKey` entry in the message's `headers` object (a UUID; kept 15-30
  minutes), which is where Anymail puts `extra_headers` for Brevo, so no subclass is needed:
  `set_idempotency_key` adds it (a UUID derived from our key). Not tried against Brevo itself.
- Other ESPs: none of Anymail's other backends documents one; the key is not sent.

Keys (handover.py): `send-<send id>-delivery-<delivery id>` for one message; for an ESP batch
`send-<send id>-batch-<sha256 of the sorted delivery ids, 32 hex>`, so the same group of
deliveries sent again carries the same key.

`ResendBackend` also fills `merge_data` itself for batch sends (see batching.py): Resend's batch
endpoint takes complete emails, so each recipient's copy gets its own subject, HTML and text.
Select it with EMAIL_BACKEND = "subscribers.sending.esp_backends.ResendBackend".
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
