"""Who may do what. Roles are Django groups; migration 0003_roles_by_what_they_do gives each one
the permissions of what it does (the `editorial.*` ones declared on Transition plus the models'
own), and the functions here add the rules that depend on the object: whose issue, in what state.

| role             | may                                                                         |
| ---------------- | --------------------------------------------------------------------------- |
| Writer           | create issues; edit their own drafts and summaries and the papers only      |
|                  | their drafts use; comment; submit for review. Sees their own issues, the    |
|                  | papers those and the public site use, sections, authors, and in the outbox  |
|                  | only the emails sent to their own address (their test emails)               |
| Editor           | all a writer may, on any issue not yet scheduled or published; comment,     |
|                  | request changes, approve; edit the papers only such issues use; authors     |
| Managing editor  | all an editor may; publish, schedule, unpublish, delete issues; correct any |
|                  | paper, including those on the public site; sections; start, watch, pause,   |
|                  | resume and cancel sends; see subscribers, suppressions and the whole outbox |
|                  | import a publication from another platform (importers.run_import, granted   |
|                  | by migration importers/0002)                                                |

Superusers have every permission (and users, groups, tags and the task queue are theirs alone).
Anything a role may not do is refused with a page in the admin's layout saying what
(newsletter/access.py), and tests/test_access_matrix.py walks every URL as every role.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as Account
from django.db.models import Exists, OuterRef, Q, QuerySet

from newsletter.models import Issue, Paper, PaperSummary

WRITER = "Writer"
EDITOR = "Editor"
MANAGING_EDITOR = "Managing editor"
ROLES = (WRITER, EDITOR, MANAGING_EDITOR)

User = Account | AnonymousUser

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


def visible_issues(user: User, issues: QuerySet[Issue]) -> QuerySet[Issue]:
    """The issues `user` sees in the admin: every one for editors, a writer's own for a writer."""
    if sees_every_issue(user):
        return issues
    return issues.filter(created_by=user.pk) if user.pk is not None else issues.none()


def view_refusal(user: User, issue: Issue) -> str:
    """Why `user` may not open the issue, in a sentence for the refusal page ("" when they may)."""
    if can_view(user, issue):
        return ""
    if not user.has_perm("newsletter.view_issue"):
        return "Your role does not allow you to see issues."
    return (
        f"Issue #{issue.number} is another writer's: a writer sees and edits only the issues they "
        "started. Ask an editor if you need to work on it."
    )


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


# Papers -----------------------------------------------------------------------------------------
# A paper is shared: every summary of it, in any issue, shows its title and link. So who may
# change it follows from the issues that use it. A writer changes a paper only their own drafts
# use; an editor one that only issues they may edit use; a paper of a scheduled or published
# issue (on the public site, or about to be) is corrected by a managing editor, the role that
# answers for what is public. Django's admin history records every change to a paper.


def issues_using(paper: Paper) -> QuerySet[Issue]:
    return Issue.objects.filter(Exists(PaperSummary.objects.filter(issue=OuterRef("pk"), paper=paper)))


def can_change_paper(user: User, paper: Paper) -> bool:
    if not user.has_perm("newsletter.change_paper"):
        return False
    if has(user, "publish_issue"):
        return True
    issues = list(issues_using(paper))
    if not issues:
        return user.has_perm("newsletter.add_paper")
    return all(can_edit(user, issue) for issue in issues)


def paper_refusal(user: User, paper: Paper) -> str:
    """Why `user` may not change the paper, in a sentence for the admin ("" when they may)."""
    if can_change_paper(user, paper):
        return ""
    if not user.has_perm("newsletter.change_paper"):
        return "Your role does not allow you to change papers."
    blocking = [issue for issue in issues_using(paper).order_by("-number") if not can_edit(user, issue)]
    public = [issue for issue in blocking if issue.status in (Issue.Status.PUBLISHED, Issue.Status.SCHEDULED)]
    if public:
        where = "on the public site" if public[0].status == Issue.Status.PUBLISHED else "scheduled"
        return (
            f"This paper is in issue #{public[0].number}, which is {where}: only a managing editor "
            "corrects it."
        )
    if blocking:
        numbers = ", ".join(f"#{issue.number}" for issue in blocking)
        return (
            f"This paper is also summarised in {numbers}, which you may not edit now: only someone "
            "who may edit every issue that uses it changes it."
        )
    return "Your role does not allow you to add papers, so you may not change an unused one."


def visible_papers(user: User, papers: QuerySet[Paper]) -> QuerySet[Paper]:
    """The papers `user` sees in the admin. Editors see every one; a writer sees the papers no issue
    uses yet, those on the public site and those their own issues use, but not what exists only
    in other writers' drafts."""
    if sees_every_issue(user):
        return papers
    return papers.filter(
        ~Exists(PaperSummary.objects.filter(paper=OuterRef("pk")))
        | Exists(visible_summaries(user, PaperSummary.objects.filter(paper=OuterRef("pk"))))
    )


def visible_summaries(user: User, summaries: QuerySet[PaperSummary]) -> QuerySet[PaperSummary]:
    """The summaries `user` may know of: those of issues they see, and those on the public site."""
    if sees_every_issue(user):
        return summaries
    public = Q(issue__in=Issue.objects.published())
    return summaries.filter(public | Q(issue__created_by=user.pk) if user.pk is not None else public)
