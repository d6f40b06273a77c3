"""The Substack adapter: the export ZIP of Settings > Exports, read as posts and readers for the core.

The ZIP holds `posts.csv` (post_id as `<id>.<slug>`, post_date, is_published, email_sent_at,
type, audience, title, subtitle, podcast_url, ...), `posts/<id>.<slug>.html` (each post's body;
per-post `.opens.csv`/`.delivers.csv` statistics beside it are ignored) and the email list,
`email_list.<publication>.csv` (email, active_subscription, expiry, plan, email_disabled,
created_at, first_payment_at, ...). The CSVs are streamed from the archive, never read whole.

Substack's chrome is removed from every body before the structure is recovered: subscription
widgets, subscribe, share, gift and comment buttons, "Thanks for reading ..." lines, the paywall
marker, polls and video embeds. Images point at their originals rather than the CDN's resized
copies.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import parse_qs, unquote, urlsplit

from bs4 import Tag
from django.utils.dateparse import parse_datetime

from .core import ExportError, PostRecord, ReaderRecord
from .structure import text_of

# An HTML body larger than this is refused (a post is rarely above a few hundred kB).
MAX_HTML_BYTES = 20 * 1024 * 1024
MAX_POSTS = 50_000
MAX_READERS = 2_000_000
NOT_A_ZIP = (
    "The file is not a ZIP archive. Upload the .zip file that Substack's Settings > Exports "
    "gives you, without unpacking it."
)
_EMAIL_LIST = re.compile(r"(?:^|/)email_list[^/]*\.csv$", re.IGNORECASE)
_STATS = re.compile(r"\.(opens|delivers|clicks)\.csv$", re.IGNORECASE)
_CHROME_CLASSES = (
    "subscription-widget-wrap",
    "subscription-widget-wrap-editor",
    "subscription-widget",
    "subscribe-widget",
    "captioned-button-wrap",
    "share-dialog",
    "post-ufi",
    "paywall-jump",
    "paywall",
    "install-substack-app-embed",
    "native-video-embed",
    "poll-embed",
    "digest-post-embed",
    "embedded-publication-wrap",
    "footer",
)
_THANKS = re.compile(r"^thanks for reading\b", re.IGNORECASE)
_CHROME_BUTTON_TEXT = re.compile(r"^(subscribe|share|leave a comment|give a gift|get \d+% off)\b", re.I)


@dataclass(frozen=True)
class _Members:
    posts_csv: str
    html: dict[str, str]  # post_id -> member name
    email_list: str | None


class SubstackExport:
    """An opened export. Use as a context manager; every method streams from the archive."""

    platform = "substack"

    def __init__(self, file: str | IO[bytes]) -> None:
        try:
            self.archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise ExportError(NOT_A_ZIP) from exc
        try:
            self.members = _members(self.archive)
        except ExportError:
            self.archive.close()
            raise

    def __enter__(self) -> SubstackExport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.archive.close()

    def close(self) -> None:
        self.archive.close()

    def remove_chrome(self, root: Tag) -> None:
        strip_chrome(root)

    # Posts

    def posts(self) -> Iterator[PostRecord]:
        for line, row in enumerate(self._csv(self.members.posts_csv, "post_id"), start=2):
            if line - 1 > MAX_POSTS:
                raise ExportError(f"posts.csv has more than {MAX_POSTS} posts; this importer stops there.")
            yield _post(row, line)

    def post_html(self, post: PostRecord) -> str | None:
        """The post's body, or None when the export has no HTML file for it (Substack leaves
        some out, often the most recent posts)."""
        name = self.members.html.get(post.source_id)
        if name is None:
            return None
        info = self.archive.getinfo(name)
        if info.file_size > MAX_HTML_BYTES:
            raise ExportError(f"{name} is larger than {MAX_HTML_BYTES // 1024 // 1024} MB.")
        try:
            with self.archive.open(info) as raw:
                return raw.read(MAX_HTML_BYTES + 1).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise ExportError(f"{name} cannot be read from the ZIP: {exc}") from exc

    # Readers

    def has_readers(self) -> bool:
        return self.members.email_list is not None

    def readers(self) -> Iterator[ReaderRecord]:
        if self.members.email_list is None:
            return
        for line, row in enumerate(self._csv(self.members.email_list, "email"), start=2):
            if line - 1 > MAX_READERS:
                raise ExportError(f"The email list has more than {MAX_READERS} rows.")
            yield _reader(row, line)

    def count_readers(self) -> int:
        """The rows of the email list (a streaming pass of its own, for the progress bar)."""
        if self.members.email_list is None:
            return 0
        return sum(1 for _ in self._csv(self.members.email_list, "email"))

    def _csv(self, name: str, required: str) -> Iterator[dict[str, str]]:
        try:
            with self.archive.open(name) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
                reader = csv.reader(text)
                header = [column.strip().lower() for column in next(reader, [])]
                if required not in header:
                    raise ExportError(f"{name} has no “{required}” column: is it a Substack export?")
                for values in reader:
                    if not any(value.strip() for value in values):
                        continue
                    yield {column: (values[i] if i < len(values) else "") for i, column in enumerate(header)}
        except csv.Error as exc:
            raise ExportError(f"{name} is not valid CSV: {exc}") from exc
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise ExportError(f"{name} cannot be read from the ZIP: {exc}") from exc


def _members(archive: zipfile.ZipFile) -> _Members:
    try:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExportError(NOT_A_ZIP) from exc
    posts_csv = sorted((name for name in names if name.rsplit("/", 1)[-1] == "posts.csv"), key=len)
    if not posts_csv:
        raise ExportError(
            "The ZIP has no posts.csv: it is not a Substack export (Settings > Exports > "
            "“Create new export”)."
        )
    root = posts_csv[0][: -len("posts.csv")]
    html = {}
    for name in names:
        if name.startswith(root + "posts/") and name.endswith(".html"):
            html[name[len(root + "posts/") : -len(".html")]] = name
    lists = [
        name
        for name in names
        if name.startswith(root)
        and name.lower().endswith(".csv")
        and name != posts_csv[0]
        and not _STATS.search(name)
        and "/posts/" not in "/" + name[len(root) :]
    ]
    email_list = next((name for name in lists if _EMAIL_LIST.search(name)), None) or next(iter(lists), None)
    return _Members(posts_csv=posts_csv[0], html=html, email_list=email_list)


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "t", "1", "yes")


def _datetime(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return parse_datetime(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _post(row: dict[str, str], line: int) -> PostRecord:
    post_id = row.get("post_id", "").strip()
    number, _, slug = post_id.partition(".")
    return PostRecord(
        source_id=post_id,
        line=line,
        slug=slug or number,
        kind=(row.get("type") or "newsletter").strip().lower(),
        title=row.get("title", "").strip(),
        subtitle=row.get("subtitle", "").strip(),
        published=_true(row.get("is_published", "")),
        date=_datetime(row.get("post_date", "")),
        sort_key=int(number) if number.isdigit() else 0,
        old_paths=(f"/p/{slug}",) if slug else (),
    )


def _reader(row: dict[str, str], line: int) -> ReaderRecord:
    paid = {
        column: row[column].strip()
        for column in ("active_subscription", "plan", "expiry", "first_payment_at")
        if row.get(column, "").strip()
    }
    return ReaderRecord(
        line=line,
        email=row.get("email", ""),
        name=row.get("name", "").strip(),
        subscribed_at=_datetime(row.get("created_at", "")),
        disabled=_true(row.get("email_disabled", "")),
        note=", ".join(f"{column}: {value}" for column, value in paid.items()),
    )


# The chrome ------------------------------------------------------------------------------------


def strip_chrome(root: Tag) -> None:
    """Take Substack's own furniture out of a post body (see the module docstring), in place."""
    for name in _CHROME_CLASSES:
        for node in root.select(f".{name}"):
            node.decompose()
    for node in root.find_all(["form", "input", "script", "style", "iframe", "source"]):
        node.decompose()
    for button in root.select("p.button-wrapper, div.button-wrapper"):
        _button(button)
    for paragraph in root.find_all("p"):
        text = text_of(paragraph)
        if _THANKS.match(text) or not text and paragraph.find("img") is None:
            paragraph.decompose()
    for image in root.find_all("img"):
        original = _original_image(image)
        if original:
            image["src"] = original


def _button(button: Tag) -> None:
    """A Substack button: dropped when it is Substack's (subscribe, share, comments, gift), kept
    as an ordinary link otherwise ("Read the paper")."""
    link = button.find("a", href=True)
    if not isinstance(link, Tag):
        button.decompose()
        return
    href, text = str(link["href"]), text_of(link)
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    substack = (
        parts.path.rstrip("/").endswith(("/subscribe", "/comments", "/comment"))
        or parts.path.rstrip("/") == "/subscribe"
        or query.get("action") == ["share"]
        or query.get("gift") == ["true"]
        or "share" in query.get("utm_content", [])
        or (parts.hostname or "").endswith("substack.com")
        and parts.path.startswith(("/app", "/redirect"))
        or bool(_CHROME_BUTTON_TEXT.match(text))
    )
    if substack:
        button.decompose()
        return
    button.name = "p"
    button.attrs = {}
    link.attrs = {"href": href}


def _original_image(image: Tag) -> str:
    """The image's original URL: the `src` of Substack's data-attrs, or the CDN fetch URL's target."""
    attrs = image.get("data-attrs")
    if attrs:
        try:
            src = json.loads(str(attrs)).get("src")
        except (ValueError, AttributeError):
            src = None
        if isinstance(src, str) and src.startswith(("http://", "https://")):
            return src
    src = str(image.get("src") or "")
    parts = urlsplit(src)
    if parts.hostname == "substackcdn.com" and parts.path.startswith("/image/fetch/"):
        target = unquote(src.rsplit("/", 1)[-1])
        if target.startswith(("http://", "https://")):
            return target
    return src
