"""Figures: the model-level check of a stored image and the web-sized rendition shown on pages
and in emails. Uploads themselves are decoded and re-encoded by uploads.py before they get here."""

from __future__ import annotations

import hashlib
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps

from . import uploads

WEB_WIDTH = 1200


def validate_figure(upload) -> None:
    """Refuse anything that is not a JPEG, PNG, GIF or WebP image within the upload limits. Only
    the header is read and checked: no pixel is decoded here."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size and upload.size > limit:
        raise ValidationError(f"The figure is larger than {limit / 1024 / 1024:g} MB.")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        with uploads.open_image(upload) as image:
            image.verify()
    except ValidationError:
        raise
    except Exception as exc:  # Pillow's plugins raise many kinds for a damaged file
        raise ValidationError(uploads.INVALID_IMAGE, code="invalid_image") from exc
    finally:
        if hasattr(upload, "seek"):
            upload.seek(position)


def web_rendition(source) -> tuple[ContentFile, int, int]:
    """A copy of `source` at most WEB_WIDTH wide, as JPEG or PNG (no WebP) that every mail client
    shows, without metadata. Returns the file (named by content hash, so it can be cached forever)
    and its size."""
    with uploads.open_image(source) as opened:
        opened.load()
        image = uploads.to_srgb(ImageOps.exif_transpose(opened))
    has_alpha = image.mode in ("RGBA", "LA", "P")
    image = image.convert("RGBA" if has_alpha else "RGB")  # before the palette's transparency goes
    if image.width > WEB_WIDTH:
        height = round(image.height * WEB_WIDTH / image.width)
        image = image.resize((WEB_WIDTH, height), Image.Resampling.LANCZOS)
    image.info = {}  # no EXIF, GPS or ICC profile in what the public sees
    buffer = BytesIO()
    if has_alpha:
        image.save(buffer, "PNG", optimize=True)
        extension = "png"
    else:
        image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
        extension = "jpg"
    width, height = image.size
    data = buffer.getvalue()
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
    return ContentFile(data, name=name), width, height
