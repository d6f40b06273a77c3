"""Template filters for the public archive."""

from __future__ import annotations

from django import template

from newsletter.bibtex import paper_year
from newsletter.models import Paper, PaperSummary

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    """`value` if it is an http(s) URL, else "": a stored `javascript:` link never becomes a href."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


_KIND_LABELS: dict[str, str] = {
    PaperSummary.Kind.BRIEF: "Other recent papers",
    PaperSummary.Kind.NEWS: "News",
}


@register.filter
def kind_label(summary: PaperSummary) -> str:
    """How a listing labels a summary that is not a full feature ("" for features)."""
    return _KIND_LABELS.get(summary.kind, "")


@register.filter
def venue_year(paper: Paper) -> str:
    """ "NeurIPS, 2021": the venue and the year the archive lists the paper under, as far as known."""
    year = paper_year(paper)
    return ", ".join(str(part) for part in (paper.venue, year) if part)
