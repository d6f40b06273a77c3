"""Who may do what. Roles are Django groups made by migration 0002_roles; their permissions are
the `editorial.*` ones declared on Transition plus the content models' own.

| role             | may                                                                    |
| ---------------- | ---------------------------------------------------------------------- |
| Writer           | create issues, edit their own drafts and summaries, submit for review  |
| Editor           | all a writer may, on any draft; comment, request changes, approve     |
| Managing editor  | all an editor may; publish, schedule, unpublish, send                  |

Superusers have every permission.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from newsletter.models import Issue

WRITER = "Writer"
EDITOR = "Editor"
MANAGING_EDITOR = "Managing editor"
ROLES = (WRITER, EDITOR, MANAGING_EDITOR)

User = AbstractBaseUser | AnonymousUser

# A writer changes their own issue while it is theirs to work on; an editor also during review
# and after approval (which sends it back to review). Scheduled and published issues are not
# edited in place: cancel the schedule or unpublish first.
WRITER_EDITABLE = frozenset({Issue.Status.DRAFT, Issue.Status.CHANGES_REQUESTED})
EDITOR_EDITABLE = WRITER_EDITABLE | {Issue.Status.IN_REVIEW, Issue.Status.APPROVED}


def has(user: User, permission: str) -> bool:
    """`user` is active and has the permission `editorial.<permission>` (superusers have all)."""
    return bool(user and user.is_active and user.has_perm(f"editorial.{permission}"))


def owns(user: User, issue: Issue) -> bool:
    return issue.created_by_id is not None and issue.created_by_id == user.pk


def sees_every_issue(user: User) -> bool:
    """Editors and managing editors see every issue; a writer sees only their own."""
    return has(user, "edit_any_issue") or has(user, "review_issue") or has(user, "publish_issue")


def can_view(user: User, issue: Issue) -> bool:
    return user.has_perm("newsletter.view_issue") and (sees_every_issue(user) or owns(user, issue))


def can_edit(user: User, issue: Issue) -> bool:
    """May `user` change the issue's content (fields and summaries) now?"""
    if not user.has_perm("newsletter.change_issue"):
        return False
    if has(user, "edit_any_issue"):
        return issue.status in EDITOR_EDITABLE
    return owns(user, issue) and issue.status in WRITER_EDITABLE


def edit_refusal(user: User, issue: Issue) -> str:
    """Why `user` may not edit the issue, in a sentence for the admin ("" when they may)."""
    if can_edit(user, issue):
        return ""
    if issue.status == Issue.Status.PUBLISHED:
        return "A published issue is not edited in place: unpublish it first."
    if issue.status == Issue.Status.SCHEDULED:
        return "A scheduled issue is not edited: cancel the schedule first."
    if not owns(user, issue) and not has(user, "edit_any_issue"):
        return "Only its writer and the editors may edit this issue."
    return f"The issue is {issue.get_status_display().lower()}: it is not yours to edit until it comes back."
