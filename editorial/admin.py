"""The admin screens editors work in: the drafting admin of newsletter/, plus the workflow.

Issue, PaperSummary and Paper are registered again here with the workflow on top of the drafting
screens (imports flow from editorial/ to newsletter/, never back): who sees and edits what
(roles.py), the state and its next steps as buttons, the checks, review comments, the diff since
the last review, revisions, previews, the email and scheduling. Every button calls a domain
function (workflow.py, review.py, previews.py, revisions.py); the views are in admin_views.py.

An object that exists but is not the user's to see is refused with a page saying why (never
"it doesn't exist, perhaps it was deleted"); an editorial view asked about a junk or unknown id
answers 404. "View on site" opens the draft's page until the issue is public.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Field, Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from newsletter.admin import IssueAdmin, PaperAdmin, PaperSummaryAdmin, PaperSummaryInline
from newsletter.checks import PREHEADER_MAX, SUBJECT_MAX
from newsletter.models import Issue, Paper, PaperSummary

from . import admin_views, revisions, roles, workflow
from .forms import EditorialIssueForm

STATUS_CLASSES = {status: f"status-{status.replace('_', '-')}" for status in Issue.Status.values}
# The fields with a live character counter, and the limit each is counted against.
COUNTED_FIELDS = {"subject": SUBJECT_MAX, "preheader": PREHEADER_MAX}
EDITORIAL_MEDIA_CSS = ["css/editorial-admin.css"]


def visible_issues(request: HttpRequest, issues: QuerySet[Issue]) -> QuerySet[Issue]:
    """Editors see every issue; a writer only their own."""
    return roles.visible_issues(request.user, issues)


def _stored(model, object_id):
    """The row `object_id` names, whoever may see it; None for a junk or unknown id."""
    try:
        return model._default_manager.filter(pk=object_id).first()
    except (ValueError, ValidationError, TypeError):
        return None


def is_public(issue: Issue) -> bool:
    return (
        issue.status == Issue.Status.PUBLISHED
        and issue.published_at is not None
        and issue.published_at <= timezone.now()
    )


def draft_page_url(issue: Issue) -> str:
    """Where "View on site" goes: the public page once it is public, the draft page until then."""
    if is_public(issue):
        return issue.get_absolute_url()
    return reverse("admin:editorial_draft_page", args=[issue.pk])


class WorkflowSummaryInline(PaperSummaryInline):
    """Summaries are edited with their issue, while the issue may be edited."""

    def _may_edit(self, request: HttpRequest, issue: Issue | None) -> bool:
        return issue is None or roles.can_edit(request.user, issue)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class WorkflowIssueAdmin(IssueAdmin):
    form = EditorialIssueForm
    inlines = [WorkflowSummaryInline]
    list_display = ["number", "title", "state", "published_at", "summary_count", "updated_at"]

    class Media:  # added to the drafting admin's own
        css = {"all": [*EDITORIAL_MEDIA_CSS, "css/character-counters.css"]}
        js = ["js/editorial-admin.js", "js/character-counters.js"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new issue starts with the next free number (the add form's ?number= still wins)."""
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("number", str(workflow.next_issue_number()))
        return initial

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        """The subject and preheader carry the limits the email checks use, for their live
        character counters (static/js/character-counters.js)."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        limit = COUNTED_FIELDS.get(db_field.name)
        if formfield is not None and limit is not None:
            formfield.widget.attrs["data-count-max"] = str(limit)
        return formfield

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(name, dict(options)) for name, options in super().get_fieldsets(request, obj)]
        if obj is not None and self.has_change_permission(request, obj):
            first = fieldsets[0][1]
            first["fields"] = [*first["fields"], "loaded_version"]
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Issue]:
        return visible_issues(request, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        """The issue, or None when there is none; an issue that exists but is not the user's to
        see is refused with a page saying so, rather than reported as missing."""
        issue = super().get_object(request, object_id, from_field)
        if issue is None and from_field is None:
            hidden = _stored(Issue, object_id)
            if hidden is not None:
                raise PermissionDenied(roles.view_refusal(request.user, hidden))
        return issue

    def view_on_site(self, issue: Issue) -> str:
        return draft_page_url(issue)

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or roles.can_view(request.user, obj))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.can_edit(request.user, obj))

    @admin.display(description="state", ordering="status")
    def state(self, issue: Issue) -> str:
        return format_html(
            '<span class="workflow-state {}">{}</span>',
            STATUS_CLASSES[issue.status],
            issue.get_status_display(),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            try:
                workflow.create_issue(obj, request.user)
            except workflow.WorkflowError as exc:
                raise PermissionDenied(exc.message) from exc
            return
        if not roles.can_edit(request.user, obj):
            raise PermissionDenied(roles.edit_refusal(request.user, obj))
        revisions.ensure_baseline(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        issue = form.instance
        moved = workflow.record_edit(issue, request.user)
        if moved is not None:
            self.message_user(request, "The issue was approved; after this edit it needs a new review.")
        revisions.save_revision(issue, request.user, "Created." if not change else "Changed.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        if issue is not None and request.method == "POST" and not roles.can_edit(request.user, issue):
            raise PermissionDenied(roles.edit_refusal(request.user, issue))
        if issue is not None and self.has_view_or_change_permission(request, issue):
            extra_context = {**(extra_context or {}), **admin_views.panel_context(request, issue)}
        return super().change_view(request, object_id, form_url, extra_context)

    def issue_for(self, request: HttpRequest, object_id: str) -> Issue:
        """The issue an editorial view is about: refused without the right to see issues or this
        one, 404 for a junk or unknown id."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied("Your role does not allow you to see issues.")
        issue = self.get_object(request, object_id)
        if issue is None:
            raise Http404("There is no issue with this id.")
        if not self.has_view_or_change_permission(request, issue):
            raise PermissionDenied(roles.view_refusal(request.user, issue))
        return issue

    def get_urls(self):
        def view(function):
            def wrapper(request, object_id, **kwargs):
                return function(request, self, self.issue_for(request, object_id), **kwargs)

            return self.admin_site.admin_view(wrapper)

        # (route below the issue's own URL, view, URL name)
        routes = [
            ("workflow/<slug:action>/", admin_views.run_action, "editorial_action"),
            ("schedule/", admin_views.schedule, "editorial_schedule"),
            ("comments/", admin_views.add_comment, "editorial_comment"),
            (
                "comments/<int:comment_id>/<slug:verb>/",
                admin_views.resolve_comment,
                "editorial_resolve_comment",
            ),
            ("revisions/", admin_views.revision_history, "editorial_revisions"),
            ("revisions/<int:version_id>/restore/", admin_views.restore_revision, "editorial_restore"),
            ("previews/", admin_views.create_preview, "editorial_preview_create"),
            ("previews/<int:link_id>/revoke/", admin_views.revoke_preview, "editorial_preview_revoke"),
            ("draft/", admin_views.draft_page, "editorial_draft_page"),
            ("email/", admin_views.email_preview, "editorial_email"),
            ("email/html/", admin_views.email_html, "editorial_email_html"),
            ("email/test/", admin_views.send_test_email, "editorial_test_email"),
        ]
        urls = [
            path(f"<path:object_id>/{route}", view(function), name=name) for route, function, name in routes
        ]
        return urls + super().get_urls()


class WorkflowPaperSummaryAdmin(PaperSummaryAdmin):
    """A summary on its own page: seen and edited as its issue is."""

    class Media:
        css = {"all": EDITORIAL_MEDIA_CSS}

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaperSummary]:
        issues = visible_issues(request, Issue.objects.all())
        return super().get_queryset(request).filter(issue__in=issues)

    def get_object(self, request, object_id, from_field=None):
        summary = super().get_object(request, object_id, from_field)
        if summary is None and from_field is None:
            hidden = _stored(PaperSummary, object_id)
            if hidden is not None:
                raise PermissionDenied(roles.view_refusal(request.user, hidden.issue))
        return summary

    def view_on_site(self, summary: PaperSummary) -> str:
        return f"{draft_page_url(summary.issue)}#{summary.anchor}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        summary = self.get_object(request, object_id)
        if (
            summary is not None
            and request.method == "POST"
            and not roles.can_edit(request.user, summary.issue)
        ):
            raise PermissionDenied(roles.edit_refusal(request.user, summary.issue))
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "issue":
            editable = [
                issue.pk
                for issue in visible_issues(request, Issue.objects.all())
                if roles.can_edit(request.user, issue)
            ]
            kwargs["queryset"] = Issue.objects.filter(pk__in=editable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or roles.can_view(request.user, obj.issue))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.can_edit(request.user, obj.issue))

    def has_delete_permission(self, request, obj=None):
        # Whoever may delete a whole issue may delete its summaries with it.
        allowed = super().has_delete_permission(request, obj)
        may_delete_issue = request.user.has_perm("newsletter.delete_issue")
        return allowed and (obj is None or may_delete_issue or roles.can_edit(request.user, obj.issue))

    def save_model(self, request, obj, form, change):
        if not roles.can_edit(request.user, obj.issue):
            raise PermissionDenied(roles.edit_refusal(request.user, obj.issue))
        revisions.ensure_baseline(obj.issue)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        summary = form.instance
        workflow.record_edit(summary.issue, request.user)
        revisions.save_revision(summary.issue, request.user, f"Changed the summary “{summary.headline}”.")

    def delete_model(self, request, obj):
        issue = obj.issue
        if not roles.can_edit(request.user, issue):
            raise PermissionDenied(roles.edit_refusal(request.user, issue))
        revisions.ensure_baseline(issue)
        super().delete_model(request, obj)
        workflow.record_edit(issue, request.user)
        revisions.save_revision(issue, request.user, f"Deleted the summary “{obj.headline}”.")


class WorkflowPaperAdmin(PaperAdmin):
    """Papers, as the issues that use them allow (editorial/roles.py): a writer sees the papers of
    their own issues, of the public site and unused ones, and changes only those no other issue
    depends on; the public site's papers are corrected by a managing editor."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Paper]:
        papers = admin.ModelAdmin.get_queryset(self, request)  # the count below replaces the drafting one
        user = request.user
        shown = (
            None
            if roles.sees_every_issue(user)
            else roles.visible_summaries(user, PaperSummary.objects.all())
        )
        count = Count("summaries", filter=Q(summaries__in=shown)) if shown is not None else Count("summaries")
        return roles.visible_papers(user, papers).annotate(summary_count=count)

    def get_object(self, request, object_id, from_field=None):
        paper = super().get_object(request, object_id, from_field)
        if paper is None and from_field is None and _stored(Paper, object_id) is not None:
            raise PermissionDenied(
                "This paper is used only in other writers' drafts: a writer sees the papers of "
                "their own issues and of the public site."
            )
        if paper is not None:
            # What "summarised in" lists: only the summaries this user may know of.
            paper.shown_summaries = list(
                roles.visible_summaries(request.user, paper.summaries.select_related("issue")).order_by(
                    "-issue__number", "position"
                )
            )
            paper.shown_to = request.user
        return paper

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.can_change_paper(request.user, obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        paper = self.get_object(request, object_id)
        if paper is not None and not roles.can_change_paper(request.user, paper):
            refusal = roles.paper_refusal(request.user, paper)
            if request.method == "POST":
                raise PermissionDenied(refusal)
            self.message_user(request, refusal, messages.INFO)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="summarised in")
    def summarised_in(self, paper: Paper) -> str:
        summaries = getattr(paper, "shown_summaries", None)
        if summaries is None:
            return super().summarised_in(paper)
        if not summaries:
            return "Not summarised in any issue you may see." if paper.pk else "Not summarised yet."
        user = paper.shown_to
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> in <a href="{}">{}</a></li>',
            (
                (
                    reverse("admin:newsletter_papersummary_change", args=[summary.pk])
                    if roles.can_view(user, summary.issue)
                    else summary.get_absolute_url(),
                    summary.headline,
                    reverse("admin:newsletter_issue_change", args=[summary.issue_id])
                    if roles.can_view(user, summary.issue)
                    else summary.issue.get_absolute_url(),
                    summary.issue,
                )
                for summary in summaries
            ),
        )
        return format_html('<ul class="summarised-in">{}</ul>', items)


admin.site.unregister(Paper)
admin.site.register(Paper, WorkflowPaperAdmin)
admin.site.unregister(Issue)
admin.site.register(Issue, WorkflowIssueAdmin)
admin.site.unregister(PaperSummary)
admin.site.register(PaperSummary, WorkflowPaperSummaryAdmin)
