"""The one place that turns content into output.

`markdown_to_html` turns Markdown into safe HTML: every Markdown field, the admin's live preview,
the public pages, the feeds and the emails go through it. Models store its result on save, so no
page renders Markdown per request.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.utils.html import strip_tags

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
# No javascript:, data: or vbscript: links; relative links stay allowed for internal anchors.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "smarty"]


def markdown_to_html(text: str) -> str:
    """Render Markdown to HTML that is safe to put on a page or in an email."""
    if not text:
        return ""
    html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return sanitize_html(html)


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
    """Plain text of rendered HTML, for search documents and descriptions."""
    return _WHITESPACE.sub(" ", strip_tags(html)).strip()


def markdown_to_text(text: str) -> str:
    return html_to_text(markdown_to_html(text))
