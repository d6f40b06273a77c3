"""Generated demo issues around the seed issue: #1 before it, #3 to #25 after it, one a month.

Everything here is fictional and says so: papers live at https://example.org/papers/..., have no
arXiv id, and are credited to invented researchers; the writers are invented too. The text is
assembled from templates with a random generator seeded by the issue number, so every run
produces the same issues, and the archive, section pages, paper index and search have realistic
material to page through.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from django.utils.text import slugify

from ..checks import SUBJECT_MAX
from .generated_text import (
    BRIEFS,
    DEMO_NOTE,
    FEATURES,
    METHODS,
    NEWS,
    RESEARCHERS,
    WRITER_FOR_SECTION,
    BriefTemplate,
    FeatureTemplate,
)
from .records import FigureRecord, IssueRecord, PaperRecord, SummaryRecord

FIRST_NUMBER, LAST_NUMBER = 1, 25
SEED_NUMBER = 2  # the real issue, in seed_issue.py
PUBLICATION = "ML Safety Newsletter"


def _ordinal(number: int) -> str:
    teens = 10 <= number % 100 <= 20
    return f"{number}{'th' if teens else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


_SMALL_WORDS = frozenset(
    {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "vs.", "with"}
)


def _title_case(text: str) -> str:
    """Headline-style capitals: "finding trojans in image classifiers" -> "Finding Trojans in Image
    Classifiers"; acronyms and small words (after the first) stay as they are."""

    def capitalise(word: str, first: bool) -> str:
        if word.isupper() or (not first and word in _SMALL_WORDS):
            return word
        return word[:1].upper() + word[1:]

    return " ".join(
        "-".join(capitalise(part, index == 0 and n == 0) for n, part in enumerate(word.split("-")))
        for index, word in enumerate(text.split())
    )


def _lower_first(label: str) -> str:
    """ "Accuracy (%)" -> "accuracy (%)" inside a sentence; "AUROC (%)" stays as it is."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _subject(number: int, topics: list[str]) -> str:
    """As many of the title's topics as fit the pre-publish checks' SUBJECT_MAX (78 characters),
    after the publication's name where that leaves room."""
    for prefix in (f"{PUBLICATION} #{number}: ", f"#{number}: "):
        for count in range(len(topics), 0, -1):
            shown = topics[:count]
            words = shown[0] if count == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
            for subject in (prefix + words + ("" if count == len(topics) else " and more"), prefix + words):
                if len(subject) <= SUBJECT_MAX:
                    return subject
    return f"{PUBLICATION} #{number}"


def _published_at(number: int, rng: random.Random) -> datetime:
    """Monthly, around the middle of the month; #2 went out in December 2021."""
    months = 2021 * 12 + 11 + (number - SEED_NUMBER)
    year, month = divmod(months, 12)
    return datetime(year, month + 1, rng.randint(8, 20), 17, 0, tzinfo=UTC)


def _paper(title: str, rng: random.Random, year: int) -> PaperRecord:
    return PaperRecord(
        title=title,
        url=f"https://example.org/papers/{slugify(title)}",
        authors=", ".join(rng.sample(RESEARCHERS, rng.randint(2, 5))),
        venue="Demo Workshop on ML Safety",
        year=year,
    )


def _figure(template: FeatureTemplate, fill: dict, rng: random.Random) -> FigureRecord:
    labels = {
        key: tuple(item.format(**fill) for item in value) if isinstance(value, tuple) else value
        for key, value in template.figure_labels.items()
    }
    method, target = fill["method"], fill["target"]
    slug = slugify(f"{template.section}-{method}")
    if template.figure_kind == "bars":
        return _bar_figure(slug, labels, target, rng)
    if template.figure_kind == "lines":
        return _line_figure(slug, labels, target, rng)
    if template.figure_kind == "heatmap":
        rows = ["Patch trigger", "Blend trigger", "Word trigger", "Clean model"]
        columns = ["Small", "Medium", "Large"]
        values = [[round(rng.uniform(0.55, 0.98), 2) for _ in columns] for _ in rows[:-1]]
        values.append([round(rng.uniform(0.02, 0.12), 2) for _ in columns])
        return _chart(
            slug,
            "heatmap",
            f"heat map of {method}'s detection rate for {target}: rows are three trigger types and a "
            "clean model, columns are small, medium and large models. Trojaned models are detected at "
            "rates between 0.55 and 0.98; clean models are flagged rarely.",
            title=f"Detection rate of {method}",
            rows=rows,
            columns=columns,
            values=values,
            legend="Share of models flagged as trojaned; darker is higher.",
        )
    return FigureRecord(
        slug=slug,
        kind="flow",
        alt=f"Placeholder diagram of {method}: the agent's experience trains a reversibility "
        "estimator, which scores each candidate action; irreversible actions are penalised before "
        "the agent acts, and the environment returns the next state.",
        params={
            "title": f"How {method} works (demo)",
            "steps": [
                "Agent's\nexperience",
                "Reversibility\nestimator",
                "Candidate\nactions scored",
                "Irreversible\nactions penalised",
                "Action taken",
            ],
            "loop_label": "next state",
        },
    )


def _chart(slug: str, kind: str, description: str, title: str, **params) -> FigureRecord:
    """A chart of invented values, which its alt text and its title both say."""
    return FigureRecord(
        slug=slug,
        kind=kind,
        alt=f"Placeholder {description} Values are invented for the demo.",
        params={"title": f"{title} (demo data)", **params},
    )


def _bar_figure(slug: str, labels: dict, target: str, rng: random.Random) -> FigureRecord:
    groups, (baseline_name, method_name) = list(labels["groups"]), labels["series"]
    baseline = [rng.randint(55, 80)] + [rng.randint(25, 60) for _ in groups[1:]]
    improved = [min(99, value + rng.randint(3, 14)) for value in baseline]
    return _chart(
        slug,
        "bars",
        f"bar chart of {_lower_first(labels['y_label'])} on {target} for “{baseline_name}” (grey) and "
        f"“{method_name}” (blue) in {len(groups)} groups: {', '.join(groups)}. "
        f"“{method_name}” scores higher in every group.",
        title=f"{method_name} vs. {baseline_name} on {target}",
        groups=groups,
        series={baseline_name: baseline, method_name: improved},
        y_label=labels["y_label"],
        y_range=[0, 100],
        first_is_baseline=True,
    )


def _line_figure(slug: str, labels: dict, target: str, rng: random.Random) -> FigureRecord:
    first_name, second_name = labels["series"]
    steps = list(range(11))
    if labels["shape"] == "converge":
        first = [round(20 + 35 * (1 - 0.8**step), 1) for step in steps]
        second = [round(20 + 35 * (1 - 0.55**step), 1) for step in steps]
        story = f"“{second_name}” climbs faster, reaching the level “{first_name}” ends at with less compute"
    elif labels["shape"] == "grow":
        slope = rng.uniform(3.5, 5.5)
        first = [round(3 + slope * step, 1) for step in steps]
        second = [round(2 + slope * 0.45 * step, 1) for step in steps]
        story = f"both rise with {_lower_first(labels['x_label'])}, “{second_name}” much more slowly"
    else:  # "proxy": the proxy keeps rising while the true objective peaks, then falls
        peak = rng.randint(3, 6)
        first = [round(30 + 50 * (1 - 0.75**step), 1) for step in steps]
        second = [
            round(30 + 40 * (1 - 0.6**step) - (6 * (step - peak) if step > peak else 0), 1) for step in steps
        ]
        story = f"“{first_name}” keeps rising while “{second_name}” peaks at step {peak} and then declines"
    return _chart(
        slug,
        "lines",
        f"line chart of {_lower_first(labels['y_label'])} against {_lower_first(labels['x_label'])} "
        f"on {target}: {story}.",
        title=f"{labels['y_label']} on {target}",
        x=steps,
        series={first_name: first, second_name: second},
        x_label=labels["x_label"],
        y_label=labels["y_label"],
        y_range=[0, 100] if labels["shape"] != "grow" else [0, 60],
    )


def _feature(
    template: FeatureTemplate, rng: random.Random, year: int, figure: bool
) -> tuple[SummaryRecord, str]:
    target = rng.choice(template.targets)
    fill = {
        "method": rng.choice(METHODS),
        "target": target,
        "target_title": _title_case(target),
        "target_cap": target[:1].upper() + target[1:],
    }
    summary = SummaryRecord(
        section=template.section,
        kind="feature",
        headline=template.headline.format(**fill),
        body=template.body.format(**fill),
        paper=_paper(template.paper_title.format(**fill), rng, year),
        figure=_figure(template, fill, rng) if figure else None,
        figure_caption=f"{_title_case(template.topic.format(**fill))}: an illustrative placeholder figure."
        if figure
        else "",
        writer=WRITER_FOR_SECTION[template.section],
        tags=template.tags,
    )
    return summary, template.topic.format(**fill)


def _brief(template: BriefTemplate, rng: random.Random, year: int) -> SummaryRecord:
    target = rng.choice(template.targets)
    return SummaryRecord(
        section=template.section,
        kind="brief",
        headline=template.headline.format(target=target),
        paper=_paper(template.paper_title.format(target_title=_title_case(target)), rng, year),
        writer=WRITER_FOR_SECTION[template.section],
        tags=template.tags,
    )


def _news(rng: random.Random) -> SummaryRecord:
    headline, body, targets, tags = rng.choice(NEWS)
    return SummaryRecord(
        section="other-news",
        kind="news",
        headline=headline,
        body=body.format(target=rng.choice(targets)) + " (Demo news item.)",
        writer=WRITER_FOR_SECTION["other-news"],
        tags=tags,
    )


def generate_issue(number: int, earlier_features: list[SummaryRecord]) -> IssueRecord:
    """Demo issue `number`; `earlier_features` are the features of the issues before it, whose
    papers it may revisit (so the paper index shows papers covered in more than one issue)."""
    rng = random.Random(f"ml-safety-demo-{number}")
    published_at = _published_at(number, rng)
    year = published_at.year

    feature_templates = rng.sample(FEATURES, rng.randint(1, 2))
    features, topics = [], []
    for index, template in enumerate(feature_templates):
        summary, topic = _feature(template, rng, year, figure=index == 0)
        features.append(summary)
        topics.append(topic)
    budget = rng.randint(3, 6) - len(features)
    news = [_news(rng)] if budget > 1 and rng.random() < 0.6 else []
    brief_templates = rng.sample(BRIEFS, max(1, budget - len(news)))
    briefs = [_brief(template, rng, year) for template in brief_templates]
    if len(earlier_features) >= 3 and number % 4 == 1:
        revisited = earlier_features[-3]
        briefs[-1] = SummaryRecord(
            section=revisited.section,
            kind="brief",
            headline=f"Revisited: “{revisited.paper.title}” now comes with code and a larger evaluation.",
            paper=revisited.paper,
            writer=revisited.writer,
            tags=revisited.tags,
        )
    summaries = tuple(features + briefs + news)

    bullets = [*topics, *(summary.headline.rstrip(".") for summary in briefs[:2])]
    intro = "\n".join(
        [
            f"Welcome to the {_ordinal(number)} issue of the ML Safety Newsletter. "
            "In this edition, we cover:",
            "",
            *(f"- {bullet[:1].lower() + bullet[1:]}" for bullet in bullets),
            "- ... and much more.",
            "",
            DEMO_NOTE,
            "",
        ]
    )
    title_topics = [_title_case(topic) for topic in [*topics, brief_templates[0].topic]]
    title = ", ".join(title_topics[:-1]) + " and " + title_topics[-1]
    tags = tuple(dict.fromkeys(tag for summary in summaries for tag in summary.tags))[:5]
    return IssueRecord(
        number=number,
        title=title,
        intro=intro,
        published_at=published_at,
        subject=_subject(number, title_topics),
        preheader=f"In this edition: {'; '.join(topics)}, and more.",
        authors=tuple(dict.fromkeys(summary.writer for summary in summaries)),
        tags=tags,
        summaries=summaries,
    )


def generated_issues() -> list[IssueRecord]:
    """Every generated issue, #1 and #3 to #25, in number order."""
    issues: list[IssueRecord] = []
    features: list[SummaryRecord] = []
    for number in range(FIRST_NUMBER, LAST_NUMBER + 1):
        if number == SEED_NUMBER:
            continue
        issue = generate_issue(number, features)
        features += [summary for summary in issue.summaries if summary.kind == "feature"]
        issues.append(issue)
    return issues
