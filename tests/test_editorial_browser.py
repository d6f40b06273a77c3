"""In a real browser, an issue goes the whole editorial round trip in the admin: a writer drafts it
with two summaries and submits it; an editor comments and requests changes; the writer fixes it
and resubmits; the editor approves; the managing editor publishes; the public site shows it.
Each step leaves a screenshot in the test artifacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from editorial.models import ReviewComment, Transition
from newsletter.models import Issue
from tests.factories import create_roles, make_section, make_user

PASSWORD = "correct horse battery staple"
Status = Issue.Status


def log_in(page, base_url: str, username: str, next_url: str = "/admin/") -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def fill_summary(page, index: int, section: str, headline: str, body: str, link: str, title: str) -> None:
    page.click("#summaries-group .add-row a")
    page.select_option(f"#id_summaries-{index}-section", label=section)
    page.fill(f"#id_summaries-{index}-headline", headline)
    page.fill(f"#id_summaries-{index}-body", body)
    page.fill(f"#id_summaries-{index}-paper_link", link)
    page.fill(f"#id_summaries-{index}-paper_title", title)


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_issue_goes_from_draft_to_the_public_site(page, live_server, artifacts_dir, fast_passwords):
    create_roles()
    make_user("wanda", "Writer", password=PASSWORD)
    make_user("edith", "Editor", password=PASSWORD)
    make_user("max", "Managing editor", password=PASSWORD)
    make_section("Robustness", position=0)
    make_section("Monitoring", position=1)
    base = live_server.url

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"editorial-{name}.png"), full_page=True)

    # 1. The writer drafts the issue with two summaries, then submits it.
    log_in(page, base, "wanda", "/admin/newsletter/issue/add/")
    page.fill("#id_number", "1")
    page.fill("#id_title", "Robust vision and honest models")
    page.fill("#id_preheader", "Adversarial training for ViTs, and detecting lies.")
    page.fill("#id_intro", "Welcome to the **first** issue.")
    fill_summary(
        page,
        0,
        "Robustness",
        "Pyramid adversarial training improves ViT performance",
        "Adversarial training *helps* vision transformers.",
        "https://arxiv.org/abs/2111.15121",
        "Pyramid Adversarial Training Improves ViT Performance",
    )
    fill_summary(
        page,
        1,
        "Monitoring",
        "Detecting lies in language models",
        "Probes find what models know.",
        "https://arxiv.org/abs/2212.03827",
        "Discovering Latent Knowledge in Language Models Without Supervision",
    )
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("Draft")
    shot("01-writer-drafted")
    page.click("button[data-action=submit]")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("In review")
    expect(page.locator("button[data-action=approve]")).to_have_count(0)  # not for writers
    shot("02-writer-submitted")
    issue = Issue.objects.get(number=1)

    # 2. The editor comments on a summary and requests changes.
    log_in(page, base, "edith")
    expect(page.locator("#dashboard-review")).to_contain_text("Robust vision and honest models")
    page.click("#dashboard-review a")
    page.select_option("#id_comment_summary", label="Detecting lies in language models")
    page.fill("#id_comment_body", "Say which models the probes were tested on.")
    page.click(".editorial-comment-form button[type=submit]")
    expect(page.locator(".editorial-thread")).to_contain_text("Say which models")
    page.fill(
        ".editorial-action-form:has(button[data-action=request_changes]) input[name=comment]",
        "One fix, please.",
    )
    page.click("button[data-action=request_changes]")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("Changes requested")
    shot("03-editor-requested-changes")

    # 3. The writer sees the request, fixes the summary, replies and resubmits.
    log_in(page, base, "wanda")
    expect(page.locator("#dashboard-my-drafts")).to_contain_text("1 open comment for you")
    shot("04-writer-dashboard")
    page.click("#dashboard-my-drafts a")
    page.fill("#id_summaries-1-body", "Probes find what models know, on GPT-J and T5.")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    page.fill(".editorial-reply-form input[name=body]", "Added: GPT-J and T5.")
    page.click(".editorial-reply-form button[type=submit]")
    expect(page.locator(".editorial-reply")).to_contain_text("GPT-J and T5")
    page.click("button[data-action=submit]")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("In review")
    shot("05-writer-resubmitted")

    # 4. The editor sees what changed, resolves the comment and approves.
    log_in(page, base, "edith", f"/admin/newsletter/issue/{issue.pk}/change/")
    expect(page.locator("#editorial-review-changes")).to_contain_text("on GPT-J and T5")
    page.click(".editorial-thread-actions button:has-text('Resolve')")
    expect(page.locator(".editorial-thread")).to_contain_text("resolved by edith")
    page.click("button[data-action=approve]")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("Approved")
    expect(page.locator("button[data-action=publish]")).to_have_count(0)  # not for editors
    shot("06-editor-approved")

    # 5. The managing editor checks and publishes.
    log_in(page, base, "max", f"/admin/newsletter/issue/{issue.pk}/change/")
    expect(page.locator(".editorial-checks .check-fail")).to_have_count(0)
    page.click("button[data-action=publish]")
    expect(page.locator(".editorial-state .workflow-state")).to_have_text("Published")
    shot("07-managing-editor-published")

    # 6. The public site shows it.
    page.context.clear_cookies()
    page.goto(f"{base}/issues/1/")
    expect(page.locator("h1")).to_have_text("Robust vision and honest models")
    expect(page.locator("body")).to_contain_text("on GPT-J and T5")
    shot("08-public-issue")

    assert [(t.from_status, t.to_status) for t in Transition.objects.order_by("pk")] == [
        (Status.DRAFT, Status.IN_REVIEW),
        (Status.IN_REVIEW, Status.CHANGES_REQUESTED),
        (Status.CHANGES_REQUESTED, Status.IN_REVIEW),
        (Status.IN_REVIEW, Status.APPROVED),
        (Status.APPROVED, Status.PUBLISHED),
    ]
    assert not ReviewComment.objects.unresolved().exists()
    assert page.console_errors == []
