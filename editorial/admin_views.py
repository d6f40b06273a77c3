"""The editorial admin views behind the issue page's buttons and panels.

Each view parses the request, calls one domain function, tells the editor the outcome (a refusal's
message as it is) and goes back to the issue. Every change is a POST; WorkflowIssueAdmin.get_urls
wires them, after checking that the user may see the issue.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from reversion.models import Version

from newsletter import views as public_views
from newsletter.models import Issue
from newsletter.rendering import preview_values, render_issue_email

from . import checks, diffs, previews, review, revisions, roles, workflow
from .forms import ActionForm, CommentForm, ScheduleForm
from .models import PreviewLink, ReviewComment, Schedule, Transition
from .tasks import send_test_email as send_test_email_task

T = TypeVar("T")

# The email comes from our own templates, but it is shown in a frame with its inline CSS and
# images only: no scripts, no forms, and only this site may frame it.
EMAIL_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def issue_url(issue: Issue, suffix: str = "") -> str:
    return reverse("admin:newsletter_issue_change", args=[issue.pk]) + suffix


def _back(issue: Issue, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(issue_url(issue) + (f"#{anchor}" if anchor else ""))


def _tell_outcome(
    request: HttpRequest,
    refusal: type[Exception],
    action: Callable[[], T],
    success: str | Callable[[T], str],
) -> None:
    """Runs `action` and tells the editor how it went: `success` (called with what the action
    returned, if it is a function), or a `refusal`'s message as it is."""
    try:
        result = action()
    except refusal as exc:
        messages.error(request, str(exc))
        return
    messages.success(request, success(result) if callable(success) else success)


def panel_context(request: HttpRequest, issue: Issue) -> dict:
    """What the issue's change page shows beside the form."""
    user = request.user
    mark, review_changes = (
        review.changes_since_last_review(issue, user) if roles.has(user, "review_issue") else (None, [])
    )
    schedule = Schedule.objects.filter(issue=issue).first()
    zone = schedule.time_zone if schedule else timezone.get_current_timezone_name()
    schedule_initial = {"time_zone": zone, "start_send": schedule.start_send if schedule else False}
    if schedule and issue.scheduled_for:
        local = schedule.local_publish_at
        schedule_initial |= {"publish_on": local.date(), "publish_time": local.strftime("%H:%M")}
    links = [
        (link, previews.url_for(link))
        for link in PreviewLink.objects.filter(issue=issue, revoked_at__isnull=True)
        if link.is_active
    ]
    return {
        "editorial": {
            "issue": issue,
            "actions": workflow.allowed_actions(issue, user),
            "action_form": ActionForm(),
            "edit_refusal": roles.edit_refusal(user, issue),
            "checks": checks.run_checks(issue, as_of=issue.scheduled_for),
            "threads": review.threads(issue),
            "comment_form": CommentForm(issue=issue, auto_id="id_comment_%s"),
            "may_comment": user.has_perm("editorial.add_reviewcomment"),
            "may_resolve": roles.has(user, "review_issue"),
            "transitions": Transition.objects.filter(issue=issue)
            .select_related("actor")
            .order_by("-created_at", "-pk"),
            "review_mark": mark,
            "review_changes": review_changes,
            "is_reviewer": roles.has(user, "review_issue"),
            "preview_links": links,
            "schedule": schedule,
            "may_schedule": workflow.can_schedule(issue, user),
            "schedule_form": ScheduleForm(initial=schedule_initial),
        }
    }


@require_POST
def run_action(request: HttpRequest, model_admin: ModelAdmin, issue: Issue, action: str) -> HttpResponse:
    form = ActionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        transition = workflow.run(action, issue, request.user, comment)
    except workflow.WorkflowError as exc:
        messages.error(request, exc.message)
        return _back(issue)
    messages.success(request, f"“{issue}” is now {transition.get_to_status_display().lower()}.")
    return _back(issue)


@require_POST
def schedule(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else ''} {' '.join(errs)}".strip()
            for name, errs in form.errors.items()
        )
        messages.error(request, f"The schedule was not saved: {errors}")
        return _back(issue, "editorial-schedule")
    data = form.cleaned_data
    try:
        workflow.schedule(
            issue,
            request.user,
            data["publish_at"],
            start_send=data["start_send"],
            timezone_name=data["time_zone"],
            comment=data["comment"],
        )
    except workflow.WorkflowError as exc:
        messages.error(request, exc.message)
        return _back(issue, "editorial-schedule")
    local = timezone.localtime(data["publish_at"], zoneinfo.ZoneInfo(data["time_zone"]))
    messages.success(
        request, f"“{issue}” will be published on {local:%Y-%m-%d at %H:%M} ({data['time_zone']})."
    )
    return _back(issue)


@require_POST
def add_comment(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    form = CommentForm(request.POST, issue=issue)
    if not form.is_valid():
        messages.error(request, "The comment was not saved: write something in it.")
        return _back(issue, "editorial-comments")
    data = form.cleaned_data
    parent = None
    if data["parent"]:
        parent = ReviewComment.objects.filter(issue=issue, pk=data["parent"]).first()
    _tell_outcome(
        request,
        review.CommentRefused,
        lambda: review.add_comment(issue, request.user, data["body"], summary=data["summary"], parent=parent),
        "Your comment was added.",
    )
    return _back(issue, "editorial-comments")


@require_POST
def resolve_comment(
    request: HttpRequest, model_admin: ModelAdmin, issue: Issue, comment_id: int, verb: str
) -> HttpResponse:
    comment = get_object_or_404(ReviewComment, issue=issue, pk=comment_id)
    verbs = {
        "resolve": (review.resolve, "The comment is resolved."),
        "reopen": (review.reopen, "The comment is open again."),
    }
    if verb not in verbs:
        raise Http404("No such comment action.")
    change, success = verbs[verb]
    _tell_outcome(request, review.CommentRefused, lambda: change(comment, request.user), success)
    return _back(issue, "editorial-comments")


@never_cache
def revision_history(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    versions = list(revisions.issue_versions(issue))
    by_id = {version.pk: version for version in versions}
    older, newer = _pick(request.GET.get("a"), by_id), _pick(request.GET.get("b"), by_id)
    if older is None and newer is None and len(versions) >= 2:
        older, newer = versions[1], versions[0]
    changes = None
    if older is not None and newer is not None:
        if older.revision.date_created > newer.revision.date_created:
            older, newer = newer, older
        changes = diffs.diff(revisions.snapshot_of(older), revisions.snapshot_of(newer))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Versions of {issue}",
        "opts": model_admin.opts,
        "original": issue,
        "issue": issue,
        "versions": versions,
        "older": older,
        "newer": newer,
        "changes": changes,
        "may_restore": roles.can_edit(request.user, issue),
        "back_url": issue_url(issue),
    }
    return TemplateResponse(request, "editorial/admin/revisions.html", context)


def _pick(value: str | None, by_id: dict[int, Version]) -> Version | None:
    return by_id.get(int(value)) if value and value.isdigit() else None


@require_POST
def restore_revision(
    request: HttpRequest, model_admin: ModelAdmin, issue: Issue, version_id: int
) -> HttpResponse:
    version = get_object_or_404(revisions.issue_versions(issue), pk=version_id)
    try:
        revisions.restore(issue, version, request.user)
    except revisions.RestoreRefused as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:editorial_revisions", args=[issue.pk]))
    messages.success(request, f"The version of {version.revision.date_created:%Y-%m-%d %H:%M} is restored.")
    return _back(issue)


@require_POST
def create_preview(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    _tell_outcome(
        request,
        previews.PreviewRefused,
        lambda: previews.create_link(issue, request.user),
        lambda link: (
            f"Share this preview link; it works for {previews.PREVIEW_DAYS} days unless you revoke it: "
            f"{previews.url_for(link)}"
        ),
    )
    return _back(issue, "editorial-previews")


@require_POST
def revoke_preview(request: HttpRequest, model_admin: ModelAdmin, issue: Issue, link_id: int) -> HttpResponse:
    link = get_object_or_404(PreviewLink, issue=issue, pk=link_id)
    _tell_outcome(
        request,
        previews.PreviewRefused,
        lambda: previews.revoke(link, request.user),
        "The preview link is revoked: it no longer works.",
    )
    return _back(issue, "editorial-previews")


@never_cache
def draft_page(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    """What "View on site" opens for an issue not public yet: the page it will have, for whoever
    may see the issue in the admin (a share-preview link is the way to show it to anyone else)."""
    context = public_views.issue_page_context(request, issue)
    context["meta"] = replace(context["meta"], noindex=True)
    context["preview_in_admin"] = True
    response = TemplateResponse(request, "editorial/preview_issue.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def email_preview(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    email = render_issue_email(issue).personalize(preview_values(issue))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Email of {issue}",
        "opts": model_admin.opts,
        "original": issue,
        "issue": issue,
        "email": email,
        "html_url": reverse("admin:editorial_email_html", args=[issue.pk]),
        "back_url": issue_url(issue),
        "user_email": request.user.email,
    }
    return TemplateResponse(request, "editorial/admin/email_preview.html", context)


@never_cache
@xframe_options_sameorigin
def email_html(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    email = render_issue_email(issue).personalize(preview_values(issue))
    response = HttpResponse(email.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = EMAIL_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def send_test_email(request: HttpRequest, model_admin: ModelAdmin, issue: Issue) -> HttpResponse:
    to = request.user.email
    if not to:
        messages.error(request, "Your account has no email address: add one to your user to get test emails.")
    else:
        send_test_email_task.enqueue(issue.pk, to)
        messages.success(request, f"A test email of this issue is on its way to {to}.")
    return HttpResponseRedirect(reverse("admin:editorial_email", args=[issue.pk]))
