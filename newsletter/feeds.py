"""RSS 2.0 and Atom feeds: the latest published issues, and each section's latest summaries.

Every link is absolute and built on settings.SITE_URL, never on the request's host: the site may
run behind a proxy, and a feed reader keeps whatever address it was given. Entry content is the
stored, already sanitised HTML, put together by a template and sanitised once more as a whole
(so a paper link can never be a `javascript:` URL), with relative links made absolute.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape

from .archive import group_by_section, section_summaries
from .models import Issue, PaperSummary, Section
from .rendering import sanitize_html

ISSUES_IN_FEED = 20
SUMMARIES_IN_FEED = 50


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def absolute_links(html: str) -> str:
    """Root-relative href and src attributes made absolute (feed readers have no base URL)."""
    return _ROOT_RELATIVE.sub(lambda match: f"{match.group(1)}{settings.SITE_URL}/", html)


_MARKUP = re.compile(r"<[a-zA-Z/!?]")


def entry_title(feed_type: type, title: str) -> str:
    """A title as the feed type needs it: Atom titles are text; RSS does not say.

    Many readers show RSS titles as HTML, so a title holding something that looks like a tag is
    escaped once more: such readers then show the text as written instead of running markup.
    """
    if issubclass(feed_type, Atom1Feed) or not _MARKUP.search(title):
        return title
    return escape(title)


def entry_html(template: str, context: dict) -> str:
    return absolute_links(sanitize_html(render_to_string(template, context))).strip()


class AtomWithContentFeed(Atom1Feed):
    """Atom with the entry's HTML in <content> (Django's Atom1Feed has only <summary>)."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        if item.get("content_html"):
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


def _updated(published_at: datetime, updated_at: datetime) -> datetime:
    # Content is usually last edited before it is published; "updated" never precedes that.
    return max(published_at, updated_at)


class IssuesRssFeed(Feed):
    feed_type = Rss201rev2Feed
    url_name = "feed_rss"

    def title(self) -> str:
        return settings.SITE_NAME

    def description(self) -> str:
        return settings.SITE_DESCRIPTION

    subtitle = description

    def link(self) -> str:
        return absolute_url(reverse("home"))

    def feed_url(self) -> str:
        return absolute_url(reverse(self.url_name))

    def author_name(self) -> str:
        return settings.SITE_NAME

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

    def item_link(self, issue: Issue) -> str:
        return absolute_url(issue.get_absolute_url())

    item_guid_is_permalink = True

    def item_description(self, issue: Issue) -> str:
        return self.item_content(issue)

    def item_content(self, issue: Issue) -> str:
        blocks = group_by_section(list(issue.summaries.all()))
        return entry_html("feeds/issue.html", {"issue": issue, "blocks": blocks})

    def item_pubdate(self, issue: Issue) -> datetime:
        return issue.published_at

    def item_updateddate(self, issue: Issue) -> datetime:
        return _updated(issue.published_at, issue.updated_at)

    def item_author_name(self, issue: Issue) -> str | None:
        return ", ".join(author.name for author in issue.authors.all()) or None

    def item_categories(self, issue: Issue) -> list[str]:
        return [tag.name for tag in issue.tags.all()]


class IssuesAtomFeed(IssuesRssFeed):
    feed_type = AtomWithContentFeed
    url_name = "feed_atom"

    def item_description(self, issue: Issue) -> None:
        return None  # the whole issue goes in <content>

    def item_extra_kwargs(self, issue: Issue) -> dict:
        return {"content_html": self.item_content(issue)}


class SectionRssFeed(Feed):
    feed_type = Rss201rev2Feed
    url_name = "section_feed_rss"

    def get_object(self, request, slug: str) -> Section:
        return get_object_or_404(Section, slug=slug)

    def title(self, section: Section) -> str:
        return f"{settings.SITE_NAME}: {section.name}"

    def description(self, section: Section) -> str:
        return section.description or f"{section.name}: paper summaries from the {settings.SITE_NAME}."

    subtitle = description

    def link(self, section: Section) -> str:
        return absolute_url(section.get_absolute_url())

    def feed_url(self, section: Section) -> str:
        return absolute_url(reverse(self.url_name, args=[section.slug]))

    def author_name(self) -> str:
        return settings.SITE_NAME

    def items(self, section: Section) -> QuerySet[PaperSummary]:
        return section_summaries(section)[:SUMMARIES_IN_FEED]

    def item_title(self, summary: PaperSummary) -> str:
        return entry_title(self.feed_type, summary.headline)

    def item_link(self, summary: PaperSummary) -> str:
        return absolute_url(summary.get_absolute_url())

    item_guid_is_permalink = True

    def item_description(self, summary: PaperSummary) -> str:
        return self.item_content(summary)

    def item_content(self, summary: PaperSummary) -> str:
        return entry_html("feeds/summary.html", {"summary": summary})

    def item_pubdate(self, summary: PaperSummary) -> datetime:
        return summary.issue.published_at

    def item_updateddate(self, summary: PaperSummary) -> datetime:
        return _updated(summary.issue.published_at, summary.updated_at)

    def item_author_name(self, summary: PaperSummary) -> str | None:
        return summary.writer.name if summary.writer else None

    def item_categories(self, summary: PaperSummary) -> list[str]:
        return [tag.name for tag in summary.tags.all()]


class SectionAtomFeed(SectionRssFeed):
    feed_type = AtomWithContentFeed
    url_name = "section_feed_atom"

    def item_description(self, summary: PaperSummary) -> None:
        return None  # the summary goes in <content>

    def item_extra_kwargs(self, summary: PaperSummary) -> dict:
        return {"content_html": self.item_content(summary)}
