"""Forms for drafting: they validate and normalise what an editor typed; papers.py does the work."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.db.models import Max
from django.urls import reverse_lazy
from markdownx.widgets import AdminMarkdownxWidget

from . import paper_lookup, papers, uploads
from .models import Author, Issue, Paper, PaperSummary
from .paper_lookup.identifiers import UNSUPPORTED

# Shown under every image field: the browser forgets a chosen file when a page with errors comes back.
CHOOSE_AGAIN_HELP = (
    "JPEG, PNG, GIF or WebP. If the page comes back with errors, choose the file again: "
    "a browser cannot keep a chosen file across pages."
)


class MarkdownEditor(AdminMarkdownxWidget):
    """The admin's Markdown editor with live preview; static/js/editor-upload.js shows why an
    image dropped into it was refused and selects an inserted image's placeholder alt text."""

    class Media:
        js = ["js/editor-upload.js"]


class PaperLookupMedia:
    """static/js/paper_lookup.js: a link pasted in a field with `data-paper-lookup` is looked up
    and the fields named in `data-paper-lookup-targets` are filled in."""

    js = ["js/paper_lookup.js"]


def paper_lookup_attrs(targets: dict[str, str], **attrs: str) -> dict[str, object]:
    """The attributes that make a field a lookup field; `targets` maps each detail the endpoint
    answers (title, authors, year, venue, abstract, url, arxiv_id, doi) to the field it fills."""
    return {
        "data-paper-lookup": reverse_lazy("paper_lookup"),
        "data-paper-lookup-targets": json.dumps(targets),
        **attrs,
    }


class PaperLookupInput(forms.TextInput):
    Media = PaperLookupMedia


class PaperLookupURLInput(AdminURLFieldWidget):
    Media = PaperLookupMedia


# What a lookup failure adds: the form stays usable by hand.
BY_HAND = "Enter the paper's title (and what else you know) by hand."


def figure_not_kept(file) -> str:
    """What to tell the writer when the page comes back with errors and `file` (a figure chosen
    on it) was not saved: "" when there is nothing to say."""
    if not file or getattr(file, "_committed", True):
        return ""
    original = getattr(file.file, "original_name", "")
    chosen = f"“{original}”" if original else "The figure you chose"
    return (
        f"{chosen} is not saved yet: the page has errors, and a browser cannot keep a chosen file "
        "across pages. Choose it again before you save."
    )


class IssueAdminForm(forms.ModelForm):
    """An issue's content. Its status and dates are not here: editorial/workflow.py moves them."""

    class Meta:
        model = Issue
        fields = ["number", "title", "slug", "subject", "preheader", "intro", "authors", "tags"]


class PaperSummaryForm(forms.ModelForm):
    """A summary, with a quick way to name its paper: pick a stored one, or paste its link and
    details. A pasted link that names a stored paper (same arXiv id, DOI or URL) reuses it."""

    paper_link = forms.CharField(
        label="Paper link",
        required=False,
        max_length=500,
        help_text="An arXiv link or id (2111.15121), a DOI or the paper's URL. arXiv, DOI, OpenReview "
        "and ACL Anthology links fill in the paper's details.",
        widget=PaperLookupInput(
            attrs=paper_lookup_attrs(
                {
                    "title": "paper_title",
                    "authors": "paper_authors",
                    "year": "paper_year",
                    "venue": "paper_venue",
                    "doi": "paper_doi",
                    "abstract": "paper_abstract",
                },
                **{"class": "vTextField", "placeholder": "https://arxiv.org/abs/2111.15121"},
            )
        ),
    )
    paper_title = forms.CharField(
        label="Paper title",
        required=False,
        max_length=500,
        help_text="Needed only for a paper that is not stored yet.",
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    paper_authors = forms.CharField(
        label="Paper authors",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    paper_venue = forms.CharField(
        label="Venue", required=False, max_length=200, widget=forms.TextInput(attrs={"class": "vTextField"})
    )
    paper_year = forms.IntegerField(
        label="Year",
        required=False,
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"size": 6}),
    )
    paper_doi = forms.CharField(
        label="DOI",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "vTextField", "placeholder": "10.1234/abcd"}),
    )
    # Filled by static/js/paper_lookup.js with the abstract the lookup found, kept with a new paper.
    paper_abstract = forms.CharField(required=False, max_length=20000, widget=forms.HiddenInput)

    QUICK_PAPER_FIELDS = (
        "paper_link",
        "paper_title",
        "paper_authors",
        "paper_venue",
        "paper_year",
        "paper_doi",
        "paper_abstract",
    )
    # Which of our fields shows an error that papers.py reports about one of its inputs.
    _ERROR_FIELDS = {
        "link": "paper_link",
        "arxiv_id": "paper_link",
        "doi": "paper_doi",
        "title": "paper_title",
    }

    class Meta:
        model = PaperSummary
        fields = [
            "issue",
            "section",
            "position",
            "kind",
            "headline",
            "body",
            "paper",
            "figure",
            "figure_caption",
            "figure_alt",
            "writer",
            "tags",
        ]
        # Figures are decoded and re-encoded (no metadata, a generated name) by uploads.py.
        field_classes = {"figure": uploads.ImageUploadField}
        help_texts = {"figure": CHOOSE_AGAIN_HELP}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.paper_reference: papers.PaperReference | None = None
        if "position" in self.fields:
            # Left empty, a new summary goes after the issue's last one.
            self.fields["position"].required = False
            self.fields["position"].help_text = "Order within the section; empty puts it last."
            if self.instance.pk is None:
                self.fields["position"].initial = None

    def clean(self) -> dict:
        cleaned_data = super().clean()
        if not any(cleaned_data.get(name) for name in self.QUICK_PAPER_FIELDS):
            return cleaned_data
        if cleaned_data.get("paper"):
            self.add_error(
                "paper_link", "Pick a stored paper or describe a new one, not both: clear one of them."
            )
            return cleaned_data
        try:
            reference = papers.paper_reference(
                link=cleaned_data.get("paper_link", ""),
                doi=cleaned_data.get("paper_doi", ""),
                title=cleaned_data.get("paper_title", ""),
                authors=cleaned_data.get("paper_authors", ""),
                venue=cleaned_data.get("paper_venue", ""),
                year=cleaned_data.get("paper_year"),
                abstract=cleaned_data.get("paper_abstract", ""),
            )
            stored = papers.find_paper(reference)
            if stored is None and reference.has_identifier:
                # A link alone: its details come from its source (or from the lookup the page made).
                reference = paper_lookup.complete_reference(reference, fetch=not reference.title)
                stored = papers.find_paper(reference)
        except papers.InvalidPaperReference as exc:
            self.add_error(self._ERROR_FIELDS[exc.field], exc.message)
            return cleaned_data
        except paper_lookup.LookupFailed as exc:
            self.add_error("paper_title", f"{exc.message} {BY_HAND}")
            return cleaned_data
        if stored is None and not reference.title:
            message = (
                f"Enter the paper's title: {UNSUPPORTED}"
                if reference.has_identifier
                else "Paste the paper's link or enter its title."
            )
            self.add_error("paper_title", message)
            return cleaned_data
        self.paper_reference = reference
        return cleaned_data

    def save(self, commit: bool = True) -> PaperSummary:
        summary = self.instance
        if self.paper_reference is not None:
            summary.paper, _ = papers.find_or_create_paper(self.paper_reference)
        if summary.position is None:
            last = PaperSummary.objects.filter(issue=summary.issue_id).aggregate(last=Max("position"))["last"]
            summary.position = (last or 0) + 1
        return super().save(commit)


# Pasting an arXiv, DOI, OpenReview or ACL Anthology link in the paper admin's URL, arXiv id or DOI
# field fills in the others.
PAPER_LOOKUP_TARGETS = {
    name: name for name in ("title", "authors", "year", "venue", "abstract", "url", "arxiv_id", "doi")
}


class PaperForm(forms.ModelForm):
    """A paper, with its arXiv id and DOI normalised (pasted links welcome) before the database's
    uniqueness checks see them."""

    url = forms.URLField(
        label="URL",
        required=False,
        max_length=Paper._meta.get_field("url").max_length,
        assume_scheme="https",
        widget=PaperLookupURLInput(attrs=paper_lookup_attrs(PAPER_LOOKUP_TARGETS)),
    )

    _ERROR_FIELDS = {"link": "url", "arxiv_id": "arxiv_id", "doi": "doi", "title": "title"}
    _DETAILS = ("title", "authors", "venue", "year", "abstract", "url", "arxiv_id", "doi")

    class Meta:
        model = Paper
        fields = ["title", "url", "authors", "venue", "year", "arxiv_id", "doi", "abstract"]
        help_texts = {
            "title": "Left empty, it is fetched from the paper's arXiv, DOI, OpenReview or ACL "
            "Anthology link.",
            "arxiv_id": "The id or link, e.g. 2111.15121 or https://arxiv.org/abs/2111.15121v2.",
            "doi": "The DOI or its doi.org link, e.g. 10.1145/3442188.3445922.",
            "abstract": "Filled in from the paper's source; for reference, not shown to readers.",
        }
        widgets = {
            "arxiv_id": PaperLookupInput(
                attrs=paper_lookup_attrs(PAPER_LOOKUP_TARGETS, **{"class": "vTextField"})
            ),
            "doi": PaperLookupInput(
                attrs=paper_lookup_attrs(PAPER_LOOKUP_TARGETS, **{"class": "vTextField"})
            ),
            "abstract": forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A link alone will do: the title is fetched from the paper's source (clean).
        # (A read-only page has no fields to fill.)
        if "title" in self.fields:
            self.fields["title"].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data  # what ModelForm.clean returns
        try:
            reference = papers.paper_reference(
                link=cleaned_data.get("url", ""),
                arxiv_id=cleaned_data.get("arxiv_id", ""),
                doi=cleaned_data.get("doi", ""),
            )
        except papers.InvalidPaperReference as exc:
            self.add_error(self._ERROR_FIELDS[exc.field], exc.message)
            return cleaned_data
        cleaned_data["arxiv_id"], cleaned_data["doi"] = reference.arxiv_id, reference.doi
        self._check_unique(cleaned_data)
        if not self.errors:
            self._fill_in_from_source(cleaned_data, reference)
            self._check_unique(cleaned_data)  # a DOI the source gave may be another paper's
        return cleaned_data

    def _check_unique(self, cleaned_data: dict[str, Any]) -> None:
        others = Paper.objects.exclude(pk=self.instance.pk)
        arxiv_id, doi = cleaned_data.get("arxiv_id"), cleaned_data.get("doi")
        if arxiv_id and "arxiv_id" not in self.errors and (other := others.filter(arxiv_id=arxiv_id).first()):
            self.add_error("arxiv_id", f"“{other.title}” already has this arXiv id.")
        if doi and "doi" not in self.errors and (other := others.filter(doi__iexact=doi).first()):
            self.add_error("doi", f"“{other.title}” already has this DOI.")

    def _fill_in_from_source(self, cleaned_data: dict[str, Any], reference: papers.PaperReference) -> None:
        """What was left empty, from the paper's source: looked up when the title is missing,
        else from the lookup the page made (cached), if any."""
        if not cleaned_data.get("title") and not reference.has_identifier:
            self.add_error("title", "Enter the paper's title, or paste its link to fetch it.")
            return
        typed = replace(
            reference,
            title=cleaned_data.get("title") or "",
            authors=cleaned_data.get("authors") or "",
            venue=cleaned_data.get("venue") or "",
            year=cleaned_data.get("year"),
            abstract=cleaned_data.get("abstract") or "",
        )
        try:
            completed = paper_lookup.complete_reference(typed, fetch=not typed.title)
        except paper_lookup.LookupFailed as exc:
            self.add_error("title", f"{exc.message} {BY_HAND}")
            return
        if not completed.title:
            self.add_error("title", f"Enter the paper's title: {UNSUPPORTED}")
            return
        for name in self._DETAILS:
            if cleaned_data.get(name) in ("", None):
                cleaned_data[name] = getattr(completed, name)


class AuthorForm(forms.ModelForm):
    """An author; the avatar is decoded and re-encoded by uploads.py like every upload."""

    website = forms.URLField(
        required=False,
        max_length=Author._meta.get_field("website").max_length,
        assume_scheme="https",
        widget=AdminURLFieldWidget,
    )

    class Meta:
        model = Author
        fields = ["name", "slug", "bio", "avatar", "website", "links", "user"]
        field_classes = {"avatar": uploads.ImageUploadField}
        help_texts = {"avatar": CHOOSE_AGAIN_HELP}
