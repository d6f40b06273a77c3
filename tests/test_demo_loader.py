"""`load_demo` loads issue #2 as the seed has it, plus generated issues, and running it again
changes nothing; `create_demo_admin` makes admin/admin on a development site only.

Loading the demo takes seconds, so the tests about what it loaded share one load (the `demo`
fixture); the tests about loading it again start from that load.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from taggit.models import Tag, TaggedItem

from newsletter.demo import figures
from newsletter.demo.generated import generated_issues
from newsletter.demo.seed_issue import SEED_ISSUE
from newsletter.models import Author, Issue, Paper, PaperSummary, Section

SEED_TEXT = (
    Path(__file__).resolve().parent.parent / "newsletter/demo/ml-safety-newsletter-2.txt"
).read_text()


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@dataclass(frozen=True)
class LoadedDemo:
    output: str  # what `load_demo` printed
    media_root: Path  # where it drew the figures


@pytest.fixture(scope="module")
def _demo_loaded_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[LoadedDemo]:
    """The demo, loaded into the test database in a transaction that is rolled back after the
    module's last test (as a TestCase's setUpTestData is): each test runs in a savepoint inside it,
    so what one test changes is gone before the next."""
    media_root = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
            output = load_demo()
        yield LoadedDemo(output, media_root)
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(_demo_loaded_once, db, settings) -> LoadedDemo:
    """The demo as `load_demo` leaves it in an empty database, its figures in MEDIA_ROOT."""
    settings.MEDIA_ROOT = _demo_loaded_once.media_root
    return _demo_loaded_once


def media_files() -> list[Path]:
    return sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def plain(markdown: str) -> str:
    """The words a reader sees: links keep their text, list markers and emphasis go."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    text = re.sub(r"^\s*(?:\d+\.|-)\s+", "", text, flags=re.MULTILINE)
    return " ".join(text.replace("*", "").split())


def test_the_seed_issue_is_the_seed_text_verbatim_and_in_order():
    # The plain-text copy lost its links, leaving "recent papers , and"; the issue has the link back.
    seed = " ".join(SEED_TEXT.split()).replace(" ,", ",")
    position = seed.index(plain(SEED_ISSUE.intro))
    for summary in SEED_ISSUE.summaries:
        pieces = [summary.headline, summary.figure_caption, plain(summary.body)]
        for piece in filter(None, pieces):
            found = seed.find(piece, position)
            assert found >= position, f"not in the seed, or out of order: {piece[:80]!r}"
            position = found + len(piece)


@pytest.mark.slow
def test_it_loads_issue_2_with_its_sections_and_every_summary(demo):
    assert demo.output.startswith("Loaded 25 issues, 4 sections, ")
    issue = Issue.objects.get(number=2)
    assert issue.title == "Adversarial Training, Feature Visualization, and Machine Ethics"
    assert issue.is_published and issue.published_at < timezone.now()
    assert "Welcome to the 2nd issue of the ML Safety Newsletter" in issue.intro
    assert "<li>steering RL agents from causing wanton harm</li>" in issue.intro_html
    assert [author.name for author in issue.authors.all()] == ["Dan Hendrycks"]
    assert {"adversarial robustness", "interpretability", "machine ethics"} <= set(issue.tags.names())

    assert [section.name for section in Section.objects.all()] == [
        "Robustness",
        "Monitoring",
        "Alignment",
        "Other News",
    ]
    summaries = list(issue.summaries.select_related("section", "paper"))
    assert [s.section.slug for s in summaries] == ["robustness"] * 5 + ["monitoring"] * 4 + [
        "alignment"
    ] * 4 + ["other-news"] * 2
    kinds = [s.kind for s in summaries]
    assert kinds.count(PaperSummary.Kind.FEATURE) == 4
    assert kinds.count(PaperSummary.Kind.BRIEF) == 9
    assert kinds.count(PaperSummary.Kind.NEWS) == 2
    assert [s.headline for s in summaries if s.kind == PaperSummary.Kind.FEATURE] == [
        "Pyramid Adversarial Training Improves ViT Performance",
        "Analyzing Dynamic Adversarial Training Data in the Limit",
        "How Well do Feature Visualizations Support Causal Understanding of CNN Activations?",
        "What Would Jiminy Cricket Do? Towards Agents That Behave Morally",
    ]
    assert [s.headline for s in summaries if s.kind == PaperSummary.Kind.NEWS] == [
        "Mathematical Reasoning Forecasting",
        "Grants",
    ]

    pyramid = summaries[0]
    assert pyramid.paper.arxiv_id == "2111.15121"
    assert pyramid.paper.link == "https://arxiv.org/abs/2111.15121"
    assert pyramid.figure_caption.startswith("Top: Visualization of adversarial pyramid perturbations.")
    dynamic = summaries[1]
    assert "<ol>" in dynamic.body_html and dynamic.body_html.count("<li>") == 3
    assert "this loop has sharply diminishing returns" in dynamic.search_text
    jiminy = issue.summaries.get(headline__startswith="What Would Jiminy Cricket Do?")
    assert "roughly 17% of actions that receive reward are immoral" in jiminy.search_text
    assert all(s.paper for s in summaries if s.kind != PaperSummary.Kind.NEWS)
    assert issue.summaries.get(headline="Grants").paper is None


@pytest.mark.slow
def test_its_figures_have_alt_text_and_web_renditions(demo):
    with_figures = PaperSummary.objects.exclude(figure="")
    assert with_figures.filter(issue__number=2).count() == 4
    for summary in with_figures:
        assert len(summary.figure_alt) > 40, summary.headline
        assert summary.figure_web.name.startswith("figures/web/")
        assert (summary.figure_width, summary.figure_height) == (1200, 675)
        with Image.open(summary.figure.path) as image:
            assert (image.format, image.size) == ("PNG", (1600, 900))
        assert Path(summary.figure_web.path).is_file()


@pytest.mark.slow
def test_running_it_twice_leaves_one_copy_of_everything(demo):
    def counts() -> dict[str, int]:
        return {
            "issues": Issue.objects.count(),
            "sections": Section.objects.count(),
            "authors": Author.objects.count(),
            "summaries": PaperSummary.objects.count(),
            "papers": Paper.objects.count(),
            "tags": Tag.objects.count(),
            "tagged": TaggedItem.objects.count(),
            "media": len(media_files()),
        }

    first, first_updated = counts(), list(PaperSummary.objects.values_list("pk", "updated_at"))
    second_output = load_demo()

    assert counts() == first
    assert first["issues"] == 25 and first["sections"] == 4 and first["media"] > 0
    assert list(PaperSummary.objects.values_list("pk", "updated_at")) == first_updated
    assert demo.output.split(" (")[0] == second_output.split(" (")[0]
    assert "0 figures drawn" in second_output


@pytest.mark.slow
def test_every_demo_issue_passes_every_pre_publish_check(demo):
    from editorial.checks import failing, run_checks

    issues = Issue.objects.order_by("number")
    assert issues.count() == 25
    failures = {
        issue.number: [problem for result in failing(run_checks(issue)) for problem in result.problems]
        for issue in issues
    }
    assert {number: problems for number, problems in failures.items() if problems} == {}


@pytest.mark.slow
def test_the_seed_issue_can_be_sent_as_the_demo_has_it(demo):
    from subscribers import sending

    issue = Issue.objects.get(number=2)

    send = sending.start_send(issue)

    assert send.issue == issue
    assert len(issue.email_subject) <= 78 and len(issue.preheader) <= 140


@pytest.mark.slow
def test_it_reuses_figures_already_in_the_media_folder(demo):
    files = media_files()

    Issue.objects.filter(number=2).delete()  # lost from the database, its figures still on disk
    output = load_demo()

    assert media_files() == files
    assert "0 figures drawn" in output
    assert Issue.objects.get(number=2).summaries.exclude(figure="").exclude(figure_web="").count() == 4


def test_generated_issues_surround_the_seed_issue_with_fictional_papers():
    issues = generated_issues()

    assert [issue.number for issue in issues] == [1, *range(3, 26)]
    assert issues[0].published_at < SEED_ISSUE.published_at < issues[1].published_at
    assert issues[-1].published_at < timezone.now()
    assert all(3 <= len(issue.summaries) <= 6 for issue in issues)
    papers = [summary.paper for issue in issues for summary in issue.summaries if summary.paper]
    assert all(paper.url.startswith("https://example.org/papers/") and not paper.arxiv_id for paper in papers)
    assert len({paper.url for paper in papers}) < len(papers), "some paper is covered by two issues"
    assert {summary.section for issue in issues for summary in issue.summaries} == {
        "robustness",
        "monitoring",
        "alignment",
        "other-news",
    }
    assert generated_issues() == issues  # deterministic


def test_figures_are_the_same_bytes_every_time():
    figure = SEED_ISSUE.summaries[0].figure

    assert figures.render(figure) == figures.render(figure)


@pytest.mark.django_db
def test_create_demo_admin_makes_one_superuser_on_a_development_site(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("create_demo_admin", stdout=out)
    call_command("create_demo_admin", stdout=out)

    user = get_user_model().objects.get()
    assert user.username == "admin" and user.is_superuser and user.check_password("admin")
    assert "Admin login: https://news.example.org/admin/  user: admin  password: admin" in out.getvalue()
    assert "Demo admin exists" in out.getvalue()


@pytest.mark.django_db
def test_create_demo_admin_keeps_a_changed_password(settings):
    settings.DEBUG = True
    call_command("create_demo_admin", stdout=StringIO())
    user = get_user_model().objects.get(username="admin")
    user.set_password("a better password")
    user.save()

    call_command("create_demo_admin", stdout=StringIO())

    user.refresh_from_db()
    assert user.check_password("a better password")


@pytest.mark.django_db
def test_create_demo_admin_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("create_demo_admin", stdout=StringIO())

    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_create_demo_admin_with_force_works_with_debug_off(settings):
    settings.DEBUG = False

    call_command("create_demo_admin", "--force", stdout=StringIO())

    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
