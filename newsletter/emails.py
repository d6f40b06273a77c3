"""The one email factory: every email the site sends is a name.

A name maps to three templates: templates/email/<name>.subject.txt (one line),
<name>.txt (the plain-text part) and <name>.html (the HTML part, extending email/base.html, its
CSS inlined by css-inline). `build_message` renders them into an EmailMultiAlternatives;
`send` sends it now; `newsletter.tasks.send_email_task` sends it from a task worker.

Every template gets the site's name and address, the postal address and the context passed in.
Issues themselves are rendered once per audience by `rendering.render_issue_email`;
`issue_message` turns such a rendering into a message for one recipient.

Every message either builder makes carries
- `List-Id` (RFC 2919, `list_id()`) when it is a list email: every issue email, and every named
  email the caller gives a `List-Unsubscribe` header (subscribers.links: the welcome and
  "already subscribed" emails), so each list email carries both; staff notifications carry none;
- a `Message-ID` on our own domain (`message_domain()`), unless the caller gives one (the send
  pipeline's per-delivery ids), rather than Django's, which names the machine's host name;
- `Reply-To: NEWSLETTER_REPLY_TO` when that is set (`reply_to()`).
The plain-text part of a named email is wrapped at 72 columns like the issue's; a line holding a
URL is left whole, so "Unsubscribe: <url>" stays on one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.text import slugify

from .absolute_urls import site_url
from .plaintext import TEXT_WIDTH, wrap
from .rendering import RenderedEmail, email_context, inline_css, render_text_template

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def message_domain() -> str:
    """The domain of our Message-IDs and List-Id: SITE_URL's host (the send's, within a batch),
    else (a local site) DEFAULT_FROM_EMAIL's domain."""
    host = urlsplit(site_url("")).hostname or ""
    if not host or host in _LOCAL_HOSTS:
        host = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or host or "localhost"
    return host.encode("idna").decode("ascii") if not host.isascii() else host


def list_id() -> str:
    """`"<SITE_NAME>" <LIST_ID>`, LIST_ID defaulting to "<site-slug>.<message domain>"."""
    identifier = settings.LIST_ID or f"{slugify(settings.SITE_NAME) or 'newsletter'}.{message_domain()}"
    name = settings.SITE_NAME.replace('"', "").replace("<", "").replace(">", "")
    return f'"{name}" <{identifier}>'


def reply_to() -> list[str]:
    """Where replies go: [NEWSLETTER_REPLY_TO], or [] for the From address."""
    return [settings.NEWSLETTER_REPLY_TO] if settings.NEWSLETTER_REPLY_TO else []


def _headers(headers: Mapping[str, str] | None, *, list_email: bool = False) -> dict[str, str]:
    given = dict(headers or {})
    names = {name.lower() for name in given}
    if "list-id" not in names and (list_email or "list-unsubscribe" in names):
        given["List-Id"] = list_id()
    if "message-id" not in names:
        given["Message-ID"] = make_msgid(domain=message_domain())
    return given


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Every line longer than `width` wrapped, except a line holding a URL (kept whole)."""
    lines = []
    for line in text.split("\n"):
        if len(line) > width and "://" not in line:
            line = wrap(line, width)
        lines.append(line)
    return "\n".join(lines)


def build_message(
    name: str,
    to: str | Sequence[str],
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    from_email: str | None = None,
) -> EmailMultiAlternatives:
    """The email `name` rendered with `context`, addressed to `to`, with a text and an HTML part."""
    context = {**email_context(), **(context or {})}
    subject = " ".join(render_text_template(f"email/{name}.subject.txt", context).split())
    text = wrap_text(render_text_template(f"email/{name}.txt", context))
    html = inline_css(render_to_string(f"email/{name}.html", {"subject": subject, **context}))
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to] if isinstance(to, str) else list(to),
        reply_to=reply_to(),
        headers=_headers(headers),
    )
    message.attach_alternative(html, "text/html")
    return message


def send(
    name: str,
    to: str | Sequence[str],
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Render and send the email `name` now; returns the number of messages sent (1)."""
    return build_message(name, to, context, headers).send()


def issue_message(
    rendered: RenderedEmail,
    to: str,
    values: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    from_email: str | None = None,
) -> EmailMultiAlternatives:
    """A rendered issue personalised for one recipient: text only when it was rendered for a
    plain-text subscriber, text and HTML otherwise."""
    personal = rendered.personalize(values)
    message = EmailMultiAlternatives(
        subject=personal.subject,
        body=personal.text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=reply_to(),
        headers=_headers(headers, list_email=True),
    )
    if personal.html:
        message.attach_alternative(personal.html, "text/html")
    return message
