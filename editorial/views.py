"""The share-preview page: a draft exactly as the public issue page will show it, with a banner
saying it is a preview, kept out of search engines."""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from newsletter import seo
from newsletter import views as public_views
from newsletter.absolute_urls import site_url

from . import previews

NOINDEX = "noindex, nofollow"


@require_safe
@never_cache
def preview(request: HttpRequest, token: str) -> HttpResponse:
    try:
        issue = previews.issue_for_token(token)
    except previews.InvalidPreviewLink as exc:
        meta = seo.PageMeta(
            title="Preview unavailable",
            description=exc.message,
            url=site_url(request.path),
            noindex=True,
        )
        response = render(
            request, "editorial/preview_invalid.html", {"meta": meta, "message": exc.message}, status=404
        )
    else:
        context = public_views.issue_page_context(request, issue)
        context["meta"] = replace(context["meta"], noindex=True)
        context["preview_expiry_days"] = previews.PREVIEW_DAYS
        response = render(request, "editorial/preview_issue.html", context)
    response["X-Robots-Tag"] = NOINDEX
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to linked sites
    return response
