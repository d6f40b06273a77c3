"""In a real browser, a writer drops images into the Markdown editor: a refused one says why under
the editor and leaves the text alone; an accepted one is inserted with an absolute URL and its
placeholder alt text selected, ready to be typed over."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from newsletter.uploads import ALT_PLACEHOLDER
from tests.factories import create_roles, make_user

DROP = """([selector, name, type, bytes]) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], name, {type}));
    document.querySelector(selector).dispatchEvent(
        new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""
SELECTED = """(selector) => {
    const editor = document.querySelector(selector);
    return editor.value.substring(editor.selectionStart, editor.selectionEnd);
}"""


def drop_file(page, selector: str, name: str, content_type: str, data: bytes) -> None:
    page.evaluate(DROP, [selector, name, content_type, list(data)])


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_writer_drops_images_into_the_intro(page, live_server, settings):
    settings.SITE_URL = live_server.url
    create_roles()  # a transactional test starts from an empty database
    sign_in(page, live_server, make_user("wanda", "Writer"))
    page.goto(f"{live_server.url}/admin/newsletter/issue/add/")
    page.click("#id_intro")
    page.keyboard.type("Welcome. ")

    drop_file(page, "#id_intro", "pixel.gif", "image/gif", b"<html><script>alert(1)</script></html>")

    note = page.locator(".field-intro .markdownx-upload-error")
    expect(note).to_contain_text("Upload a valid image.")
    expect(page.locator("#id_intro")).to_have_value("Welcome. ")

    chart = BytesIO()
    Image.new("RGB", (320, 200), (10, 120, 60)).save(chart, "PNG")
    drop_file(page, "#id_intro", "chart.png", "image/png", chart.getvalue())

    inserted = re.escape(f"![{ALT_PLACEHOLDER}]({live_server.url}/media/uploads/") + r"[0-9a-f]{32}\.png\)"
    expect(page.locator("#id_intro")).to_have_value(re.compile(r"^Welcome\. " + inserted + "$"))
    assert page.evaluate(SELECTED, "#id_intro") == ALT_PLACEHOLDER
    expect(note).to_have_count(0)
    preview_image = page.locator(".field-intro .markdownx-preview img")
    expect(preview_image).to_have_attribute("alt", ALT_PLACEHOLDER)
    page.wait_for_function(
        "() => document.querySelector('.field-intro .markdownx-preview img').naturalWidth === 320"
    )
    # The refused upload's 400, as the browser and markdownx log it; no script error.
    assert [error.split(" ")[0] for error in page.console_errors] == ["Failed", "Invalid"]
