"""The one email factory: every email the site sends is a name.

A name maps to three templates: templates/email/<name>.subject.txt (one line),
<name>.txt (the plain-text part) and <name>.html (the HTML part, extending email/base.html, its
CSS inlined by css-inline). `build_message` renders them into an EmailMultiAlternatives;
`send` sends it now; `newsletter.tasks.send_email_task` sends it from a task worker.

Every template gets the site's name and address, the postal address and the context passed in.
Issues themselves are rendered once per audience by `rendering.render_issue_email`;
`issue_message` turns such a rendering into a message for one recipient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .rendering import RenderedEmail, email_context, inline_css, render_text_template


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
    text = render_text_template(f"email/{name}.txt", context)
    html = inline_css(render_to_string(f"email/{name}.html", {"subject": subject, **context}))
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to] if isinstance(to, str) else list(to),
        headers=dict(headers or {}),
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
        headers=dict(headers or {}),
    )
    if personal.html:
        message.attach_alternative(personal.html, "text/html")
    return message
