"""Small helpers that build content for tests, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from newsletter.models import Author, Issue, Paper, PaperSummary, Section

_numbers = itertools.count(1000)


def make_section(name: str = "Robustness", position: int = 0, **fields) -> Section:
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return Section.objects.create(name=name, slug=slug, position=position, **fields)


def make_author(name: str = "Dan Hendrycks", **fields) -> Author:
    return Author.objects.create(name=name, **fields)


def make_issue(number: int | None = None, published: bool = True, **fields) -> Issue:
    number = number if number is not None else next(_numbers)
    fields.setdefault("title", f"Issue number {number}")
    fields.setdefault("intro", f"Welcome to issue {number}.")
    if published:
        fields.setdefault("status", Issue.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - timedelta(days=1))
    return Issue.objects.create(number=number, **fields)


def make_paper(title: str = "Pyramid Adversarial Training Improves ViT Performance", **fields) -> Paper:
    fields.setdefault("url", "https://arxiv.org/abs/2111.15121")
    return Paper.objects.create(title=title, **fields)


def make_summary(issue: Issue, section: Section, **fields) -> PaperSummary:
    fields.setdefault("headline", "A summary")
    fields.setdefault("body", "Some **findings**.")
    return PaperSummary.objects.create(issue=issue, section=section, **fields)


def image_upload(name: str = "figure.png", size: tuple[int, int] = (1600, 900), fmt: str = "PNG"):
    buffer = BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(buffer, fmt)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(fmt, "application/octet-stream")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
