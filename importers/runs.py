"""An import run from the admin: upload, dry run, then the import, each step in a background task.

`create_run` checks that the upload is an export it can read, keeps the file in the private
import folder (`IMPORT_UPLOAD_ROOT`, never under /media/: the email list is personal data) and
enqueues the dry run; `start` (a managing editor's button, once the dry run is done) enqueues
the import, whose progress the run's page polls. The file is deleted when the import ends.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .core import ExportError, Report, run_import
from .models import ImportRun, Platform
from .substack import SubstackExport

logger = logging.getLogger(__name__)


class RunRefused(Exception):
    """The run cannot take this step now; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def upload_root() -> Path:
    return Path(settings.IMPORT_UPLOAD_ROOT)


def _path(run: ImportRun) -> Path:
    return upload_root() / run.stored_name


def create_run(upload: UploadedFile[bytes], *, user: User, section_map: dict[str, str]) -> ImportRun:
    """Keep the uploaded export and enqueue its dry run; ExportError when it is not one."""
    upload.seek(0)
    with SubstackExport(upload) as export:  # refuses a file that is not a Substack export, saying why
        next(export.posts(), None)
    root = upload_root()
    root.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.zip"
    upload.seek(0)
    with open(root / stored_name, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    run = ImportRun.objects.create(
        platform=Platform.SUBSTACK,
        upload_name=(upload.name or "export.zip").rsplit("/", 1)[-1][:255],
        stored_name=stored_name,
        options={"section_map": section_map},
        created_by=user,
    )
    from .tasks import check_import

    transaction.on_commit(lambda: check_import.enqueue(run.pk))
    return run


def _import(run: ImportRun, *, unexpected: str, **options: Any) -> Report | None:
    """`run_import` on the run's upload: its report, or None (the run marked failed, saying why)
    when the export cannot be read; an unexpected error marks the run failed and goes on up."""
    try:
        with SubstackExport(str(_path(run))) as export:
            return run_import(
                export,
                section_map=run.options.get("section_map", {}),
                user=run.created_by,
                source_name=f"Substack export “{run.upload_name}”",
                **options,
            )
    except (ExportError, OSError) as exc:
        _fail(
            run, str(exc) if isinstance(exc, ExportError) else "The uploaded file is gone; upload it again."
        )
        return None
    except Exception:
        logger.exception("Import run %s failed", run.pk)
        _fail(run, unexpected)
        raise


def check(run_id: int) -> str:
    """The dry run of a run (a task): its report, or the reason it failed."""
    run = ImportRun.objects.get(pk=run_id)
    report = _import(
        run, dry_run=True, unexpected="The dry run stopped on an unexpected error; nothing was imported."
    )
    if report is None:
        return ImportRun.Status.FAILED
    ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.CHECKING).update(
        status=ImportRun.Status.CHECKED, dry_run_report=report.as_dict()
    )
    return ImportRun.Status.CHECKED


def start(run: ImportRun, user: User) -> None:
    """Enqueue the import of a run whose dry run is done (once: a second click is refused)."""
    if not user.has_perm("importers.run_import"):
        raise RunRefused("Your role does not allow you to import: a managing editor does.")
    started = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.CHECKED).update(
        status=ImportRun.Status.IMPORTING, started_at=timezone.now(), done=0, total=0
    )
    if not started:
        run.refresh_from_db()
        raise RunRefused(f"This import cannot start now: it is “{run.get_status_display().lower()}”.")
    from .tasks import execute_import

    transaction.on_commit(lambda: execute_import.enqueue(run.pk))


def execute(run_id: int) -> str:
    """The import of a run (a task), with its progress on the run's row."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status != ImportRun.Status.IMPORTING:
        return run.status

    def progress(done: int, total: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(done=done, total=total)

    report = _import(
        run,
        progress=progress,
        unexpected="The import stopped on an unexpected error; the posts imported so far are kept.",
    )
    if report is None:
        return ImportRun.Status.FAILED
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.DONE, report=report.as_dict(), finished_at=timezone.now()
    )
    _delete_upload(run)
    return ImportRun.Status.DONE


def _fail(run: ImportRun, error: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED, error=error, finished_at=timezone.now()
    )
    _delete_upload(run)


def _delete_upload(run: ImportRun) -> None:
    if run.stored_name:
        _path(run).unlink(missing_ok=True)


def progress(run: ImportRun) -> dict[str, Any]:
    """What the run's page polls."""
    return {
        "status": run.status,
        "status_label": run.get_status_display(),
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "running": run.status in (ImportRun.Status.CHECKING, ImportRun.Status.IMPORTING),
    }
