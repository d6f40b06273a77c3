"""The import pages of the admin: upload an export, read its dry run, start the import and watch
its progress (importers/runs.py does the work). A managing editor's (importers.run_import)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import runs
from .core import ExportError, Report
from .forms import ImportUploadForm
from .models import RUN_PERMISSION, ImportRun, Redirect

REFUSAL = "Your role does not allow you to import publications: a managing editor does."


def _may_import(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(RUN_PERMISSION)


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied(REFUSAL)
    return request.user


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    list_display = ["__str__", "status", "progress_summary", "created_by", "created_at"]
    list_filter = ["status"]

    class Media:
        js = ["js/progress-panel.js", "js/import-progress.js"]

    @admin.display(description="progress")
    def progress_summary(self, obj: ImportRun) -> str:
        return f"{obj.done} of {obj.total}" if obj.total else "–"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_import(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_import(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_import(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run changes only through its button

    def get_urls(self) -> list[Any]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress.json", view(self.progress_view), name=f"{prefix}_progress"),
            path("<int:pk>/start/", view(self.start_view), name=f"{prefix}_start"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Upload an export: its dry run starts at once, and its page shows the report."""
        if not self.has_add_permission(request):
            raise PermissionDenied(REFUSAL)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = runs.create_run(
                    form.cleaned_data["file"],
                    user=_user(request),
                    section_map=form.cleaned_data["section_map"],
                )
            except ExportError as exc:
                form.add_error("file", str(exc))
            else:
                self.message_user(request, "Uploaded: the dry run is under way.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:importers_importrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import from Substack",
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/importers/importrun/upload.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied(REFUSAL)
        run = self.get_object(request, object_id)
        if run is None:  # the admin's own answer: back to the list, saying there is no such run
            return super().change_view(request, object_id, form_url, extra_context)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(run),
            "run": run,
            "progress": runs.progress(run),
            "progress_url": reverse("admin:importers_importrun_progress", args=[run.pk]),
            "dry_run": Report.from_dict(run.dry_run_report).lines() if run.dry_run_report else [],
            "report": Report.from_dict(run.report).lines() if run.report else [],
            "media": self.media,
        }
        return TemplateResponse(request, "admin/importers/importrun/run.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """Staff-only JSON the progress bar polls."""
        if not self.has_view_permission(request):
            raise PermissionDenied(REFUSAL)
        response = JsonResponse(runs.progress(get_object_or_404(ImportRun, pk=pk)))
        response["Cache-Control"] = "no-store"
        return response

    def start_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The "Import" button of a run whose dry run is done."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not _may_import(request):
            raise PermissionDenied(REFUSAL)
        run = get_object_or_404(ImportRun, pk=pk)
        try:
            runs.start(run, _user(request))
        except runs.RunRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, "The import is under way.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:importers_importrun_change", args=[run.pk]))


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin[Redirect]):
    list_display = ["old_path", "target", "platform", "created_at"]
    list_filter = ["platform"]
    search_fields = ["old_path", "target_path"]
    raw_id_fields = ["issue"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_import(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_import(request) or super().has_view_permission(request, obj)
