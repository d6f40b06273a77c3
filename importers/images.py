"""Images of an imported post, fetched from their URLs into the site's storage.

Each URL is fetched once (the `ImportedImage` row remembers what it became, across runs), with a
timeout, a size cap (`UPLOAD_MAX_BYTES`) and the same decode-and-re-encode as an upload
(`newsletter.uploads.clean_image`: our format, a random name, no metadata). Only http(s) URLs on
public addresses are fetched (`IMPORT_FETCH_PRIVATE_HOSTS = True` allows local ones, for tests);
redirects are followed by hand so that each hop is checked. A failure is remembered with its
reason for the report, and the import goes on without the image.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from newsletter import uploads
from newsletter.images import WEB_WIDTH

from .models import ImportedImage

FOLDER = "uploads/imported"
MAX_REDIRECTS = 3
USER_AGENT = "newsletter-cms-importer/1"


class FetchFailed(Exception):
    """The image could not be fetched or is not an image we keep; the message says why."""


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class ImageFetcher:
    """Fetches and stores images for one import run; `failed` maps each failed URL to its reason."""

    def __init__(self, *, timeout: float | None = None) -> None:
        self.timeout = timeout or settings.IMPORT_FETCH_TIMEOUT
        self.max_bytes = int(settings.UPLOAD_MAX_BYTES)
        self.allow_private = settings.IMPORT_FETCH_PRIVATE_HOSTS
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.stored: dict[str, ImportedImage] = {}
        self.failed: dict[str, str] = {}
        self.fetched = 0
        self.reused = 0

    def get(self, url: str) -> ImportedImage | None:
        """The stored image for `url`, fetching it the first time; None when it failed."""
        if url in self.stored:
            return self.stored[url]
        if url in self.failed:
            return None
        known = ImportedImage.objects.filter(url_hash=url_hash(url)).first()
        if known is not None and default_storage.exists(known.name):
            self.reused += 1
            self.stored[url] = known
            return known
        try:
            image = self._fetch_and_store(url, known)
        except FetchFailed as exc:
            self.failed[url] = str(exc)
            return None
        self.fetched += 1
        self.stored[url] = image
        return image

    def local_url(self, url: str) -> str | None:
        image = self.stored.get(url)
        return default_storage.url(image.name) if image is not None else None

    def _fetch_and_store(self, url: str, known: ImportedImage | None) -> ImportedImage:
        data = self._download(url)
        try:
            clean = uploads.clean_image(ContentFile(data, name="image"), max_width=2 * WEB_WIDTH)
        except ValidationError as exc:
            raise FetchFailed(" ".join(exc.messages)) from exc
        name = default_storage.save(f"{FOLDER}/{clean.name}", clean)
        values = {"url": url[:2000], "name": name, "width": clean.width, "height": clean.height}
        if known is not None:  # its file was lost: store it again under the same row
            ImportedImage.objects.filter(pk=known.pk).update(**values)
            known.refresh_from_db()
            return known
        try:
            with transaction.atomic():
                return ImportedImage.objects.create(url_hash=url_hash(url), **values)
        except IntegrityError:  # another run stored it a moment ago
            return ImportedImage.objects.get(url_hash=url_hash(url))

    def _download(self, url: str) -> bytes:
        deadline = time.monotonic() + 3 * self.timeout
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_address(url)
            try:
                response = self.session.get(url, stream=True, timeout=self.timeout, allow_redirects=False)
            except requests.Timeout as exc:
                raise FetchFailed(f"No answer within {self.timeout:g} s.") from exc
            except requests.RequestException as exc:
                raise FetchFailed(f"Could not connect: {type(exc).__name__}.") from exc
            with response:
                if response.is_redirect and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"The server answered HTTP {response.status_code}.")
                return self._body(response, deadline)
        raise FetchFailed(f"More than {MAX_REDIRECTS} redirects.")

    def _body(self, response: requests.Response, deadline: float) -> bytes:
        too_large = FetchFailed(f"Larger than {self.max_bytes / 1024 / 1024:g} MB, the upload limit.")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    raise FetchFailed(f"Took longer than {3 * self.timeout:g} s.")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise FetchFailed(f"The download broke off: {type(exc).__name__}.") from exc
        return b"".join(chunks)

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchFailed("Not an http(s) address.")
        if self.allow_private:
            return
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchFailed(f"The host {parts.hostname} is not found.") from exc
        for address in addresses:
            ip = ipaddress.ip_address(str(address).split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise FetchFailed(f"The host {parts.hostname} is not on the public internet.")
