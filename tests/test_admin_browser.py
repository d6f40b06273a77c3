"""In a real browser, an editor drafts an issue in the admin: live Markdown preview, a summary
added with "Add another", a paper from a pasted arXiv link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from newsletter.models import Issue, Paper
from tests.factories import make_section

PASSWORD = "correct horse battery staple"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_editor_drafts_an_issue_in_the_admin(page, live_server, django_user_model):
    django_user_model.objects.create_superuser("editor", "editor@example.org", PASSWORD)
    make_section("Robustness")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/newsletter/issue/add/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.fill("#id_number", "3")
    page.fill("#id_title", "Transformers and trojans")
    page.click("#id_intro")
    page.keyboard.type("Welcome to **issue 3**.")
    expect(page.locator(".field-intro .markdownx-preview strong")).to_have_text("issue 3")

    page.click("#summaries-group .add-row a")
    page.select_option("#id_summaries-0-section", label="Robustness")
    expect(page.locator("#summaries-0 [data-summary-section]")).to_have_text(
        "Robustness · Feature (full summary)"
    )
    page.fill("#id_summaries-0-headline", "Pyramid adversarial training improves ViT performance")
    page.click("#id_summaries-0-body")
    page.keyboard.type("Adversarial training *helps* vision transformers.")
    expect(page.locator("#summaries-0 .markdownx-preview em")).to_have_text("helps")
    page.fill("#id_summaries-0-paper_link", "https://arxiv.org/abs/2111.15121v2")
    page.fill("#id_summaries-0-paper_title", "Pyramid Adversarial Training Improves ViT Performance")
    page.click("input[name=_save]")

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    issue = Issue.objects.get(number=3)
    assert issue.slug == "transformers-and-trojans"
    assert issue.intro_html == "<p>Welcome to <strong>issue 3</strong>.</p>"
    paper = Paper.objects.get()
    assert paper.arxiv_id == "2111.15121"
    assert issue.summaries.get().paper == paper
    assert page.console_errors == []
