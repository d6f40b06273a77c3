"""OpenReview: the forum's note, `<OPENREVIEW_API_URL>/notes?id=<forum id>` (API 2).

A forum's id is the id of its submission note. API 2 answers `{"notes": [...], "count": n}`,
each note with `content` fields wrapped as {"value": ...} (`title`, `authors`, `abstract`,
`venue` such as "ICLR 2024 poster", `venueid`) and millisecond timestamps `pdate` (published),
`odate` (made public), `cdate` (created). API 1 (api.openreview.net, older venues) answers the same
shape with unwrapped content values; both are read. An unknown id is a 404 with
{"name": "NotFoundError", ...} or an empty list; a note the public may not read is a 403.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from . import fetching
from .errors import BadAnswer, NotFound
from .metadata import PaperMetadata, make_metadata, year_in

SOURCE = "OpenReview"


def fetch(forum_id: str, canonical_url: str) -> PaperMetadata:
    url = f"{settings.OPENREVIEW_API_URL.rstrip('/')}/notes"
    try:
        # A 403: the note exists but the public may not read it (a submission under review).
        body = fetching.get(
            url, SOURCE, params={"id": forum_id}, accept="application/json", missing=(403, 404, 410)
        )
    except NotFound as exc:
        raise NotFound(f"OpenReview has no public paper {forum_id}.") from exc
    return parse_notes(body, forum_id, canonical_url)


def parse_notes(body: bytes, forum_id: str, canonical_url: str) -> PaperMetadata:
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadAnswer("OpenReview's answer was not the JSON its API returns.") from exc
    notes = answer.get("notes") if isinstance(answer, dict) else None
    if not isinstance(notes, list):
        raise BadAnswer("OpenReview's answer had no list of notes.")
    note = next((note for note in notes if isinstance(note, dict) and note.get("id") == forum_id), None)
    if note is None:
        raise NotFound(f"OpenReview has no paper {forum_id}.")
    content = note.get("content")
    if not isinstance(content, dict):
        raise BadAnswer("OpenReview's note had no content.")
    title = _value(content, "title")
    if not isinstance(title, str) or not title.strip():
        raise NotFound(f"OpenReview has no title for paper {forum_id}.")
    authors = _value(content, "authors")
    venue = _value(content, "venue")
    venue = venue if isinstance(venue, str) else ""
    return make_metadata(
        source=SOURCE,
        title=title,
        authors=authors if isinstance(authors, list) else [],
        year=year_in(venue) or _year_of(note),
        venue=venue,
        abstract=_value(content, "abstract"),
        url=canonical_url,
    )


def _value(content: dict[str, Any], name: str) -> Any:
    field = content.get(name)
    return field.get("value") if isinstance(field, dict) else field


def _year_of(note: dict[str, Any]) -> int | None:
    for name in ("pdate", "odate", "cdate", "tcdate"):
        stamp = note.get(name)
        if isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 < stamp < 4e12:
            return datetime.fromtimestamp(stamp / 1000, tz=UTC).year
    return None
