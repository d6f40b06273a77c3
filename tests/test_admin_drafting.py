"""An editor writes a whole issue on its admin page: intro, summaries, papers from pasted links."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Author, Issue, Paper, PaperSummary, Section
from tests.factories import make_author, make_issue, make_paper, make_section, make_summary

pytestmark = pytest.mark.django_db

ISSUE_ADD = "/admin/newsletter/issue/add/"
PAPER_ADD = "/admin/newsletter/paper/add/"
# The paper add form with every field blank.
PAPER_FORM = {"title": "", "url": "", "authors": "", "venue": "", "year": "", "arxiv_id": "", "doi": ""}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_client's superuser gets a password; the production hasher takes a second per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def admin_html(admin_client, url: str) -> str:
    """The admin page at `url`, which must answer 200."""
    response = admin_client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def issue_data(**fields) -> dict:
    data = {
        "number": "7",
        "title": "Robustness, monitoring and alignment",
        "slug": "",
        "subject": "",
        "preheader": "",
        "intro": "Welcome to **issue 7**.",
        "tags": "",
        "status": Issue.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "scheduled_for_0": "",
        "scheduled_for_1": "",
    }
    data.update(fields)
    return data


def summaries_data(*summaries: dict, initial: int = 0) -> dict:
    """The inline's management form and one block of fields per summary."""
    data = {
        "summaries-TOTAL_FORMS": str(len(summaries)),
        "summaries-INITIAL_FORMS": str(initial),
        "summaries-MIN_NUM_FORMS": "0",
        "summaries-MAX_NUM_FORMS": "1000",
    }
    for index, fields in enumerate(summaries):
        values = {
            "id": "",
            "issue": "",
            "kind": PaperSummary.Kind.FEATURE,
            "position": "",
            "headline": f"Summary {index}",
            "body": "",
            "paper": "",
            "paper_link": "",
            "paper_title": "",
            "paper_authors": "",
            "paper_venue": "",
            "paper_year": "",
            "paper_doi": "",
            "figure_caption": "",
            "figure_alt": "",
            "writer": "",
            "tags": "",
            **fields,
        }
        data.update({f"summaries-{index}-{name}": value for name, value in values.items()})
    return data


@pytest.fixture
def robustness():
    return make_section("Robustness", position=1)


def test_the_issue_add_page_shows_the_summaries_inline(admin_client):
    html = admin_html(admin_client, ISSUE_ADD)

    assert 'id="summaries-group"' in html
    assert 'name="summaries-TOTAL_FORMS"' in html
    assert 'name="summaries-__prefix__-paper_link"' in html
    assert 'class="markdownx"' in html and "markdownx/js/markdownx" in html
    assert "js/admin-drafting.js" in html
    assert "<script>" not in html  # scripts are files, so a strict CSP needs no rewrite


def test_the_admin_is_titled_with_the_publication_name(admin_client, settings):
    response = admin_client.get("/admin/")

    assert f"<title>Site administration | {settings.SITE_NAME}</title>" in response.content.decode()
    assert settings.SITE_NAME in response.content.decode()


def test_it_saves_a_whole_issue_with_papers_from_pasted_links(admin_client, robustness):
    monitoring = make_section("Monitoring", position=2)
    writer = make_author("Thomas Woodside")
    stored = make_paper("Unsolved Problems in ML Safety", url="", arxiv_id="2109.13916")
    data = issue_data() | summaries_data(
        {
            "section": robustness.pk,
            "headline": "Pyramid adversarial training improves ViT performance",
            "body": "Adversarial training **helps** here.",
            "paper_link": "https://arxiv.org/abs/2111.15121v2",
            "paper_title": "Pyramid Adversarial Training Improves ViT Performance",
            "paper_authors": "Herrmann et al.",
            "paper_year": "2022",
            "writer": writer.pk,
            "tags": "adversarial robustness, vision",
        },
        {
            "section": monitoring.pk,
            "kind": PaperSummary.Kind.BRIEF,
            "headline": "Unsolved problems",
            "paper_link": "arXiv:2109.13916",
        },
    )

    response = admin_client.post(ISSUE_ADD, data)

    assert response.status_code == 302, response.context["errors"]
    issue = Issue.objects.get(number=7)
    assert issue.slug == "robustness-monitoring-and-alignment"
    assert issue.intro_html == "<p>Welcome to <strong>issue 7</strong>.</p>"
    first, second = issue.summaries.order_by("position")
    assert Paper.objects.count() == 2
    assert first.paper.arxiv_id == "2111.15121"
    assert first.paper.url == "https://arxiv.org/abs/2111.15121"
    assert (first.paper.title, first.paper.authors, first.paper.year) == (
        "Pyramid Adversarial Training Improves ViT Performance",
        "Herrmann et al.",
        2022,
    )
    assert first.body_html == "<p>Adversarial training <strong>helps</strong> here.</p>"
    assert first.writer == writer
    assert sorted(tag.name for tag in first.tags.all()) == ["adversarial robustness", "vision"]
    assert second.paper == stored
    assert (first.position, second.position) == (1, 2)


def test_two_summaries_of_one_new_paper_share_it(admin_client, robustness):
    link = {"section": robustness.pk, "paper_link": "2111.15121", "paper_title": "Pyramid"}
    data = issue_data() | summaries_data(link, {**link, "paper_link": "https://arxiv.org/pdf/2111.15121v1"})

    response = admin_client.post(ISSUE_ADD, data)

    assert response.status_code == 302
    assert Paper.objects.count() == 1
    assert PaperSummary.objects.filter(paper__arxiv_id="2111.15121").count() == 2


@pytest.mark.parametrize(
    ("paper_fields", "message"),
    [
        ({"paper_link": "not a link", "paper_title": "T"}, "Paste the paper&#x27;s link"),
        ({"paper_link": "https://exa mple.org/x", "paper_title": "T"}, "is not a valid link"),
        ({"paper_link": "https://arxiv.org/list/cs.LG", "paper_title": "T"}, "does not point to a paper"),
        ({"paper_link": "2111.15121", "paper_doi": "banana", "paper_title": "T"}, "is not a DOI"),
        ({"paper_link": "2111.15121", "paper_doi": "10.48550/arXiv.2201.00001"}, "two arXiv papers"),
        ({"paper_link": "2111.15121"}, "Enter the paper&#x27;s title"),
        ({"paper_year": "3000", "paper_title": "T"}, "less than or equal to 2100"),
    ],
)
def test_a_bad_paper_reference_is_a_form_error(admin_client, robustness, paper_fields, message):
    data = issue_data() | summaries_data({"section": robustness.pk, **paper_fields})

    response = admin_client.post(ISSUE_ADD, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Issue.objects.exists()
    assert not Paper.objects.exists()


def test_identifiers_of_two_stored_papers_are_a_form_error(admin_client, robustness):
    make_paper("First", url="", arxiv_id="2111.15121")
    make_paper("Second", url="", doi="10.1000/second")
    data = issue_data() | summaries_data(
        {"section": robustness.pk, "paper_link": "2111.15121", "paper_doi": "10.1000/second"}
    )

    response = admin_client.post(ISSUE_ADD, data)

    assert response.status_code == 200
    assert "belong to two stored papers" in response.content.decode()
    assert Paper.objects.count() == 2


def test_a_stored_paper_and_a_new_link_together_are_a_form_error(admin_client, robustness):
    stored = make_paper()
    data = issue_data() | summaries_data(
        {"section": robustness.pk, "paper": stored.pk, "paper_link": "2201.00001", "paper_title": "Other"}
    )

    response = admin_client.post(ISSUE_ADD, data)

    assert response.status_code == 200
    assert "not both" in response.content.decode()
    assert Paper.objects.count() == 1


def test_the_status_is_not_set_through_the_form(admin_client):
    """Only editorial/workflow.py moves an issue between states; a posted status is ignored."""
    data = issue_data(status=Issue.Status.PUBLISHED, published_at_0="2024-01-01", published_at_1="10:00")
    response = admin_client.post(ISSUE_ADD, data | summaries_data())

    assert response.status_code == 302
    issue = Issue.objects.get(number=7)
    assert (issue.status, issue.published_at) == (Issue.Status.DRAFT, None)


def test_the_change_page_lists_summaries_by_section_then_position(admin_client, robustness):
    alignment = make_section("Alignment", position=2)
    issue = make_issue()
    make_summary(issue, alignment, headline="Alignment first", position=0)
    make_summary(issue, robustness, headline="Robustness second", position=2)
    make_summary(issue, robustness, headline="Robustness first", position=1)

    html = admin_html(admin_client, f"/admin/newsletter/issue/{issue.pk}/change/")

    positions = [
        html.index(headline) for headline in ("Robustness first", "Robustness second", "Alignment first")
    ]
    assert positions == sorted(positions)
    assert "Robustness · Feature (full summary)" in html


def test_reordering_rewrites_positions(admin_client, robustness):
    issue = make_issue(7, published=False, title="Seven", intro="")
    first = make_summary(issue, robustness, headline="First", position=1)
    second = make_summary(issue, robustness, headline="Second", position=2)
    data = issue_data(title="Seven", slug=issue.slug, intro="") | summaries_data(
        {"id": first.pk, "issue": issue.pk, "section": robustness.pk, "headline": "First", "position": "2"},
        {"id": second.pk, "issue": issue.pk, "section": robustness.pk, "headline": "Second", "position": "1"},
        initial=2,
    )

    response = admin_client.post(f"/admin/newsletter/issue/{issue.pk}/change/", data)

    assert response.status_code == 302
    assert list(issue.summaries.values_list("headline", flat=True)) == ["Second", "First"]


CHANGELISTS = [
    "/admin/newsletter/issue/",
    "/admin/newsletter/issue/?q=pyramid",
    "/admin/newsletter/issue/?q=robustness+summary",
    "/admin/newsletter/issue/?status__exact=published",
    "/admin/newsletter/issue/?tag=vision",
    "/admin/newsletter/issue/?year=2026",
    "/admin/newsletter/issue/?section=robustness",
    "/admin/newsletter/issue/?o=5",
    "/admin/newsletter/papersummary/",
    "/admin/newsletter/papersummary/?q=pyramid",
    "/admin/newsletter/papersummary/?section__id__exact=1",
    "/admin/newsletter/papersummary/?kind__exact=feature",
    "/admin/newsletter/papersummary/?tag=vision",
    "/admin/newsletter/papersummary/?year=2026",
    "/admin/newsletter/paper/",
    "/admin/newsletter/paper/?q=2111.15121",
    "/admin/newsletter/paper/?year__exact=2001",
    "/admin/newsletter/paper/?venue=V1",
    "/admin/newsletter/paper/?o=6",
    "/admin/newsletter/section/",
    "/admin/newsletter/author/",
    "/admin/newsletter/author/?q=dan",
]


def make_content(count: int, start: int = 0) -> None:
    """Issues with tagged summaries in two sections, each of a paper, written by an author."""
    sections = [
        Section.objects.get_or_create(slug=slug, defaults={"name": slug.title(), "position": position})[0]
        for position, slug in enumerate(["robustness", "monitoring"])
    ]
    writer = Author.objects.get_or_create(slug="dan-hendrycks", defaults={"name": "Dan Hendrycks"})[0]
    for index in range(start, start + count):
        issue = make_issue(title=f"Pyramid issue {index}")
        issue.tags.add("vision", f"tag-{index}")
        issue.authors.add(writer)
        paper = make_paper(f"Paper {index}", url="", arxiv_id=f"2111.{15000 + index}", venue=f"V{index}")
        paper.year = 2000 + index
        paper.save()
        for section in sections:
            summary = make_summary(issue, section, headline=f"Robustness summary {index}", paper=paper)
            summary.tags.add("vision", f"tag-{index}")


@pytest.mark.parametrize("url", CHANGELISTS)
def test_every_list_searches_and_filters(admin_client, url):
    make_content(3)

    response = admin_client.get(url)

    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/newsletter/issue/",
        "/admin/newsletter/issue/?q=summary&section=robustness",
        "/admin/newsletter/papersummary/",
        "/admin/newsletter/paper/",
        "/admin/newsletter/section/",
        "/admin/newsletter/author/",
    ],
)
def test_lists_run_the_same_queries_for_3_and_30_rows(admin_client, url):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    make_content(3)
    few = queries_for_page()
    make_content(27, start=3)

    assert queries_for_page() == few


def test_the_issue_list_counts_summaries(admin_client):
    make_content(2)

    response = admin_client.get("/admin/newsletter/issue/")

    assert [issue.summary_count for issue in response.context["cl"].result_list] == [2, 2]


def test_the_markdown_preview_is_sanitised(admin_client):
    response = admin_client.post(
        "/markdownx/markdownify/", {"content": "**Bold** <script>alert(1)</script> [x](javascript:alert(1))"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_a_paper_takes_a_pasted_arxiv_link_as_its_id(admin_client):
    response = admin_client.post(
        PAPER_ADD,
        PAPER_FORM | {"title": "Pyramid", "arxiv_id": "arxiv.org/abs/2111.15121v2", "doi": "doi:10.1000/XY"},
    )

    assert response.status_code == 302
    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.doi) == ("2111.15121", "10.1000/XY")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"arxiv_id": "2111.15121v3"}, "already has this arXiv id"),
        ({"url": "https://arxiv.org/abs/2111.15121"}, "already has this arXiv id"),
        ({"doi": "https://doi.org/10.1000/STORED"}, "already has this DOI"),
        ({"doi": "banana"}, "is not a DOI"),
        ({"arxiv_id": "not-an-id"}, "is not an arXiv id"),
        ({"url": "https://arxiv.org/abs/2201.00001", "arxiv_id": "2201.00002"}, "two arXiv papers"),
    ],
)
def test_a_duplicate_or_bad_paper_is_a_form_error(admin_client, fields, message):
    make_paper("Stored", url="", arxiv_id="2111.15121", doi="10.1000/stored")

    response = admin_client.post(PAPER_ADD, PAPER_FORM | {"title": "New"} | fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Paper.objects.count() == 1


def test_a_paper_shows_where_it_was_summarised(admin_client, robustness):
    paper = make_paper()
    summary = make_summary(make_issue(12, title="Twelve"), robustness, headline="Pyramids", paper=paper)

    html = admin_html(admin_client, f"/admin/newsletter/paper/{paper.pk}/change/")

    assert f'href="/admin/newsletter/papersummary/{summary.pk}/change/">Pyramids</a>' in html
    assert "#12: Twelve" in html


def test_the_paper_autocomplete_finds_papers_by_arxiv_id(admin_client):
    make_paper()

    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "2111.15121",
            "app_label": "newsletter",
            "model_name": "papersummary",
            "field_name": "paper",
        },
    )

    assert [result["text"] for result in response.json()["results"]] == [
        "Pyramid Adversarial Training Improves ViT Performance"
    ]


def test_a_summary_can_be_written_on_its_own_page(admin_client, robustness):
    issue = make_issue(published=False)

    response = admin_client.post(
        "/admin/newsletter/papersummary/add/",
        {
            "issue": issue.pk,
            "section": robustness.pk,
            "kind": PaperSummary.Kind.NEWS,
            "position": "",
            "headline": "A workshop",
            "body": "Apply *now*.",
            "paper": "",
            "paper_link": "https://example.org/workshop",
            "paper_title": "The workshop",
            "tags": "",
        },
    )

    assert response.status_code == 302
    summary = PaperSummary.objects.get()
    assert summary.paper.url == "https://example.org/workshop"
    assert summary.position == 1


def test_sections_are_reordered_from_their_list(admin_client):
    first, second = make_section("Robustness", position=1), make_section("Monitoring", position=2)
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": second.pk,
        "form-0-position": "1",
        "form-1-id": first.pk,
        "form-1-position": "2",
        "_save": "Save",
    }

    response = admin_client.post("/admin/newsletter/section/", data)

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.position, first.position) == (1, 2)


def test_issues_found_by_a_search_can_be_deleted_from_the_list(admin_client):
    make_content(2)
    issues = list(Issue.objects.values_list("pk", flat=True))
    data = {"action": "delete_selected", "_selected_action": issues, "post": "yes"}

    response = admin_client.post("/admin/newsletter/issue/?q=summary", data)

    assert response.status_code == 302
    assert not Issue.objects.exists()
    assert Paper.objects.count() == 2  # papers outlive the issues that summarised them
