"""Every kind of email the site sends scores at most 0.5 in SpamAssassin (Debian's package, local
rules only: `spamassassin -t -L`, no network tests, no Bayes).

The kinds: the issue as HTML (with its text part), as plain text only and for a subscriber who
chose sections; a test send and the editor's "send me a test email"; the subscription emails
(confirm, already subscribed, welcome, goodbye); the factory's test email; the staff notification
(editorial/notifications.py). The site sends no other email: no password reset (staff sign-in has
none), and a subscriber's data export is a download, not an email. The issue is the demo's seed
issue (#2, verbatim, figures and all), so the content is the real thing, not a stub.

SpamAssassin loads its rules in seconds, so every message goes through one run (`--mbox`); a
control message, the issue with its preheader hidden the old way (color: transparent), must fail,
which shows the check can.

`make test` installs SpamAssassin (scripts/ensure-test-packages.sh); without it this is skipped.
"""

from __future__ import annotations

import copy
import mailbox
import re
import shutil
import subprocess
from collections.abc import Callable
from email.utils import make_msgid
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from editorial.tasks import send_test_email
from newsletter import emails
from newsletter.demo import loader
from newsletter.demo.seed_issue import SEED_ISSUE
from newsletter.models import Issue, Section
from subscribers import notifications, sending
from subscribers.models import Subscriber

from .factories import make_subscriber

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("spamassassin") is None,
        reason="spamassassin is missing (make test installs it as root: scripts/ensure-test-packages.sh)",
    ),
]

MAX_SCORE = 0.5
_STATUS = re.compile(
    r"^X-Spam-Status: \w+, score=(?P<score>-?[\d.]+).*?tests=(?P<tests>.*?)(?:autolearn|version)", re.M | re.S
)


def spam_scores(messages: list[EmailMessage], home: Path) -> list[tuple[float, str]]:
    """SpamAssassin's score for each message and the rules that fired, in one `spamassassin -t -L`
    over an mbox (which it may answer in another order: each is found again by its Message-ID)."""
    box = mailbox.mbox(home / "in.mbox")
    ids = []
    for message in messages:
        parsed = message.message()
        ids.append(parsed["Message-ID"])
        box.add(parsed.as_bytes())
    box.flush()
    assert len(set(ids)) == len(ids)
    with (home / "in.mbox").open("rb") as stdin:
        done = subprocess.run(
            ["spamassassin", "-t", "-L", "--mbox"],
            stdin=stdin,
            capture_output=True,
            timeout=300,
            env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            check=True,
        )
    scores = {}
    for scored in mailbox.mbox(_written(home / "out.mbox", done.stdout)):
        status = _STATUS.search(f"X-Spam-Status: {scored['X-Spam-Status']}\n version")
        assert status, scored["X-Spam-Status"]
        scores[scored["Message-ID"]] = (float(status["score"]), " ".join(status["tests"].split()))
    assert set(scores) == set(ids), done.stdout[-3000:]
    return [scores[message_id] for message_id in ids]


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.fixture
def seed_issue(settings) -> Issue:
    """The demo's issue #2 as the seed has it, without the generated issues, on a real domain."""
    settings.DEFAULT_FROM_EMAIL = "ML Safety Newsletter <newsletter@news.example.org>"
    settings.SITE_URL = "https://news.example.org"
    with mock.patch.object(loader, "demo_issues", return_value=[SEED_ISSUE]):
        loader.load_demo()
    return Issue.objects.get(number=SEED_ISSUE.number)


def issue_emails(issue: Issue) -> dict[str, EmailMessage]:
    """The issue through the send pipeline to an HTML, a plain-text and a one-section subscriber."""
    readers = {
        "issue (HTML)": make_subscriber("ada@example.org", name="Ada Lovelace"),
        "issue (plain text)": make_subscriber("bob@example.org", format="text"),
        "issue (one section)": make_subscriber(
            "cy@example.org", sections=Section.objects.order_by("position")[:1]
        ),
    }
    send = sending.start_send(issue)
    sending.dispatch(send.pk)
    by_address = {message.to[0]: message for message in mail.outbox}
    return {kind: by_address[reader.email] for kind, reader in readers.items()}


def only_email(act: Callable[[], object]) -> EmailMessage:
    mail.outbox.clear()
    act()
    (message,) = mail.outbox
    return message


def subscription_email(send: Callable[[int], bool], address: str, **fields) -> EmailMessage:
    subscriber = make_subscriber(address, name="Dee", **fields)
    return only_email(lambda: send(subscriber.pk))


def every_email(issue: Issue) -> dict[str, EmailMessage]:
    found = issue_emails(issue)
    test_send = sending.start_test_send(issue, ["editor@news.example.org"])
    found["test send"] = only_email(lambda: sending.dispatch(test_send.pk))
    found["editor's test email"] = only_email(
        lambda: send_test_email.call(issue.pk, "editor@news.example.org")
    )
    found["confirm"] = subscription_email(
        notifications.send_confirmation, "pat@example.org", status=Subscriber.Status.PENDING
    )
    found["already subscribed"] = subscription_email(notifications.send_already_subscribed, "al@example.org")
    found["welcome"] = subscription_email(notifications.send_welcome, "wes@example.org")
    found["goodbye"] = subscription_email(
        notifications.send_goodbye, "gus@example.org", status=Subscriber.Status.UNSUBSCRIBED
    )
    found["factory test email"] = only_email(
        lambda: emails.send("test", "editor@news.example.org", {"sent_by": "Grace"})
    )
    staff = {
        "message": f"Grace Hopper moved #{issue.number} “{issue.title}” to review.",
        "detail": "Please check the figures in the robustness section before Friday.",
        "url": f"https://news.example.org/admin/newsletter/issue/{issue.pk}/change/",
        "kind": "Issues moved to review",
        "preferences_url": "https://news.example.org/admin/notifications/settings/",
    }
    found["staff notification"] = only_email(
        lambda: emails.send("notifications/notification", "editor@news.example.org", staff)
    )
    return found


def transparent_preheader(message: EmailMessage) -> EmailMessage:
    """The issue as it was: its preheader hidden by transparent ink (HTML_FONT_LOW_CONTRAST)."""
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "transparent" not in html
    control = copy.copy(message)
    control.extra_headers = {**message.extra_headers, "Message-ID": make_msgid(domain="news.example.org")}
    control.alternatives = []
    control.attach_alternative(
        html.replace("display: none;", "display: none; color: transparent;", 1), "text/html"
    )
    return control


def test_every_kind_of_email_scores_at_most_half_a_point(seed_issue, tmp_path):
    found = every_email(seed_issue)
    control = transparent_preheader(found["issue (HTML)"])

    *scores, (control_score, control_rules) = spam_scores([*found.values(), control], tmp_path)

    assert len(found) == 11
    failing = {kind: score for kind, score in zip(found, scores, strict=True) if score[0] > MAX_SCORE}
    assert not failing, failing
    assert "HTML_FONT_LOW_CONTRAST" in control_rules and control_score > MAX_SCORE, control_rules
