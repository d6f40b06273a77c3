"""RSS and Atom feeds: well-formed, complete, absolute, safe, and blind to drafts."""

from __future__ import annotations

import html
from datetime import timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.models import Issue

from .factories import image_upload, make_author, make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db

SITE = "https://news.example.org"
FEEDS = ["/feeds/rss/", "/feeds/atom/"]
SECTION_FEEDS = ["/feeds/sections/robustness/rss/", "/feeds/sections/robustness/atom/"]


def fetch(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    # Unsanitised: the test checks what we send, not what feedparser would clean up.
    feed = feedparser.parse(response.content, sanitize_html=False, resolve_relative_uris=False)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return response, feed


def first_entry(feed, title: str, link: str, entry_titles: list[str]):
    """Check the feed's title, link and entries (newest first); the newest entry, to look at closer."""
    assert feed.feed.title == title
    assert feed.feed.link == link
    assert [entry.title for entry in feed.entries] == entry_titles
    return feed.entries[0]


def entry_html(entry) -> str:
    if "content" in entry:
        return entry.content[0].value
    return entry.summary


class ActiveContent(HTMLParser):
    """Collects anything in HTML that a browser could run."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed", "style", "svg", "math", "form"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            url_attribute = name in {"href", "src", "action", "formaction", "xlink:href"}
            if url_attribute and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"{tag}[{name}={value}]")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


@pytest.fixture
def robustness():
    return make_section("Robustness", description="Withstanding hazards.")


@pytest.mark.parametrize("url", FEEDS)
def test_issue_feeds_list_published_issues_newest_first(client, robustness, url):
    now = timezone.now()
    author = make_author("Dan Hendrycks")
    first = make_issue(number=1, title="First", published_at=now - timedelta(days=60))
    second = make_issue(number=2, title="Second", published_at=now - timedelta(days=30), intro="Hello *all*.")
    second.authors.add(author)
    second.tags.add("benchmarks")
    make_issue(number=3, title="Draft", published=False)
    make_issue(
        number=4, title="Scheduled", status=Issue.Status.PUBLISHED, published_at=now + timedelta(days=1)
    )
    make_summary(second, robustness, headline="Pyramid training", body="It **helps**.", paper=make_paper())

    _, feed = fetch(client, url)

    entry = first_entry(feed, "ML Safety Newsletter", f"{SITE}/", ["#2: Second", "#1: First"])
    assert entry.link == f"{SITE}/issues/2/"
    assert entry.id == f"{SITE}/issues/2/"
    assert entry.author == "Dan Hendrycks"
    assert [tag.term for tag in entry.tags] == ["benchmarks"]
    assert entry.published_parsed[:5] == second.published_at.utctimetuple()[:5]
    html = entry_html(entry)
    assert "<p>Hello <em>all</em>.</p>" in html
    assert "<h2>Robustness</h2>" in html and "Pyramid training" in html and "<strong>helps</strong>" in html
    assert 'href="https://arxiv.org/abs/2111.15121"' in html
    assert feed.entries[1].link == f"{SITE}/issues/1/"
    assert first.number == 1


def test_the_feeds_link_to_themselves_on_the_public_site(client):
    make_issue(number=1)
    rss = client.get("/feeds/rss/", HTTP_HOST="127.0.0.1:8000").content.decode()
    atom = client.get("/feeds/atom/", HTTP_HOST="127.0.0.1:8000").content.decode()
    assert f'<atom:link href="{SITE}/feeds/rss/" rel="self"' in rss
    assert f'<link href="{SITE}/feeds/atom/" rel="self"' in atom
    assert "127.0.0.1" not in rss + atom


def test_atom_entries_carry_html_content(client, robustness):
    make_summary(make_issue(number=1), robustness, headline="A", body="Body text.")
    _, feed = fetch(client, "/feeds/atom/")
    [entry] = feed.entries
    assert entry.content[0].type == "text/html"
    assert "<p>Body text.</p>" in entry.content[0].value
    assert entry.updated_parsed is not None


@pytest.mark.parametrize("url", FEEDS + SECTION_FEEDS)
def test_math_reads_as_text_not_mathml(client, robustness, url):
    make_summary(make_issue(number=1), robustness, headline="A", body="A loss of $x^2$ and $$\\frac{a}{b}$$")
    _, feed = fetch(client, url)
    [entry] = feed.entries
    html = entry.content[0].value if "atom" in url else entry.description
    assert "<math" not in html
    assert "<i>x</i><sup>2</sup>" in html, html


def test_the_issue_feed_holds_the_latest_20(client):
    for number in range(1, 24):
        make_issue(number=number, published_at=timezone.now() - timedelta(days=100 - number))
    _, feed = fetch(client, "/feeds/rss/")
    assert len(feed.entries) == 20
    assert feed.entries[0].link == f"{SITE}/issues/23/"


def test_relative_links_and_figures_become_absolute(client, robustness):
    issue = make_issue(number=1, intro="See [the archive](/issues/) and [a section](#robustness).")
    make_summary(
        issue,
        robustness,
        headline="Figure",
        figure=image_upload(),
        figure_alt="A chart",
        figure_caption="Cap",
    )
    _, feed = fetch(client, "/feeds/atom/")
    html = entry_html(feed.entries[0])
    assert f'href="{SITE}/issues/"' in html
    assert f'src="{SITE}/media/figures/web/' in html
    assert 'alt="A chart"' in html and "<figcaption>Cap</figcaption>" in html


XSS = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3)) '
    '<a href="javascript:alert(4)">y</a> <svg onload=alert(5)></svg> <iframe src="https://evil.test"></iframe>'
)


@pytest.mark.parametrize("url", FEEDS + SECTION_FEEDS)
def test_xss_payloads_never_come_out_executable(client, robustness, url):
    issue = make_issue(number=1, title='<script>alert("title")</script>', intro=f"Intro {XSS}")
    issue.tags.add('<img src=x onerror="alert(6)">')
    paper = make_paper('<img src=x onerror="alert(7)">', url="https://arxiv.org/abs/2111.15121")
    make_summary(
        issue,
        robustness,
        headline='<img src=x onerror="alert(8)">',
        body=f"Body {XSS}",
        paper=paper,
        figure=image_upload(),
        figure_alt='" onerror="alert(9)',
        figure_caption="<script>alert(10)</script>",
    )
    make_summary(issue, robustness, kind="brief", headline="<b onclick=x>brief</b>", body=XSS)
    bad_paper = make_paper("Bad", url="", arxiv_id="")
    bad_paper.url = "javascript:alert(11)"  # bypasses the form's URL validation
    bad_paper.save()
    make_summary(issue, robustness, kind="brief", headline="Bad link", paper=bad_paper)

    response, feed = fetch(client, url)

    raw = response.content.decode()
    assert "<script" not in raw and "<img" not in raw, "markup must only appear escaped in XML"
    for entry in feed.entries:
        assert active_content(entry_html(entry)) == []
        if entry.title_detail.type == "text/html":
            assert active_content(entry.title) == []
        else:
            assert entry.title_detail.type == "text/plain"
    titles = [shown_title(entry) for entry in feed.entries]
    if "sections" in url:
        assert '<img src=x onerror="alert(8)">' in titles  # shown as written, never run
    else:
        assert titles == ['#1: <script>alert("title")</script>']


def shown_title(entry) -> str:
    """The title as a reader shows it: RSS titles may be HTML, and feedparser says which."""
    if entry.title_detail.type == "text/html":
        return html.unescape(entry.title)
    return entry.title


@pytest.mark.parametrize("url", SECTION_FEEDS)
def test_section_feeds_list_that_sections_published_summaries(client, robustness, url):
    monitoring = make_section("Monitoring", position=1)
    writer = make_author("Thomas Woodside")
    older = make_issue(number=1, published_at=timezone.now() - timedelta(days=40))
    newer = make_issue(number=2, published_at=timezone.now() - timedelta(days=10))
    draft = make_issue(number=3, published=False)
    make_summary(older, robustness, headline="Older robustness")
    newest = make_summary(newer, robustness, headline="Newer robustness", writer=writer, body="Text.")
    newest.tags.add("adversarial")
    make_summary(newer, monitoring, headline="Monitoring item")
    make_summary(draft, robustness, headline="Draft robustness")

    _, feed = fetch(client, url)

    entry = first_entry(
        feed,
        "ML Safety Newsletter: Robustness",
        f"{SITE}/sections/robustness/",
        ["Newer robustness", "Older robustness"],
    )
    assert entry.link == f"{SITE}/issues/2/#summary-{newest.pk}"
    assert entry.id == entry.link
    assert entry.author == "Thomas Woodside"
    assert [tag.term for tag in entry.tags] == ["adversarial"]
    assert "<p>Text.</p>" in entry_html(entry)
    assert f'href="{SITE}/issues/2/"' in entry_html(entry)


@pytest.mark.parametrize("url", ["/feeds/sections/nope/rss/", "/feeds/sections/nope/atom/"])
def test_an_unknown_section_feed_is_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", FEEDS + SECTION_FEEDS)
def test_feeds_run_the_same_queries_for_3_issues_or_30(client, robustness, url):
    def queries_for_feed() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add_issues(count: int) -> None:
        for _ in range(count):
            issue = make_issue()
            issue.authors.add(make_author(f"Author {issue.number}"))
            issue.tags.add(f"tag-{issue.number}")
            for position in range(2):
                summary = make_summary(
                    issue,
                    robustness,
                    position=position,
                    paper=make_paper(
                        f"P {issue.number}", url=f"https://example.org/{issue.number}/{position}"
                    ),
                )
                summary.tags.add("t")

    add_issues(3)
    few = queries_for_feed()
    add_issues(27)
    assert queries_for_feed() == few
