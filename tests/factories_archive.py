"""Factories for the public archive's tests: whole issues with sections, summaries and papers."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from newsletter.models import Author, Issue, Paper, PaperSummary, Section
from tests.factories import image_upload, make_issue, make_paper, make_section, make_summary

_arxiv = itertools.count(10000)


def make_sections() -> list[Section]:
    return [
        make_section("Robustness", position=1),
        make_section("Monitoring", position=2),
        make_section("Alignment", position=3),
        make_section("Other News", position=4, slug="other-news"),
    ]


def unique_paper(title: str = "A paper", **fields) -> Paper:
    """A paper with its own arXiv id, so any number of them can exist side by side."""
    fields.setdefault("url", f"https://arxiv.org/abs/2112.{next(_arxiv):05d}")
    return make_paper(title, **fields)


def fill_issue(
    issue: Issue,
    sections: list[Section],
    summaries: int,
    *,
    writer: Author | None = None,
    tags: tuple[str, ...] = ("robustness",),
    figures: int = 2,
) -> list[PaperSummary]:
    """`summaries` summaries spread over `sections`: features first, then briefs and news items,
    each with its own paper; the first `figures` features get a figure."""
    made = []
    for index in range(summaries):
        section = sections[index % len(sections)]
        kind = (PaperSummary.Kind.FEATURE, PaperSummary.Kind.BRIEF, PaperSummary.Kind.NEWS)[index % 3]
        fields = {}
        if kind == PaperSummary.Kind.FEATURE and index // 3 < figures:
            fields.update(
                figure=image_upload(f"figure-{index}.png", size=(320, 180)),
                figure_caption=f"Caption {index}",
                figure_alt=f"Alt text {index}",
            )
        summary = make_summary(
            issue,
            section,
            kind=kind,
            position=index,
            headline=f"Headline {issue.number}-{index}",
            body=f"Body of summary **{index}** with a [link](https://example.org/{index}).",
            paper=unique_paper(f"Paper {issue.number}-{index}", authors="Ada Lovelace, Alan Turing"),
            writer=writer,
            **fields,
        )
        summary.tags.add(*tags)
        made.append(summary)
    return made


def make_issues(count: int, start: int = 1, **fields) -> list[Issue]:
    """`count` published issues numbered from `start`, a week apart, the newest last."""
    now = timezone.now()
    return [
        make_issue(number, published_at=now - timedelta(days=7 * (start + count - number)), **fields)
        for number in range(start, start + count)
    ]
