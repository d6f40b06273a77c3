"""/media/ serves images as images and nothing as a page of the site: whatever a stored file
holds, it cannot run script on the site's origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.media import MEDIA_CSP

pytestmark = pytest.mark.django_db


def store(settings, name: str, data: bytes) -> None:
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_the_policy_allows_nothing_but_images_in_a_sandbox():
    assert MEDIA_CSP == "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("figures/a.png", "image/png"), ("figures/a.jpg", "image/jpeg"), ("uploads/a.GIF", "image/gif")],
)
def test_an_image_is_served_inline_as_its_type(client, settings, name, content_type):
    store(settings, name, b"image bytes")

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "Content-Disposition" not in response or response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert "immutable" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["uploads/pixel.html", "uploads/logo.svg", "uploads/notes.txt", "uploads/x"])
def test_anything_else_is_a_download_under_the_same_policy(client, settings, name):
    store(settings, name, b"<html><script>alert(document.domain)</script></html>")

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP
