"""The checks an issue's email must pass, wherever it is about to go out.

They live here, in the content app, because two apps that may not import each other need them:
editorial's pre-publish checks (editorial/checks.py lists them with its own) and the send
pipeline, which runs them again when a send starts (subscribers.sending.start_send), since an
issue can be edited after it was published, or published without the editorial workflow (the
demo loader, a data migration). Each check takes the issue, its summaries and the time it would
go public, like every pre-publish check, and returns its problems as sentences an editor can act
on.

- Subject: at most SUBJECT_MAX (78) characters, RFC 5322's recommended line length; longer
  subjects are cut off by most mail clients.
- Preheader: at most PREHEADER_MAX (140) characters, what inbox previews show; with no preheader
  set, the email uses the start of the intro (`Issue.description`), which is checked instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from .models import Issue, PaperSummary

SUBJECT_MAX = 78
PREHEADER_MAX = 140


def subject_and_preheader_fit(
    issue: Issue, summaries: Sequence[PaperSummary] = (), as_of: datetime | None = None
) -> list[str]:
    problems = []
    if len(issue.email_subject) > SUBJECT_MAX:
        problems.append(
            f"The email subject has {len(issue.email_subject)} characters; at most {SUBJECT_MAX} fit."
        )
    preheader = issue.preheader or issue.description
    if len(preheader) > PREHEADER_MAX:
        source = "preheader" if issue.preheader else "preheader (taken from the intro, as none is set)"
        problems.append(f"The {source} has {len(preheader)} characters; at most {PREHEADER_MAX} fit.")
    return problems


EmailCheck = Callable[[Issue, Sequence[PaperSummary], "datetime | None"], list[str]]
# The checks a send runs before anyone gets the email.
EMAIL_CHECKS: list[EmailCheck] = [subject_and_preheader_fit]


def email_problems(issue: Issue) -> list[str]:
    """Every problem the email checks find in `issue` (empty when it may go out)."""
    summaries = list(issue.summaries.select_related("section", "paper")) if issue.pk else []
    return [problem for check in EMAIL_CHECKS for problem in check(issue, summaries, None)]
