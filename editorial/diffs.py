"""Readable differences between two states of an issue and its summaries.

A *snapshot* is an issue's content as plain JSON values: {"issue": {field: value},
"summaries": {"<pk>": {field: value}}}, with foreign keys as ids, many-to-many as lists of ids and
tags as names. `snapshot(issue)` takes one from the database; revisions.py makes one from a stored
revision, and ReviewMark keeps the one a reviewer saw. `diff(old, new)` lists what changed, field
by field, with words removed and added marked up, for "changes since your last review", the
revision history and the optimistic-locking message.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from newsletter.forms import IssueAdminForm, PaperSummaryForm
from newsletter.models import Author, Issue, Paper, PaperSummary, Section

# What the drafting forms edit is what a diff compares (a summary's issue is where it stands, not
# what it says).
ISSUE_FIELDS: list[str] = IssueAdminForm.Meta.fields
SUMMARY_FIELDS: list[str] = [name for name in PaperSummaryForm.Meta.fields if name != "issue"]
_MANY_TO_MANY = ("authors", "tags")  # snapshot() reads them on their own, as sorted lists
_LABELS = {"subject": "email subject", "figure_alt": "figure alt text", "figure_caption": "figure caption"}
_RELATED = {"section": Section, "paper": Paper, "writer": Author, "authors": Author}


def snapshot(issue: Issue) -> dict:
    """The issue's content now, as JSON values."""
    summaries = PaperSummary.objects.filter(issue=issue).prefetch_related("tags")
    return {
        "issue": {
            **_values(issue, [name for name in ISSUE_FIELDS if name not in _MANY_TO_MANY]),
            "authors": sorted(issue.authors.values_list("pk", flat=True)),
            "tags": sorted(tag.name for tag in issue.tags.all()),
        },
        "summaries": {
            str(summary.pk): {
                **_values(summary, [name for name in SUMMARY_FIELDS if name not in _MANY_TO_MANY]),
                "tags": sorted(tag.name for tag in summary.tags.all()),
            }
            for summary in summaries
        },
    }


def _values(obj, names: list[str]) -> dict:
    values = {}
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        values[name] = value.name if hasattr(value, "name") and name == "figure" else value
    return values


def normalise(field: str, value) -> object:
    """A stored value (snapshot or revision) in the form snapshots use."""
    if field == "figure":
        return getattr(value, "name", value) or ""
    if isinstance(value, list | tuple):
        return sorted(value, key=str)
    return value


@dataclass(frozen=True)
class Change:
    where: str  # "Issue" or "Summary “headline”"
    field: str
    label: str
    kind: str  # "changed", "added" or "removed"
    old: str
    new: str

    @property
    def html(self) -> SafeString:
        """The new text with removed words in <del> and added ones in <ins>."""
        return word_diff(self.old, self.new)


def diff(old: dict, new: dict) -> list[Change]:
    """What changed from snapshot `old` to snapshot `new`. Fields missing from either side (tags in
    a revision, which django-reversion does not store) are left out."""
    names = _Names()
    changes = _field_changes("Issue", old.get("issue", {}), new.get("issue", {}), ISSUE_FIELDS, names)
    old_summaries, new_summaries = old.get("summaries", {}), new.get("summaries", {})
    for pk in _ordered_keys(old_summaries, new_summaries):
        before, after = old_summaries.get(pk), new_summaries.get(pk)
        headline = (after or before or {}).get("headline", "")
        where = f"Summary “{headline}”"
        if before is None:
            changes.append(Change(where, "", "summary", "added", "", _summary_text(after, names)))
        elif after is None:
            changes.append(Change(where, "", "summary", "removed", _summary_text(before, names), ""))
        else:
            changes += _field_changes(where, before, after, SUMMARY_FIELDS, names)
    return changes


def changed_places(changes: list[Change]) -> str:
    """ "title, intro; Summary “X”: body" — a one-line account of a diff."""
    places: dict[str, list[str]] = {}
    for change in changes:
        places.setdefault(change.where, []).append(change.label if change.field else change.kind)
    return "; ".join(
        ", ".join(labels) if where == "Issue" else f"{where}: {', '.join(labels)}"
        for where, labels in places.items()
    )


def _ordered_keys(old: dict, new: dict) -> list[str]:
    keys = list(new) + [key for key in old if key not in new]
    return sorted(keys, key=lambda key: ((new.get(key) or old.get(key) or {}).get("position") or 0, int(key)))


def _field_changes(where: str, old: dict, new: dict, fields: list[str], names: _Names) -> list[Change]:
    changes = []
    for field in fields:
        if field not in old or field not in new:
            continue
        before, after = normalise(field, old[field]), normalise(field, new[field])
        if before == after:
            continue
        old_text, new_text = names.text(field, before), names.text(field, after)
        kind = "added" if not old_text else "removed" if not new_text else "changed"
        changes.append(
            Change(where, field, _LABELS.get(field, field.replace("_", " ")), kind, old_text, new_text)
        )
    return changes


def _summary_text(values: dict, names: _Names) -> str:
    parts = [
        f"{_LABELS.get(field, field)}: {names.text(field, normalise(field, values.get(field)))}"
        for field in ("section", "kind", "headline", "body", "paper")
        if values.get(field) not in (None, "")
    ]
    return "\n".join(parts)


class _Names:
    """Ids shown as the names of what they point at (fetched once per model)."""

    def __init__(self) -> None:
        self._cache: dict[str, dict] = {}

    def text(self, field: str, value) -> str:
        if value is None or value == "" or value == []:
            return ""
        model = _RELATED.get(field)
        if model is None:
            if field == "kind":
                return (
                    str(PaperSummary.Kind(value).label) if value in PaperSummary.Kind.values else str(value)
                )
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if field not in self._cache:
            self._cache[field] = {obj.pk: str(obj) for obj in model.objects.all()}
        lookup = self._cache[field]
        ids = value if isinstance(value, list) else [value]
        return ", ".join(lookup.get(int(pk), f"#{pk} (deleted)") for pk in ids)


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(old: str, new: str) -> SafeString:
    """`new` with the words removed from `old` in <del> and the added ones in <ins>."""
    old_words, new_words = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    chunks: list[list] = []  # [equal?, old text, new text]
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        old_text, new_text = "".join(old_words[a1:a2]), "".join(new_words[b1:b2])
        equal = op == "equal"
        # A space kept between two changes is part of one change: "<del>a b</del><ins>c d</ins>".
        if chunks and not chunks[-1][0] and (not equal or not old_text.strip()):
            chunks[-1][1] += old_text
            chunks[-1][2] += new_text
        else:
            chunks.append([equal, old_text, new_text])
    parts = []
    for equal, old_text, new_text in chunks:
        if equal:
            parts.append(escape(old_text))
            continue
        # Whitespace merged in at the end of both sides of a change belongs after it.
        trailing = ""
        stripped_old, stripped_new = old_text.rstrip(), new_text.rstrip()
        if old_text[len(stripped_old) :] == new_text[len(stripped_new) :]:
            trailing = old_text[len(stripped_old) :]
            old_text, new_text = stripped_old, stripped_new
        if old_text:
            parts.append(format_html("<del>{}</del>", old_text))
        if new_text:
            parts.append(format_html("<ins>{}</ins>", new_text))
        parts.append(escape(trailing))
    return mark_safe("".join(parts))  # every piece was escaped above
