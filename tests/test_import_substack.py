"""Importing a Substack export: the archive with its structure, the list, the old links.

Every export is built by the test in Substack's own format (tests/substack_export.py); figures are
served by a local HTTP server, where one URL fails. The seed issue (shared/seed/) is the issue
whose structure must come back: sections, feature summaries with figure, caption and paper,
"Other Recent ..." lists as briefs, "Other News" as news items, the intro as the intro.
"""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.urls import reverse
from PIL import Image

from importers import readers as readers_module
from importers.core import run_import
from importers.models import ImportedImage, ImportRun, Redirect
from importers.substack import SubstackExport
from newsletter.models import Issue, OutboxMessage, Paper, PaperSummary, Section
from subscribers.addresses import address_hash
from subscribers.models import Send, Subscriber, Suppression
from tests.factories import make_issue, make_section, make_user
from tests.substack_export import Export, Post, Reader, figure, seed_issue_html

pytestmark = pytest.mark.django_db


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), color).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 50), (20, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


class ImageServer:
    """Serves the figures the exports point at; counts each path's requests."""

    def __init__(self) -> None:
        self.files = {
            "/pyramid.png": ("image/png", _png((200, 40, 40))),
            "/dynamic.jpg": ("image/jpeg", _jpeg()),
            "/occlusion.png": ("image/png", _png((40, 200, 40))),
            "/not-an-image.png": ("image/png", b"<html>this is not a picture</html>"),
        }
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.files:
                    self.send_error(404)
                    return
                content_type, body = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def images(settings, tmp_path):
    settings.IMPORT_FETCH_PRIVATE_HOSTS = True  # the test's server is on 127.0.0.1
    settings.IMPORT_FETCH_TIMEOUT = 5
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    server = ImageServer()
    yield server
    server.close()


def seed_post(images: ImageServer, **fields) -> Post:
    fields.setdefault("subtitle", "Adversarial training, feature visualization, and machine ethics")
    return Post(
        "48211734",
        "ml-safety-newsletter-2",
        "ML Safety Newsletter #2",
        seed_issue_html(images.base),
        **fields,
    )


def import_export(tmp_path, export: Export, *args: str) -> str:
    path = tmp_path / "export.zip"
    export.write_to(path)
    out = io.StringIO()
    call_command("import_substack", str(path), *args, stdout=out)
    return out.getvalue()


# The structure ----------------------------------------------------------------------------------


def test_the_seed_issue_comes_back_with_its_sections_summaries_and_papers(images, tmp_path):
    import_export(tmp_path, Export(posts=[seed_post(images)]))

    issue = Issue.objects.get()
    assert (issue.number, issue.status) == (2, Issue.Status.PUBLISHED)
    assert issue.title == "Adversarial training, feature visualization, and machine ethics"
    assert issue.preheader == issue.title
    assert issue.published_at == datetime(2022, 1, 3, 17, 0, tzinfo=UTC)
    assert issue.intro.startswith("As part of a larger community building effort")
    assert "[subscribe here](https://newsletter.mlsafety.org/)" in issue.intro
    assert "- steering RL agents from causing wanton harm" in issue.intro
    sections = list(Section.objects.order_by("position").values_list("name", flat=True))
    assert sections == ["Robustness", "Monitoring", "Alignment", "Other News"]
    layout = [
        (s.section.name, s.kind, s.headline[:40])
        for s in issue.summaries.select_related("section").order_by("section__position", "position")
    ]
    assert layout[:5] == [
        ("Robustness", "feature", "Pyramid Adversarial Training Improves Vi"),
        ("Robustness", "feature", "Analyzing Dynamic Adversarial Training D"),
        ("Robustness", "brief", "An adversarial NLP benchmark dataset tha"),
        ("Robustness", "brief", "In the NeurIPS domain adaptation competi"),
        ("Robustness", "brief", "A collection of real-world images with u"),
    ]
    assert [kind for section, kind, _ in layout if section == "Monitoring"] == [
        "feature",
        "brief",
        "brief",
        "brief",
    ]
    assert layout[-2:] == [
        ("Other News", "news", "Mathematical Reasoning Forecasting"),
        ("Other News", "news", "Grants"),
    ]

    pyramid = issue.summaries.get(headline="Pyramid Adversarial Training Improves ViT Performance")
    assert pyramid.paper is not None and pyramid.figure.name is not None
    assert pyramid.paper.arxiv_id == "2111.15121"
    assert pyramid.paper.title == pyramid.headline
    assert pyramid.figure_caption.startswith("Top: Visualization of adversarial pyramid perturbations.")
    assert pyramid.figure_alt == "Pyramid perturbations"
    assert pyramid.figure.name.startswith("uploads/imported/") and pyramid.figure_web
    assert "[Paper]" not in pyramid.body and "strong robustness gains" in pyramid.body
    dynamic = issue.summaries.get(headline__startswith="Analyzing Dynamic")
    assert dynamic.paper is not None
    assert dynamic.paper.arxiv_id == "2110.08514"  # the version is dropped
    assert "1. train a model on the current dataset" in dynamic.body
    assert "[recent papers](https://arxiv.org/abs/2104.14337)" in dynamic.body
    assert "*sharply diminishing returns*" in dynamic.body
    brief = issue.summaries.get(headline__startswith="An adversarial NLP benchmark")
    assert brief.paper is not None
    assert brief.paper.arxiv_id == "2111.02840" and brief.body == ""
    deception = issue.summaries.get(headline__startswith="A dataset that captures")
    assert deception.paper is not None
    assert deception.paper.url == "https://aclanthology.org/2021.acl-long.2"
    grants = issue.summaries.get(headline="Grants")
    assert grants.paper is None
    assert grants.body.startswith("Open Philanthropy will [fund")
    maths = issue.summaries.get(headline="Mathematical Reasoning Forecasting")
    assert "However, computers are quite capable" in maths.body


def test_substacks_chrome_is_removed(images, tmp_path):
    import_export(tmp_path, Export(posts=[seed_post(images)]))

    issue = Issue.objects.get()
    everything = issue.intro + "".join(issue.summaries.values_list("body", flat=True))
    for chrome in (
        "Subscribe now",
        "Thanks for reading",
        "Share ML Safety Newsletter",
        "substack.com",
        "Type your email",
    ):
        assert chrome not in everything


def test_a_paper_already_in_the_index_is_reused_and_keeps_its_details(images, tmp_path):
    known = Paper.objects.create(
        title="Pyramid Adversarial Training Improves ViT Performance", arxiv_id="2111.15121", venue="CVPR"
    )

    out = import_export(tmp_path, Export(posts=[seed_post(images)]))

    assert PaperSummary.objects.get(headline__startswith="Pyramid").paper == known
    assert Paper.objects.filter(arxiv_id="2111.15121").count() == 1
    assert Paper.objects.get(pk=known.pk).venue == "CVPR"
    assert "Papers: 12 new, 1 already in the paper index." in out


def test_sections_are_matched_by_name_or_mapped(images, tmp_path):
    robustness = make_section("Robustness", position=1)
    interpretability = make_section("Interpretability", position=2)

    import_export(tmp_path, Export(posts=[seed_post(images)]), "--section-map", "Monitoring=Interpretability")

    assert PaperSummary.objects.filter(section=robustness).count() == 5
    assert PaperSummary.objects.filter(section=interpretability).count() == 4
    assert not Section.objects.filter(name="Monitoring").exists()
    assert Section.objects.filter(name="Robustness").count() == 1


# Images -----------------------------------------------------------------------------------------


def test_a_failed_image_is_reported_and_the_import_goes_on(images, tmp_path):
    html = seed_issue_html(images.base).replace(
        images.base + "/occlusion.png", images.base + "/not-an-image.png"
    )
    post = Post("1", "two", "Issue 2", html)

    out = import_export(tmp_path, Export(posts=[post]))

    assert (
        "Image not imported: " + images.base + "/missing-jiminy.png (1.two): The server answered HTTP 404."
        in out
    )
    assert "not-an-image.png (1.two): Upload a valid image." in out
    jiminy = PaperSummary.objects.get(headline__startswith="What Would Jiminy Cricket Do?")
    assert jiminy.paper is not None
    assert not jiminy.figure and jiminy.figure_caption.startswith("Moral knowledge")
    assert jiminy.paper.arxiv_id == "2110.13136"
    assert PaperSummary.objects.get(headline__startswith="Pyramid").figure
    assert Issue.objects.get().summaries.count() == 15


def test_each_image_is_fetched_once_per_url_even_across_runs(images, tmp_path):
    same = figure(images.base + "/pyramid.png", "Same figure")
    posts = [
        Post(str(n), f"post-{n}", f"Issue {n}", f"<h1>Robustness</h1><h3>Paper {n}</h3>{same}<p>Text.</p>")
        for n in (1, 2)
    ]
    import_export(tmp_path, Export(posts=posts[:1]))
    import_export(tmp_path, Export(posts=posts))

    assert images.hits["/pyramid.png"] == 1
    assert ImportedImage.objects.count() == 1
    names = set(PaperSummary.objects.values_list("figure", flat=True))
    assert len(names) == 1 and names.pop().startswith("uploads/imported/")


def test_an_image_on_a_private_address_is_not_fetched(images, settings, tmp_path):
    settings.IMPORT_FETCH_PRIVATE_HOSTS = False

    out = import_export(tmp_path, Export(posts=[seed_post(images)]))

    assert images.hits == {}
    assert "The host 127.0.0.1 is not on the public internet." in out
    assert Issue.objects.get().summaries.count() == 15


# Posts that are not issues, drafts, numbers -----------------------------------------------------


def test_drafts_stay_drafts_and_pages_podcasts_and_threads_are_reported(images, tmp_path, client):
    posts = [
        Post(
            "10",
            "draft",
            "Issue 3: Work in progress",
            "<h1>Robustness</h1><h3>A</h3><p>b</p>",
            is_published=False,
            post_date="",
        ),
        Post("11", "about", "About", "<p>About us.</p>", type="page"),
        Post(
            "12",
            "episode",
            "Episode 1",
            "<p>Listen.</p>",
            type="podcast",
            podcast_url="https://example.org/1.mp3",
        ),
        Post("13", "talk", "Talk to us", "<p>Comments.</p>", type="thread"),
    ]

    out = import_export(tmp_path, Export(posts=posts))

    draft = Issue.objects.get()
    assert (draft.number, draft.title, draft.status, draft.published_at) == (
        3,
        "Work in progress",
        "draft",
        None,
    )
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Not imported: 11.about “About”: a page, not an issue." in out
    assert "Not imported: 12.episode “Episode 1”: a podcast episode, not an issue." in out
    assert "Not imported: 13.talk “Talk to us”: a discussion thread, not an issue." in out
    assert "Imported 1 issues (1 drafts)." in out


def test_numbers_come_from_titles_else_in_date_order(images, tmp_path):
    make_issue(5, title="Already here")
    posts = [
        Post("1", "a", "ML Safety Newsletter #4", "<p>a</p>", post_date="2022-01-01T10:00:00Z"),
        Post("2", "b", "Something without a number", "<p>b</p>", post_date="2022-02-01T10:00:00Z"),
        Post("3", "c", "Issue 7: Agents", "<p>c</p>", post_date="2022-03-01T10:00:00Z"),
        Post("4", "d", "No. 5 is taken here", "<p>d</p>", post_date="2022-04-01T10:00:00Z"),
        Post("5", "e", "Earliest, unnumbered", "<p>e</p>", post_date="2021-12-01T10:00:00Z"),
    ]

    out = import_export(tmp_path, Export(posts=posts))

    numbers = dict(Issue.objects.values_list("slug", "number"))
    assert numbers == {"already-here": 5, "a": 4, "b": 6, "c": 7, "d": 8, "e": 1}
    assert Issue.objects.get(number=7).title == "Agents"
    assert "issue #5 already exists here" in out


# Readers ----------------------------------------------------------------------------------------


def test_readers_become_subscribers_with_their_consent_record_and_disabled_ones_are_suppressed(
    images, tmp_path
):
    Suppression.objects.create(
        email_hash=address_hash("gone@example.org"), reason=Suppression.Reason.HARD_BOUNCE
    )
    Subscriber.objects.create(
        email="left@example.org",
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    readers = [
        Reader(" Ann@Example.ORG ", created_at="2019-05-04T10:00:00.000Z"),
        Reader("ann@example.org"),
        Reader(
            "paid@example.org",
            active_subscription=True,
            plan="yearly",
            expiry="2026-01-01T00:00:00Z",
            first_payment_at="2021-01-01T00:00:00Z",
        ),
        Reader("off@example.org", email_disabled=True),
        Reader("gone@example.org"),
        Reader("left@example.org"),
        Reader("not an address"),
    ]

    out = import_export(tmp_path, Export(readers=readers))

    ann = Subscriber.objects.get(email="ann@example.org")
    assert ann.is_active and ann.consent_source == Subscriber.Source.IMPORT
    assert ann.consent_at == ann.confirmed_at == datetime(2019, 5, 4, 10, 0, tzinfo=UTC)
    assert ann.consent_basis.startswith("Subscribed on Substack on 2019-05-04 (Substack export “export.zip”")
    assert list(ann.sections.all()) == []  # every section
    paid = Subscriber.objects.get(email="paid@example.org")
    assert paid.is_active  # a paid plan says nothing about email: kept as a note
    assert (
        "active_subscription: true, plan: yearly, expiry: 2026-01-01T00:00:00Z, first_payment_at"
        in paid.consent_basis
    )
    assert not Subscriber.objects.filter(email="off@example.org").exists()
    assert (
        Suppression.objects.get(email_hash=address_hash("off@example.org")).reason
        == Suppression.Reason.UNSUBSCRIBED
    )
    assert not Subscriber.objects.filter(email="gone@example.org").exists()
    assert Subscriber.objects.get(email="left@example.org").status == Subscriber.Status.UNSUBSCRIBED
    assert set(Subscriber.objects.mailable().values_list("email", flat=True)) == {
        "ann@example.org",
        "paid@example.org",
    }
    assert (
        "Readers: 2 new subscribers, 0 pending made active, 0 already subscribed, 1 added to the "
        "suppression list (0 were on it), 1 suppressed not re-added, 1 who left this list kept out, "
        "1 duplicates, 1 invalid."
    ) in out
    assert "line 8: not an address:" in out


def test_importing_emails_nobody(images, tmp_path):
    import_export(tmp_path, Export(posts=[seed_post(images)], readers=[Reader("ann@example.org")]))

    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()
    assert not Send.objects.exists()


def test_readers_stream_through_in_chunks(images, tmp_path, monkeypatch):
    """Bounded memory: the list is read a chunk at a time, each chunk written before the next is read."""
    monkeypatch.setattr(readers_module, "CHUNK", 50)
    ahead = []
    original = SubstackExport.readers

    def watched(self):
        for index, record in enumerate(original(self)):
            ahead.append(index - Subscriber.objects.count())
            yield record

    monkeypatch.setattr(SubstackExport, "readers", watched)

    import_export(tmp_path, Export(readers=[Reader(f"reader{n}@example.org") for n in range(400)]))

    assert Subscriber.objects.count() == 400
    assert max(ahead) <= 50


@pytest.mark.slow
def test_a_large_export_imports(images, tmp_path):
    posts = [
        Post(
            str(n),
            f"issue-{n}",
            f"Issue {n}",
            f"<h1>Robustness</h1><h3>Paper {n}</h3><p>Text {n}.</p>"
            f'<p><a href="https://arxiv.org/abs/2201.{n:05d}">[Paper]</a></p>',
            post_date=f"2022-01-01T00:00:{n % 60:02d}Z",
        )
        for n in range(1, 301)
    ]
    readers = (Reader(f"reader{n}@example.org", email_disabled=n % 10 == 0) for n in range(20_000))

    out = import_export(tmp_path, Export(posts=posts, readers=readers))

    assert Issue.objects.count() == 300 and Paper.objects.count() == 300
    assert Subscriber.objects.count() == 18_000 and Suppression.objects.count() == 2_000
    assert "Readers: 18000 new subscribers" in out


# Running it again -------------------------------------------------------------------------------


def _snapshot() -> dict[str, object]:
    models = [Issue, PaperSummary, Paper, Section, Subscriber, Suppression, Redirect, ImportedImage]
    counts: dict[str, object] = {model.__name__: model._default_manager.count() for model in models}
    counts["issues_updated"] = Issue.objects.aggregate(last=Max("updated_at"))["last"]
    counts["summaries_updated"] = PaperSummary.objects.aggregate(last=Max("updated_at"))["last"]
    counts["subscribers_updated"] = Subscriber.objects.aggregate(last=Max("updated_at"))["last"]
    return counts


def test_running_the_same_import_again_changes_nothing(images, tmp_path):
    export = Export(
        posts=[seed_post(images), Post("2", "draft", "Draft", "<p>x</p>", is_published=False)],
        readers=[Reader("ann@example.org"), Reader("off@example.org", email_disabled=True)],
    )
    import_export(tmp_path, export)
    before, hits = _snapshot(), dict(images.hits)

    out = import_export(tmp_path, export)

    assert _snapshot() == before
    assert images.hits == hits
    assert "Imported 0 issues" in out and "Already imported, left as they are: 2 posts." in out
    assert "Readers: 0 new subscribers" in out and "Redirects: 0 new, 2 already there." in out


def test_a_dry_run_reports_and_changes_nothing(images, tmp_path):
    before = _snapshot()

    out = import_export(
        tmp_path, Export(posts=[seed_post(images)], readers=[Reader("a@example.org")]), "--dry-run"
    )

    assert _snapshot() == before
    assert images.hits == {}
    assert out.startswith("Dry run, nothing saved. Would import 1 issues (0 drafts).")
    assert "Sections created: Robustness, Monitoring, Alignment, Other News." in out
    assert "Images: 4 to fetch, 0 fetched before." in out
    assert "Readers: 1 new subscribers" in out


# Old links --------------------------------------------------------------------------------------


def test_old_substack_links_answer_301_to_the_issue(images, tmp_path, client):
    import_export(
        tmp_path,
        Export(posts=[seed_post(images), Post("9", "later", "Later", "<p>x</p>", is_published=False)]),
    )
    issue = Issue.objects.get(number=2)

    for old in (
        "/p/ml-safety-newsletter-2",
        "/p/ml-safety-newsletter-2/",
        "/p/ml-safety-newsletter-2?utm_source=x",
    ):
        response = client.get(old)
        assert (response.status_code, response["Location"]) == (301, issue.get_absolute_url())
    assert client.get("/p/later").status_code == 404  # a draft's old link tells nothing
    assert client.get("/p/no-such-post").status_code == 404
    assert client.post("/p/ml-safety-newsletter-2").status_code != 301


def test_a_redirect_never_shadows_a_page_of_this_site(client):
    issue = make_issue(1)
    Redirect.objects.create(old_path="/issues", issue=issue)
    Redirect.objects.create(old_path="/search", target_path="/issues/")

    assert client.get("/issues/").status_code == 200
    assert client.get("/search/").status_code == 200


# Bad exports ------------------------------------------------------------------------------------


def test_a_file_that_is_not_a_zip_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(b"this is not a zip file")

    with pytest.raises(CommandError, match="not a ZIP archive"):
        call_command("import_substack", str(path))


def test_a_zip_without_posts_csv_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(CommandError, match="no posts.csv"):
        call_command("import_substack", str(path))


def test_a_posts_csv_without_post_ids_is_refused(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("posts.csv", "title,date\nHello,2022-01-01\n")

    with pytest.raises(CommandError, match="has no “post_id” column"):
        call_command("import_substack", str(path))


def test_a_bad_section_map_is_refused(tmp_path):
    with pytest.raises(CommandError, match="--section-map"):
        call_command("import_substack", str(tmp_path / "x.zip"), "--section-map", "no equals sign")


# The admin --------------------------------------------------------------------------------------


def _upload(data: bytes, name: str = "export.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_a_managing_editor_uploads_reads_the_dry_run_then_imports(
    images, client, tmp_path, django_capture_on_commit_callbacks
):
    managing = make_user("max", "Managing editor")
    client.force_login(managing)
    export = Export(posts=[seed_post(images)], readers=[Reader("ann@example.org")])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:importers_importrun_add"), {"file": _upload(export.zip_bytes())}
        )

    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:importers_importrun_change", args=[run.pk]
    )
    assert run.status == ImportRun.Status.CHECKED and run.created_by == managing
    assert not Issue.objects.exists() and not Subscriber.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Dry run, nothing saved. Would import 1 issues" in page
    assert reverse("admin:importers_importrun_start", args=[run.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:importers_importrun_start", args=[run.pk]))

    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert (run.done, run.total) == (2, 2)  # one post, one reader
    assert Issue.objects.get().number == 2 and Subscriber.objects.get().email == "ann@example.org"
    assert list((tmp_path / "imports").iterdir()) == []  # the upload is deleted
    progress = client.get(reverse("admin:importers_importrun_progress", args=[run.pk])).json()
    assert progress == {
        "status": "done",
        "status_label": "Imported",
        "done": 2,
        "total": 2,
        "percent": 100,
        "running": False,
    }
    assert (
        "Import report"
        in client.get(reverse("admin:importers_importrun_change", args=[run.pk])).content.decode()
    )

    again = client.post(reverse("admin:importers_importrun_start", args=[run.pk]), follow=True)
    assert "This import cannot start now: it is “imported”." in again.content.decode()


def test_an_upload_that_is_not_an_export_is_a_form_error(images, client):
    client.force_login(make_user("max", "Managing editor"))

    response = client.post(reverse("admin:importers_importrun_add"), {"file": _upload(b"junk")})

    assert response.status_code == 200
    assert "The file is not a ZIP archive." in response.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("role", ["Writer", "Editor"])
def test_only_a_managing_editor_imports(images, client, role):
    client.force_login(make_user("someone", role))

    response = client.post(reverse("admin:importers_importrun_add"), {"file": _upload(Export().zip_bytes())})

    assert response.status_code == 403
    assert 'id="access-refused"' in response.content.decode()
    assert not ImportRun.objects.exists()


def test_the_run_import_function_is_what_the_command_uses(images, tmp_path):
    """The core takes any source; the Substack adapter is one."""
    path = tmp_path / "export.zip"
    Export(posts=[seed_post(images)]).write_to(path)

    with SubstackExport(str(path)) as source:
        report = run_import(source)

    assert [issue["number"] for issue in report.issues] == [2]
    assert report.summaries == {"feature": 4, "brief": 9, "news": 2}
