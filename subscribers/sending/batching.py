"""ESP batch sending: one API call carries a variant to many recipients, each with their own values.

Where the email backend's ESP substitutes per-recipient values into our inline content (Anymail's
`merge_data`) and sets per-recipient headers (`merge_headers`), a batch sends one message per
(variant, up to `max_recipients`) instead of one per subscriber: the stored variant's
`{{name}}`-style placeholders are rewritten once into the ESP's merge-field syntax, and each
recipient's values, headers and metadata travel beside it. Everything else sends message by
message (handover.py). Each placeholder becomes two merge fields, `name` and `name_html` (escaped
by us), because these ESPs substitute raw. `SEND_BATCH_ESP` (optional) overrides the choice.

Which ESPs qualify and why (checked against the pinned Anymail): docs/esp-notes.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils.html import escape

from newsletter.rendering import PLACEHOLDERS, placeholder

from ..models import SendVariant

HTML_SUFFIX = "_html"


@dataclass(frozen=True)
class BatchSyntax:
    esp_name: str
    field: str  # how a merge field is written in the content; "{}" stands for its key
    key: str = "{}"  # how its key is written in merge_data
    max_recipients: int = 1000

    def in_content(self, name: str) -> str:
        return self.field.format(self.key.format(name))

    def merge_key(self, name: str) -> str:
        return self.key.format(name)


BATCH_ESPS: dict[str, BatchSyntax] = {
    # SendGrid applies SENDGRID_MERGE_FIELD_FORMAT to merge_data keys; without it the keys are used
    # as they are, so ours carry their own delimiters (see for_connection).
    "SendGrid": BatchSyntax("SendGrid", field="{}", key="-{}-", max_recipients=1000),
    "Mailgun": BatchSyntax("Mailgun", field="%recipient.{}%", max_recipients=1000),
    "SparkPost": BatchSyntax("SparkPost", field="{{{{{{{}}}}}}}", max_recipients=1000),
    "Resend": BatchSyntax("Resend", field="{{{{{}}}}}", max_recipients=100),
}


def for_connection(connection) -> BatchSyntax | None:
    """The batch syntax to use with this email backend, or None to send message by message."""
    override = getattr(settings, "SEND_BATCH_ESP", None)
    if override is not None:
        if not override or str(override).lower() == "none":
            return None
        return BATCH_ESPS[override]
    esp_name = getattr(connection, "esp_name", None)
    if esp_name == "Resend" and not getattr(connection, "fills_merge_data", False):
        return None  # the stock backend refuses merge_data; esp_backends.ResendBackend fills it
    syntax = BATCH_ESPS.get(esp_name or "")
    if syntax is not None and esp_name == "SendGrid" and getattr(connection, "merge_field_format", None):
        return BatchSyntax("SendGrid", field=connection.merge_field_format, key="{}")
    return syntax


@dataclass(frozen=True)
class BatchContent:
    subject: str
    html: str
    text: str


def batch_content(variant: SendVariant, syntax: BatchSyntax) -> BatchContent:
    """The stored variant with its placeholders written as the ESP's merge fields (once per variant)."""

    def convert(content: str, html: bool) -> str:
        for name in PLACEHOLDERS:
            content = content.replace(
                placeholder(name), syntax.in_content(name + (HTML_SUFFIX if html else ""))
            )
        return content

    return BatchContent(
        subject=convert(variant.subject, html=False),
        html=convert(variant.html, html=True) if variant.html else "",
        text=convert(variant.text, html=False),
    )


def merge_values(values: Mapping[str, str], syntax: BatchSyntax) -> dict[str, str]:
    """One recipient's merge_data: each value raw (text, subject) and HTML-escaped (HTML part)."""
    data = {}
    for name in PLACEHOLDERS:
        value = str(values.get(name, ""))
        data[syntax.merge_key(name)] = value
        data[syntax.merge_key(name + HTML_SUFFIX)] = str(escape(value))
    return data


def chunks(items: list, size: int) -> list[list]:
    size = max(int(size), 1)
    return [items[start : start + size] for start in range(0, len(items), size)]
