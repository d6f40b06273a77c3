"""Markdown is rendered by one function, and nothing executable survives it."""

from __future__ import annotations

import pytest

from newsletter.rendering import markdown_to_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)>",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
]


def test_it_renders_markdown():
    html = markdown_to_html("**bold** and [a link](https://arxiv.org/abs/2111.15121)")
    assert "<strong>bold</strong>" in html
    assert 'href="https://arxiv.org/abs/2111.15121"' in html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_it_strips_executable_content(payload):
    html = markdown_to_html(f"Before {payload} after").lower()
    assert "<script" not in html
    assert "onerror" not in html and "onload" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html
    assert "data:text/html" not in html
    assert "before" in html and "after" in html
