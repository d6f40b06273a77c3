"""The Markdown editor's endpoints: the image upload (django-markdownx posts a dropped or pasted
image here) and the live preview.

It replaces markdownx's own view, which kept whatever the browser called an image under the
client's extension. The image goes through uploads.clean_image like every upload, scaled to the
width of a page or an email column (there is no separate rendition for images in the text), and
the answer is the Markdown to insert: an absolute URL, which works in an email and a feed as it
is, and a placeholder alt text that the pre-publish checks refuse until the writer replaces it.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.http import require_POST

from . import uploads
from .absolute_urls import absolute_url
from .images import WEB_WIDTH
from .rendering import markdown_to_html

# Whoever may write an issue's intro or a summary may put an image in it.
UPLOAD_PERMISSIONS = (
    "newsletter.add_issue",
    "newsletter.change_issue",
    "newsletter.add_papersummary",
    "newsletter.change_papersummary",
)


class EditorImageForm(forms.Form):
    image = uploads.ImageUploadField(max_width=WEB_WIDTH)


def may_upload(user: User | AnonymousUser) -> bool:
    return user.is_active and user.is_staff and any(user.has_perm(name) for name in UPLOAD_PERMISSIONS)


def markdown_image(url: str) -> str:
    return f"![{uploads.ALT_PLACEHOLDER}]({url})"


@staff_member_required
@require_POST
def editor_image_upload(request: HttpRequest) -> JsonResponse:
    """Stores the image and answers {"image_code": the Markdown, "image_url", "alt_placeholder"},
    or a 400 with {"error": why, "image": [why]} that static/js/editor-upload.js shows."""
    if not may_upload(request.user):
        return _refusal("You may not upload images: you cannot edit issues or summaries.", status=403)
    form = EditorImageForm(files=request.FILES)
    if not form.is_valid():
        return _refusal(" ".join(form.errors.get("image", ["Choose an image to upload."])))
    image = form.cleaned_data["image"]
    name = default_storage.save(f"{settings.MARKDOWNX_MEDIA_PATH}{image.name}", image)
    url = absolute_url(default_storage.url(name))
    return JsonResponse(
        {"image_code": markdown_image(url), "image_url": url, "alt_placeholder": uploads.ALT_PLACEHOLDER}
    )


def _refusal(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "image": [message]}, status=status)


@staff_member_required
@require_POST
def editor_preview(request: HttpRequest) -> HttpResponse:
    """The live preview: the posted `content` through the one sanitising renderer. Replaces
    markdownx's view, which answered a 500 to a post without `content`."""
    content = request.POST.get("content")
    if content is None:
        return HttpResponseBadRequest("Post the Markdown to preview as `content`.")
    return HttpResponse(markdown_to_html(content))
