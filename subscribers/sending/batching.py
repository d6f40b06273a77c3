"""ESP batch sending: one API call carries a variant to many recipients, each with their own values.

Where the email backend's ESP substitutes per-recipient values into the message body itself
(Anymail's `merge_data`) and sets per-recipient headers (`merge_headers`), a batch sends one
message per (variant, up to `max_recipients`) instead of one per subscriber: the stored variant's
`{{name}}`-style placeholders are rewritten once into the ESP's own merge-field syntax, and each
recipient's values, headers (List-Unsubscribe, Message-ID, X-Newsletter-Delivery) and metadata
(delivery_id, for webhooks) travel beside it. Everything else sends message by message
(handover.py).

Which ESPs qualify, read from Anymail 15.2's backends. We send our own rendered HTML, never a
template stored at the ESP, so `merge_data` must work on inline content:
- SendGrid: legacy substitutions on inline content (`-name-`, or SENDGRID_MERGE_FIELD_FORMAT),
  per-recipient headers in personalizations. Qualifies.
- Mailgun: `%recipient.name%` recipient-variables on inline content; merge_headers through
  `h:` recipient-variables. Qualifies.
- SparkPost: `{{{name}}}` substitution_data (triple braces: no second escaping) on inline
  content; merge_headers through substitution_data. Qualifies. Its template engine reads every
  `{{` in the content, so an issue quoting template syntax literally would be refused by the ESP
  (the batch fails and is classified like any other error).
- Resend, through `subscribers.sending.esp_backends.ResendBackend`: Resend's batch endpoint takes up to
  100 complete emails per call; Anymail's backend supports merge_headers and merge_metadata
  there but refuses merge_data, so our subclass fills the values in itself, per email, before
  the call. Qualifies (the stock Anymail Resend backend does not).
- Do not qualify: Postmark ("merge_data without template_id" is unsupported: batches need a
  stored template), Amazon SES (merge_data and merge_headers need a stored SES template),
  Mailjet (variables need TemplateLanguage, which Anymail only sets with a template id),
  Brevo, Mailtrap and Unisender Go (their merge fields are template-language features not
  checked here against inline content), Mandrill/Postal/Scaleway/MailerSend (no merge_headers
  in Anymail), and Django's SMTP backend.

Values are substituted raw by these ESPs (the triple braces for SparkPost), so each placeholder
has two merge fields: `name` (subject and text part) and `name_html` (the HTML part,
HTML-escaped by us), exactly as `newsletter.rendering.personalize` escapes them.

`SEND_BATCH_ESP` (a setting, optional) overrides the choice: unset means "by the backend's
`esp_name`"; "" (or "none") means never batch; an ESP name from BATCH_ESPS means "use that
ESP's syntax with whatever backend is configured" (tests use it with Anymail's test backend).
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
