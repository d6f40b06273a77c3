"""The Markdown editor's live preview: sanitised HTML for staff, a 400 for a post without content."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_it_renders_sanitised_markdown_for_a_writer(client):
    client.force_login(make_user("wanda", "Writer"))

    response = client.post(reverse("markdownx_markdownify"), {"content": "**bold** <script>x()</script>"})

    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_it_refuses_a_post_without_content_with_a_400(client):
    client.force_login(make_user("wanda", "Writer"))

    response = client.post(reverse("markdownx_markdownify"), {"other": "x"})

    assert response.status_code == 400


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.post(reverse("markdownx_markdownify"), {"content": "x"})

    assert response.status_code == 302
    assert "/login/" in response["Location"]
