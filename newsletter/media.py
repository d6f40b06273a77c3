"""Serves uploaded media from the local media folder, in production as well as in development.

Uploaded files never change under the same name (uploads get a random name, renditions are named
by content hash), so they are cached for a year.

Nothing under /media/ may run as a page of this site, whatever a file holds: the content type
comes from the extension, and only the image extensions uploads.py stores are served inline, as
images; anything else is a download (application/octet-stream, Content-Disposition: attachment).
Every answer says nosniff, and a Content-Security-Policy that allows no script, style, frame or
form and sandboxes the document, so even a file opened directly has no access to the origin.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from django.views.static import serve

from .uploads import IMAGE_CONTENT_TYPES

ONE_YEAR = 365 * 24 * 60 * 60
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


@require_safe
def serve_media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    content_type = IMAGE_CONTENT_TYPES.get(PurePosixPath(path).suffix.lower())
    if response.status_code == 200:
        if content_type:
            response["Content-Type"] = content_type
        else:
            response["Content-Type"] = "application/octet-stream"
            response["Content-Disposition"] = content_disposition_header(True, PurePosixPath(path).name)
        response.headers.pop("Content-Encoding", None)  # a .svgz or .gz is a download, not decoded
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response
