"""Importing a Substack export from the admin in a real browser: upload, read the dry run, press
Import, read the report; then an old /p/ link lands on the imported issue. Tasks run inline (the
test settings' immediate backend), so each step's page already shows its outcome. Screenshots land
in test-artifacts/import-*.png."""

from __future__ import annotations

import pytest

from importers.models import ImportRun
from newsletter.models import Issue
from subscribers.models import Subscriber, Suppression
from tests.factories import create_roles, make_user
from tests.substack_export import Export, Post, Reader, seed_issue_html
from tests.test_import_substack import ImageServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def images(settings, tmp_path):
    settings.IMPORT_FETCH_PRIVATE_HOSTS = True
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    server = ImageServer()
    yield server
    server.close()


def test_upload_check_import_and_follow_an_old_link(live_server, page, artifacts_dir, images, tmp_path):
    create_roles()  # a transactional test starts from an empty database
    make_user("boss", "Managing editor", password="a-long-test-password")  # not a superuser
    export = tmp_path / "substack-export.zip"
    Export(
        posts=[
            Post(
                "48211734", "ml-safety-newsletter-2", "ML Safety Newsletter #2", seed_issue_html(images.base)
            )
        ],
        readers=[Reader("ann@example.org"), Reader("off@example.org", email_disabled=True)],
    ).write_to(export)

    page.goto(live_server.url + "/admin/login/?next=/admin/importers/importrun/add/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Substack export (.zip)").set_input_files(str(export))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_load_state("load")

    dry_run = page.locator(".import-report").first
    assert "Dry run, nothing saved. Would import 1 issues (0 drafts)." in dry_run.inner_text()
    assert "Image not imported" not in dry_run.inner_text()
    assert not Issue.objects.exists()
    page.screenshot(path=str(artifacts_dir / "import-dry-run.png"), full_page=True)

    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state("load")

    assert ImportRun.objects.get().status == ImportRun.Status.DONE
    assert page.locator("progress[data-field=bar]").get_attribute("value") == "3"
    report = page.locator(".import-report").first.inner_text()
    assert "Imported 1 issues (0 drafts)." in report
    assert "missing-jiminy.png" in report and "HTTP 404" in report
    assert Subscriber.objects.get().email == "ann@example.org" and Suppression.objects.count() == 1
    page.screenshot(path=str(artifacts_dir / "import-report.png"), full_page=True)

    page.goto(live_server.url + "/p/ml-safety-newsletter-2")
    assert page.url == live_server.url + "/issues/2/"
    assert page.get_by_role(
        "heading", name="Pyramid Adversarial Training Improves ViT Performance"
    ).is_visible()
    page.screenshot(path=str(artifacts_dir / "import-issue.png"), full_page=True)
    assert [error for error in page.console_errors if "404" not in error] == []
