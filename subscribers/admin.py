"""The subscribers admin: the list with counts and a growth chart, CSV import and export, and the
suppression list. Every button and action calls the same functions as the public pages and the
management commands (subscriptions.py, importing.py, exporting.py, suppression.py)."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from . import stats, subscriptions, suppression
from .addresses import InvalidAddress, address_hash, normalise_email
from .exporting import export_rows
from .importing import ImportFileError, import_file
from .models import Subscriber, Suppression

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class SubscriberAddForm(forms.ModelForm):
    consent_basis = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How and when this person agreed to receive the newsletter. Recorded with the subscriber.",
    )

    class Meta:
        model = Subscriber
        fields = ["email", "name", "sections", "format", "consent_basis"]
        widgets = {"sections": forms.CheckboxSelectMultiple}

    def clean_email(self) -> str:
        try:
            email = normalise_email(self.cleaned_data["email"])
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from exc
        if suppression.is_suppressed(email):
            raise ValidationError("This address is on the suppression list and will not be added.")
        if Subscriber.objects.filter(email=email).exists():
            raise ValidationError("This address is already on the list; edit it instead.")
        return email


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, header row first: email, and optionally name and sections.")
    consent_basis = forms.CharField(
        label="Consent basis",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "How and when these people agreed to receive the newsletter (for example: “signed up on "
            "the old site’s form, 2023–2024, double opt-in”). Recorded on every imported subscriber."
        ),
    )
    dry_run = forms.BooleanField(label="Dry run: report only, change nothing", required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it."
            )
        return upload


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(queryset, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in export_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
        return csv_response(queryset, _export_filename())

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
            raise PermissionDenied
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
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return csv_response(changelist.queryset, _export_filename())

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "status_counts": stats.status_counts(),
            "section_counts": stats.section_counts(),
            "chart": stats.growth_chart(stats.weekly_growth()),
        }
        return super().changelist_view(request, extra_context)


def _export_filename() -> str:
    return f"subscribers-{timezone.localtime():%Y-%m-%d-%H%M}.csv"


class SuppressionAddForm(forms.ModelForm):
    email = forms.CharField(max_length=320, help_text="Stored only as a hash.")

    class Meta:
        model = Suppression
        fields = ["email", "reason", "note"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if Suppression.objects.filter(email_hash=address_hash(email)).exists():
            raise ValidationError("This address is already suppressed.")
        return email


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
