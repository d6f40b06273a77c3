"""Helpers for the send pipeline's tests: an issue worth sending (and the `sections` and `issue`
fixtures that make one), starting its send, and reading the messages it makes (subscribers come
from tests/factories.py)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage as ParsedMessage

import pytest
from django.urls import reverse

from newsletter.models import Issue, PaperSummary, Section
from subscribers import sending
from subscribers.models import Send

from .factories import make_issue, make_paper, make_sections, make_summary


def make_sendable_issue(sections: dict[str, Section], number: int = 7) -> Issue:
    """Issue `number`, published, with a feature and a brief in each of `sections` (by slug)."""
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


def sendable_issue_fixtures() -> tuple[Callable[..., dict[str, Section]], Callable[..., Issue]]:
    """The fixtures `sections` (Robustness, Monitoring, Alignment by slug) and `issue` (a sendable
    issue covering them): `sections, issue = sendable_issue_fixtures()` in a test module."""

    @pytest.fixture
    def sections() -> dict[str, Section]:
        return make_sections()

    @pytest.fixture
    def issue(sections: dict[str, Section]) -> Issue:
        return make_sendable_issue(sections)

    return sections, issue


def run_send(issue: Issue, capture) -> Send:
    """Start a full send of `issue` and run its tasks (`capture` is django_capture_on_commit_callbacks)."""
    with capture(execute=True):
        send = sending.start_send(issue)
    send.refresh_from_db()
    return send


def start_send_in_admin(client, issue: Issue):
    """Post the admin's "Send an issue" form for a full send of `issue`, confirmed."""
    return client.post(
        reverse("admin:subscribers_send_add"), {"issue": issue.pk, "kind": "full", "confirm": "on"}
    )


def parse(raw: bytes | str) -> ParsedMessage:
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return email.message_from_bytes(raw, policy=email.policy.default)


def parts(message: ParsedMessage) -> tuple[str, str]:
    """The text and HTML parts of a parsed message ("" when absent)."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return tuple(part.get_content().replace("\r\n", "\n") if part else "" for part in (text, html))
