"""What the drafting forms' script shows for a pasted identifier: the stored paper when the paper
index already has it (same arXiv id, DOI or link: saving reuses it, "covered before in issue #N"),
otherwise the metadata its source gives."""

from __future__ import annotations

from typing import Any

from ..models import Issue, Paper
from ..papers import InvalidPaperReference, PaperReference, find_paper
from .errors import LookupFailed
from .identifiers import ARXIV, Identifier, parse_identifier
from .metadata import PaperMetadata
from .sources import lookup

ENTER_BY_HAND = "Enter the paper's details by hand."


def reference_for(identifier: Identifier) -> PaperReference:
    """The identifiers a stored paper would be found by."""
    return PaperReference(
        url=identifier.canonical_url,
        arxiv_id=identifier.value if identifier.kind == ARXIV else "",
        doi=identifier.doi,
    )


def covered_in(paper: Paper) -> list[int]:
    """The numbers of the published issues that summarised `paper`, newest first. Drafts are left
    out: they are not "covered" yet, and a writer may not know of another writer's drafts."""
    issues = Issue.objects.published().filter(summaries__paper=paper).distinct()
    return list(issues.order_by("-number").values_list("number", flat=True))


def covered_message(numbers: list[int]) -> str:
    if not numbers:
        return "Already in the paper index (not in a published issue yet): saving reuses it."
    listed = [f"#{number}" for number in numbers]
    if len(listed) == 1:
        return f"Covered before in issue {listed[0]}."
    return f"Covered before in issues {', '.join(listed[:-1])} and {listed[-1]}."


def describe(text: str) -> dict[str, Any]:
    """The answer of the lookup endpoint: {"ok": True, "source", "paper": {...}, "stored", "message"}
    or {"ok": False, "reason", "error"}. Raises nothing a lookup can fail with."""
    try:
        identifier = parse_identifier(text)
        stored = find_paper(reference_for(identifier))
        if stored is not None:
            numbers = covered_in(stored)
            return {
                "ok": True,
                "source": "index",
                "paper": _stored_fields(stored),
                "stored": {"id": stored.pk, "covered_in": numbers},
                "message": covered_message(numbers),
            }
        metadata = lookup(identifier)
    except InvalidPaperReference as exc:  # the identifiers name two stored papers
        return {"ok": False, "reason": "conflict", "error": exc.message}
    except LookupFailed as exc:
        return {"ok": False, "reason": exc.reason, "error": f"{exc.message} {ENTER_BY_HAND}"}
    return {
        "ok": True,
        "source": metadata.source,
        "paper": _metadata_fields(metadata),
        "stored": None,
        "message": f"Filled in from {metadata.source}.",
    }


def _stored_fields(paper: Paper) -> dict[str, Any]:
    return {
        "title": paper.title,
        "authors": paper.authors,
        "year": paper.year,
        "venue": paper.venue,
        "abstract": paper.abstract,
        "url": paper.link,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
    }


def _metadata_fields(metadata: PaperMetadata) -> dict[str, Any]:
    return {
        "title": metadata.title,
        "authors": metadata.authors_text,
        "year": metadata.year,
        "venue": metadata.venue,
        "abstract": metadata.abstract,
        "url": metadata.url,
        "arxiv_id": metadata.arxiv_id,
        "doi": metadata.doi,
    }
