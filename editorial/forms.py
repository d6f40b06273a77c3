"""Forms of the editorial screens: they validate and normalise; workflow.py and friends act."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from newsletter.forms import IssueAdminForm
from newsletter.models import Issue, PaperSummary

from . import revisions


class EditorialIssueForm(IssueAdminForm):
    """The drafting form plus optimistic locking: it carries the version it was loaded with, and a
    save from a form older than the issue is refused with who changed what."""

    loaded_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data  # what ModelForm.clean returns
        if self.instance.pk is None:
            return cleaned_data
        loaded = cleaned_data.get("loaded_version")
        # Lock the row until the save commits (PostgreSQL; SQLite's IMMEDIATE transactions hold
        # the write lock already), so no save slips in between this check and ours.
        current = (
            Issue.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if loaded is None or current is None or loaded == current:
            return cleaned_data
        people, changes = revisions.changes_since(self.instance, loaded)
        who = " and ".join(people) if people else "Someone else"
        what = "; ".join(changes)
        message = (
            f"{who} changed this issue after you opened it"
            + (f" ({what})" if what else "")
            + (
                ". Your changes are not saved. Reload the page to start from their version, or save again "
                "to replace their changes with yours."
            )
        )
        # A second save is a deliberate overwrite: the form now carries the version it has seen.
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_version")] = str(current)
        raise forms.ValidationError(message, code="stale")


class ActionForm(forms.Form):
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    summary = forms.ModelChoiceField(
        queryset=PaperSummary.objects.none(), required=False, empty_label="The whole issue", label="On"
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, issue: Issue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["summary"].queryset = PaperSummary.objects.filter(issue=issue).order_by(
            "section__position", "position", "pk"
        )


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ScheduleForm(forms.Form):
    """A date and time in the editor's time zone (the page fills it in from the browser)."""

    publish_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    publish_time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.ChoiceField(label="Time zone", choices=timezone_choices)
    start_send = forms.BooleanField(label="Start sending to subscribers once it is published", required=False)
    comment = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data  # what Form.clean returns
        day, time, zone = (cleaned_data.get(name) for name in ("publish_on", "publish_time", "time_zone"))
        if day and time and zone:
            cleaned_data["publish_at"] = timezone.make_aware(
                datetime.combine(day, time), zoneinfo.ZoneInfo(zone)
            )
        return cleaned_data
