"""Background work of the importers: thin task wrappers around importers/runs.py."""

from __future__ import annotations

from django_tasks import task

from . import runs


@task()
def check_import(run_id: int) -> str:
    return runs.check(run_id)


@task()
def execute_import(run_id: int) -> str:
    return runs.execute(run_id)
