"""Crossref: its REST API's work record, `<CROSSREF_API_URL>/works/<doi>`.

The answer (api.crossref.org's documentation and its JSON schema) is
`{"status": "ok", "message-type": "work", "message": {...}}` where the work has `title` and
`container-title` as lists, `author` as a list of {given, family} or {name} (organisations),
dates as {"date-parts": [[year, month, day]]} under `issued`, `published-print`,
`published-online`, `published` and `created`, and `abstract` as JATS XML. A DOI Crossref does not
know is a 404 with the plain text "Resource not found.". ACL Anthology papers come here through
their DOI (10.18653/v1/<id>): their canonical link stays the Anthology's page.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from django.conf import settings

from ..papers import doi_url
from . import fetching
from .errors import BadAnswer, NotFound
from .metadata import PaperMetadata, make_metadata

SOURCE = "Crossref"
_DATE_FIELDS = ("issued", "published-print", "published-online", "published", "created")
_JATS_TITLE = re.compile(r"<jats:title>.*?</jats:title>", re.IGNORECASE | re.DOTALL)


def fetch(doi: str, canonical_url: str = "") -> PaperMetadata:
    url = f"{settings.CROSSREF_API_URL.rstrip('/')}/works/{quote(doi, safe='/')}"
    try:
        body = fetching.get(
            url, SOURCE, params={"mailto": settings.PAPER_LOOKUP_CONTACT}, accept="application/json"
        )
    except NotFound as exc:
        raise NotFound(f"Crossref knows no DOI {doi}.") from exc
    return parse_work(body, doi, canonical_url or doi_url(doi))


def parse_work(body: bytes, doi: str, canonical_url: str) -> PaperMetadata:
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadAnswer("Crossref's answer was not the JSON its API returns.") from exc
    work = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(work, dict) or answer.get("message-type", "work") != "work":
        raise BadAnswer("Crossref's answer did not describe a work.")
    title = _first(work.get("title"))
    if not title:
        raise NotFound(f"Crossref has no title for DOI {doi}.")
    subtitle = _first(work.get("subtitle"))
    return make_metadata(
        source=SOURCE,
        title=f"{title}: {subtitle}" if subtitle and subtitle not in title else title,
        authors=[_person(author) for author in _list(work.get("author"))],
        year=_year(work),
        venue=_first(work.get("container-title")) or _event_name(work),
        abstract=_JATS_TITLE.sub(" ", work["abstract"]) if isinstance(work.get("abstract"), str) else "",
        url=canonical_url,
        doi=str(work.get("DOI") or doi),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(value: Any) -> str:
    items = [item for item in _list(value) if isinstance(item, str) and item.strip()]
    return items[0] if items else ""


def _person(author: Any) -> str:
    if not isinstance(author, dict):
        return ""
    parts = [author.get("given"), author.get("family")]
    name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return name or (author["name"] if isinstance(author.get("name"), str) else "")


def _year(work: dict[str, Any]) -> int | None:
    for name in _DATE_FIELDS:
        date = work.get(name)
        parts = date.get("date-parts") if isinstance(date, dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
            if isinstance(year, int) and not isinstance(year, bool):
                return year
    return None


def _event_name(work: dict[str, Any]) -> str:
    event = work.get("event")
    return event["name"] if isinstance(event, dict) and isinstance(event.get("name"), str) else ""
