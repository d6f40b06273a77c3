"""The sitemap: the public archive's pages, located on settings.SITE_URL.

Django's sitemaps take the domain from the sites framework or the request; this site uses neither
(it may run behind a proxy under another host name), so every location is built on SITE_URL.
Only what the public can open is listed: published issues, and the sections, authors, papers
and tags that published content uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from taggit.models import Tag

from .archive import archive_papers
from .models import Author, Issue, Paper, PaperSummary, Section


class SiteUrlSitemap(Sitemap[Any]):
    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site: object = None) -> str:
        # The sitemap joins "<protocol>://<domain><path>"; a SITE_URL path prefix rides along.
        parts = urlsplit(settings.SITE_URL)
        return parts.netloc + parts.path.rstrip("/")


def _published_summaries() -> QuerySet[PaperSummary]:
    return PaperSummary.objects.filter(issue__in=Issue.objects.published())


class PageSitemap(SiteUrlSitemap):
    changefreq = "weekly"

    def items(self) -> list[str]:
        return ["home", "issue_archive", "paper_index"]

    def location(self, url_name: str) -> str:
        return reverse(url_name)


class IssueSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Issue]:
        return Issue.objects.published().order_by("-number").only("number", "published_at", "updated_at")

    def lastmod(self, issue: Issue) -> datetime:
        # A scheduled issue is usually last edited before it goes public.
        return max(issue.published_at, issue.updated_at)


class SectionSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Section]:
        return (
            Section.objects.filter(summaries__in=_published_summaries())
            .annotate(last_published=Max("summaries__issue__published_at"))
            .order_by("position", "name")
        )

    def lastmod(self, section: Section) -> datetime:
        return section.last_published


class AuthorSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Author]:
        return Author.objects.filter(
            Q(pk__in=Issue.objects.published().values("authors"))
            | Q(pk__in=_published_summaries().values("writer"))
        ).order_by("name", "pk")


class PaperSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Paper]:
        return archive_papers().order_by("-last_covered", "pk")

    def lastmod(self, paper: Paper) -> datetime:
        return paper.last_covered


class TagSitemap(SiteUrlSitemap):
    def items(self) -> QuerySet[Tag]:
        used_on = Q()
        for model, ids in (
            ("issue", Issue.objects.published().values("pk")),
            ("papersummary", _published_summaries().values("pk")),
        ):
            used_on |= Q(
                taggit_taggeditem_items__content_type__app_label="newsletter",
                taggit_taggeditem_items__content_type__model=model,
                taggit_taggeditem_items__object_id__in=ids,
            )
        # A slug the tag URL cannot carry would break the whole sitemap.
        return Tag.objects.filter(used_on, slug__regex=r"^[-a-zA-Z0-9_]+$").distinct().order_by("name", "pk")

    def location(self, tag: Tag) -> str:
        return reverse("tag_detail", args=[tag.slug])


SITEMAPS = {
    "pages": PageSitemap,
    "issues": IssueSitemap,
    "sections": SectionSitemap,
    "authors": AuthorSitemap,
    "papers": PaperSitemap,
    "tags": TagSitemap,
}
