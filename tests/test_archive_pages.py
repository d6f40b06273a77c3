"""The public archive's pages show published content, with their SEO tags, caching and errors."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from newsletter import views
from tests.factories import (
    ARCHIVE_SECTION_NAMES,
    fill_issue,
    image_upload,
    make_author,
    make_issue,
    make_issues,
    make_section,
    make_sections,
    make_summary,
    unique_paper,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def meta_content(html: str, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    assert match, f"no <meta {attribute}={name}>"
    return match.group(1)


# Home -----------------------------------------------------------------------------------------


def test_home_shows_the_latest_issue_and_the_subscribe_form(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    make_issues(2)
    latest = make_issue(7, title="The latest one", intro="Welcome to **this** issue.")
    summaries = fill_issue(latest, sections.values(), 3)

    response = client.get("/")

    html = text(response)
    assert response.status_code == 200
    assert "The latest one" in html and "Welcome to <strong>this</strong> issue." in html
    assert f'href="/issues/7/#{summaries[0].anchor}"' in html  # table of contents into the issue
    assert 'href="/issues/7/#section-robustness"' in html
    assert 'href="/issues/1/"' in html and 'href="/issues/2/"' in html  # earlier issues
    assert re.search(r'<form class="subscribe-form" method="post" action="/subscribe/">', html)
    assert '<label for="subscribe-email">' in html and 'id="subscribe-email"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_home_has_an_empty_state_before_the_first_issue(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "Nothing has been published yet" in text(response)
    assert 'id="subscribe-email"' in text(response)


def test_public_pages_are_cacheable_for_five_minutes(client):
    make_issue(1)

    response = client.get("/")

    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]


def test_public_pages_refuse_post(client):
    assert client.post("/issues/").status_code == 405


# Issue archive -------------------------------------------------------------------------------


def test_archive_groups_issues_by_year(client):
    now = timezone.now()
    make_issue(1, title="Last year's", published_at=now.replace(year=now.year - 1))
    make_issue(2, title="This year's", published_at=now - timedelta(minutes=1))

    html = text(client.get("/issues/"))

    assert f'<h2 id="year-{now.year}">{now.year}</h2>' in html
    assert f'<h2 id="year-{now.year - 1}">{now.year - 1}</h2>' in html
    assert html.index("This year&#x27;s") < html.index("Last year&#x27;s")


def test_archive_is_paginated(client):
    make_issues(25)

    first, second = client.get("/issues/"), client.get("/issues/?page=2")

    assert text(first).count('class="issue-list-title"') == 20
    assert 'rel="next" href="/issues/?page=2"' in text(first)
    assert text(second).count('class="issue-list-title"') == 5
    assert 'rel="prev" href="/issues/?"' in text(second)
    assert 'href="https://news.example.org/issues/?page=2"' in text(second)  # canonical keeps the page


@pytest.mark.parametrize("page", ["abc", "999", "0", "-1", "1.5", ""])
def test_archive_bad_page_is_404_or_first_page(client, page):
    make_issues(3)

    response = client.get(f"/issues/?page={page}")

    assert response.status_code == (200 if page == "" else 404)


# Issue page ----------------------------------------------------------------------------------


@pytest.fixture
def full_issue():
    robustness, monitoring = make_section("Robustness", position=1), make_section("Monitoring", position=2)
    news = make_section("Other News", position=9, slug="other-news")
    author = make_author("Dan Hendrycks")
    make_issue(1, title="Before")
    issue = make_issue(
        2,
        title="Adversarial training and moral agents",
        intro="Welcome to the **2nd** issue.",
        preheader="Adversarial training, feature visualizations and moral agents.",
    )
    make_issue(3, title="After")
    issue.authors.add(author)
    issue.tags.add("adversarial robustness")
    # By name, in the order made: section, position, kind, headline, paper title, other fields.
    rows = {
        "second": (
            monitoring,
            1,
            "feature",
            "Feature visualizations vs natural images",
            "How Well do Feature Visualizations Support Causal Understanding?",
            {
                "figure": image_upload("fv.png", size=(400, 300)),
                "figure_caption": "Second caption",
                "figure_alt": "Second alt",
            },
        ),
        "first": (
            robustness,
            1,
            "feature",
            "Pyramid Adversarial Training Improves ViT Performance",
            "Pyramid Adversarial Training Improves ViT Performance",
            {
                "figure": image_upload("pyramid.png", size=(1600, 900)),
                "figure_caption": "Top: visualisation of pyramid perturbations.",
                "figure_alt": "Pyramid perturbations",
                "writer": author,
            },
        ),
        "brief": (robustness, 5, "brief", "An adversarial NLP benchmark.", "Adversarial GLUE", {"body": ""}),
        "news": (news, 1, "news", "Grants.", None, {"body": "Open Philanthropy will fund grants."}),
    }
    summaries = {
        name: make_summary(
            issue,
            section,
            position=position,
            kind=kind,
            headline=headline,
            paper=unique_paper(paper_title) if paper_title else None,
            **fields,
        )
        for name, (section, position, kind, headline, paper_title, fields) in rows.items()
    }
    summaries["first"].tags.add("vision transformers")
    return {"issue": issue, **summaries}


def test_issue_page_shows_the_whole_issue(client, full_issue):
    first, second = full_issue["first"], full_issue["second"]

    response = client.get("/issues/2/")

    html = text(response)
    assert response.status_code == 200
    assert "<h1>Adversarial training and moral agents</h1>" in html
    assert "Issue #2" in html and "Welcome to the <strong>2nd</strong> issue." in html
    assert 'href="/authors/dan-hendrycks/">Dan Hendrycks</a>' in html
    assert 'href="/tags/adversarial-robustness/"' in html and 'href="/tags/vision-transformers/"' in html
    # Table of contents and anchors, sections in position order.
    assert 'href="#section-robustness"' in html and 'id="section-robustness"' in html
    assert f'href="#{first.anchor}"' in html and f'id="{first.anchor}"' in html
    assert html.index('id="section-robustness"') < html.index('id="section-monitoring"')
    assert html.index('id="section-monitoring"') < html.index('id="section-other-news"')
    # Figures: the web rendition with its size; only the first one is lazy-free.
    first.refresh_from_db()
    assert (
        f'<img src="{first.figure_web.url}" width="1200" height="675" alt="Pyramid perturbations" decoding'
        in html
    )
    assert "<figcaption>Top: visualisation of pyramid perturbations.</figcaption>" in html
    assert 'width="400" height="300" alt="Second alt" loading="lazy"' in html
    assert second.figure_web.url in html
    assert f'href="{first.paper.link}"' in html
    # Briefs and news.
    assert "Other recent papers" in html and f'<li id="{full_issue["brief"].anchor}">' in html
    assert f'id="{full_issue["news"].anchor}"' in html and "Open Philanthropy will fund grants." in html
    # Previous and next issues, and the subscribe form.
    assert 'rel="prev" href="/issues/1/"' in html and 'rel="next" href="/issues/3/"' in html
    assert 'action="/subscribe/"' in html


def test_issue_page_has_seo_tags_and_json_ld(client, full_issue):
    first = full_issue["first"]

    html = text(client.get("/issues/2/"))

    first.refresh_from_db()
    figure_url = "https://news.example.org" + first.figure_web.url
    assert "<title>#2: Adversarial training and moral agents · ML Safety Newsletter</title>" in html
    assert (
        '<meta name="description" content="Adversarial training, feature visualizations and moral agents.">'
        in html
    )
    assert '<link rel="canonical" href="https://news.example.org/issues/2/">' in html
    assert meta_content(html, "property", "og:type") == "article"
    assert meta_content(html, "property", "og:url") == "https://news.example.org/issues/2/"
    assert meta_content(html, "property", "og:site_name") == "ML Safety Newsletter"
    assert meta_content(html, "property", "og:image") == figure_url
    assert meta_content(html, "name", "twitter:card") == "summary_large_image"
    assert 'type="application/rss+xml"' in html and 'type="application/atom+xml"' in html
    data = json_ld(html)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "#2: Adversarial training and moral agents"
    assert data["author"][0]["name"] == "Dan Hendrycks"
    assert data["image"] == figure_url


def test_first_issue_has_only_a_next_link(client):
    make_issues(2)

    html = text(client.get("/issues/1/"))

    assert 'rel="next" href="/issues/2/"' in html and 'rel="prev"' not in html


def test_unknown_issue_is_404_in_the_site_style(client):
    response = client.get("/issues/404/")

    assert response.status_code == 404
    assert "Page not found" in text(response) and 'class="site-header"' in text(response)
    assert '<meta name="robots" content="noindex">' in text(response)


# Sections, authors, tags ---------------------------------------------------------------------


def test_section_page_lists_summaries_newest_issue_first(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    old, new = make_issues(2)
    fill_issue(old, [sections["robustness"]], 2)
    fill_issue(new, [sections["robustness"]], 2)

    response = client.get("/sections/robustness/")

    html = text(response)
    assert response.status_code == 200
    assert html.index("Headline 2-0") < html.index("Headline 1-0")
    assert (
        'href="/feeds/sections/robustness/rss/"' in html and 'href="/feeds/sections/robustness/atom/"' in html
    )
    assert "<title>Robustness · ML Safety Newsletter</title>" in html


def test_section_page_paginates_and_has_an_empty_state(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    fill_issue(make_issue(1), [sections["robustness"]], 25)

    assert text(client.get("/sections/robustness/?page=2")).count('class="card"') == 5
    assert client.get("/sections/robustness/?page=3").status_code == 404
    assert "Nothing has been published in this section yet." in text(client.get("/sections/alignment/"))


def test_unknown_section_is_404(client):
    assert client.get("/sections/nope/").status_code == 404


def test_author_page_lists_their_summaries_and_issues(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    author = make_author("Dan Hendrycks", bio="Director of CAIS.")
    issue = make_issue(1, title="Issue one")
    issue.authors.add(author)
    fill_issue(make_issue(2), sections.values(), 2, writer=author)

    response = client.get("/authors/dan-hendrycks/")

    html = text(response)
    assert response.status_code == 200
    assert "<h1>Dan Hendrycks</h1>" in html and "Director of CAIS." in html
    assert 'href="/issues/1/"' in html and "Headline 2-0" in html and "Headline 2-1" in html


def test_author_with_nothing_published_is_404(client):
    make_author("Nobody Yet")

    assert client.get("/authors/nobody-yet/").status_code == 404


def test_tag_page_lists_tagged_issues_and_summaries(client):
    sections = make_sections(*ARCHIVE_SECTION_NAMES)
    tagged_issue = make_issue(1, title="Tagged issue")
    tagged_issue.tags.add("Interpretability")
    fill_issue(make_issue(2), sections.values(), 2, tags=("Interpretability",))
    fill_issue(make_issue(3), sections.values(), 1, tags=("other",))

    response = client.get("/tags/interpretability/")

    html = text(response)
    assert response.status_code == 200
    assert "Tagged issue" in html and "Headline 2-0" in html and "Headline 3-0" not in html


def test_unknown_tag_is_404(client):
    assert client.get("/tags/nope/").status_code == 404


# Papers --------------------------------------------------------------------------------------


@pytest.fixture
def papers():
    robustness, monitoring = make_section("Robustness", position=1), make_section("Monitoring", position=2)
    first, second = make_issues(2)
    pyramid = unique_paper(
        "Pyramid Adversarial Training", authors="Charles Herrmann, Kyle Sargent", year=2021
    )
    jiminy = unique_paper("What Would Jiminy Cricket Do?", authors="Dan Hendrycks", year=2022)
    no_year = unique_paper("Undated work", authors="Anonymous", url="https://example.org/undated")
    a = make_summary(first, robustness, headline="Pyramid in 1", paper=pyramid)
    b = make_summary(second, robustness, headline="Pyramid again in 2", paper=pyramid)
    make_summary(second, monitoring, headline="Jiminy in 2", paper=jiminy).tags.add("ethics")
    make_summary(first, monitoring, headline="Undated", paper=no_year)
    return {
        "pyramid": pyramid,
        "jiminy": jiminy,
        "no_year": no_year,
        "summaries": (a, b),
        "issues": (first, second),
    }


def test_paper_index_lists_papers_with_their_coverage(client, papers):
    a, b = papers["summaries"]

    response = client.get("/papers/")

    html = text(response)
    assert response.status_code == 200
    assert html.count('class="paper"') == 3
    assert f'href="/issues/1/#{a.anchor}"' in html and f'href="/issues/2/#{b.anchor}"' in html
    assert f'href="/papers/{papers["pyramid"].pk}/bibtex/"' in html
    assert 'href="/papers/bibtex/"' in html
    assert '<label for="id_section">Section</label>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("section=monitoring", {"jiminy", "no_year"}),
        ("tag=ethics", {"jiminy"}),
        ("year=2021", {"pyramid"}),
        ("section=robustness&year=2022", set()),
    ],
)
def test_paper_index_filters(client, papers, query, expected):
    html = text(client.get(f"/papers/?{query}"))
    bib = text(client.get(f"/papers/bibtex/?{query}"))

    for name, paper in papers.items():
        if name in ("pyramid", "jiminy", "no_year"):
            assert (f'href="/papers/{paper.pk}/"' in html) == (name in expected), name
            assert (paper.title in bib) == (name in expected), name


def test_year_filter_falls_back_to_the_year_of_coverage(client, papers):
    year = timezone.localtime(papers["issues"][0].published_at).year

    html = text(client.get(f"/papers/?year={year}"))

    assert f'href="/papers/{papers["no_year"].pk}/"' in html


@pytest.mark.parametrize("query", ["year=abc", "year=1800", "section=nope", "tag=nope", "page=abc", "page=9"])
def test_paper_index_bad_filters_are_404(client, papers, query):
    assert client.get(f"/papers/?{query}").status_code == 404


def test_papers_bibtex_is_a_text_file_of_every_entry(client, papers):
    response = client.get("/papers/bibtex/")

    body = text(response)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert 'filename="ml-safety-newsletter.bib"' in response["Content-Disposition"]
    assert body.count("\n@") + body.startswith("@") == 3
    assert "herrmann2021pyramid" in body


def test_paper_page_and_its_bibtex(client, papers):
    pyramid = papers["pyramid"]

    page = client.get(f"/papers/{pyramid.pk}/")
    bib = client.get(f"/papers/{pyramid.pk}/bibtex/")

    assert page.status_code == 200
    assert "<h1>Pyramid Adversarial Training</h1>" in text(page)
    assert "Pyramid in 1" in text(page) and "Pyramid again in 2" in text(page)
    assert "@misc{herrmann2021pyramid," in text(page)
    assert bib.status_code == 200 and text(bib).startswith("@misc{herrmann2021pyramid,")


def test_a_paper_without_a_year_has_the_same_year_everywhere(client):
    """Listed, filtered, shown and cited under one year: its own, else the one its arXiv id encodes,
    else the year an issue first covered it."""
    section = make_section()
    first = make_issue(1, published_at=timezone.now().replace(year=2023, month=6, day=1))
    second = make_issue(2, published_at=timezone.now().replace(year=2024, month=6, day=1))
    preprint = unique_paper(
        "Undated preprint", url="https://arxiv.org/abs/1912.01234", authors="Ada Lovelace"
    )
    post = unique_paper("Undated post", url="https://example.org/post", authors="Alan Turing")
    for issue in (first, second):
        make_summary(issue, section, paper=preprint)
        make_summary(issue, section, paper=post, position=1)

    index = text(client.get("/papers/"))
    bibtex = text(client.get("/papers/bibtex/"))

    for paper, year, other_year in ((preprint, 2019, 2023), (post, 2023, 2024)):
        assert f"{paper.authors} · {year}</p>" in index
        assert f'<p class="meta">{year}' in text(client.get(f"/papers/{paper.pk}/"))
        assert f"year = {{{year}}}" in text(client.get(f"/papers/{paper.pk}/bibtex/"))
        assert f"year = {{{year}}}" in bibtex.split(f"title = {{{paper.title}}}")[1].split("@")[0]
        assert f'href="/papers/{paper.pk}/"' in text(client.get(f"/papers/?year={year}"))
        assert f'href="/papers/{paper.pk}/"' not in text(client.get(f"/papers/?year={other_year}"))


def test_paper_never_covered_is_404(client):
    paper = unique_paper("Never covered")

    assert client.get(f"/papers/{paper.pk}/").status_code == 404
    assert client.get(f"/papers/{paper.pk}/bibtex/").status_code == 404


# Search --------------------------------------------------------------------------------------


def test_search_without_a_query_shows_the_form(client):
    response = client.get("/search/")

    html = text(response)
    assert response.status_code == 200
    assert '<label for="search-q">' in html and 'method="get"' in html
    assert "Type a word or phrase" in html


def test_search_finds_published_summaries(client):
    section = make_section()
    summary = make_summary(make_issue(1), section, headline="Pyramid adversarial training")

    response = client.get("/search/?q=pyramid")

    html = text(response)
    assert response.status_code == 200
    assert f'href="/issues/1/#{summary.anchor}"' in html
    assert "1 result for “pyramid”" in html
    assert '<meta name="robots" content="noindex">' in html


def test_search_with_no_results_says_so(client):
    make_issue(1)

    html = text(client.get("/search/?q=zzzz"))

    assert "0 results" in html and "Nothing matched." in html


def test_search_paginates(client):
    section = make_section()
    issue = make_issue(1)
    for index in range(25):
        make_summary(issue, section, headline=f"Robust thing {index}", position=index)

    first, second = client.get("/search/?q=robust"), client.get("/search/?q=robust&page=2")

    assert text(first).count('class="search-hit"') == 20
    assert 'rel="next" href="/search/?q=robust&amp;page=2"' in text(first)
    assert text(second).count('class="search-hit"') == 5


@pytest.mark.parametrize("page", ["abc", "0", "5", "²"])
def test_search_bad_page_is_404(client, page):
    make_summary(make_issue(1), make_section(), headline="Robust")

    assert client.get("/search/", {"q": "robust", "page": page}).status_code == 404


# Errors --------------------------------------------------------------------------------------


def test_server_error_page_needs_no_database(django_assert_num_queries):
    request = RequestFactory().get("/boom/")

    with django_assert_num_queries(0):
        response = views.server_error(request)

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_server_error_falls_back_to_a_bare_page(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template loader is broken")

    monkeypatch.setattr(views.loader, "get_template", broken)

    response = views.server_error(RequestFactory().get("/"))

    assert response.status_code == 500 and b"Server error" in response.content
