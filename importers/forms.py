"""The import page's form: the export ZIP and the section map."""

from __future__ import annotations

from typing import Any

from django import forms

from .core import parse_section_map


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Substack export (.zip)",
        help_text="The ZIP of Settings > Exports > “Create new export”, as Substack sends it.",
    )
    section_map = forms.CharField(
        label="Section map",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, one per line: “Heading in the posts=Section here”. Other headings "
        "match a section of the same name, or become a new section.",
    )

    def clean_section_map(self) -> dict[str, str]:
        try:
            return parse_section_map([self.cleaned_data.get("section_map") or ""])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        return super().clean() or {}
