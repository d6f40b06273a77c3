"""RSS 2.0 and Atom feeds: the latest published issues, and each section's latest summaries.

Every link is absolute and built on settings.SITE_URL, never on the request's host: the site may
run behind a proxy, and a feed reader keeps whatever address it was given. Entry content is the
stored, already sanitised HTML, put together by a template and sanitised once more as a whole
(so a paper link can never be a `javascript:` URL), with relative links made absolute against the
entry's own address.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.html import escape

from . import math
from .absolute_urls import absolutize_urls, site_url
from .archive import group_by_section, section_summaries
from .models import Issue, PaperSummary, Section
from .rendering import sanitize_html

ISSUES_IN_FEED = 20
SUMMARIES_IN_FEED = 50


_MARKUP = re.compile(r"<[a-zA-Z/!?]")


def entry_title(feed_type: type, title: str) -> str:
    """A title as the feed type needs it: Atom titles are text; RSS does not say.

    Many readers show RSS titles as HTML, so a title holding something that looks like a tag is
    escaped once more: such readers then show the text as written instead of running markup.
    """
    if issubclass(feed_type, Atom1Feed) or not _MARKUP.search(title):
        return title
    return escape(title)


def entry_html(template: str, context: dict, link: str) -> str:
    """The entry's content, with relative links resolved against the entry's `link`. Math is
    given as in email (Unicode text or TeX): most feed readers show MathML as run-together text."""
    html = absolutize_urls(sanitize_html(render_to_string(template, context)), link).strip()
    return math.email_fallback(html)


class AtomWithContentFeed(Atom1Feed):
    """Atom with the entry's HTML in <content> (Django's Atom1Feed has only <summary>)."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        if item.get("content_html"):
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


# What an entry is (an issue or a summary) and what the feed is of (nothing, or a section).
Entry = TypeVar("Entry", Issue, PaperSummary)
Subject = TypeVar("Subject")


class EntryFeed(Feed[Entry, Subject]):
    """What every feed here shares: the site as author, entries that link to their page, and the
    entry's HTML (`item_content`) in RSS's <description> or, with an Atom `feed_type`, in <content>."""

    feed_type: type[SyndicationFeed] = Rss201rev2Feed
    item_guid_is_permalink = True

    def author_name(self) -> str:
        return settings.SITE_NAME

    def item_link(self, item: Entry) -> str:
        return site_url(item.get_absolute_url())

    def item_content(self, item: Entry) -> str:
        raise NotImplementedError

    def item_pubdate(self, item: Entry) -> datetime:
        raise NotImplementedError

    def item_description(self, item: Entry) -> str | None:  # type: ignore[override]  # Atom: no <summary>
        return None if issubclass(self.feed_type, Atom1Feed) else self.item_content(item)

    def item_extra_kwargs(self, item: Entry) -> dict[str, str]:
        return {"content_html": self.item_content(item)} if issubclass(self.feed_type, Atom1Feed) else {}

    def item_updateddate(self, item: Entry) -> datetime:
        # Content is usually last edited before it is published; "updated" never precedes that.
        return max(self.item_pubdate(item), item.updated_at)

    def item_categories(self, item: Entry) -> list[str]:
        return [tag.name for tag in item.tags.all()]


class IssuesRssFeed(EntryFeed[Issue, None]):
    url_name = "feed_rss"

    def title(self) -> str:
        return settings.SITE_NAME

    def description(self) -> str:
        return settings.SITE_DESCRIPTION

    subtitle = description

    def link(self) -> str:
        return site_url(reverse("home"))

    def feed_url(self) -> str:
        return site_url(reverse(self.url_name))

    def items(self) -> QuerySet[Issue]:
        summaries = PaperSummary.objects.select_related("section", "paper").order_by(
            "section__position", "section__name", "position", "pk"
        )
        return (
            Issue.objects.published()
            .order_by("-published_at", "-number")
            .prefetch_related(Prefetch("summaries", queryset=summaries), "authors", "tags")[:ISSUES_IN_FEED]
        )

    def item_title(self, issue: Issue) -> str:
        return entry_title(self.feed_type, f"#{issue.number}: {issue.title}")

    def item_content(self, issue: Issue) -> str:
        blocks = group_by_section(issue.summaries.all())
        return entry_html("feeds/issue.html", {"issue": issue, "blocks": blocks}, self.item_link(issue))

    def item_pubdate(self, issue: Issue) -> datetime:
        return issue.published_at

    def item_author_name(self, issue: Issue) -> str | None:
        return ", ".join(author.name for author in issue.authors.all()) or None


class IssuesAtomFeed(IssuesRssFeed):
    feed_type = AtomWithContentFeed
    url_name = "feed_atom"


class SectionRssFeed(EntryFeed[PaperSummary, Section]):
    url_name = "section_feed_rss"

    def get_object(self, request, slug: str) -> Section:
        return get_object_or_404(Section, slug=slug)

    def title(self, section: Section) -> str:
        return f"{settings.SITE_NAME}: {section.name}"

    def description(self, section: Section) -> str:
        return section.description or f"{section.name}: paper summaries from the {settings.SITE_NAME}."

    subtitle = description

    def link(self, section: Section) -> str:
        return site_url(section.get_absolute_url())

    def feed_url(self, section: Section) -> str:
        return site_url(reverse(self.url_name, args=[section.slug]))

    def items(self, section: Section) -> QuerySet[PaperSummary]:
        return section_summaries(section)[:SUMMARIES_IN_FEED]

    def item_title(self, summary: PaperSummary) -> str:
        return entry_title(self.feed_type, summary.headline)

    def item_content(self, summary: PaperSummary) -> str:
        return entry_html("feeds/summary.html", {"summary": summary}, self.item_link(summary))

    def item_pubdate(self, summary: PaperSummary) -> datetime:
        return summary.issue.published_at

    def item_author_name(self, summary: PaperSummary) -> str | None:
        return summary.writer.name if summary.writer else None


class SectionAtomFeed(SectionRssFeed):
    feed_type = AtomWithContentFeed
    url_name = "section_feed_atom"
