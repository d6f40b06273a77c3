"""An issue renders to an email: HTML that mail clients show well, a plain-text part that reads
well on its own, per-recipient placeholders, and a constant number of queries."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import PaperSummary
from newsletter.rendering import (
    EmailFormat,
    MissingPlaceholderValue,
    RenderedEmail,
    personalize,
    preview_values,
    render_issue_email,
)

from .factories import image_upload, make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db

SITE = "https://news.example.org"
RECIPIENT = {
    "name": "Ada",
    "email": "ada@example.org",
    "unsubscribe_url": "https://news.example.org/u/abc/?x=1&y=2",
    "preferences_url": "https://news.example.org/p/abc/",
}
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@pytest.fixture
def sections():
    return {
        "robustness": make_section("Robustness", 0),
        "monitoring": make_section("Monitoring", 1),
        "alignment": make_section("Alignment", 2),
        "news": make_section("Other News", 3, slug="other-news"),
    }


# Issue #2 after its lead feature: section, kind, headline, paper (title, arXiv id), body.
REST_OF_ISSUE_2 = (
    ("robustness", PaperSummary.Kind.BRIEF, "An adversarial NLP benchmark.", ("AdvGLUE", "2111.02840"), ""),
    (
        "monitoring",
        PaperSummary.Kind.FEATURE,
        "How Well do Feature Visualizations Support Causal Understanding?",
        ("Feature visualizations", "2106.12447"),
        "Users predict which image is maximally activating.",
    ),
    (
        "alignment",
        PaperSummary.Kind.FEATURE,
        "What Would Jiminy Cricket Do?",
        ("Jiminy Cricket", "2110.13136"),
        "Agents that take fewer immoral actions.",
    ),
    (
        "news",
        PaperSummary.Kind.NEWS,
        "Grants.",
        None,
        "[Open Philanthropy](https://www.openphilanthropy.org/) will fund grants.",
    ),
)


@pytest.fixture
def issue(sections):
    issue = make_issue(
        2,
        title="Adversarial training and moral agents",
        preheader="Adversarial training, feature visualizations and agents that behave morally.",
        intro="Welcome to the 2nd issue. [Subscribe here](/subscribe/) & tell a friend.",
    )
    make_summary(
        issue,
        sections["robustness"],
        headline="Pyramid Adversarial Training Improves ViT Performance",
        paper=make_paper(),
        figure=image_upload(size=(1600, 900)),
        figure_caption="Top: adversarial pyramid perturbations.",
        figure_alt="A grid of perturbed images",
        body=(
            "While adversarial training can help, it usually reduces robustness in practice. "
            "See [our notes](/papers/) and [the appendix](#appendix), Tom & Jerry.\n\n"
            "![A chart](/media/uploads/chart.png)"
        ),
    )
    for slug, kind, headline, paper, body in REST_OF_ISSUE_2:
        make_summary(
            issue,
            sections[slug],
            kind=kind,
            headline=headline,
            paper=make_paper(paper[0], url=f"https://arxiv.org/abs/{paper[1]}") if paper else None,
            body=body,
        )
    return issue


def parsed(html: str) -> tuple[set[str], set[str]]:
    """The tag names and attribute names in `html`, as a browser's parser sees them."""
    tags, attributes = set(), set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update(name for name, _ in attrs)

    Collector().feed(html)
    return tags, attributes


def urls_in(html: str) -> list[str]:
    return re.findall(r'\s(?:href|src)="([^"]*)"', html)


# The HTML part


def test_it_renders_every_section_with_subject_and_preheader(issue):
    email = render_issue_email(issue)

    assert isinstance(email, RenderedEmail)
    assert email.subject == "ML Safety Newsletter #2: Adversarial training and moral agents"
    assert email.preheader == issue.preheader
    for heading in ("Robustness", "Monitoring", "Alignment", "Other News"):
        assert f">{heading}</h2>" in email.html
    for summary in issue.summaries.all():
        assert summary.headline in email.html
    assert "Other recent papers" in email.html
    assert "Read the paper" in email.html


def test_the_preheader_is_a_hidden_span_at_the_very_top(issue):
    html = render_issue_email(issue).html
    body = html[html.index("<body") :]

    assert body.index(issue.preheader) < body.index("View in browser")
    preheader_tag = re.search(r'<div class="preheader" style="([^"]*)"', body)
    assert preheader_tag and "display: none" in preheader_tag.group(1)


def test_it_shows_only_the_chosen_sections(issue, sections):
    email = render_issue_email(issue, sections=["robustness", sections["alignment"]])

    assert "Pyramid Adversarial Training" in email.html
    assert "What Would Jiminy Cricket Do?" in email.html
    assert "Feature Visualizations" not in email.html
    assert "Grants." not in email.html
    assert "Feature Visualizations" not in email.text
    assert "What Would Jiminy Cricket Do?" in email.text
    assert "(Robustness, Alignment)" in email.text  # the footer says what they chose


def test_no_chosen_section_means_everything(issue):
    assert render_issue_email(issue, sections=[]).html == render_issue_email(issue).html


def test_every_link_and_image_is_absolute(issue):
    html = render_issue_email(issue).html
    urls = urls_in(html)

    assert urls
    for url in urls:
        assert url.startswith(("https://", "mailto:", "{{")), url
    assert 'href="/' not in html and 'src="/' not in html
    assert f'href="{SITE}/papers/"' in html
    assert f'href="{SITE}/issues/2/#appendix"' in html
    assert f'src="{SITE}/media/uploads/chart.png"' in html
    assert re.search(rf'<a href="{SITE}/issues/2/"[^>]*>View in browser', html)


def test_figures_are_absolute_images_sized_for_the_column(issue):
    summary = issue.summaries.get(headline__startswith="Pyramid")
    html = render_issue_email(issue).html

    img = re.search(r"<img [^>]*alt=\"A grid of perturbed images\"[^>]*>", html).group(0)
    assert f'src="{SITE}{summary.figure_web.url}"' in img
    assert 'width="592"' in img and 'height="333"' in img
    assert "Top: adversarial pyramid perturbations." in html


def test_styles_are_inlined_and_media_queries_kept(issue):
    html = render_issue_email(issue).html

    assert re.search(r'<h2 style="[^"]*font-size', html)
    assert re.search(r'<div class="container" style="max-width: 640px', html)
    kept_styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert len(kept_styles) == 1
    assert "@media only screen and (max-width: 600px)" in kept_styles[0]
    assert "prefers-color-scheme: dark" in kept_styles[0]


def test_the_footer_has_the_postal_address_and_the_placeholders(issue, settings):
    settings.POSTAL_ADDRESS = "Safety Inc., 2 Main St, Springfield"
    html = render_issue_email(issue).html

    footer = html[html.index('class="footer"') :]
    assert "Safety Inc., 2 Main St, Springfield" in footer
    assert 'href="{{unsubscribe_url}}"' in footer
    assert 'href="{{preferences_url}}"' in footer


def test_content_cannot_put_script_in_the_email(issue, sections):
    make_summary(
        issue,
        sections["alignment"],
        headline="<script>alert('headline')</script>",
        figure=image_upload(),
        figure_caption='"><img src=x onerror=alert(1)>',
        figure_alt='" onload="alert(1)',
        body="<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))",
    )
    html = render_issue_email(issue).html.lower()

    tags, attributes = parsed(html)
    assert "script" not in tags
    assert not [name for name in attributes if name.startswith("on")]
    assert "<img src=x" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;" in html  # the headline shows as text


def test_a_twelve_summary_issue_stays_under_gmail_clipping(sections):
    issue = make_issue(12)
    body = "\n\n".join(["Adversarial training has been difficult to make useful. " * 8] * 4)
    for number in range(12):
        make_summary(
            issue,
            sections["robustness"],
            position=number,
            headline=f"A paper with a fairly long headline about robustness, number {number}",
            paper=make_paper(f"Paper {number}", url=f"https://arxiv.org/abs/2111.{15000 + number}"),
            figure=image_upload(size=(400, 300)) if number < 4 else "",
            figure_caption="A figure caption of moderate length describing the figure.",
            figure_alt="A figure",
            body=body + " [A link](https://example.org/a?b=c&d=e).",
        )

    html = render_issue_email(issue).html

    assert len(html.encode("utf-8")) < 102 * 1024


def test_plain_text_subscribers_get_no_html_part(issue):
    email = render_issue_email(issue, fmt=EmailFormat.TEXT)

    assert email.html == ""
    assert "Pyramid Adversarial Training" in email.text


def test_rendering_takes_the_same_queries_for_5_and_40_summaries(sections):
    issue = make_issue(40)
    for number in range(5):
        make_summary(
            issue, sections["robustness"], paper=make_paper(f"P{number}", url=f"https://x.org/{number}")
        )

    with CaptureQueriesContext(connection) as five:
        render_issue_email(issue, sections=["robustness", "alignment"])
    for number in range(5, 40):
        section = sections["alignment"] if number % 2 else sections["robustness"]
        kind = PaperSummary.Kind.BRIEF if number % 3 else PaperSummary.Kind.FEATURE
        make_summary(issue, section, kind=kind, paper=make_paper(f"P{number}", url=f"https://x.org/{number}"))
    with CaptureQueriesContext(connection) as forty:
        email = render_issue_email(issue, sections=["robustness", "alignment"])

    assert email.html.count("https://x.org/") >= 40
    assert len(forty.captured_queries) == len(five.captured_queries) == 2


# The plain-text part


def test_the_text_part_has_no_html(issue, sections):
    make_summary(
        issue,
        sections["alignment"],
        headline="Lists & quotes",
        body="1. first <b>bold</b>\n2. second\n\n> quoted & kept\n\n    code <here>\n\nA&nbsp;B &copy;",
    )
    text = render_issue_email(issue).text

    assert not TAG.search(text.replace("code <here>", "")), TAG.search(text)
    assert not ENTITY.search(text)
    assert "Tom & Jerry" in text
    assert "1. first bold\n2. second" in text
    assert "> quoted & kept" in text
    assert "    code <here>" in text


def test_the_text_part_lists_links_as_numbered_references(issue):
    text = render_issue_email(issue).text

    assert "Subscribe here [1]" in text
    assert "[1] https://news.example.org/subscribe/" in text
    assert "Links:" in text
    assert re.search(r"our notes \[(\d+)\]", text)
    number = re.search(r"our notes \[(\d+)\]", text).group(1)
    assert f"[{number}] https://news.example.org/papers/" in text
    paper = re.search(r"Read the paper \[(\d+)\]", text).group(1)
    assert f"[{paper}] https://arxiv.org/abs/2111.15121" in text


def test_the_text_part_reads_on_its_own(issue):
    text = render_issue_email(issue).text

    assert text.startswith("ML Safety Newsletter #2: Adversarial training and moral agents\n=====")
    assert "Robustness\n----------" in text
    assert "### Pyramid Adversarial Training Improves ViT Performance" in text
    assert "[Figure: Top: adversarial pyramid perturbations.]" in text
    assert issue.preheader not in text
    assert "Read it on the web: https://news.example.org/issues/2/" in text
    for line in text.splitlines():
        assert len(line) <= 78 or "://" in line, line


def test_the_text_footer_has_the_address_and_the_placeholders(issue, settings):
    text = render_issue_email(issue).text

    footer = text[text.index("\n-- \n") :]
    assert settings.POSTAL_ADDRESS in footer
    assert "Unsubscribe: {{unsubscribe_url}}" in footer
    assert "{{preferences_url}}" in footer


# Placeholders


def test_personalize_fills_every_placeholder(issue):
    email = render_issue_email(issue).personalize(RECIPIENT)

    for part in (email.subject, email.html, email.text):
        assert "{{" not in part
    assert "Unsubscribe: https://news.example.org/u/abc/?x=1&y=2" in email.text
    assert 'href="https://news.example.org/u/abc/?x=1&amp;y=2"' in email.html
    assert 'href="https://news.example.org/p/abc/"' in email.html


def test_personalize_escapes_values_in_html_only():
    rendered = '<p>Hi {{name}}</p><a href="{{unsubscribe_url}}">x</a> {{email}} {{preferences_url}}'
    values = {**RECIPIENT, "name": "<b>Eve</b>", "unsubscribe_url": 'https://x.org/"onmouseover="1'}

    html = personalize(rendered, values, html=True)
    text = personalize("Hi {{name}}, {{email}}", values)

    assert "<p>Hi &lt;b&gt;Eve&lt;/b&gt;</p>" in html
    assert 'href="https://x.org/&quot;onmouseover=&quot;1"' in html
    assert text == "Hi <b>Eve</b>, ada@example.org"


def test_personalize_refuses_to_leave_a_token_unfilled():
    with pytest.raises(MissingPlaceholderValue, match=r"\{\{unsubscribe_url\}\}"):
        personalize("Unsubscribe: {{unsubscribe_url}}", {"name": "Ada"})


def test_personalize_leaves_other_braces_alone():
    assert personalize("{{ name }} {{other}} {name}", {}) == "{{ name }} {{other}} {name}"


def test_preview_values_point_at_the_issue_on_the_web(issue):
    email = render_issue_email(issue).personalize(preview_values(issue))

    assert "Unsubscribe: https://news.example.org/issues/2/" in email.text
    assert "{{" not in email.html


# The management command


def test_the_command_writes_both_parts(issue, tmp_path, capsys):
    call_command("render_issue_email", "2", "--out", str(tmp_path), "--sections", "robustness")

    html = (tmp_path / "issue-2.html").read_text()
    text = (tmp_path / "issue-2.txt").read_text()
    assert "Pyramid Adversarial Training" in html and "Pyramid Adversarial Training" in text
    assert "What Would Jiminy Cricket Do?" not in html
    assert "{{unsubscribe_url}}" not in html  # filled with the preview values
    assert "Subject: ML Safety Newsletter #2" in capsys.readouterr().out


def test_the_command_can_keep_the_placeholders(issue, tmp_path):
    call_command("render_issue_email", "2", "--out", str(tmp_path), "--keep-placeholders")

    assert "{{unsubscribe_url}}" in (tmp_path / "issue-2.txt").read_text()


def test_the_command_refuses_an_unknown_issue_or_section(issue, tmp_path):
    with pytest.raises(CommandError, match="no issue #99"):
        call_command("render_issue_email", "99", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="nope"):
        call_command("render_issue_email", "2", "--out", str(tmp_path), "--sections", "nope")
