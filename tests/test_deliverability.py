"""The header and metadata details that deliverability and citation tools check: the Date's zone,
List-Id beside every List-Unsubscribe, Message-IDs stable per delivery but unique per install, an
optional Reply-To, plain text wrapped at 72 columns, one base URL per email, one BibTeX key per
paper, and the issue page's and the sign-up page's social and schema.org metadata."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from anymail.signals import AnymailTrackingEvent
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.management import call_command
from django.utils import timezone

from editorial.tasks import send_test_email
from newsletter.absolute_urls import on_site_url, site_url
from newsletter.archive import archive_papers
from newsletter.bibtex import bibtex_file, citation_key
from newsletter.models import Issue, OutboxMessage, Paper, PaperSummary
from newsletter.outbox import DatabaseOutboxBackend
from subscribers import notifications, sending
from subscribers.models import Delivery, Send, Subscriber
from subscribers.sending import batching
from subscribers.sending.handover import Prepared, build_batch_message
from subscribers.sending.headers import install_id, message_id
from subscribers.tracking.webhooks import find_delivery

from .factories import make_issue, make_paper, make_section, make_sections, make_subscriber, make_summary
from .sending_fixtures import make_sendable_issue
from .test_settings import run_manage

pytestmark = pytest.mark.django_db

LIST_ID = '"ML Safety Newsletter" <ml-safety-newsletter.news.example.org>'


@pytest.fixture
def issue() -> Issue:
    return make_sendable_issue(make_sections(), number=12)


def send_issue(issue: Issue) -> Send:
    send = sending.start_send(issue)
    sending.dispatch(send.pk)
    return send


def wire(message: EmailMessage) -> email.message.EmailMessage:
    """The message as it goes on the wire, parsed back."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def subscription_emails() -> dict[str, EmailMessage]:
    pending = make_subscriber("pat@example.org", status=Subscriber.Status.PENDING)
    active = make_subscriber("ann@example.org")
    gone = make_subscriber("gus@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    start = len(mail.outbox)
    sent = {
        "confirm": notifications.send_confirmation(pending.pk),
        "already": notifications.send_already_subscribed(active.pk),
        "welcome": notifications.send_welcome(active.pk),
        "goodbye": notifications.send_goodbye(gone.pk),
    }
    assert all(sent.values())
    return dict(zip(sent, mail.outbox[start:], strict=True))


# Date ---------------------------------------------------------------------------------------------


def test_the_date_header_names_its_zone(issue, settings):
    """UTC as "+0000": Django's default "-0000" means "zone unknown" (RFC 5322 3.3)."""
    make_subscriber("ada@example.org")
    messages = [*subscription_emails().values()]
    send_issue(issue)
    messages += mail.outbox[4:]
    DatabaseOutboxBackend().send_messages(messages)  # the raw message as the outbox stores it

    rows = list(OutboxMessage.objects.all())
    assert len(rows) == 6  # four subscription emails, the issue to two subscribers
    for row in rows:
        date = email.message_from_string(row.raw, policy=email.policy.default)["Date"]
        assert date.endswith(" +0000"), (row.subject, date)


def test_the_date_header_follows_the_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    message = wire(_factory_email())

    assert re.search(r" -0[45]00$", message["Date"]), message["Date"]


def _factory_email() -> EmailMessage:
    from newsletter import emails

    return emails.build_message("test", "ada@example.org", {})


# List-Id and List-Unsubscribe ---------------------------------------------------------------------


def test_every_email_with_list_unsubscribe_carries_list_id_too(issue):
    make_subscriber("ada@example.org")
    messages = subscription_emails()
    send_issue(issue)
    messages["issue"] = mail.outbox[-1]

    for kind in ("already", "welcome", "issue"):
        headers = wire(messages[kind])
        assert (
            str(headers["List-Unsubscribe"]).strip().startswith("<https://news.example.org/unsubscribe/")
        ), kind
        assert headers["List-Id"] == LIST_ID, kind
    # Not list emails to a subscriber: the sign-up's confirmation, and the goodbye after leaving.
    for kind in ("confirm", "goodbye"):
        assert "List-Unsubscribe" not in wire(messages[kind]), kind


def test_the_editors_test_email_is_marked_as_the_list_like_a_test_send(issue):
    send_test_email.call(issue.pk, "editor@example.org")

    (message,) = mail.outbox
    assert wire(message)["List-Id"] == LIST_ID


# Message-ID ---------------------------------------------------------------------------------------


def test_message_ids_are_per_delivery_on_the_installs_own_name(issue):
    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org")
    send = send_issue(issue)

    for message in mail.outbox:
        delivery = Delivery.objects.get(send=send, subscriber__email=message.to[0])
        header = wire(message)["Message-ID"]
        assert header == f"<send-{send.pk}.delivery-{delivery.pk}@{install_id()}.news.example.org>"
        assert header == delivery.message_id == delivery.esp_message_id
    assert re.fullmatch(r"[0-9a-f]{12}", install_id())


def test_two_installs_on_one_domain_never_share_a_message_id(settings):
    settings.SECRET_KEY = "one install " * 5
    first = message_id(3, 41)
    settings.SECRET_KEY = "another install " * 5
    second = message_id(3, 41)

    assert first != second
    assert first.endswith(".news.example.org>") and second.endswith(".news.example.org>")
    settings.SECRET_KEY = "one install " * 5
    assert message_id(3, 41) == first  # stable: derived, not drawn at random


def test_a_resent_unknown_delivery_keeps_its_message_id(issue, settings):
    make_subscriber("ada@example.org")
    send = send_issue(issue)
    delivery = send.deliveries.get()
    first = wire(mail.outbox[0])["Message-ID"]
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.UNKNOWN)
    settings.SITE_URL = "http://127.0.0.1:8000"  # a worker whose settings differ from the start's

    sending.resend_unknown(send)
    sending.dispatch(send.pk)  # what resend_unknown enqueues once its transaction commits

    assert len(mail.outbox) == 2
    assert wire(mail.outbox[1])["Message-ID"] == first


def test_webhooks_still_find_a_delivery_by_its_message_id(issue):
    make_subscriber("ada@example.org")
    send = send_issue(issue)
    delivery = send.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(esp_message_id="")  # only our header to go by

    event = AnymailTrackingEvent(event_type="delivered", message_id=message_id(send.pk, delivery.pk))

    assert find_delivery(event) == delivery


def test_every_other_email_has_a_message_id_on_the_sites_domain_not_the_machines():
    for message in subscription_emails().values():
        assert re.fullmatch(r"<[^@<>]+@news\.example\.org>", wire(message)["Message-ID"])


# Reply-To -----------------------------------------------------------------------------------------


def test_reply_to_is_absent_unless_set(issue):
    make_subscriber("ada@example.org")
    send_issue(issue)
    messages = [*subscription_emails().values(), *mail.outbox]

    assert all("Reply-To" not in wire(message) for message in messages)


def test_reply_to_goes_on_every_email_when_set(issue, settings):
    settings.NEWSLETTER_REPLY_TO = "Editors <editors@news.example.org>"
    make_subscriber("ada@example.org")
    send_issue(issue)
    send_test_email.call(issue.pk, "editor@example.org")
    messages = [*mail.outbox, *subscription_emails().values()]

    assert len(messages) == 6
    for message in messages:
        assert wire(message)["Reply-To"] == "Editors <editors@news.example.org>", message.subject


def test_reply_to_goes_on_esp_batch_messages_too(issue, settings):
    settings.NEWSLETTER_REPLY_TO = "editors@news.example.org"
    reader = make_subscriber("ada@example.org")
    send = sending.start_send(issue)
    delivery = send.deliveries.get()
    item = Prepared(delivery, reader.email, "html:all", {"name": "", "email": reader.email}, {})
    content = batching.BatchContent(subject="s", text="t", html="")

    message = build_batch_message(send, [item], content, batching.BATCH_ESPS["SendGrid"])

    assert message.reply_to == ["editors@news.example.org"]


def test_a_reply_to_that_is_no_address_refuses_to_start():
    result = run_manage("check", NEWSLETTER_REPLY_TO="the editors")

    assert result.returncode != 0
    assert "NEWSLETTER_REPLY_TO must be an email address" in result.stderr


# Plain text ---------------------------------------------------------------------------------------


def test_confirmation_and_welcome_text_is_wrapped_at_72_columns_urls_whole():
    sections = make_sections("Robustness", "Monitoring", "Alignment", "Systemic Safety", "Other News")
    long_name = "Ada Augusta King, Countess of Lovelace"
    pending = make_subscriber(
        "ada.augusta.king@example.org",
        name=long_name,
        status=Subscriber.Status.PENDING,
        sections=sections.values(),
    )
    notifications.send_confirmation(pending.pk)
    active = make_subscriber("ada.king@example.org", name=long_name, sections=sections.values())
    notifications.send_welcome(active.pk)

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        lines = message.body.splitlines()
        assert all(len(line) <= 72 or "://" in line for line in lines), message.body
        # Nothing lost in the wrapping, and every link is on one line, whole.
        flowing = " ".join(message.body.split())
        assert "(sections: Robustness, Monitoring, Alignment, Systemic Safety, Other News)" in flowing
        assert re.search(r"^(?:.*: )?https://news\.example\.org/preferences/\S+/$", str(message.body), re.M)
    assert "Unsubscribe: https://news.example.org/unsubscribe/" in mail.outbox[1].body


# One base URL per email ---------------------------------------------------------------------------

_HTML_URL = re.compile(r'(?:href|src)="(https?://[^"]+)"')
_TEXT_URL = re.compile(r"https?://[^\s<>\]]+")


def html_parts(message: EmailMessage) -> list[str]:
    return (
        [str(part[0]) for part in message.alternatives] if isinstance(message, EmailMultiAlternatives) else []
    )


def local_origins(message: EmailMessage) -> set[str]:
    """The origins of every link to the local site in the message: HTML, text and headers."""
    urls = _TEXT_URL.findall(str(message.body)) + _TEXT_URL.findall(
        message.extra_headers.get("List-Unsubscribe", "")
    )
    for content in html_parts(message):
        urls += _HTML_URL.findall(content)
    parts = [urlsplit(url) for url in urls]
    return {f"{p.scheme}://{p.netloc}" for p in parts if p.hostname in {"127.0.0.1", "localhost"}}


def test_a_send_started_on_one_port_and_sent_by_a_worker_on_another_uses_one(issue, settings):
    """Without SITE_URL each process defaults to its own PORT: the web process rendered the email
    on 8001, the worker's default was 8000. Every link must still use the start's address."""
    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org", format="text")
    settings.SITE_URL = "http://127.0.0.1:8001"
    send = sending.start_send(issue)

    settings.SITE_URL = "http://127.0.0.1:8000"
    sending.dispatch(send.pk)

    assert send.site_url == "http://127.0.0.1:8001"
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert local_origins(message) == {"http://127.0.0.1:8001"}, message.to
    # A combination rendered later by the worker (preferences changed mid-send) also uses it.
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == 2


def test_a_test_send_uses_one_base_url_too(issue, settings):
    settings.SITE_URL = "http://127.0.0.1:8001"
    send = sending.start_test_send(issue, ["editor@example.org"])
    settings.SITE_URL = "http://127.0.0.1:8000"

    sending.dispatch(send.pk)

    (message,) = mail.outbox
    assert local_origins(message) == {"http://127.0.0.1:8001"}


def test_a_variant_rendered_by_the_worker_uses_the_sends_base_url(issue, settings):
    settings.SITE_URL = "http://127.0.0.1:8001"
    send = sending.start_send(issue)
    reader = make_subscriber("late@example.org", sections=[issue.summaries.first().section])
    Delivery.objects.create(send=send, subscriber=reader, email_hash="late")
    settings.SITE_URL = "http://127.0.0.1:8000"

    sending.dispatch(send.pk)

    (message,) = mail.outbox
    assert local_origins(message) == {"http://127.0.0.1:8001"}


def test_on_site_url_changes_the_base_only_within_its_block(settings):
    with on_site_url("http://127.0.0.1:8001/"):
        assert site_url("/issues/1/") == "http://127.0.0.1:8001/issues/1/"
        with on_site_url(""):
            assert site_url("/") == "https://news.example.org/"
    assert site_url("/") == "https://news.example.org/"


# BibTeX keys --------------------------------------------------------------------------------------


def covered(paper: Paper, number: int, days_ago: int, published: bool = True) -> Paper:
    section = make_section(f"Section {number}", slug=f"section-{number}")
    issue = make_issue(number, published=published)
    if published:
        Issue.objects.filter(pk=issue.pk).update(published_at=timezone.now() - timedelta(days=days_ago))
    make_summary(issue, section, kind=PaperSummary.Kind.BRIEF, paper=paper)
    return paper


def petrov(title: str) -> Paper:
    return make_paper(title, url="", authors="Viktor Petrov, Mei Lin", year=2022)


def keys_in(bib: str) -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),$", bib, re.M)


def test_papers_that_share_a_key_get_letters_in_the_order_they_were_covered():
    older = petrov("Harbor: A Post-hoc Score for Detecting Out-of-Distribution Inputs")
    newer = petrov("Harbor: Do Question-Answering Systems Say What They Believe?")
    covered(newer, 1, days_ago=60)  # entered later, covered first: it has the bare key
    covered(older, 2, days_ago=30)

    public = {paper.pk: paper for paper in archive_papers()}

    assert citation_key(public[newer.pk]) == "petrov2022harbor"
    assert citation_key(public[older.pk]) == "petrov2022harbora"
    assert citation_key(Paper.objects.get(pk=older.pk)) == "petrov2022harbora"


def test_a_papers_key_is_the_same_in_its_own_export_and_every_combined_file(client):
    first = covered(petrov("Harbor: A Post-hoc Score"), 1, days_ago=60)
    second = covered(petrov("Harbor: Do Systems Say What They Believe?"), 2, days_ago=30)

    own = {
        paper.pk: keys_in(client.get(f"/papers/{paper.pk}/bibtex/").content.decode())
        for paper in (first, second)
    }
    combined = keys_in(client.get("/papers/bibtex/").content.decode())
    filtered = keys_in(client.get("/papers/bibtex/?year=2022&section=section-2").content.decode())
    page = client.get(f"/papers/{second.pk}/").content.decode()

    assert own == {first.pk: ["petrov2022harbor"], second.pk: ["petrov2022harbora"]}
    assert sorted(combined) == ["petrov2022harbor", "petrov2022harbora"]
    assert filtered == ["petrov2022harbora"]  # alone in its file, it keeps its letter
    assert "petrov2022harbora," in page


def test_a_paper_covered_later_never_renames_one_already_cited(client):
    first = covered(petrov("Harbor: A Post-hoc Score"), 1, days_ago=60)
    hidden = petrov("Harbor: A Draft Not Yet Published")  # a lower pk than the next one
    covered(hidden, 2, days_ago=0, published=False)
    before = keys_in(client.get("/papers/bibtex/").content.decode())

    later = covered(petrov("Harbor: Later Findings"), 3, days_ago=1)
    covered(hidden, 4, days_ago=0)  # now published too, after the others

    after = keys_in(client.get(f"/papers/{first.pk}/bibtex/").content.decode())
    assert before == after == ["petrov2022harbor"]
    assert keys_in(client.get(f"/papers/{later.pk}/bibtex/").content.decode()) == ["petrov2022harbora"]
    assert keys_in(client.get(f"/papers/{hidden.pk}/bibtex/").content.decode()) == ["petrov2022harborb"]


@pytest.mark.slow
def test_no_two_papers_of_the_demo_share_a_key(client):
    call_command("load_demo", stdout=StringIO())
    papers = list(archive_papers())
    own = {paper.pk: citation_key(paper) for paper in papers}
    combined = keys_in(bibtex_file(archive_papers()))

    assert len(papers) > 50
    assert len(set(own.values())) == len(papers)
    assert sorted(combined) == sorted(own.values())


# The issue page and the sign-up page ---------------------------------------------------------------


def meta_content(html: str, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    assert match, f"no <meta {attribute}={name}>"
    return match.group(1)


def test_the_issue_page_is_a_news_article_in_a_numbered_publication_issue(client, issue):
    html = client.get("/issues/12/").content.decode()

    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert block
    data = json.loads(block.group(1))
    assert data["@type"] == "NewsArticle"
    part = data["isPartOf"]
    assert part["@type"] == "PublicationIssue" and part["issueNumber"] == "12"
    assert part["url"] == "https://news.example.org/issues/12/"
    assert part["isPartOf"] == {
        "@type": "Periodical",
        "name": "ML Safety Newsletter",
        "url": "https://news.example.org/",
    }
    assert part["datePublished"] == data["datePublished"]
    published = meta_content(html, "property", "article:published_time")
    assert published == timezone.localtime(issue.published_at).isoformat()
    assert meta_content(html, "property", "og:type") == "article"


def test_the_subscribe_page_has_a_social_card(client):
    html = client.get("/subscribe/?utm_source=x").content.decode()

    assert meta_content(html, "property", "og:type") == "website"
    assert meta_content(html, "property", "og:title") == "Subscribe to ML Safety Newsletter"
    assert meta_content(html, "property", "og:url") == "https://news.example.org/subscribe/"
    assert meta_content(html, "property", "og:description").startswith("Get ML Safety Newsletter by email")
    assert meta_content(html, "name", "description").startswith("Get ML Safety Newsletter by email")
    assert meta_content(html, "name", "twitter:card") == "summary"
    assert '<link rel="canonical" href="https://news.example.org/subscribe/">' in html


def test_private_subscriber_pages_have_no_social_card(client):
    html = client.get("/subscribe/confirm/not-a-token/").content.decode()

    assert 'property="og:' not in html
