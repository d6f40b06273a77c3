"""The issue rendered once per variant, and the checks a variant passes before anyone gets it.

A variant is what a group of subscribers receives: a format (html | text) and a set of sections
(none chosen = all). Its key is "html:all" or "text:2,5" (sorted section ids). Each variant of a
send is rendered once (newsletter.rendering.render_issue_email) and stored as a SendVariant, with
the per-recipient placeholders still in it; batches personalise the stored text.

Pre-send checks, on each variant personalised with long sample values:
- size: the HTML part stays under GMAIL_CLIP_BYTES (Gmail clips longer messages, hiding the
  footer with the unsubscribe link);
- links: every href and src is absolute (https, http or mailto), none left as a placeholder;
- phone: the layout fits a PHONE_WIDTH (390 px) screen without sideways scrolling. The static
  rule, checked on the inlined HTML outside Outlook-only conditional comments: no element has a
  `min-width` above 390 px; an element whose `width` (style or attribute) is above 390 px must
  also be capped by `max-width` at 100 % (or at most 390 px), or have a percentage width in its
  style; every image must be fluid (a percentage `width`/`max-width` of at most 100 %) or declare
  a width of at most 390 px.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit

from newsletter.models import Issue
from newsletter.rendering import EmailFormat, RenderedEmail, personalize, render_issue_email

from ..models import Send, SendVariant

GMAIL_CLIP_BYTES = 102 * 1024
PHONE_WIDTH = 390
ALL = "all"

# As long as real links get: the signed tokens are ~80 characters.
_SAMPLE_TOKEN = "x" * 120
_SAMPLE_VALUES = {
    "name": "A. Subscriber With A Rather Long Name",
    "email": "a.subscriber.with.a.long.address@subdomain.example.org",
    "unsubscribe_url": f"https://newsletter.example.org/unsubscribe/{_SAMPLE_TOKEN}/",
    "preferences_url": f"https://newsletter.example.org/preferences/{_SAMPLE_TOKEN}/",
}


class VariantCheckFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def variant_key(fmt: str, section_ids: Iterable[int]) -> str:
    ids = sorted(set(section_ids))
    fmt = EmailFormat.TEXT if fmt == EmailFormat.TEXT else EmailFormat.HTML
    return f"{fmt}:{','.join(str(pk) for pk in ids) if ids else ALL}"


def parse_key(key: str) -> tuple[str, list[int]]:
    fmt, _, sections = key.partition(":")
    return fmt, [] if sections == ALL else [int(pk) for pk in sections.split(",")]


def render_variant(issue: Issue, key: str) -> RenderedEmail:
    fmt, section_ids = parse_key(key)
    return render_issue_email(issue, sections=section_ids or None, fmt=fmt)


def check_rendered(rendered: RenderedEmail, key: str = "") -> list[str]:
    """Problems that would make this variant unfit to send (empty when it is fine)."""
    label = f"Variant {key}: " if key else ""
    problems = []
    text = personalize(rendered.text, _SAMPLE_VALUES)
    if "{{" in text and "}}" in text and re.search(r"\{\{\s*\w+\s*\}\}", text):
        problems.append(f"{label}the text part has an unfilled {{{{placeholder}}}}.")
    if not rendered.html:
        return problems
    html = personalize(rendered.html, _SAMPLE_VALUES, html=True)
    size = len(html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        problems.append(
            f"{label}the HTML is {size / 1024:.0f} KB; Gmail clips messages over "
            f"{GMAIL_CLIP_BYTES // 1024} KB and hides the unsubscribe link. Shorten the issue."
        )
    scan = _HtmlScan()
    scan.feed(_strip_conditional_comments(html))
    scan.close()
    for url in scan.relative_links[:5]:
        problems.append(f"{label}the link {url!r} is not absolute; mail clients cannot follow it.")
    for problem in scan.too_wide[:5]:
        problems.append(f"{label}{problem}; it would scroll sideways on a {PHONE_WIDTH}px phone screen.")
    return problems


def ensure_variants(send: Send, keys: Iterable[str]) -> dict[str, SendVariant]:
    """The send's variants for `keys`, rendering (once, whatever the concurrency) those missing."""
    keys = set(keys)
    found = {variant.key: variant for variant in SendVariant.objects.filter(send=send, key__in=keys)}
    missing = keys - found.keys()
    if missing:
        rows = []
        for key in sorted(missing):
            rendered = render_variant(send.issue, key)
            rows.append(
                SendVariant(
                    send=send, key=key, subject=rendered.subject, html=rendered.html, text=rendered.text
                )
            )
        # A concurrent batch may have stored the same variant: keep whichever came first.
        SendVariant.objects.bulk_create(rows, ignore_conflicts=True)
        found.update({v.key: v for v in SendVariant.objects.filter(send=send, key__in=missing)})
    return found


def as_rendered(variant: SendVariant, preheader: str = "") -> RenderedEmail:
    return RenderedEmail(subject=variant.subject, preheader=preheader, html=variant.html, text=variant.text)


_CONDITIONAL = re.compile(r"<!--\[if[^\]]*\]>.*?<!\[endif\]-->", re.DOTALL | re.IGNORECASE)
_PX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px)?\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _strip_conditional_comments(html: str) -> str:
    return _CONDITIONAL.sub("", html)


def _style(value: str) -> dict[str, str]:
    declarations = {}
    for part in (value or "").split(";"):
        name, _, val = part.partition(":")
        if val:
            declarations[name.strip().lower()] = val.replace("!important", "").strip().lower()
    return declarations


def _px(value: str | None) -> float | None:
    match = _PX.match(value or "")
    return float(match.group(1)) if match else None


def _percent(value: str | None) -> float | None:
    match = _PERCENT.match(value or "")
    return float(match.group(1)) if match else None


class _HtmlScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.relative_links: list[str] = []
        self.too_wide: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name in ("href", "src"):
            if name in attributes and not _is_absolute(attributes[name]):
                self.relative_links.append(attributes[name])
        self._check_width(tag, attributes)

    def _check_width(self, tag: str, attributes: dict[str, str]) -> None:
        style = _style(attributes.get("style", ""))
        min_width = _px(style.get("min-width"))
        if min_width and min_width > PHONE_WIDTH:
            self.too_wide.append(f"a <{tag}> has min-width {min_width:.0f}px")
        max_pct, max_px = _percent(style.get("max-width")), _px(style.get("max-width"))
        capped = (max_pct is not None and max_pct <= 100) or (max_px is not None and max_px <= PHONE_WIDTH)
        style_pct = _percent(style.get("width"))
        fluid = capped or (style_pct is not None and style_pct <= 100)
        widths = [w for w in (_px(style.get("width")), _px(attributes.get("width"))) if w is not None]
        if style_pct is not None and style_pct <= 100 and _px(style.get("width")) is None:
            widths = [w for w in widths if w != _px(attributes.get("width"))]  # CSS overrides the attribute
        widest = max(widths, default=0)
        if widest > PHONE_WIDTH and not fluid:
            self.too_wide.append(f"a <{tag}> is {widest:.0f}px wide without max-width: 100%")
        elif tag == "img" and not fluid and not (widths and widest <= PHONE_WIDTH):
            self.too_wide.append(
                f"an image ({attributes.get('src', '')[:80]}) has neither max-width: 100% nor a width"
            )


def _is_absolute(url: str) -> bool:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme == "mailto"
