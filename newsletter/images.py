"""Figure uploads: validation and the web-sized rendition shown on pages and in emails."""

from __future__ import annotations

import hashlib
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuses decompression bombs long before Pillow's own limit
WEB_WIDTH = 1200
ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def validate_figure(upload) -> None:
    """Refuse anything that is not a reasonably sized JPEG, PNG, GIF or WebP image."""
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError("The figure is larger than 10 MB.")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError("The figure is not a valid image file.") from exc
    finally:
        if hasattr(upload, "seek"):
            upload.seek(position)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(f"{image_format} images are not supported; upload JPEG, PNG, GIF or WebP.")
    if width * height > MAX_PIXELS:
        raise ValidationError("The figure has too many pixels (40 megapixels at most).")


def web_rendition(source) -> tuple[ContentFile, int, int]:
    """A copy of `source` at most WEB_WIDTH wide, as WebP-free JPEG or PNG that every mail client
    shows. Returns the file (named by content hash, so it can be cached forever) and its size."""
    source.seek(0)
    with Image.open(source) as image:
        image.load()
        has_alpha = image.mode in ("RGBA", "LA", "P")
        if image.width > WEB_WIDTH:
            height = round(image.height * WEB_WIDTH / image.width)
            image = image.resize((WEB_WIDTH, height), Image.Resampling.LANCZOS)
        buffer = BytesIO()
        if has_alpha:
            image.convert("RGBA").save(buffer, "PNG", optimize=True)
            extension = "png"
        else:
            image.convert("RGB").save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
            extension = "jpg"
        width, height = image.size
    data = buffer.getvalue()
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
    return ContentFile(data, name=name), width, height
