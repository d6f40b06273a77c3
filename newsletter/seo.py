"""What a public page tells search engines and social cards: title, description, canonical URL,
Open Graph / Twitter tags and, for an issue, schema.org JSON-LD.

Views build one `PageMeta` and templates/base.html renders every tag from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from .absolute_urls import absolute_url, site_url
from .models import Issue, PaperSummary

DESCRIPTION_LENGTH = 160


def canonical_url(request: HttpRequest, keep: tuple[str, ...] = ("page",)) -> str:
    """The page's address under SITE_URL, keeping only the query parameters that change content.

    `page=1` is dropped: the first page's canonical address is the bare one.
    """
    params = []
    for name in keep:
        value = request.GET.get(name, "").strip()
        if value and not (name == "page" and value == "1"):
            params.append((name, value))
    query = f"?{urlencode(params)}" if params else ""
    return site_url(request.path) + query


def shorten(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


@dataclass(frozen=True)
class PageMeta:
    title: str  # the page's own title; base.html adds the site name
    description: str
    url: str  # canonical, absolute
    type: str = "website"  # Open Graph type: "website" or "article"
    image: str = ""  # absolute URL of a figure, when the page has one
    image_alt: str = ""
    noindex: bool = False

    @property
    def full_title(self) -> str:
        if not self.title or self.title == settings.SITE_NAME:
            return settings.SITE_NAME
        return f"{self.title} · {settings.SITE_NAME}"


def page_meta(
    request: HttpRequest,
    title: str,
    description: str = "",
    *,
    keep: tuple[str, ...] = ("page",),
    page_number: int = 1,
    **extra,
) -> PageMeta:
    description = shorten(description or settings.SITE_DESCRIPTION)
    if page_number > 1:
        title = f"{title} (page {page_number})"
    return PageMeta(title=title, description=description, url=canonical_url(request, keep), **extra)


def first_figure(summaries: list[PaperSummary]) -> PaperSummary | None:
    return next((s for s in summaries if s.figure_web), None)


def figure_image(summary: PaperSummary | None) -> dict[str, str]:
    if summary is None:
        return {}
    # A storage URL: "/media/..." on disk, already absolute on object storage.
    return {"image": absolute_url(summary.figure_web.url), "image_alt": summary.figure_alt}


# JSON-LD ------------------------------------------------------------------------------------

# JSON is data, but it sits in HTML: "</script>" or "<!--" in a title must not end the block.
_JSON_IN_HTML = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data: dict) -> SafeString:
    """`data` as JSON that is safe inside <script type="application/ld+json">."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.translate(_JSON_IN_HTML))  # every <, > and & is escaped above


def issue_json_ld(issue: Issue, meta: PageMeta) -> SafeString:
    """A NewsArticle that is part of a PublicationIssue (its issue number) of the Periodical."""
    publisher = {"@type": "Organization", "name": settings.SITE_NAME, "url": site_url("/")}
    periodical = {"@type": "Periodical", "name": settings.SITE_NAME, "url": site_url("/")}
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": f"#{issue.number}: {issue.title}",
        "description": meta.description,
        "url": meta.url,
        "mainEntityOfPage": meta.url,
        "datePublished": issue.published_at,
        "dateModified": max(issue.updated_at, issue.published_at),
        "author": [
            {"@type": "Person", "name": author.name, "url": site_url(author.get_absolute_url())}
            for author in issue.authors.all()
        ]
        or publisher,
        "publisher": publisher,
        "isPartOf": {
            "@type": "PublicationIssue",
            "issueNumber": str(issue.number),
            "datePublished": issue.published_at,
            "url": meta.url,
            "isPartOf": periodical,
        },
        "keywords": [tag.name for tag in issue.tags.all()],
    }
    if meta.image:
        data["image"] = meta.image
    return json_ld(data)
