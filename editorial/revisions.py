"""Revisions of issues and summaries, kept by django-reversion.

Issue is registered following its summaries, so one revision holds an issue and all its summaries
as they were. Every save in the admin (issue page, summary page) and every restore ends with
`save_revision`, which stores that state with who saved it. The history shows the revisions, a diff
between any two (diffs.py) and restores one in one step: the content comes back (fields and
summaries, deleting those added since), while the workflow's own fields (status, dates, version)
stay as they are, and the restore counts as an edit (an approved issue goes back to review).

Tags are not part of revisions: django-taggit's manager is not serialised by Django, so
django-reversion does not store it.
"""

from __future__ import annotations

import json
from typing import Any

import reversion
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from reversion.models import Revision, Version

from newsletter.models import Issue, PaperSummary

from . import diffs, workflow
from .roles import User

# What a restore brings back; the workflow's fields (status, published_at, version...) stay.
RESTORED_ISSUE_FIELDS = ["number", "title", "slug", "subject", "preheader", "intro"]


def register() -> None:
    """Called from EditorialConfig.ready()."""
    if not reversion.is_registered(PaperSummary):
        reversion.register(PaperSummary)
    if not reversion.is_registered(Issue):
        reversion.register(Issue, follow=("summaries",))


class RestoreRefused(Exception):
    @property
    def message(self) -> str:
        return str(self)


def save_revision(issue: Issue, user: User | None, comment: str = "") -> Revision | None:
    """Store the issue and its summaries as they are now, as saved by `user`."""
    with reversion.create_revision(atomic=True):
        reversion.add_to_revision(issue)
        if user is not None and user.is_authenticated:
            reversion.set_user(user)
        reversion.set_comment(comment)
    return (
        Version.objects.get_for_object(issue).select_related("revision").first().revision
        if Version.objects.get_for_object(issue).exists()
        else None
    )


def issue_versions(issue: Issue) -> QuerySet[Version]:
    """The issue's stored versions, newest first, with their revisions and users."""
    versions: QuerySet[Version] = Version.objects.get_for_object(issue).select_related(
        "revision", "revision__user"
    )
    return versions


def snapshot_of(version: Version) -> dict[str, Any]:
    """The issue and its summaries as `version` (an issue version) stored them, as a snapshot."""
    summary_type = ContentType.objects.get_for_model(PaperSummary)
    issue_values = {name: diffs.normalise(name, value) for name, value in _values(version).items()}
    issue_snapshot = {
        name: _plain(name, issue_values[key]) for name, key in _ISSUE_KEYS.items() if key in issue_values
    }
    summaries: dict[str, dict[str, object]] = {}
    for summary_version in version.revision.version_set.filter(content_type=summary_type):
        values = _values(summary_version)
        summaries[str(summary_version.object_id)] = {
            name: _plain(name, values[key]) for name, key in _SUMMARY_KEYS.items() if key in values
        }
    return {"issue": issue_snapshot, "summaries": summaries}


def stored_issue_version(version: Version) -> int | None:
    return _values(version).get("version")


def _values(version: Version) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(version.serialized_data)[0]["fields"]
    return fields


# In a serialised object, foreign keys are stored under the field's name, as ids.
_ISSUE_KEYS = {name: name for name in diffs.ISSUE_FIELDS if name != "tags"}
_SUMMARY_KEYS = {name: name for name in diffs.SUMMARY_FIELDS if name != "tags"}


def _plain(name: str, value: object) -> object:
    return diffs.normalise(name, value)


def restore(issue: Issue, version: Version, actor: User) -> Revision | None:
    """Bring the issue's content back to `version` in one step, as an edit by `actor`."""
    if version.object_id != str(issue.pk) or version.content_type.model_class() is not Issue:
        raise RestoreRefused("That version is not a version of this issue.")
    from .roles import can_edit

    if not can_edit(actor, issue):
        raise RestoreRefused("You may not edit this issue now, so you may not restore a version of it.")
    stored = snapshot_of(version)
    values = _values(version)
    with transaction.atomic():
        for name in RESTORED_ISSUE_FIELDS:
            if name in values:
                setattr(issue, name, values[name])
        issue.save()
        if "authors" in values:
            issue.authors.set(values["authors"])
        summary_type = ContentType.objects.get_for_model(PaperSummary)
        kept = []
        for summary_version in version.revision.version_set.filter(content_type=summary_type):
            summary_version.revert()
            kept.append(int(summary_version.object_id))
        for summary in PaperSummary.objects.filter(issue=issue).exclude(pk__in=kept):
            summary.delete()
        for summary in PaperSummary.objects.filter(pk__in=kept):
            summary.save()  # derive the stored HTML and search text again
        workflow.record_edit(issue, actor)
        when = version.revision.date_created
        return save_revision(
            issue,
            actor,
            f"Restored the version of {when:%Y-%m-%d %H:%M} ({len(stored['summaries'])} summaries).",
        )


def ensure_baseline(issue: Issue) -> None:
    """Store the issue as it is in the database if no version of it is stored yet (an issue made
    by a command or before revisions existed), so its first edit has something to compare with.
    Call it before saving the edit."""
    if not Version.objects.get_for_object(issue).exists():
        save_revision(Issue.objects.get(pk=issue.pk), None, "As it was before its first edit in the admin.")


def changes_since(issue: Issue, loaded_version: int) -> tuple[list[str], list[str]]:
    """Who changed the issue after its version `loaded_version`, and what (field names and moves):
    for the message that refuses a stale save."""
    from .models import Transition

    versions = list(issue_versions(issue))
    seen = next((v for v in versions if (stored_issue_version(v) or 0) <= loaded_version), None)
    later_saves = [v for v in reversed(versions) if (stored_issue_version(v) or 0) > loaded_version]
    moves = list(
        Transition.objects.filter(issue=issue, issue_version__gt=loaded_version).select_related("actor")
    )
    people = [str(v.revision.user) for v in later_saves if v.revision.user]
    people += [str(move.actor) if move.actor else "the scheduler" for move in moves]
    what = []
    if seen is not None and later_saves:
        changed = diffs.changed_places(diffs.diff(snapshot_of(seen), diffs.snapshot(issue)))
        if changed:
            what.append(changed)
    what += [
        f"moved it from {move.get_from_status_display().lower()} to {move.get_to_status_display().lower()}"
        for move in moves
    ]
    return list(dict.fromkeys(people)), what
