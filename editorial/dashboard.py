"""What the admin dashboard shows each person: their notifications (the unread count and the
latest ones), their drafts (and what reviewers asked of them), the issues waiting for their review,
and what is scheduled."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from newsletter.models import Issue

from . import notifications
from .models import Notification, Schedule
from .roles import User, has

Status = Issue.Status


@dataclass
class Dashboard:
    my_drafts: list[Issue] = field(default_factory=list)
    waiting_for_review: list[Issue] = field(default_factory=list)
    scheduled: list[Schedule] = field(default_factory=list)
    failed_schedules: list[Schedule] = field(default_factory=list)
    is_reviewer: bool = False
    # Shown to every member of staff who sees issues, even with nothing new: it links their settings.
    shows_notifications: bool = False
    notifications: list[Notification] = field(default_factory=list)
    unread_notifications: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.my_drafts or self.waiting_for_review or self.scheduled or self.failed_schedules)


def dashboard_for(user: User) -> Dashboard:
    if not user.is_authenticated or not user.has_perm("newsletter.view_issue"):
        return Dashboard()
    open_comments = Count(
        "review_comments",
        filter=Q(review_comments__parent__isnull=True, review_comments__resolved_at__isnull=True),
    )
    my_drafts = (
        Issue.objects.filter(created_by=user, status__in=[Status.DRAFT, Status.CHANGES_REQUESTED])
        .annotate(open_comments=open_comments)
        .order_by("-status", "-updated_at")  # changes requested first
    )
    board = Dashboard(
        my_drafts=list(my_drafts),
        is_reviewer=has(user, "review_issue"),
        shows_notifications=True,
        notifications=notifications.recent(user),
        unread_notifications=notifications.unread_count(user),
    )
    if board.is_reviewer:
        board.waiting_for_review = list(
            Issue.objects.filter(status=Status.IN_REVIEW)
            .annotate(open_comments=open_comments)
            .order_by("updated_at")
        )
    schedules = Schedule.objects.select_related("issue", "scheduled_by")
    if not has(user, "publish_issue") and not has(user, "review_issue"):
        schedules = schedules.filter(issue__created_by=user)
    board.scheduled = list(schedules.filter(issue__status=Status.SCHEDULED).order_by("issue__scheduled_for"))
    if has(user, "publish_issue"):
        board.failed_schedules = list(
            schedules.filter(failed_at__isnull=False, issue__status=Status.APPROVED)
        )
    return board
