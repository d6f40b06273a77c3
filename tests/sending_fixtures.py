"""Helpers for the send pipeline's tests: an issue with sections, subscribers, and running a send
with its tasks inline (the ImmediateBackend of conftest) after the transaction's commit hooks."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage as ParsedMessage

from django.utils import timezone

from newsletter.models import PaperSummary
from subscribers.models import Subscriber

from .factories import make_issue, make_paper, make_section, make_summary

SECTION_NAMES = ("Robustness", "Monitoring", "Alignment")


def make_sections() -> dict:
    return {name.lower(): make_section(name, position) for position, name in enumerate(SECTION_NAMES)}


def make_sendable_issue(sections: dict, number: int = 7):
    issue = make_issue(
        number, title="Robust models and honest agents", preheader="Three sections of research."
    )
    for name, section in sections.items():
        make_summary(
            issue,
            section,
            headline=f"{section.name} feature headline",
            body=f"A finding about {name}. [Appendix](https://example.org/{name}).",
            paper=make_paper(f"A {name} paper", url=f"https://arxiv.org/abs/2111.{10000 + section.pk}"),
        )
        make_summary(issue, section, kind=PaperSummary.Kind.BRIEF, headline=f"{section.name} brief", body="")
    return issue


def make_subscriber(email_address: str, sections=(), fmt: str = "html", **fields) -> Subscriber:
    fields.setdefault("status", Subscriber.Status.ACTIVE)
    if fields["status"] == Subscriber.Status.ACTIVE:
        fields.setdefault("confirmed_at", timezone.now())
    if fields["status"] == Subscriber.Status.UNSUBSCRIBED:
        fields.setdefault("unsubscribed_at", timezone.now())
    subscriber = Subscriber.objects.create(email=email_address, format=fmt, **fields)
    if sections:
        subscriber.sections.set(sections)
    return subscriber


def parse(raw: bytes | str) -> ParsedMessage:
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return email.message_from_bytes(raw, policy=email.policy.default)


def parts(message: ParsedMessage) -> tuple[str, str]:
    """The text and HTML parts of a parsed message ("" when absent)."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return tuple(part.get_content().replace("\r\n", "\n") if part else "" for part in (text, html))
