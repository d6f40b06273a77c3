"""Pre-publish checks: each one red and green, and the admin lists them."""

from __future__ import annotations

import pytest

from editorial import checks, workflow
from editorial.models import ReviewComment
from newsletter.models import Issue, PaperSummary
from newsletter.uploads import ALT_PLACEHOLDER
from tests import test_roles
from tests.factories import image_upload, make_issue, make_paper, make_ready_issue, make_section, make_summary

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
managing_editor = test_roles.managing_editor
writer = test_roles.writer


def problems(issue: Issue, name: str) -> list[str]:
    return next(result for result in checks.run_checks(issue) if result.name == name).problems


def test_a_ready_issue_passes_every_check():
    issue = make_ready_issue()

    assert checks.failing(checks.run_checks(issue)) == []


@pytest.mark.parametrize("kind", [PaperSummary.Kind.FEATURE, PaperSummary.Kind.BRIEF])
def test_features_and_briefs_link_a_paper(kind):
    issue = make_ready_issue()
    make_summary(issue, make_section("Alignment"), kind=kind, headline="No paper", paper=None)

    assert problems(issue, "papers") == ["“No paper” (Alignment) links no paper."]


def test_news_needs_no_paper():
    issue = make_ready_issue()
    make_summary(issue, make_section("Other News"), kind=PaperSummary.Kind.NEWS, headline="A prize")

    assert problems(issue, "papers") == []


def test_every_figure_has_alt_text():
    issue = make_ready_issue()
    summary = issue.summaries.get()
    summary.figure = image_upload(size=(200, 100))
    summary.save()

    assert problems(issue, "alt_text") == ["The figure of “Pyramid training” (Section 1) has no alt text."]
    summary.figure_alt = "A chart"
    summary.save()
    assert problems(issue, "alt_text") == []


def test_an_image_without_alt_text_in_a_summary_fails_the_alt_text_check():
    issue = make_ready_issue()
    summary = issue.summaries.get()
    summary.body = "Results:\n\n![](https://news.example.org/media/uploads/chart.png)"
    summary.save()

    assert problems(issue, "alt_text") == [
        "An image in the text of “Pyramid training” (Section 1) has no alt text "
        "(https://news.example.org/media/uploads/chart.png)."
    ]


def test_an_image_without_alt_text_in_the_intro_fails_the_alt_text_check():
    issue = make_ready_issue(intro="Welcome. ![ ](https://news.example.org/media/uploads/team.jpg)")

    assert problems(issue, "alt_text") == [
        "An image in the intro has no alt text (https://news.example.org/media/uploads/team.jpg)."
    ]


def test_the_editors_placeholder_alt_text_fails_the_alt_text_check():
    issue = make_ready_issue()
    summary = issue.summaries.get()
    summary.body = f"![{ALT_PLACEHOLDER}](https://news.example.org/media/uploads/chart.png)"
    summary.save()

    assert problems(issue, "alt_text") == [
        "An image in the text of “Pyramid training” (Section 1) still has the placeholder alt text "
        "(https://news.example.org/media/uploads/chart.png): describe what it shows."
    ]
    summary.body = "![Accuracy against epsilon](https://news.example.org/media/uploads/chart.png)"
    summary.save()
    assert problems(issue, "alt_text") == []


def test_no_section_is_empty():
    empty = make_issue(1, published=False)
    assert problems(empty, "sections") == ["The issue has no summaries."]

    issue = make_ready_issue(2)
    make_summary(
        issue,
        make_section("Alignment"),
        headline="Blank",
        body="",
        paper=make_paper("P", url="https://a.org/p"),
    )
    assert problems(issue, "sections") == ["The feature “Blank” (Alignment) has no text."]


def test_the_subject_fits_78_characters_and_the_preheader_140():
    issue = make_ready_issue(subject="s" * 78)
    assert problems(issue, "lengths") == []

    issue.subject, issue.preheader = "s" * 79, "p" * 141
    issue.save()
    assert problems(issue, "lengths") == [
        "The email subject has 79 characters; at most 78 fit.",
        "The preheader has 141 characters; at most 140 fit.",
    ]


def test_a_missing_preheader_is_measured_as_the_email_shows_it():
    issue = make_ready_issue(preheader="", intro="word " * 40)

    assert "preheader (taken from the intro" in problems(issue, "lengths")[0]


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://arxiv.org/abs/2111.15121", True),
        ("https://example.org:8443/a?b=c#d", True),
        ("http://arxiv.org/abs/2111.15121", False),
        ("https://", False),
        ("https://exa mple.org/", False),
        ("https://localhost/", False),
        ("ftp://example.org/", False),
        ("https://example.org:99999/", False),
    ],
)
def test_is_https_url(url, ok):
    assert checks.is_https_url(url) is ok


def test_links_in_the_text_and_papers_are_https():
    issue = make_ready_issue(intro="See [this](http://example.org/x) and [notes](#notes).")
    make_summary(
        issue,
        make_section("Alignment"),
        headline="Old link",
        paper=make_paper("Old", url="http://old.example.org/p"),
    )

    assert problems(issue, "links") == [
        "The intro: “http://example.org/x” is not an https link.",
        "“Old link” (Alignment): “http://old.example.org/p” is not an https link.",
    ]


def test_unresolved_comments_fail_and_resolved_ones_pass(editor):
    issue = make_ready_issue()
    comment = ReviewComment.objects.create(issue=issue, author=editor, body="Hmm")
    assert problems(issue, "comments") == ["1 review comment is not resolved."]

    from django.utils import timezone

    ReviewComment.objects.filter(pk=comment.pk).update(resolved_at=timezone.now(), resolved_by=editor)
    assert problems(issue, "comments") == []


def test_the_number_is_the_next_after_the_last_published_issue():
    make_issue(4)  # published
    assert problems(make_ready_issue(5), "number") == []
    assert problems(make_ready_issue(7), "number") == [
        "The issue number should be 5, the next after #4; it is 7."
    ]


def test_a_published_issue_is_judged_against_the_issues_published_before_it():
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    make_issue(4, published_at=now - timedelta(days=60))
    fifth = make_issue(5, published_at=now - timedelta(days=30))
    make_issue(6, published_at=now - timedelta(days=1))

    assert problems(fifth, "number") == []


def test_with_no_published_issue_any_number_will_do():
    assert problems(make_ready_issue(12), "number") == []


def test_an_unpublished_issue_may_come_back_under_its_number(managing_editor):
    first = make_ready_issue(1, status=Issue.Status.APPROVED)
    workflow.publish(first, managing_editor)
    second = make_ready_issue(2, status=Issue.Status.APPROVED)
    workflow.publish(second, managing_editor)
    workflow.unpublish(first, managing_editor)

    assert problems(first, "number") == []


def test_the_admin_lists_the_checks_green_and_red(client, writer, editor):
    issue = make_ready_issue(created_by=writer, subject="x" * 90)
    client.force_login(editor)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()

    assert page.count('class="check-pass"') == 7
    assert page.count('class="check-fail"') == 1
    assert "The email subject has 90 characters" in page


def test_publishing_from_the_admin_shows_why_it_was_refused(client, writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Issue.Status.APPROVED, preheader="p" * 150)
    client.force_login(managing_editor)

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/workflow/publish/", follow=True)

    assert "The pre-publish checks fail: The preheader has 150 characters" in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.APPROVED
