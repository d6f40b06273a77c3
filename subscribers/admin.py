"""The subscribers admin: the list with counts and a growth chart, CSV import and export, and the
suppression list. Every button and action calls the same functions as the public pages and the
management commands (subscriptions.py, importing.py, exporting.py, suppression.py)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from . import sending, stats, subscriptions, suppression
from .addresses import address_hash
from .exporting import csv_lines
from .forms import ImportForm, StartSendForm, SubscriberAddForm, SuppressionAddForm
from .importing import ImportFileError, import_file
from .models import Delivery, Send, Subscriber, Suppression
from .tracking import analytics


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "name",
        "status",
        "format",
        "section_list",
        "consent_source",
        "confirmed_at",
        "created_at",
    ]
    list_filter = [
        "status",
        "sections",
        "consent_source",
        "format",
        ("confirmed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["email", "name"]
    date_hierarchy = "created_at"
    list_per_page = 100
    actions = ["export_selected", "unsubscribe_selected", "revoke_links", "erase_selected"]
    readonly_fields = [
        "email",
        "status",
        "confirmed_at",
        "unsubscribed_at",
        "unsubscribe_channel",
        "consent_at",
        "consent_ip",
        "consent_user_agent",
        "consent_wording_version",
        "consent_source",
        "consent_basis",
        "token_version",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "name", "status"]}),
        ("What they receive", {"fields": ["sections", "format", "paused_issues"]}),
        (
            "Consent",
            {
                "fields": [
                    "consent_source",
                    "consent_at",
                    "consent_ip",
                    "consent_user_agent",
                    "consent_wording_version",
                    "consent_basis",
                ]
            },
        ),
        (
            "History",
            {
                "fields": [
                    "created_at",
                    "confirmed_at",
                    "unsubscribed_at",
                    "unsubscribe_channel",
                    "token_version",
                ]
            },
        ),
    ]

    @admin.display(description="sections")
    def section_list(self, obj: Subscriber) -> str:
        return ", ".join(section.name for section in obj.sections.all()) or "all"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sections")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SubscriberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["email", "name", "sections", "format", "consent_basis"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "sections":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        subscriber = subscriptions.add_confirmed(
            form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            sections=form.cleaned_data["sections"] or None,
            format=form.cleaned_data["format"],
            source=Subscriber.Source.ADMIN,
            basis=form.cleaned_data["consent_basis"],
        )
        obj.pk = subscriber.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change:  # on add, add_confirmed() already stored the sections
            super().save_related(request, form, formsets, change)

    # Actions ---------------------------------------------------------------------------------

    @admin.action(description="Export selected subscribers as CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        return _csv_download(queryset)

    @admin.action(
        description="Unsubscribe selected subscribers (and suppress their addresses)", permissions=["change"]
    )
    def unsubscribe_selected(self, request, queryset):
        changed = sum(subscriptions.unsubscribe(sub, Subscriber.Channel.ADMIN) for sub in queryset)
        self.message_user(request, f"{changed} subscribers unsubscribed.", messages.SUCCESS)

    @admin.action(description="Revoke every link sent to selected subscribers", permissions=["change"])
    def revoke_links(self, request, queryset):
        count = subscriptions.revoke_links(queryset)
        self.message_user(
            request,
            f"Links revoked for {count} subscribers: every confirmation, preferences and unsubscribe link "
            "sent so far no longer works. The next email carries new ones.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Erase selected subscribers (delete their data, keep the address suppressed)",
        permissions=["delete"],
    )
    def erase_selected(self, request, queryset):
        count = 0
        for subscriber in queryset:
            subscriptions.erase(subscriber)
            count += 1
        self.message_user(
            request, f"{count} subscribers erased; their addresses stay suppressed.", messages.SUCCESS
        )

    # Import, export and the figures above the list -----------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{prefix}_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied("Your role does not allow you to import subscribers.")
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = import_file(
                    form.cleaned_data["file"].read(),
                    consent_basis=form.cleaned_data["consent_basis"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                prefix = "Dry run, nothing saved: " if form.cleaned_data["dry_run"] else "Imported: "
                self.message_user(request, prefix + report.summary() + ".", messages.SUCCESS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import subscribers from CSV",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/import.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The list as currently filtered and searched, as CSV (reading changes nothing)."""
        if not self.has_view_permission(request):
            raise PermissionDenied("Your role does not allow you to export subscribers.")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                "The address has filters this list does not know: export from the list."
            )
        return _csv_download(changelist.queryset)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "status_counts": stats.status_counts(),
            "section_counts": stats.section_counts(),
            "chart": stats.growth_chart(stats.weekly_growth()),
        }
        return super().changelist_view(request, extra_context)


def _csv_download(subscribers) -> StreamingHttpResponse:
    """The export of `subscribers` as a CSV file to save, streamed as it is read."""
    response = StreamingHttpResponse(csv_lines(subscribers), content_type="text/csv; charset=utf-8")
    filename = f"subscribers-{timezone.localtime():%Y-%m-%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["short_hash", "reason", "note", "created_at"]
    list_filter = ["reason", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["email_hash"]
    search_help_text = "Type a whole email address: it is hashed and looked up."
    readonly_fields = ["email_hash", "reason", "note", "created_at"]

    @admin.display(description="address hash")
    def short_hash(self, obj: Suppression) -> str:
        return f"{obj.email_hash[:16]}…"

    def get_search_results(self, request, queryset, search_term):
        if search_term.strip():
            return queryset.filter(email_hash=address_hash(search_term)), False
        return queryset, False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["email", "reason", "note"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an entry is added or deleted (which lifts it), never edited

    def save_model(self, request, obj, form, change):
        entry = suppression.suppress(
            form.cleaned_data["email"], form.cleaned_data["reason"], form.cleaned_data["note"]
        )
        obj.pk = entry.pk
        obj.refresh_from_db()


# The send pipeline ---------------------------------------------------------------------------


# The controls a send's page offers: URL name, domain function, message when done.
SEND_CONTROLS = {
    "pause": (sending.pause, "The send is paused; batches already claimed finish their messages."),
    "resume": (sending.resume, "The send resumed."),
    "cancel": (sending.cancel, "The send was cancelled; queued messages will not go out."),
    "resend-unknown": (sending.resend_unknown, "The messages whose outcome was unknown are queued again."),
}


WATCH_REFUSAL = "Your role does not allow you to see sends: a managing editor starts and watches them."


@admin.register(Send)
class SendAdmin(admin.ModelAdmin):
    list_display = ["__str__", "issue", "kind", "status", "recipient_count", "progress_summary", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["issue"]
    date_hierarchy = "created_at"
    actions = ["pause_selected", "resume_selected", "cancel_selected"]
    readonly_fields = [
        "issue",
        "kind",
        "status",
        "recipient_count",
        "created_by",
        "created_at",
        "paused_at",
        "cancelled_at",
        "finished_at",
        "pauses_counted",
        "note",
    ]

    class Media:
        css = {"all": ["css/send-admin.css"]}
        js = ["js/progress-panel.js", "js/send-progress.js"]

    @admin.display(description="progress")
    def progress_summary(self, obj: Send) -> str:
        data = sending.progress(obj)
        counts = f"{data['sent']} sent · {data['failed']} failed · {data['unknown']} unknown"
        return f"{counts} · {data['remaining']} left"

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a send changes only through its controls

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the outbox is the record of who got what

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(sending.SEND_PERMISSION)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress.json", view(self.progress_view), name=f"{prefix}_progress"),
            path("<int:pk>/control/<str:action>/", view(self.control_view), name=f"{prefix}_control"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """Start a send: pick a published issue and the audience; the checks run before anything goes."""
        if not self.has_add_permission(request):
            raise PermissionDenied(
                "Your role does not allow you to send issues: a managing editor sends them."
            )
        initial = {"issue": request.GET.get("issue")} if request.GET.get("issue") else None
        form = StartSendForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                send = sending.start_send(
                    form.cleaned_data["issue"], request.user, kind=form.cleaned_data["kind"]
                )
            except sending.SendRefused as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"Sending started: {send.recipient_count} recipients.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:subscribers_send_change", args=[send.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Send an issue",
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/subscribers/send/start.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied(WATCH_REFUSAL)
        send = self.get_object(request, object_id)
        if send is None:  # the admin's own answer: back to the list, saying there is no such send
            return super().change_view(request, object_id, form_url, extra_context)
        extra_context = {
            **(extra_context or {}),
            "progress": sending.progress(send),
            "progress_url": reverse("admin:subscribers_send_progress", args=[send.pk]),
            "deliveries_url": reverse("admin:subscribers_delivery_changelist")
            + f"?send__id__exact={send.pk}",
            "can_control": request.user.has_perm(sending.SEND_PERMISSION),
            "analytics": analytics.analytics_context(send),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """Staff-only JSON the progress bar polls."""
        if not self.has_view_permission(request):
            raise PermissionDenied(WATCH_REFUSAL)
        send = get_object_or_404(Send, pk=pk)
        response = JsonResponse(sending.progress(send))
        response["Cache-Control"] = "no-store"
        return response

    def control_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """Pause, resume, cancel or resend the unknown: a POST from a button on the send's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request) or not self.has_add_permission(request):
            raise PermissionDenied("Your role does not allow you to control sends: a managing editor does.")
        if action not in SEND_CONTROLS:
            raise Http404("No such action.")
        send = get_object_or_404(Send, pk=pk)
        function, done = SEND_CONTROLS[action]
        try:
            function(send, request.user)
        except sending.SendRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:subscribers_send_change", args=[send.pk]))

    # Actions on the list call the same functions as the buttons.

    def _act(self, request, queryset, function) -> None:
        done, refused = 0, []
        for send in queryset:
            try:
                function(send, request.user)
                done += 1
            except sending.SendRefused as exc:
                refused.append(f"{send}: {exc.message}")
        if done:
            self.message_user(request, f"{done} sends changed.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Pause selected sends")
    def pause_selected(self, request, queryset):
        self._act(request, queryset, sending.pause)

    @admin.action(description="Resume selected sends")
    def resume_selected(self, request, queryset):
        self._act(request, queryset, sending.resume)

    @admin.action(description="Cancel selected sends")
    def cancel_selected(self, request, queryset):
        self._act(request, queryset, sending.cancel)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "send", "recipient", "status", "attempts", "sent_at", "esp_message_id", "error"]
    list_filter = ["status", ("send", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["send__issue", "subscriber"]
    search_fields = ["subscriber__email", "esp_message_id", "address"]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="recipient")
    def recipient(self, obj: Delivery) -> str:
        if obj.subscriber_id:
            return obj.subscriber.email
        return obj.address or "(erased)"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
