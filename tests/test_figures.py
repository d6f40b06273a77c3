"""Figures uploaded in the admin: only real images get in, and each gets a web-sized rendition."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from newsletter.models import PaperSummary
from tests.factories import image_upload, make_issue, make_section, make_summary
from tests.test_admin_drafting import ISSUE_ADD, issue_data, summaries_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_client's superuser gets a password; the production hasher takes a second per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def section():
    return make_section("Robustness")


def post_issue_with_figure(admin_client, section, figure):
    data = issue_data() | summaries_data(
        {"section": section.pk, "figure": figure, "figure_caption": "Results", "figure_alt": "A bar chart"}
    )
    return admin_client.post(ISSUE_ADD, data)


def test_it_refuses_a_file_that_is_not_an_image(admin_client, section):
    not_an_image = SimpleUploadedFile("figure.png", b"Just some text.", content_type="image/png")

    response = post_issue_with_figure(admin_client, section, not_an_image)

    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode()
    assert not PaperSummary.objects.exists()


def test_it_refuses_an_image_format_mail_clients_cannot_show(admin_client, section):
    buffer = BytesIO()
    Image.new("RGB", (40, 30)).save(buffer, "BMP")
    bitmap = SimpleUploadedFile("figure.bmp", buffer.getvalue(), content_type="image/bmp")

    response = post_issue_with_figure(admin_client, section, bitmap)

    assert response.status_code == 200
    assert "BMP images are not supported" in response.content.decode()
    assert not PaperSummary.objects.exists()


def test_a_large_figure_gets_a_web_rendition_at_most_1200_pixels_wide(admin_client, section):
    response = post_issue_with_figure(admin_client, section, image_upload(size=(2400, 1350)))

    assert response.status_code == 302
    summary = PaperSummary.objects.get()
    assert (summary.figure_width, summary.figure_height) == (1200, 675)
    with Image.open(summary.figure_web.open()) as rendition:
        assert rendition.size == (1200, 675)
    with Image.open(summary.figure.open()) as original:
        assert original.size == (2400, 1350)


def test_a_small_figure_keeps_its_size(admin_client, section):
    response = post_issue_with_figure(admin_client, section, image_upload(size=(640, 360)))

    assert response.status_code == 302
    summary = PaperSummary.objects.get()
    assert (summary.figure_width, summary.figure_height) == (640, 360)


def test_the_admin_shows_a_thumbnail_of_the_rendition(admin_client, section):
    issue = make_issue()
    summary = make_summary(
        issue, section, figure=image_upload(size=(1600, 900)), figure_alt="Accuracy by epsilon"
    )

    for url in (
        f"/admin/newsletter/papersummary/{summary.pk}/change/",
        f"/admin/newsletter/issue/{issue.pk}/change/",
    ):
        html = admin_client.get(url).content.decode()
        assert (
            f'<img class="figure-thumb" src="{summary.figure_web.url}" width="1200" height="675" '
            'alt="Accuracy by epsilon">'
        ) in html


def test_the_summary_list_shows_which_summaries_have_a_figure(admin_client, section):
    issue = make_issue()
    make_summary(issue, section, headline="With", figure=image_upload(size=(100, 50)))
    make_summary(issue, section, headline="Without")

    response = admin_client.get("/admin/newsletter/papersummary/")

    html = response.content.decode()
    assert html.count('alt="True"') == 1 and html.count('alt="False"') == 1


def test_a_figure_chosen_on_a_page_with_errors_is_reported_as_not_saved(admin_client, section):
    data = issue_data(title="") | summaries_data(
        {
            "section": section.pk,
            "figure": image_upload("results.png", size=(640, 360)),
            "figure_alt": "A chart",
        }
    )

    response = admin_client.post(ISSUE_ADD, data)

    html = response.content.decode()
    assert response.status_code == 200 and not PaperSummary.objects.exists()
    assert (
        "“results.png” is not saved yet: the page has errors, and a browser cannot keep a chosen "
        "file across pages. Choose it again before you save."
    ) in html
    assert "The rendition is made when the summary is saved." not in html


def test_the_figure_field_says_to_choose_the_file_again_after_errors(admin_client):
    html = admin_client.get(ISSUE_ADD).content.decode()

    assert "If the page comes back with errors, choose the file again" in html
