"""Every transition of editorial/workflow.py, allowed and refused, with the actor's role; four eyes;
editing an approved issue; the audit rows."""

from __future__ import annotations

import pytest

from editorial import workflow
from editorial.models import ReviewComment, Transition
from newsletter.models import Issue
from tests import test_roles
from tests.factories import make_issue, make_ready_issue, make_user

pytestmark = pytest.mark.django_db

# The role fixtures, shared with tests/test_roles.py.
editor = test_roles.editor
managing_editor = test_roles.managing_editor
other_writer = test_roles.other_writer
writer = test_roles.writer
Status = Issue.Status


def test_an_issue_created_outside_the_admin_records_its_writer(writer):
    issue = workflow.create_issue(Issue(number=7, title="Robustness roundup"), writer)

    issue.refresh_from_db()
    assert (issue.status, issue.created_by) == (Status.DRAFT, writer)


def test_creating_an_issue_needs_the_role_to(db):
    with pytest.raises(workflow.NotAllowed, match="create issues"):
        workflow.create_issue(Issue(number=7, title="Robustness roundup"), make_user("reader"))

    assert not Issue.objects.exists()


def test_a_writer_submits_their_draft(writer):
    issue = make_ready_issue(created_by=writer)

    transition = workflow.submit(issue, writer, "Ready for you")

    assert issue.status == Status.IN_REVIEW
    row = Transition.objects.get()
    assert (row.actor, row.from_status, row.to_status, row.comment) == (
        writer,
        Status.DRAFT,
        Status.IN_REVIEW,
        "Ready for you",
    )
    assert row == transition and row.created_at is not None


def test_an_editor_may_submit_any_draft(writer, editor):
    issue = make_ready_issue(created_by=writer)

    workflow.submit(issue, editor)

    assert issue.status == Status.IN_REVIEW


def test_an_empty_issue_cannot_be_submitted(writer):
    issue = make_issue(1, published=False, created_by=writer)

    with pytest.raises(workflow.NotReady, match="at least one summary"):
        workflow.submit(issue, writer)


def test_a_resubmission_after_changes_goes_back_to_review(writer):
    issue = make_ready_issue(created_by=writer, status=Status.CHANGES_REQUESTED)

    workflow.submit(issue, writer)

    assert issue.status == Status.IN_REVIEW


def test_pressing_submit_twice_moves_the_issue_once(writer):
    issue = make_ready_issue(created_by=writer)
    stale_copy = Issue.objects.get(pk=issue.pk)
    workflow.submit(issue, writer)

    with pytest.raises(workflow.WrongState):
        workflow.submit(stale_copy, writer)

    assert Transition.objects.count() == 1


def test_an_editor_requests_changes_with_a_comment(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    workflow.request_changes(issue, editor, "Shorten the intro.")

    assert issue.status == Status.CHANGES_REQUESTED
    assert Transition.objects.get().comment == "Shorten the intro."


def test_requesting_changes_needs_a_comment_or_open_review_comments(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    with pytest.raises(workflow.NotReady, match="Say what should change"):
        workflow.request_changes(issue, editor, "  ")

    ReviewComment.objects.create(issue=issue, author=editor, body="Fix the headline.")
    workflow.request_changes(issue, editor)
    assert issue.status == Status.CHANGES_REQUESTED


def test_an_editor_approves_a_writers_issue(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    workflow.approve(issue, editor, "Good to go")

    assert issue.status == Status.APPROVED
    assert Transition.objects.get().actor == editor


def test_the_last_author_of_changes_cannot_approve_four_eyes(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)
    Issue.objects.filter(pk=issue.pk).update(last_edited_by=editor)  # the editor fixed a typo

    with pytest.raises(workflow.NotAllowed, match="four eyes"):
        workflow.approve(issue, editor)

    second_editor = make_user("erin", "Editor")
    workflow.approve(issue, second_editor)
    assert issue.status == Status.APPROVED


def test_a_superuser_may_approve_their_own_changes_and_the_audit_row_says_so(admin_user):
    issue = make_ready_issue(created_by=admin_user, status=Status.IN_REVIEW)

    workflow.approve(issue, admin_user)

    assert "Four-eyes rule waived" in Transition.objects.get().comment


def test_unresolved_comments_block_approval(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)
    ReviewComment.objects.create(issue=issue, author=editor, body="What about the figure?")

    with pytest.raises(workflow.NotReady, match="1 review comment is not resolved"):
        workflow.approve(issue, editor)


def test_a_writer_withdraws_their_submission(writer):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    workflow.back_to_draft(issue, writer, "One more paper")

    assert issue.status == Status.DRAFT


def test_an_editor_returns_an_approved_issue_to_draft(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)

    workflow.back_to_draft(issue, editor)

    assert issue.status == Status.DRAFT


def test_a_managing_editor_publishes_an_approved_issue(client, writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)

    workflow.publish(issue, managing_editor)

    assert issue.status == Status.PUBLISHED and issue.published_at is not None
    assert client.get(f"/issues/{issue.number}/").status_code == 200


def test_publishing_refuses_while_a_check_fails(writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED, subject="x" * 79)

    with pytest.raises(workflow.ChecksFailed, match="79 characters"):
        workflow.publish(issue, managing_editor)

    assert Issue.objects.get(pk=issue.pk).status == Status.APPROVED


def test_a_managing_editor_unpublishes_and_the_issue_leaves_the_site(client, writer, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)
    workflow.publish(issue, managing_editor)

    workflow.unpublish(issue, managing_editor, "Wrong figure")

    assert (issue.status, issue.published_at) == (Status.APPROVED, None)
    assert client.get(f"/issues/{issue.number}/").status_code == 404


def test_an_editor_cannot_unpublish(writer, editor, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)
    workflow.publish(issue, managing_editor)

    with pytest.raises(workflow.NotAllowed):
        workflow.unpublish(issue, editor)


def test_editing_an_approved_issue_sends_it_back_to_review(writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)

    transition = workflow.record_edit(issue, editor)

    assert issue.status == Status.IN_REVIEW and issue.last_edited_by == editor
    assert (transition.from_status, transition.to_status) == (Status.APPROVED, Status.IN_REVIEW)


def test_editing_an_approved_issue_in_the_admin_sends_it_back_to_review(client, writer, editor):
    issue = make_ready_issue(created_by=writer, status=Status.APPROVED)
    client.force_login(editor)
    form = client.get(f"/admin/newsletter/issue/{issue.pk}/change/").context["adminform"].form
    data = {name: value for name, value in _form_data(form).items()}
    data.update(_management_data(issue), title="A better title")

    response = client.post(f"/admin/newsletter/issue/{issue.pk}/change/", data)

    assert response.status_code == 302
    issue.refresh_from_db()
    assert (issue.title, issue.status, issue.last_edited_by) == ("A better title", Status.IN_REVIEW, editor)


def test_every_move_bumps_the_version(writer, editor):
    issue = make_ready_issue(created_by=writer)
    before = issue.version

    workflow.submit(issue, writer)
    workflow.approve(issue, editor)

    assert issue.version == before + 2


def test_the_buttons_follow_the_role_and_state(writer, editor, managing_editor):
    issue = make_ready_issue(created_by=writer, status=Status.IN_REVIEW)

    def names(user):
        return [action.name for action in workflow.allowed_actions(issue, user)]

    assert names(writer) == ["back_to_draft"]
    assert names(editor) == ["request_changes", "approve", "back_to_draft"]
    assert names(managing_editor) == ["request_changes", "approve", "back_to_draft"]


# Helpers for posting the issue form as the admin renders it ------------------------------------


def _form_data(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "tags":
            value = ""
        elif name == "authors":
            value = [author.pk for author in value] if value else []
        data[name] = "" if value is None else value
    return data


def _management_data(issue: Issue) -> dict:
    summaries = list(issue.summaries.all())
    data = {
        "summaries-TOTAL_FORMS": str(len(summaries)),
        "summaries-INITIAL_FORMS": str(len(summaries)),
        "summaries-MIN_NUM_FORMS": "0",
        "summaries-MAX_NUM_FORMS": "1000",
    }
    for index, summary in enumerate(summaries):
        prefix = f"summaries-{index}-"
        data |= {
            prefix + "id": summary.pk,
            prefix + "issue": issue.pk,
            prefix + "section": summary.section_id,
            prefix + "kind": summary.kind,
            prefix + "position": summary.position,
            prefix + "headline": summary.headline,
            prefix + "body": summary.body,
            prefix + "paper": summary.paper_id or "",
            prefix + "figure_caption": summary.figure_caption,
            prefix + "figure_alt": summary.figure_alt,
            prefix + "writer": summary.writer_id or "",
            prefix + "tags": "",
        }
    return data


# Refused transitions: (who wrote the issue, its status, the action, who tries, the error, its reason).
REFUSALS = {
    "a writer cannot submit another writer's draft": (
        "other_writer",
        Status.DRAFT,
        "submit",
        "writer",
        workflow.NotAllowed,
        "Only the issue's writer or an editor",
    ),
    "an approved issue cannot be submitted": (
        "writer",
        Status.APPROVED,
        "submit",
        "writer",
        workflow.WrongState,
        "approved issue cannot",
    ),
    "a writer cannot request changes": (
        "writer",
        Status.IN_REVIEW,
        "request_changes",
        "writer",
        workflow.NotAllowed,
        "Your role does not allow",
    ),
    "a writer cannot approve": (
        "writer",
        Status.IN_REVIEW,
        "approve",
        "writer",
        workflow.NotAllowed,
        "Your role does not allow",
    ),
    "a managing editor who wrote the issue cannot approve it": (
        "managing_editor",
        Status.IN_REVIEW,
        "approve",
        "managing_editor",
        workflow.NotAllowed,
        "another editor must approve",
    ),
    "a writer cannot withdraw another writer's issue": (
        "other_writer",
        Status.IN_REVIEW,
        "back_to_draft",
        "writer",
        workflow.NotAllowed,
        "Only the issue's writer or an editor may back to draft",
    ),
    "a writer cannot publish": (
        "writer",
        Status.APPROVED,
        "publish",
        "writer",
        workflow.NotAllowed,
        "Your role does not allow you to publish now",
    ),
    "an editor cannot publish": (
        "writer",
        Status.APPROVED,
        "publish",
        "editor",
        workflow.NotAllowed,
        "Your role does not allow you to publish now",
    ),
    "an issue in review cannot be published": (
        "writer",
        Status.IN_REVIEW,
        "publish",
        "managing_editor",
        workflow.WrongState,
        "in review issue cannot",
    ),
}


@pytest.mark.parametrize(
    ("creator", "status", "action", "actor", "error", "reason"), REFUSALS.values(), ids=REFUSALS
)
def test_a_refused_transition_says_why_and_changes_nothing(
    request, creator, status, action, actor, error, reason
):
    issue = make_ready_issue(created_by=request.getfixturevalue(creator), status=status)

    with pytest.raises(error, match=reason):
        getattr(workflow, action)(issue, request.getfixturevalue(actor))

    assert Issue.objects.get(pk=issue.pk).status == status
    assert not Transition.objects.exists()
