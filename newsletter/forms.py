"""Forms for drafting: they validate and normalise what an editor typed; papers.py does the work."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.db.models import Max
from markdownx.widgets import AdminMarkdownxWidget

from . import papers, uploads
from .models import Author, Issue, Paper, PaperSummary

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
        help_text="An arXiv link or id (2111.15121), a DOI or the paper's URL.",
        widget=forms.TextInput(
            attrs={"class": "vTextField", "placeholder": "https://arxiv.org/abs/2111.15121"}
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

    QUICK_PAPER_FIELDS = (
        "paper_link",
        "paper_title",
        "paper_authors",
        "paper_venue",
        "paper_year",
        "paper_doi",
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
            )
            stored = papers.find_paper(reference)
        except papers.InvalidPaperReference as exc:
            self.add_error(self._ERROR_FIELDS[exc.field], exc.message)
            return cleaned_data
        if stored is None and not reference.title:
            message = (
                "Enter the paper's title: no stored paper has this link."
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


class PaperForm(forms.ModelForm):
    """A paper, with its arXiv id and DOI normalised (pasted links welcome) before the database's
    uniqueness checks see them."""

    url = forms.URLField(
        label="URL",
        required=False,
        max_length=Paper._meta.get_field("url").max_length,
        assume_scheme="https",
        widget=AdminURLFieldWidget,
    )

    _ERROR_FIELDS = {"link": "url", "arxiv_id": "arxiv_id", "doi": "doi", "title": "title"}

    class Meta:
        model = Paper
        fields = ["title", "url", "authors", "venue", "year", "arxiv_id", "doi"]
        help_texts = {
            "arxiv_id": "The id or link, e.g. 2111.15121 or https://arxiv.org/abs/2111.15121v2.",
            "doi": "The DOI or its doi.org link, e.g. 10.1145/3442188.3445922.",
        }

    def clean(self) -> dict:
        cleaned_data = super().clean()
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
        others = Paper.objects.exclude(pk=self.instance.pk)
        if reference.arxiv_id and (other := others.filter(arxiv_id=reference.arxiv_id).first()):
            self.add_error("arxiv_id", f"“{other.title}” already has this arXiv id.")
        if reference.doi and (other := others.filter(doi__iexact=reference.doi).first()):
            self.add_error("doi", f"“{other.title}” already has this DOI.")
        return cleaned_data


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
