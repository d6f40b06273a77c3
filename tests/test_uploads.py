"""Uploads done safely: every image is decoded behind a pixel cap, re-encoded without metadata
and stored under a generated name; anything else is refused with a message, never a 500."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile

from newsletter import uploads
from newsletter.forms import AuthorForm, PaperSummaryForm
from newsletter.models import PaperSummary
from tests.factories import image_upload, make_issue, make_section, make_user
from tests.test_figures import post_issue_with_figure

pytestmark = pytest.mark.django_db

UPLOAD = "/markdownx/upload/"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def writer():
    return make_user("wanda", "Writer")


@pytest.fixture
def section():
    return make_section("Robustness")


def png_header(width: int, height: int) -> bytes:
    """A 1-bit PNG that says it is width x height: a valid signature and header, a few bytes of
    pixel data. Decoding it would take width x height pixels of memory; reading its size does not."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def photo_with_gps(size=(64, 48), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 12.5), 3: "E", 4: (4.0, 53.0, 30.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(data: bytes, name: str = "figure.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def encoded(fmt: str, image: Image.Image, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def stored(url: str, settings) -> Path:
    return Path(settings.MEDIA_ROOT) / url.split("/media/", 1)[1]


def summary_form(section, figure) -> PaperSummaryForm:
    data = {"issue": make_issue().pk, "section": section.pk, "kind": "news", "headline": "A prize"}
    return PaperSummaryForm(data=data, files={"figure": figure})


# The editor's upload (django-markdownx posts dropped images here).


def test_html_sent_as_a_gif_is_refused_with_a_400(client, writer, settings):
    client.force_login(writer)
    page = b"<!DOCTYPE html><html><body><script>fetch('/admin/')</script></body></html>"

    response = client.post(UPLOAD, {"image": upload(page, "pixel.gif", "image/gif")})

    assert response.status_code == 400
    assert response.json()["error"].startswith("Upload a valid image.")
    assert not (Path(settings.MEDIA_ROOT) / "uploads").exists()


def test_a_file_that_is_not_an_image_gets_a_json_error_not_a_500(client, writer):
    client.force_login(writer)

    response = client.post(UPLOAD, {"image": upload(b"%PDF-1.7 a paper", "paper.pdf", "application/pdf")})

    assert response.status_code == 400
    assert response.json() == {
        "error": "PDF images are not supported; upload JPEG, PNG, GIF or WebP.",
        "image": ["PDF images are not supported; upload JPEG, PNG, GIF or WebP."],
    }


def test_an_upload_without_a_file_gets_a_json_error(client, writer):
    client.force_login(writer)

    response = client.post(UPLOAD, {})

    assert response.status_code == 400
    assert response.json()["error"] == "This field is required."


def test_a_real_png_named_html_is_stored_as_png_under_a_generated_name(client, writer, settings):
    client.force_login(writer)
    png = encoded("PNG", Image.new("RGB", (300, 200), (10, 120, 60)))

    response = client.post(UPLOAD, {"image": upload(png, "chart.html", "text/html")})

    assert response.status_code == 200
    url = response.json()["image_url"]
    name = url.rsplit("/", 1)[1]
    assert url.startswith("https://news.example.org/media/uploads/") and name.endswith(".png")
    assert "chart" not in name and "html" not in name
    with Image.open(stored(url, settings)) as image:
        assert (image.format, image.size) == ("PNG", (300, 200))


def test_the_editor_inserts_an_absolute_url_and_a_placeholder_alt_text(client, writer):
    client.force_login(writer)

    response = client.post(UPLOAD, {"image": image_upload(size=(300, 200))})

    answer = response.json()
    assert answer["image_code"] == f"![{uploads.ALT_PLACEHOLDER}]({answer['image_url']})"
    assert answer["image_url"].startswith("https://news.example.org/media/uploads/")
    assert answer["alt_placeholder"] == uploads.ALT_PLACEHOLDER


def test_an_editor_image_wider_than_an_email_column_is_scaled_down(client, writer, settings):
    client.force_login(writer)

    response = client.post(UPLOAD, {"image": image_upload(size=(2400, 600))})

    with Image.open(stored(response.json()["image_url"], settings)) as image:
        assert image.size == (1200, 300)


def test_a_gif_is_stored_as_a_png_of_its_first_frame(client, writer, settings):
    client.force_login(writer)
    frames = [Image.new("P", (40, 30), color) for color in (1, 2, 3)]
    gif = BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], transparency=0)

    response = client.post(UPLOAD, {"image": upload(gif.getvalue(), "anim.gif", "image/gif")})

    url = response.json()["image_url"]
    assert url.endswith(".png")
    with Image.open(stored(url, settings)) as image:
        assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1


def test_staff_who_cannot_edit_issues_or_summaries_may_not_upload(client):
    client.force_login(make_user("reader-staff"))

    response = client.post(UPLOAD, {"image": image_upload()})

    assert response.status_code == 403
    assert "may not upload images" in response.json()["error"]


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.post(UPLOAD, {"image": image_upload()})

    assert response.status_code == 302 and "/login/" in response["Location"]


# What clean_image makes of an upload, whichever path it came by.


def test_a_20000_pixel_square_png_is_refused_without_decoding_it():
    bomb = upload(png_header(20_000, 20_000))

    with (
        mock.patch.object(ImageFile.ImageFile, "load", side_effect=AssertionError("decoded")),
        pytest.raises(ValidationError) as refused,
    ):
        uploads.clean_image(bomb)

    assert refused.value.code == "too_many_pixels"
    assert "at most 40 megapixels are accepted" in refused.value.messages[0]


def test_an_image_over_the_pixel_cap_is_refused_with_its_size(settings):
    settings.UPLOAD_MAX_PIXELS = 10_000_000

    with pytest.raises(ValidationError) as refused:
        uploads.clean_image(upload(png_header(4000, 3000)))

    assert refused.value.messages == [
        "The image is 4000 × 3000 pixels (12 megapixels); at most 10 megapixels are accepted. "
        "Scale it down and upload it again."
    ]


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 1000

    with pytest.raises(ValidationError) as refused:
        uploads.clean_image(image_upload(size=(400, 400)))

    assert refused.value.code == "file_too_large"


def test_a_truncated_image_is_refused():
    png = encoded("PNG", Image.effect_noise((200, 200), 60))

    with pytest.raises(ValidationError) as refused:
        uploads.clean_image(upload(png[: len(png) // 2]))

    assert refused.value.code == "invalid_image"


def test_exif_orientation_is_applied_and_every_exif_tag_dropped():
    clean = uploads.clean_image(upload(photo_with_gps(size=(64, 48), orientation=6), "photo.jpg"))

    data = clean.read()
    with Image.open(BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (48, 64))
        assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"Exif" not in data


def test_an_icc_profile_is_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    png = encoded("PNG", Image.new("RGB", (20, 20), (0, 0, 200)), icc_profile=srgb)

    clean = uploads.clean_image(upload(png))

    with Image.open(clean) as image:
        assert "icc_profile" not in image.info
        assert image.convert("RGB").getpixel((5, 5)) == (0, 0, 200)


@pytest.mark.parametrize(
    ("image", "fmt", "stored_as"),
    [
        (Image.new("RGBA", (20, 20), (0, 0, 255, 100)), "WEBP", "PNG"),
        (Image.new("RGB", (20, 20), (0, 0, 255)), "WEBP", "JPEG"),
        (Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG", "JPEG"),
        (Image.new("L", (20, 20), 128), "PNG", "PNG"),
    ],
    ids=["transparent-webp", "opaque-webp", "cmyk-jpeg", "grey-png"],
)
def test_the_stored_format_follows_the_image(image, fmt, stored_as):
    clean = uploads.clean_image(upload(encoded(fmt, image), "upload.bin", "application/octet-stream"))

    with Image.open(clean) as result:
        assert result.format == stored_as
        assert result.mode in {"RGB", "RGBA", "L"}
    assert clean.name.endswith({"PNG": ".png", "JPEG": ".jpg"}[stored_as])


# Figures and avatars: the model forms store what clean_image made.


def test_a_figure_loses_its_gps_position(section):
    form = summary_form(section, upload(photo_with_gps(), "holiday.jpg", "image/jpeg"))

    assert form.is_valid(), form.errors
    summary = form.save()

    with Image.open(summary.figure.open()) as original:
        assert original.getexif().get_ifd(GPS_IFD) == {} and "exif" not in original.info
    with Image.open(summary.figure_web.open()) as rendition:
        assert "exif" not in rendition.info


def test_a_figure_is_stored_under_a_generated_name_with_its_real_extension(admin_client, section):
    png = encoded("PNG", Image.new("RGB", (640, 360), (10, 120, 60)))

    response = post_issue_with_figure(admin_client, section, upload(png, "figure.html", "text/html"))

    assert response.status_code == 302
    name = PaperSummary.objects.get().figure.name
    assert name.startswith("figures/") and name.endswith(".png") and "figure" not in name[8:]


def test_a_figure_over_the_pixel_cap_is_a_form_error(section):
    form = summary_form(section, upload(png_header(20_000, 20_000)))

    assert not form.is_valid()
    assert "at most 40 megapixels are accepted" in form.errors["figure"][0]


def test_an_avatar_is_re_encoded_too():
    form = AuthorForm(
        data={"name": "Dan Hendrycks", "slug": "dan-hendrycks"},
        files={"avatar": upload(photo_with_gps(), "me.php", "image/jpeg")},
    )

    assert form.is_valid(), form.errors
    author = form.save()

    assert author.avatar.name.endswith(".jpg") and "me" not in author.avatar.name[8:]
    with Image.open(author.avatar.open()) as avatar:
        assert avatar.getexif().get_ifd(GPS_IFD) == {}
