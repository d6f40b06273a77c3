"""Share-preview links: a signed URL that shows a draft as the public will see it.

The URL carries a token signed with the site's key and salted for this purpose alone, naming a
PreviewLink row. The signature expires after PREVIEW_DAYS; revoking the row ends the link sooner.
Anyone with the link may look (that is the point of sharing it); nothing is changed by looking.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from newsletter.absolute_urls import absolute_url
from newsletter.models import Issue

from .models import PreviewLink
from .roles import User, can_view

PREVIEW_DAYS = 7
MAX_AGE = timedelta(days=PREVIEW_DAYS)
SALT = "editorial.preview-link"


class PreviewRefused(Exception):
    """A preview link could not be made or revoked; the message says why."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidPreviewLink(Exception):
    """The preview URL is not one this site made, has expired or was revoked."""

    @property
    def message(self) -> str:
        return str(self)


def create_link(issue: Issue, actor: User) -> PreviewLink:
    if not actor.is_authenticated or not can_view(actor, issue):
        raise PreviewRefused("You may not share this issue.")
    now = timezone.now()
    return PreviewLink.objects.create(issue=issue, created_by=actor, created_at=now, expires_at=now + MAX_AGE)


def token_for(link: PreviewLink) -> str:
    return signing.dumps({"link": link.pk}, salt=SALT)


def url_for(link: PreviewLink) -> str:
    return absolute_url(reverse("editorial:preview", args=[token_for(link)]))


def revoke(link: PreviewLink, actor: User) -> PreviewLink:
    if not can_view(actor, link.issue):
        raise PreviewRefused("You may not manage this issue's preview links.")
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def issue_for_token(token: str) -> Issue:
    """The issue a preview token shows; InvalidPreviewLink when it is tampered with, expired or
    revoked."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidPreviewLink("This preview link has expired: ask the editor for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvalidPreviewLink("This is not a valid preview link.") from exc
    link = PreviewLink.objects.select_related("issue").filter(pk=data.get("link")).first()
    if link is None:
        raise InvalidPreviewLink("This preview link no longer exists.")
    if link.revoked_at is not None:
        raise InvalidPreviewLink("This preview link was revoked.")
    if link.expires_at <= timezone.now():
        raise InvalidPreviewLink("This preview link has expired: ask the editor for a new one.")
    return link.issue
