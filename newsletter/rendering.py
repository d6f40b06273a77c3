"""The one place that turns content into output.

`markdown_to_html` turns Markdown into safe HTML: every Markdown field, the admin's live preview,
the public pages, the feeds and the emails go through it. Models store its result on save, so no
page renders Markdown per request. `$...$` and `$$...$$` become MathML there (newsletter/math.py);
the issue email shows math as Unicode text or TeX instead, and its plain-text part as TeX.

`render_issue_email(issue, sections=None, fmt=EmailFormat.HTML)` turns an issue into an email: a
`RenderedEmail` with the subject, the preheader, the HTML part (templates/email/issue.html, CSS
inlined by css-inline, every link and image absolute) and the plain-text part
(templates/email/issue.txt). `sections` limits it to the summaries of those sections (a subscriber
who chose Robustness and Alignment gets only those); `fmt=EmailFormat.TEXT` skips the HTML part.

Per-recipient placeholders
--------------------------
An issue is rendered once per distinct (sections, format) pair, not once per recipient. The
rendered subject, text and HTML carry these literal tokens where per-recipient values go:

    {{name}}              the subscriber's name (may be empty)
    {{email}}             the subscriber's address
    {{unsubscribe_url}}   their signed one-click unsubscribe page
    {{preferences_url}}   their signed preferences page

The tokens contain nothing that Django's escaping, css-inline or text wrapping alters, so they
survive rendering untouched. `personalize(rendered, values, html=...)` fills them in: the text is
split at the tokens once (cached) and joined per recipient, and values are HTML-escaped in the
HTML part only. `RenderedEmail.personalize(values)` does the three parts at once, and
`preview_values(issue)` fills the tokens with the issue's "view in browser" address for previews.
Content that contains a token literally (an intro saying "Hi {{name}},") is personalised as well;
that is safe, because values are escaped wherever they land in HTML.

The plain-text part is made from the stored, sanitised `body_html` rather than from the Markdown
source: it is exactly the content the HTML part shows (nh3 has already removed what the Markdown
allowed but the page does not), its tag set is small and known, and entities are decoded once by
the HTML parser, so no `&amp;` or tag leaks into the text. Links become numbered references with
a "Links:" list after each summary; paragraphs are wrapped at 72 columns.
"""

from __future__ import annotations

import functools
import html as html_module
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import css_inline
import markdown
import nh3
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from .absolute_urls import absolute_url, absolutize_urls, site_url
from .math import MATHML_ATTRIBUTES, MATHML_TAGS, MathExtension, MathProblem, email_fallback, math_to_tex
from .plaintext import TEXT_WIDTH, LinkReferences, html_to_plain_text, tidy_text, wrap

if TYPE_CHECKING:
    from .archive import SectionBlock
    from .models import Issue, PaperSummary, Section

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
# The MathML of `$...$` and `$$...$$` (newsletter/math.py).
ALLOWED_TAGS |= MATHML_TAGS
ALLOWED_ATTRIBUTES |= MATHML_ATTRIBUTES
# No javascript:, data: or vbscript: links; relative links stay allowed for internal anchors.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "smarty"]


def markdown_to_html(text: str) -> str:
    """Render Markdown to HTML that is safe to put on a page or in an email."""
    if not text:
        return ""
    return _render_markdown(text)[0]


def math_problems(text: str) -> list[MathProblem]:
    """The invalid TeX in Markdown `text`, which `markdown_to_html` shows as its source."""
    return _render_markdown(text)[1] if text else []


def _render_markdown(text: str) -> tuple[str, list[MathProblem]]:
    math = MathExtension()
    html = markdown.markdown(text, extensions=[*MARKDOWN_EXTENSIONS, math], output_format="html")
    return sanitize_html(html), math.problems


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


_WHITESPACE = re.compile(r"\s+")


def html_to_text(html: str) -> str:
    """Plain text of rendered HTML (entities decoded), for search documents and descriptions.
    Math is its TeX source between dollars, as in the plain-text email."""
    return _WHITESPACE.sub(" ", html_module.unescape(strip_tags(math_to_tex(html)))).strip()


def markdown_to_text(text: str) -> str:
    return html_to_text(markdown_to_html(text))


# Email ------------------------------------------------------------------------------------------

# The email's content column: a 640px container with 24px padding each side.
EMAIL_CONTENT_WIDTH = 592
# Mail clients show the first text of the body after the subject; this filler keeps the rest of
# the email (the "View in browser" line) out of that preview.
_PREHEADER_FILLER = mark_safe("&#847;&zwnj;&nbsp;" * 40)


class EmailFormat(models.TextChoices):
    HTML = "html", "HTML (with a plain-text alternative)"
    TEXT = "text", "Plain text only"


PLACEHOLDERS = ("name", "email", "unsubscribe_url", "preferences_url")
_PLACEHOLDER = re.compile(r"\{\{(" + "|".join(PLACEHOLDERS) + r")\}\}")


def placeholder(name: str) -> str:
    """The token that stands for the per-recipient value `name` in a rendered email."""
    if name not in PLACEHOLDERS:
        raise ValueError(f"{name!r} is not one of the email placeholders {PLACEHOLDERS}.")
    return "{{" + name + "}}"


class MissingPlaceholderValue(ValueError):
    """A rendered email has a placeholder that the values given to `personalize` do not fill."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No value for the email placeholder {placeholder(name)}.")
        self.name = name


@functools.lru_cache(maxsize=64)
def _split_at_placeholders(rendered: str) -> tuple[str, ...]:
    # Alternates literal text and placeholder names: ("Hi ", "name", ", welcome").
    return tuple(_PLACEHOLDER.split(rendered))


def personalize(rendered: str, values: Mapping[str, str], *, html: bool = False) -> str:
    """`rendered` with every placeholder replaced by its value from `values`.

    With `html=True` the values are HTML-escaped (they may land in text or in an attribute).
    Raises MissingPlaceholderValue rather than send a raw token to a subscriber.
    """
    parts = _split_at_placeholders(rendered)
    if len(parts) == 1:
        return rendered
    filled = list(parts)
    for index in range(1, len(parts), 2):
        name = parts[index]
        if name not in values:
            raise MissingPlaceholderValue(name)
        value = str(values[name])
        filled[index] = escape(value) if html else value
    return "".join(filled)


def preview_values(issue: Issue | None = None) -> dict[str, str]:
    """Values for a preview or a test send: the links go to the issue on the web ("view in browser")."""
    web_url = issue_web_url(issue) if issue is not None else site_url("/")
    return {"name": "", "email": "", "unsubscribe_url": web_url, "preferences_url": web_url}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str  # "" when rendered for plain-text subscribers
    text: str

    def personalize(self, values: Mapping[str, str]) -> RenderedEmail:
        return replace(
            self,
            subject=personalize(self.subject, values),
            preheader=personalize(self.preheader, values),
            html=personalize(self.html, values, html=True),
            text=personalize(self.text, values),
        )


_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    """Move the <style> rules of an email onto its elements. A <style data-css-inline="keep">
    block (the media queries for narrow screens and dark mode) stays in the head as it is."""
    return _INLINER.inline(html)


def render_text_template(template_name: str, context: Mapping) -> str:
    """A plain-text template rendered without HTML escaping, with runs of blank lines squeezed."""
    template = get_template(template_name).template  # the engine's Template, to set autoescape
    text = template.render(Context(dict(context), autoescape=False))
    return tidy_text(text)


def issue_web_url(issue: Issue) -> str:
    return site_url(issue.get_absolute_url())


def _absolute_html(html: str, web_url: str) -> str:
    """Stored HTML for an email: links made absolute against the issue's page, placeholders kept."""
    return mark_safe(absolutize_urls(html, web_url, keep=_PLACEHOLDER))


@dataclass
class EmailArticle:
    """A summary as the email shows it: absolute links, the figure sized for the column."""

    summary: PaperSummary
    body_html: str
    link: str
    link_label: str
    figure_url: str = ""
    figure_width: int | None = None
    figure_height: int | None = None
    figure_alt: str = ""


def render_issue_email(
    issue: Issue, sections: Iterable[Section | int | str] | None = None, fmt: str = EmailFormat.HTML
) -> RenderedEmail:
    """The issue as an email with placeholders for per-recipient values (see the module docstring).

    `sections` (Section objects, their ids or slugs) limits the email to those sections; None or
    empty means all, as a subscriber who chose no section gets everything. Rendering runs the same
    few queries however many summaries the issue has.
    """
    from .archive import group_by_section
    from .models import PaperSummary, Section

    summaries = PaperSummary.objects.filter(issue=issue).select_related("section", "paper")
    sections = list(sections or [])
    chosen: list[Section] = []
    if sections:
        chosen = _chosen_sections(Section, sections)
        summaries = summaries.filter(section__in=[section.pk for section in chosen])
    summaries = summaries.order_by("section__position", "section__name", "position", "pk")

    web_url = issue_web_url(issue)
    refs = LinkReferences()
    blocks = group_by_section(summaries, lambda summary: _article(summary, web_url))
    intro_html = _absolute_html(issue.intro_html, web_url)
    context = {
        "issue": issue,
        "issue_url": web_url,
        "subject": issue.email_subject,
        "preheader": issue.description,
        "preheader_filler": _PREHEADER_FILLER,
        "intro_html": intro_html,
        "sections": blocks,
        "chosen_sections": chosen,
        **email_context(),
    }
    context["heading"] = _heading_text(f"{settings.SITE_NAME} #{issue.number}: {issue.title}")
    context["intro_text"] = _block_text(intro_html, refs)
    context["section_texts"] = [_section_text(block, refs) for block in blocks]
    text = render_text_template("email/issue.txt", context)
    html = ""
    if fmt == EmailFormat.HTML:
        # Most mail clients show no MathML: math becomes Unicode text or its TeX (newsletter/math.py).
        html = inline_css(email_fallback(render_to_string("email/issue.html", context)))
    return RenderedEmail(subject=issue.email_subject, preheader=issue.description, html=html, text=text)


def email_context() -> dict[str, str]:
    """What every email template may use: the site's name and address, the CAN-SPAM postal address,
    and the placeholder tokens for the links each recipient gets."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": site_url("/"),
        "postal_address": settings.POSTAL_ADDRESS,
        **{f"{name}_placeholder": placeholder(name) for name in PLACEHOLDERS},
    }


def _chosen_sections(section_model: type[Section], sections: Iterable[Section | int | str]) -> list[Section]:
    pks, slugs = set(), set()
    for section in sections:
        if isinstance(section, str):
            slugs.add(section)
        else:
            pks.add(section if isinstance(section, int) else section.pk)
    return list(section_model.objects.filter(Q(pk__in=pks) | Q(slug__in=slugs)))


def _article(summary: PaperSummary, web_url: str) -> EmailArticle:
    from .models import PaperSummary

    link = absolute_url(summary.paper.link, web_url) if summary.paper and summary.paper.link else ""
    article = EmailArticle(
        summary=summary,
        body_html=_absolute_html(summary.body_html, web_url),
        link=link,
        link_label="Read more" if summary.kind == PaperSummary.Kind.NEWS else "Read the paper",
    )
    figure = summary.figure_web or summary.figure
    if figure:
        article.figure_url = absolute_url(figure.url)
        article.figure_alt = summary.figure_alt or summary.figure_caption
        width, height = summary.figure_width, summary.figure_height
        if width and height:
            article.figure_width = min(width, EMAIL_CONTENT_WIDTH)
            article.figure_height = round(height * article.figure_width / width)
    return article


# The plain-text part ---------------------------------------------------------------------------


def _heading_text(title: str) -> str:
    title = wrap(title)
    return f"{title}\n{'=' * max(len(line) for line in title.splitlines())}"


def _section_text(block: SectionBlock[EmailArticle], refs: LinkReferences) -> str:
    name = block.section.name
    parts = [f"{name}\n{'-' * len(name)}"]
    parts += [_article_text(article, refs) for article in block.features]
    if block.briefs:
        parts.append(_briefs_text(block.briefs, refs))
    if block.news and block.news_heading:
        parts.append("### Other news")
    parts += [_article_text(article, refs) for article in block.news]
    return "\n\n".join(parts)


def _article_text(article: EmailArticle, refs: LinkReferences) -> str:
    summary = article.summary
    parts = [wrap(f"### {summary.headline}", subsequent="    ")]
    if article.figure_url and (summary.figure_caption or article.figure_alt):
        parts.append(wrap(f"[Figure: {summary.figure_caption or article.figure_alt}]"))
    body, used = html_to_plain_text(article.body_html, refs)
    if body:
        parts.append(body)
    if article.link:
        number = refs.number(article.link)
        if number not in used:
            used.append(number)
        parts.append(f"{article.link_label} [{number}]")
    if used:
        parts.append(refs.listing(used))
    return "\n\n".join(parts)


def _briefs_text(briefs: list[EmailArticle], refs: LinkReferences) -> str:
    items, used = [], []
    for article in briefs:
        line = article.summary.headline
        if article.link:
            number = refs.number(article.link)
            if number not in used:
                used.append(number)
            line += f" [{number}]"
        item = wrap(line, initial="- ", subsequent="  ")
        body, body_used = html_to_plain_text(article.body_html, refs, width=TEXT_WIDTH - 2)
        if body:
            item += "\n" + textwrap.indent(body, "  ")
        used += [number for number in body_used if number not in used]
        items.append(item)
    parts = ["### Other recent papers", "\n".join(items)]
    if used:
        parts.append(refs.listing(used))
    return "\n\n".join(parts)


def _block_text(html: str, refs: LinkReferences, links_heading: str = "Links:") -> str:
    text, used = html_to_plain_text(html, refs)
    if used:
        text += "\n\n" + refs.listing(used, links_heading)
    return text
