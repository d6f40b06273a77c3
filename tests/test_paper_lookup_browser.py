"""In a real browser, a writer pastes an arXiv link into a summary on the issue page and sees the
paper's title, authors and year filled in from arXiv (a local server answering in its Atom format);
a paper the index already has says which issue covered it; a link nobody knows says why and leaves
the fields free to type. No inline script: the page runs under the site's CSP."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from newsletter.models import Issue, Paper
from tests import paper_sources
from tests.factories import create_roles, make_issue, make_paper, make_section, make_summary, make_user
from tests.paper_sources import PYRAMID_AUTHORS, PYRAMID_FEED, PYRAMID_ID, PYRAMID_TITLE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


@pytest.fixture
def sources(settings):
    with paper_sources.serving() as served:
        paper_sources.point_settings_at(settings, served)
        yield served


@pytest.fixture
def writer_on_a_new_issue(page, live_server):
    create_roles()  # a transactional test starts from an empty database
    make_section("Robustness")
    sign_in(page, live_server, make_user("wanda", "Writer"))
    page.goto(f"{live_server.url}/admin/newsletter/issue/add/")
    page.fill("#id_number", "5")
    page.fill("#id_title", "Robust vision")
    page.click("#summaries-group .add-row a")
    page.select_option("#id_summaries-0-section", label="Robustness")
    page.fill("#id_summaries-0-headline", "Pyramid adversarial training")
    return page


def test_a_writer_pastes_an_arxiv_link_and_sees_the_paper_filled_in(
    writer_on_a_new_issue, sources, artifacts_dir
):
    page = writer_on_a_new_issue
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED)

    page.fill("#id_summaries-0-paper_link", "https://arxiv.org/abs/2111.15121v2")

    expect(page.locator("#id_summaries-0-paper_title")).to_have_value(PYRAMID_TITLE)
    expect(page.locator("#id_summaries-0-paper_authors")).to_have_value(", ".join(PYRAMID_AUTHORS))
    expect(page.locator("#id_summaries-0-paper_year")).to_have_value("2021")
    expect(page.locator("#id_summaries-0-paper_venue")).to_have_value("arXiv")
    expect(page.locator("#summaries-0 .paper-lookup-status")).to_have_text("Filled in from arXiv.")
    page.locator("#summaries-0 fieldset", has_text="Paper link").screenshot(
        path=str(artifacts_dir / "paper-lookup-filled.png")
    )

    page.click("input[name=_save]")

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    paper = Paper.objects.get()
    assert (paper.title, paper.year, paper.arxiv_id) == (PYRAMID_TITLE, 2021, PYRAMID_ID)
    assert paper.abstract.startswith("Aggressive data augmentation")  # carried by the page
    assert Issue.objects.get(number=5).summaries.get().paper == paper
    assert len(sources.asked("arxiv")) == 1  # the save asked nobody again
    assert page.console_errors == []


def test_a_paper_covered_before_says_in_which_issue(writer_on_a_new_issue, sources):
    page = writer_on_a_new_issue
    covered = make_paper(
        PYRAMID_TITLE, url="https://arxiv.org/abs/2111.15121", authors="Charles Herrmann et al."
    )
    make_summary(make_issue(4), make_section("Monitoring", slug="monitoring"), paper=covered)

    page.fill("#id_summaries-0-paper_link", "arXiv:2111.15121")

    expect(page.locator("#summaries-0 .paper-lookup-status")).to_have_text("Covered before in issue #4.")
    expect(page.locator("#id_summaries-0-paper_title")).to_have_value(PYRAMID_TITLE)
    assert sources.asked() == []
    assert page.console_errors == []


def test_a_link_nobody_knows_says_why_and_what_the_writer_typed_stays(writer_on_a_new_issue, sources):
    page = writer_on_a_new_issue
    page.fill("#id_summaries-0-paper_authors", "Typed by hand")

    page.fill("#id_summaries-0-paper_link", "2111.99999")

    status = page.locator("#summaries-0 .paper-lookup-status")
    expect(status).to_have_text("arXiv has no paper 2111.99999. Enter the paper's details by hand.")
    expect(page.locator("#id_summaries-0-paper_authors")).to_have_value("Typed by hand")
    expect(page.locator("#id_summaries-0-paper_title")).to_have_value("")
    assert page.console_errors == []  # a failed lookup is an answer, not a failed request
