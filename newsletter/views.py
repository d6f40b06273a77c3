"""The public archive: home, issues, sections, authors, tags, papers (with BibTeX) and search.

Views parse input, ask newsletter/archive.py for published content only, and render. Each page
runs a small, fixed number of queries whatever the size of the archive (tests/test_query_counts.py
holds them to it), and public pages may be cached for five minutes by browsers and proxies.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.utils.text import slugify
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from taggit.models import Tag

from . import archive, seo
from .absolute_urls import site_url
from .bibtex import bibtex_entry, bibtex_file, citation_key
from .models import Author, Issue, Paper, PaperSummary, Section
from .search import search as search_archive

logger = logging.getLogger(__name__)

PER_PAGE = 20
RECENT_ISSUES_ON_HOME = 5
CACHE_SECONDS = 300


def public_page(view):
    """GET/HEAD only, cacheable for five minutes by browsers and shared caches."""
    return require_safe(cache_control(public=True, max_age=CACHE_SECONDS)(view))


def paginate(request: HttpRequest, object_list, per_page: int = PER_PAGE) -> Page:
    """The page ?page= asks for; a page that is not a number or out of range is a 404."""
    paginator = Paginator(object_list, per_page)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404("No such page.") from exc


@public_page
def home(request: HttpRequest) -> HttpResponse:
    issues = archive.latest_issues(RECENT_ISSUES_ON_HOME + 1)
    latest = issues[0] if issues else None
    summaries = archive.issue_summaries(latest, with_tags=False) if latest else []
    meta = seo.page_meta(
        request,
        settings.SITE_NAME,
        settings.SITE_DESCRIPTION,
        keep=(),
        **seo.figure_image(seo.first_figure(summaries)),
    )
    context = {
        "meta": meta,
        "latest": latest,
        "blocks": archive.group_by_section(summaries),
        "recent_issues": issues[1:],
    }
    return render(request, "newsletter/home.html", context)


@public_page
def issue_archive(request: HttpRequest) -> HttpResponse:
    page = paginate(request, archive.archive_issues())
    meta = seo.page_meta(
        request,
        "All issues",
        f"Every issue of the {settings.SITE_NAME}, newest first.",
        page_number=page.number,
    )
    context = {"meta": meta, "page": page, "years": archive.group_issues_by_year(list(page.object_list))}
    return render(request, "newsletter/issue_archive.html", context)


def issue_page_context(request: HttpRequest, issue: Issue) -> dict:
    """What newsletter/issue_detail.html shows for `issue`; editorial previews reuse it."""
    summaries = archive.issue_summaries(issue)
    blocks = archive.group_by_section(summaries)
    lead = seo.first_figure([s for block in blocks for s in block.features])
    previous, following = archive.neighbours(issue)
    meta = seo.page_meta(
        request,
        f"#{issue.number}: {issue.title}",
        issue.description,
        keep=(),
        type="article",
        **seo.figure_image(lead),
    )
    return {
        "meta": meta,
        "issue": issue,
        "blocks": blocks,
        "lead_figure": lead,
        "previous": previous,
        "next": following,
        # a draft has no published_at yet, and the JSON-LD needs one
        "json_ld": seo.issue_json_ld(issue, meta) if issue.published_at else "",
    }


@public_page
def issue_detail(request: HttpRequest, number: int) -> HttpResponse:
    issue = get_object_or_404(archive.issues_for_page(), number=number)
    return render(request, "newsletter/issue_detail.html", issue_page_context(request, issue))


@public_page
def section_detail(request: HttpRequest, slug: str) -> HttpResponse:
    section = get_object_or_404(Section, slug=slug)
    page = paginate(request, archive.section_summaries(section))
    description = section.description or f"Every {section.name} summary in the {settings.SITE_NAME}."
    meta = seo.page_meta(request, section.name, description, page_number=page.number)
    return render(request, "newsletter/section_detail.html", {"meta": meta, "section": section, "page": page})


def issues_and_summaries(
    request: HttpRequest, issues: list[Issue], summaries: QuerySet[PaperSummary], nothing: str
) -> dict[str, Any]:
    """What includes/_issues_and_summaries.html shows: every issue and a page of the summaries.

    A 404 with the message `nothing` when both are empty: an author or a tag with nothing
    published has no public page.
    """
    page = paginate(request, summaries)
    if not page.paginator.count and not issues:
        raise Http404(nothing)
    return {"issues": issues, "page": page}


@public_page
def author_detail(request: HttpRequest, slug: str) -> HttpResponse:
    author = get_object_or_404(Author, slug=slug)
    listing = issues_and_summaries(
        request,
        archive.author_issues(author),
        archive.author_summaries(author),
        "Nothing published by this author yet.",
    )
    description = author.bio or f"Issues and summaries by {author.name} in the {settings.SITE_NAME}."
    meta = seo.page_meta(
        request, author.name, description, page_number=listing["page"].number, type="profile"
    )
    return render(request, "newsletter/author_detail.html", {"meta": meta, "author": author, **listing})


@public_page
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    listing = issues_and_summaries(
        request, archive.tag_issues(tag), archive.tag_summaries(tag), "Nothing published with this tag yet."
    )
    description = f"Issues and paper summaries tagged “{tag.name}” in the {settings.SITE_NAME}."
    meta = seo.page_meta(request, f"Tagged “{tag.name}”", description, page_number=listing["page"].number)
    return render(request, "newsletter/tag_detail.html", {"meta": meta, "tag": tag, **listing})


class PaperFilterForm(forms.Form):
    """The paper index's filters; a value that names nothing (hand-edited URL) is a 404."""

    section = forms.ChoiceField(required=False)
    tag = forms.ChoiceField(required=False)
    year = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data, sections: list[Section], tags: list[Tag], years: list[int]):
        super().__init__(data)
        self.fields["section"].choices = [("", "All sections")] + [(s.slug, s.name) for s in sections]
        self.fields["tag"].choices = [("", "All tags")] + [(t.slug, t.name) for t in tags]
        self.fields["year"].choices = [("", "All years")] + [(str(y), str(y)) for y in years]

    def filters(self) -> archive.PaperFilters:
        if not self.is_valid():
            raise Http404("Unknown filter.")
        data = self.cleaned_data
        return archive.PaperFilters(section=data["section"], tag=data["tag"], year=data["year"])


def _paper_filters(request: HttpRequest) -> tuple[PaperFilterForm, archive.PaperFilters]:
    sections, tags, years = archive.paper_filter_choices()
    form = PaperFilterForm(request.GET, sections, tags, years)
    return form, form.filters()


@public_page
def paper_index(request: HttpRequest) -> HttpResponse:
    form, filters = _paper_filters(request)
    papers = archive.with_coverage(archive.filter_papers(archive.archive_papers(), filters))
    page = paginate(request, papers)
    title = "Papers"
    if filters:
        labels = dict(form.fields["section"].choices), dict(form.fields["tag"].choices)
        parts = [labels[0].get(filters.section, ""), labels[1].get(filters.tag, ""), str(filters.year or "")]
        title = "Papers: " + ", ".join(part for part in parts if part)
    meta = seo.page_meta(
        request,
        title,
        f"Every paper summarised in the {settings.SITE_NAME}, with links to the issues and BibTeX.",
        keep=("section", "tag", "year", "page"),
        page_number=page.number,
        noindex=bool(filters) and not page.paginator.count,
    )
    context = {"meta": meta, "form": form, "filters": filters, "page": page, "heading": title}
    return render(request, "newsletter/paper_index.html", context)


def _bibtex_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@public_page
def papers_bibtex(request: HttpRequest) -> HttpResponse:
    _, filters = _paper_filters(request)
    papers = archive.filter_papers(archive.archive_papers(), filters)
    header = f"{settings.SITE_NAME}: papers covered\n{seo.canonical_url(request, ('section', 'tag', 'year'))}"
    return _bibtex_response(bibtex_file(papers, header), f"{slugify(settings.SITE_NAME) or 'papers'}.bib")


def _public_paper(pk: int, with_coverage: bool = False) -> Paper:
    papers = archive.archive_papers().filter(pk=pk)
    paper = (archive.with_coverage(papers) if with_coverage else papers).first()
    if paper is None:
        raise Http404("No such paper in the archive.")
    return paper


@public_page
def paper_detail(request: HttpRequest, pk: int) -> HttpResponse:
    paper = _public_paper(pk, with_coverage=True)
    byline = f" by {paper.authors}" if paper.authors else ""
    description = f"{paper.title}{byline}, as covered in the {settings.SITE_NAME}."
    meta = seo.page_meta(
        request,
        paper.title,
        description,
        keep=(),
        type="article",
        **seo.figure_image(seo.first_figure(paper.coverage)),
    )
    context = {"meta": meta, "paper": paper, "bibtex": bibtex_entry(paper)}
    return render(request, "newsletter/paper_detail.html", context)


@public_page
def paper_bibtex(request: HttpRequest, pk: int) -> HttpResponse:
    paper = _public_paper(pk)
    return _bibtex_response(bibtex_entry(paper), f"{citation_key(paper)}.bib")


@public_page
def search(request: HttpRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:200]
    page_text = request.GET.get("page") or "1"
    # Nine digits are more pages than any archive has; more would overflow the database's OFFSET.
    if not page_text.isascii() or not page_text.isdigit() or len(page_text) > 9 or int(page_text) < 1:
        raise Http404("No such page.")
    page_number = int(page_text)
    hits, total = search_archive(query, PER_PAGE, (page_number - 1) * PER_PAGE) if query else ([], 0)
    page = paginate(request, range(total))  # the pagination links, for results fetched above
    if query:
        title = f"Search results for “{query}”"
        description = f"{total} result{'s' if total != 1 else ''} for “{query}” in the {settings.SITE_NAME}."
    else:
        title, description = "Search", f"Search every issue and paper summary of the {settings.SITE_NAME}."
    meta = seo.page_meta(request, title, description, keep=(), page_number=page.number, noindex=bool(query))
    context = {"meta": meta, "query": query, "hits": hits, "total": total, "page": page}
    return render(request, "newsletter/search.html", context)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    meta = seo.PageMeta(
        title="Page not found",
        description="There is no page at this address.",
        url=site_url(request.path),
        noindex=True,
    )
    return render(request, "404.html", {"meta": meta}, status=404)


_BARE_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error</title></head>'
    "<body><main><h1>Server error</h1><p>Something went wrong on our side. Please try again in a minute, "
    'or go to the <a href="/">home page</a>.</p></main></body></html>'
)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: rendered without the request, the database or the URLconf, any of which may be
    what failed; falls back to a bare page if even the template cannot be rendered."""
    try:
        html = loader.get_template("500.html").render({"SITE_NAME": settings.SITE_NAME})
    except Exception:
        logger.exception("The 500 template could not be rendered.")
        html = _BARE_500
    return HttpResponseServerError(html)
