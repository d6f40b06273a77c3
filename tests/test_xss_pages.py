"""Script put into any field, Markdown or plain text, never runs on a public page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from newsletter.models import Author, Paper, Section
from tests.factories import image_upload, make_issue, make_summary

pytestmark = pytest.mark.django_db

# Short enough for every text field (section and tag names hold 100 characters).
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)></script><!-- "\'><svg onload=alert(3)>'
MARKDOWN_PAYLOAD = (
    PAYLOAD + '<a href="javascript:alert(2)">j</a> [click](javascript:alert(4)) ![i](javascript:alert(5))'
)
URL_PAYLOAD = "javascript:alert(6)"
SAFE_SCRIPT_TYPES = {"application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "content", "srcset", "poster", "data"}


class ExecutableContent(HTMLParser):
    """Collects everything in a page that a browser could execute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.json_ld: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("type") in SAFE_SCRIPT_TYPES and "src" not in attributes:
                self._in_json_ld = True
            else:
                self.problems.append(f"<script {attrs}>")
        if tag in {"iframe", "object", "embed", "svg", "math", "base", "style"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in URL_ATTRIBUTES and re.match(r"\s*(javascript|vbscript|data):", value or "", re.I):
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld.append(data)


@pytest.fixture
def hostile_archive():
    """One published issue in which every text and Markdown field carries a payload."""
    section = Section.objects.create(name=PAYLOAD, slug="evil", description=PAYLOAD)
    author = Author.objects.create(
        name=PAYLOAD, slug="evil-author", bio=PAYLOAD, website=URL_PAYLOAD, links=f"{URL_PAYLOAD}\n{PAYLOAD}"
    )
    issue = make_issue(1, title=PAYLOAD, intro=MARKDOWN_PAYLOAD, preheader=PAYLOAD, subject=PAYLOAD)
    make_issue(2, title=PAYLOAD)  # the neighbour's title shows in the next-issue link
    issue.authors.add(author)
    issue.tags.add(PAYLOAD)
    paper = Paper.objects.create(
        title=PAYLOAD,
        url=URL_PAYLOAD,
        authors=PAYLOAD,
        venue=PAYLOAD,
        arxiv_id=PAYLOAD[:50],
        doi=PAYLOAD[:200],
    )
    common = {"headline": PAYLOAD, "body": MARKDOWN_PAYLOAD, "paper": paper, "writer": author}
    feature = make_summary(
        issue,
        section,
        figure=image_upload(),
        figure_caption=PAYLOAD,
        figure_alt=PAYLOAD,
        **common,
    )
    feature.tags.add("<b onmouseover=alert(7)>tag</b>")
    make_summary(issue, section, kind="brief", position=2, **common)
    make_summary(issue, section, kind="news", position=3, **common)
    tag_slug = issue.tags.get().slug
    return [
        "/",
        "/issues/",
        "/issues/1/",
        "/issues/2/",
        "/sections/evil/",
        "/authors/evil-author/",
        f"/tags/{tag_slug}/",
        f"/tags/{feature.tags.get().slug}/",
        "/papers/",
        f"/papers/{paper.pk}/",
        "/search/?q=alert",
        "/search/?q=" + PAYLOAD,
        "/no-such-page/" + PAYLOAD,
    ]


def test_no_page_runs_injected_script(client, hostile_archive):
    for url in hostile_archive:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        html = response.content.decode()
        parser = ExecutableContent()
        parser.feed(html)
        assert parser.problems == [], url
        assert '<script>alert("x")' not in html, url
        for block in parser.json_ld:
            assert "<" not in block and ">" not in block, url  # escaped, so </script> cannot end it
            json.loads(block)


def test_the_payload_is_shown_as_text(client, hostile_archive):
    html = client.get("/issues/1/").content.decode()

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # titles, headlines, captions


def test_javascript_paper_url_is_not_a_link(client, hostile_archive):
    html = client.get("/issues/1/").content.decode()

    assert 'href="javascript:' not in html.lower()
    assert "Paper<span" not in html  # no "Paper" link at all for a non-http URL


def test_bibtex_of_a_hostile_paper_is_plain_text(client, hostile_archive):
    paper = Paper.objects.get()

    response = client.get(f"/papers/{paper.pk}/bibtex/")

    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "url =" not in response.content.decode()  # a javascript: URL is not cited
