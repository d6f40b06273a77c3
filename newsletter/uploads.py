"""Uploads done safely. Every image a person uploads (a summary's figure, an author's avatar, an
image dropped into the Markdown editor) goes through `clean_image`, which returns a file we made,
never the bytes, the name or the content type that came in:

1. at most `UPLOAD_MAX_BYTES` bytes;
2. Pillow reads the header only (`Image.open` is lazy), with the JPEG, PNG, GIF and WebP decoders
   alone; width x height is compared with `UPLOAD_MAX_PIXELS` before a single pixel is decoded
   (`Image.MAX_IMAGE_PIXELS` follows the same setting, so a bomb that got past would still raise);
3. `verify()`, then the full decode of the first frame: a truncated or corrupt file is refused
   with a form error, never a 500;
4. the EXIF orientation is applied, colours are converted to sRGB when an ICC profile describes
   another space, and the image is re-encoded without any metadata (EXIF and its GPS position,
   XMP, ICC profiles, PNG text chunks, comments);
5. the format is ours: PNG for lossless sources (PNG; GIF, whose first frame is kept: animations
   are not figures and mail clients differ on them) and anything with transparency, JPEG for
   photographs (JPEG, WebP without transparency); the name is a random uuid with that format's
   extension (unguessable, so a draft's figures are not found before the issue is published).

Files made by our own code (the demo's figures) are trusted and saved as they are; the model
validator `images.validate_figure` still checks their header.
"""

from __future__ import annotations

import re
import uuid
from io import BytesIO

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
ALLOWED_LABEL = "JPEG, PNG, GIF or WebP"
# What we store: format -> (extension, content type).
OUTPUT_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
# The extensions /media/ serves inline as images (everything else is a download); see media.py.
IMAGE_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
JPEG_QUALITY = 90
# The alt text an image dropped into the Markdown editor starts with; the pre-publish checks
# (editorial/checks.py) refuse it, as they refuse an image without alt text.
ALT_PLACEHOLDER = "Describe this image for readers who cannot see it"
INVALID_IMAGE = forms.ImageField.default_error_messages["invalid_image"]
# Magic numbers of formats people try, named in the refusal ("BMP images are not supported").
_KNOWN_OTHER_FORMATS = [
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF", "PDF"),
    (0, b"8BPS", "PSD"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
]
_SVG = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]", re.I | re.S)
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class CleanImage(ContentFile):
    """An upload decoded and re-encoded by `clean_image`: a generated name, our format, no metadata."""

    def __init__(
        self, data: bytes, image_format: str, size: tuple[int, int], original_name: str = ""
    ) -> None:
        extension, self.content_type = OUTPUT_FORMATS[image_format]
        super().__init__(data, name=f"{uuid.uuid4().hex}.{extension}")
        self.image_format = image_format
        self.width, self.height = size
        # The name the writer's file had, for messages only; it is never stored.
        self.original_name = original_name


def too_many_pixels(size: tuple[int, int] | None = None, pixels: int | None = None) -> ValidationError:
    cap = settings.UPLOAD_MAX_PIXELS / 1_000_000
    if size:
        found = f"The image is {size[0]} × {size[1]} pixels ({size[0] * size[1] / 1_000_000:.4g} megapixels)"
    elif pixels:
        found = f"The image has {pixels / 1_000_000:.4g} megapixels"
    else:
        found = "The image has too many pixels"
    return ValidationError(
        f"{found}; at most {cap:g} megapixels are accepted. Scale it down and upload it again.",
        code="too_many_pixels",
    )


def open_image(file) -> Image.Image:
    """`file` opened lazily (header only) as one of the allowed formats, refused with a
    ValidationError when it is not one or has more pixels than UPLOAD_MAX_PIXELS. Nothing is
    decoded yet; the caller closes the image."""
    file.seek(0)
    # Pillow's own bomb check follows the setting too (read per call, so a changed setting holds).
    Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS
    try:
        image = Image.open(file, formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        match = _BOMB_PIXELS.search(str(exc))
        raise too_many_pixels(pixels=int(match.group(1)) if match else None) from exc
    except UnidentifiedImageError as exc:
        raise _unidentified(file) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationError(INVALID_IMAGE, code="invalid_image") from exc
    width, height = image.size
    if width * height > settings.UPLOAD_MAX_PIXELS:
        image.close()
        raise too_many_pixels((width, height))
    return image


def clean_image(upload, *, max_width: int | None = None) -> CleanImage:
    """`upload` checked, decoded and re-encoded as described in the module docstring, at most
    `max_width` pixels wide when given. Raises ValidationError with a message for the writer."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; upload an image of at most "
            f"{limit / 1024 / 1024:g} MB.",
            code="file_too_large",
        )
    with open_image(upload) as header:
        try:
            header.verify()
        except Exception as exc:  # Pillow's plugins raise many kinds for a damaged file
            raise ValidationError(INVALID_IMAGE, code="invalid_image") from exc
    with open_image(upload) as image:
        source_format = image.format
        try:
            image.load()  # the first frame only
            clean = ImageOps.exif_transpose(image)
        except Exception as exc:
            raise ValidationError(INVALID_IMAGE, code="invalid_image") from exc
    try:
        clean = to_srgb(clean)
        output_format = _output_format(source_format, clean)
        clean = _prepared(clean, output_format, max_width)
        clean.info = {}  # no EXIF, GPS, XMP, ICC profile, text chunks or comments
        buffer = BytesIO()
        if output_format == "PNG":
            clean.save(buffer, "PNG")
        else:
            clean.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    except (OSError, ValueError) as exc:
        raise ValidationError(INVALID_IMAGE, code="invalid_image") from exc
    original_name = str(getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200]
    return CleanImage(buffer.getvalue(), output_format, clean.size, original_name)


def _unidentified(file) -> ValidationError:
    file.seek(0)
    head = file.read(512)
    file.seek(0)
    for offset, magic, name in _KNOWN_OTHER_FORMATS:
        if head[offset : offset + len(magic)] == magic:
            return unsupported_format(name)
    if _SVG.match(head):
        return unsupported_format("SVG")
    return ValidationError(INVALID_IMAGE, code="invalid_image")


def unsupported_format(name: str) -> ValidationError:
    return ValidationError(
        f"{name} images are not supported; upload {ALLOWED_LABEL}.", code="unsupported_format"
    )


def has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return image.getchannel("A").getextrema()[0] < 255
    return "transparency" in image.info


def _output_format(source_format: str, image: Image.Image) -> str:
    if source_format in ("PNG", "GIF") or image.mode in ("1", "P") or has_transparency(image):
        return "PNG"
    return "JPEG"


def to_srgb(image: Image.Image) -> Image.Image:
    """Pixels in sRGB, so that dropping the ICC profile changes no colour (CMYK included)."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(profile))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted or image


def _prepared(image: Image.Image, output_format: str, max_width: int | None) -> Image.Image:
    """`image` in a mode `output_format` stores, at most `max_width` wide."""
    transparent = has_transparency(image)
    if image.mode.startswith("I;16") or image.mode == "I":
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if output_format == "PNG":
        if transparent and image.mode not in ("RGBA", "LA"):
            image = image.convert("RGBA")
        elif not transparent and image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
            image = image.convert("RGB" if image.mode in ("RGBA", "RGBa", "PA") else "L")
        elif image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGB")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if max_width and image.width > max_width:
        if image.mode in ("1", "P"):
            image = image.convert("RGBA" if transparent else "RGB")
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    return image


class ImageUploadField(forms.ImageField):
    """The form field for every image upload: its value is `clean_image`'s result, never the
    upload itself. Model forms get it through `Meta.field_classes`."""

    def __init__(self, *, max_width: int | None = None, **kwargs) -> None:
        self.max_width = max_width
        super().__init__(**kwargs)

    def to_python(self, data):
        if data in self.empty_values:
            return None
        if isinstance(data, CleanImage):
            return data
        try:
            size = data.size
        except AttributeError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if not size:
            raise ValidationError(self.error_messages["empty"], code="empty")
        return clean_image(data, max_width=self.max_width)
