"""The public archive in a real browser: every kind of page loads, is accessible and fits a phone.

One test visits every page on a single load of the content (a transactional database is flushed
after each test, and loading the demo is the slow part), so its failure lists every problem on every
page at once. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser_helpers import (
    BLOCKING_IMPACTS,
    audit_page,
    build_small_content,
    load_content,
    minor_violations_report,
    public_paths,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_pages_load_cleanly_pass_axe_and_fit_a_phone(live_server, page, artifacts_dir):
    source = load_content()
    audits = [audit_page(page, name, live_server.url + path, artifacts_dir) for name, path in public_paths()]

    problems = [f"{audit.name} {audit.url}: {problem}" for audit in audits for problem in audit.problems()]
    for line in minor_violations_report(audits):
        print(line)  # shown with -rP; not failures
    assert not problems, f"content from {source}:\n" + "\n".join(problems)


def test_search_form_finds_a_summary(live_server, page, artifacts_dir):
    build_small_content()  # the search box needs no demo; this keeps the test quick
    page.goto(live_server.url + "/")

    page.get_by_role("link", name="Search", exact=True).first.click()
    search_box = page.get_by_role("searchbox").or_(page.get_by_role("textbox")).first
    search_box.fill("adversarial")
    search_box.press("Enter")
    page.wait_for_load_state("load")

    assert "/search/" in page.url and "q=adversarial" in page.url
    results = page.locator("main a[href*='/issues/']")
    assert results.count() > 0, "a search for 'adversarial' lists no issue link"
    page.screenshot(path=str(artifacts_dir / "public-search-submitted.png"), full_page=True)
    assert page.console_errors == []


def test_unknown_page_is_a_helpful_404(live_server, page):
    response = page.goto(live_server.url + "/no-such-page/")

    assert response.status == 404
    assert page.get_by_role("link", name="Issues").count() > 0, "the 404 page offers no way back"
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in BLOCKING_IMPACTS] == []
