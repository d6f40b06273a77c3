"""Old links keep working: a path this site does not know is looked up in the redirect table.

`RedirectMiddleware` acts only on a 404 to a GET or HEAD, like django.contrib.redirects, so a
redirect never shadows a page of this site, and any importer's old paths (Substack's
`/p/<slug>`, Ghost's `/<slug>/`) work without a URL pattern of their own. An issue's redirect is
followed only while the issue is public: a draft's old link stays a 404 rather than telling
anyone the draft exists.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from newsletter.models import Issue

from .models import Redirect

MAX_PATH = 500


def target_for(path: str) -> str | None:
    """Where an old `path` lives now, or None."""
    path = "/" + path.strip("/")
    if len(path) > MAX_PATH or "\x00" in path:
        return None
    redirect = (
        Redirect.objects.select_related("issue")
        .filter(old_path__in=[path, path + "/"])
        .order_by("pk")
        .first()
    )
    if redirect is None:
        return None
    if redirect.issue is not None:
        is_public = Issue.objects.published().filter(pk=redirect.issue.pk).exists()
        return redirect.issue.get_absolute_url() if is_public else None
    return redirect.target_path or None


class RedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        target = target_for(request.path_info)
        if target is None or target == request.path_info:
            return response
        return HttpResponsePermanentRedirect(target)
