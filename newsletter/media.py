"""Serves uploaded media from the local media folder, in production as well as in development.

Uploaded files never change under the same name (Django's storage picks a fresh name for each
upload, renditions are named by content hash), so they are cached for a year.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django.views.static import serve

ONE_YEAR = 365 * 24 * 60 * 60


@require_safe
def serve_media(request: HttpRequest, path: str) -> HttpResponse:
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
