"""A local HTTP server that answers as arXiv's API, Crossref's REST API and OpenReview's API do,
in their documented formats, for the papers a test scripts; every request is recorded.

- arXiv: GET /arxiv/api/query?id_list=<id> -> an Atom feed (arXiv API User's Manual, 3.3): one
  <entry> per paper, or none for an id arXiv does not have; `arxiv_error` gives the entry arXiv
  answers for an id it cannot read; "Rate exceeded." is its throttling answer.
- Crossref: GET /crossref/works/<doi> -> {"status": "ok", "message-type": "work", "message": {...}},
  or a 404 with the plain text "Resource not found." for an unknown DOI.
- OpenReview: GET /openreview/notes?id=<id> -> {"notes": [...], "count": n} (API 2: content values
  wrapped in {"value": ...}; `openreview_v1_note` the API 1 shape), or a 404 NotFoundError.

A scripted answer may be slow (`delay`, for timeouts), malformed, or any status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from .smtp_server import free_port

ATOM_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3D%26id_list%3D{id}%26start%3D0%26max_results%3D1"
        rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list={id}&amp;start=0&amp;max_results=1</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2024-03-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:itemsPerPage>
"""


def arxiv_feed(
    arxiv_id: str,
    *,
    title: str,
    authors: list[str],
    published: str,
    summary: str,
    version: int = 2,
    journal_ref: str = "",
    doi: str = "",
    comment: str = "",
) -> bytes:
    """arXiv's answer for one paper, as its API returns it (titles and abstracts hard-wrapped)."""
    extensions = ""
    if comment:
        extensions += f'    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(comment)}</arxiv:comment>\n'
    if journal_ref:
        extensions += (
            f'    <arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(journal_ref)}'
            "</arxiv:journal_ref>\n"
        )
    if doi:
        extensions += (
            f'    <arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(doi)}</arxiv:doi>\n'
        )
        extensions += f'    <link title="doi" href="http://dx.doi.org/{escape(doi)}" rel="related"/>\n'
    author_xml = "".join(
        f"    <author>\n      <name>{escape(name)}</name>\n    </author>\n" for name in authors
    )
    entry = f"""  <entry>
    <id>http://arxiv.org/abs/{arxiv_id}v{version}</id>
    <updated>{published}</updated>
    <published>{published}</published>
    <title>{escape(title)}</title>
    <summary>  {escape(summary)}
</summary>
{author_xml}{extensions}    <link href="http://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate"
          type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{arxiv_id}v{version}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
"""
    return (ATOM_HEAD.format(id=arxiv_id, total=1) + entry + "</feed>\n").encode()


def arxiv_empty_feed(arxiv_id: str) -> bytes:
    """arXiv's answer for a well-formed id it does not have: a feed with no entry."""
    return (ATOM_HEAD.format(id=arxiv_id, total=0) + "</feed>\n").encode()


def arxiv_error(arxiv_id: str) -> bytes:
    """arXiv's answer for an id it cannot read (User's Manual, 3.4 Errors)."""
    entry = f"""  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{arxiv_id}</id>
    <title>Error</title>
    <summary>incorrect id format for {arxiv_id}</summary>
    <updated>2024-03-01T00:00:00-05:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_{arxiv_id}" rel="alternate"
          type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
"""
    return (ATOM_HEAD.format(id=arxiv_id, total=1) + entry + "</feed>\n").encode()


def crossref_work(doi: str, **work: object) -> bytes:
    """Crossref's answer for one DOI: the work record inside its envelope."""
    message = {
        "indexed": {
            "date-parts": [[2024, 2, 1]],
            "date-time": "2024-02-01T05:12:44Z",
            "timestamp": 1706764364000,
        },
        "reference-count": 120,
        "publisher": "ACM",
        "content-domain": {"domain": ["dl.acm.org"], "crossmark-restriction": True},
        "DOI": doi,
        "type": "proceedings-article",
        "created": {
            "date-parts": [[2021, 3, 1]],
            "date-time": "2021-03-01T19:04:35Z",
            "timestamp": 1614625475000,
        },
        "source": "Crossref",
        "is-referenced-by-count": 1500,
        "prefix": doi.split("/", 1)[0],
        "member": "320",
        "URL": f"http://dx.doi.org/{doi}",
        "ISBN": ["9781450383097"],
        "subject": [],
        "published": {"date-parts": [[2021, 3, 3]]},
        **work,
    }
    return json.dumps(
        {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": message}
    ).encode()


def openreview_note(
    note_id: str, *, title: str, authors: list[str], abstract: str, venue: str, pdate: int
) -> bytes:
    """OpenReview API 2's answer for /notes?id=: the note, its content values wrapped."""
    note = {
        "id": note_id,
        "forum": note_id,
        "content": {
            "title": {"value": title},
            "authors": {"value": authors},
            "authorids": {"value": [f"~{name.replace(' ', '_')}1" for name in authors]},
            "keywords": {"value": ["robustness"]},
            "abstract": {"value": abstract},
            "pdf": {"value": f"/pdf/{note_id}.pdf"},
            "venue": {"value": venue},
            "venueid": {"value": "ICLR.cc/2024/Conference"},
            "_bibtex": {"value": "@inproceedings{...}"},
        },
        "invitations": ["ICLR.cc/2024/Conference/-/Submission"],
        "readers": ["everyone"],
        "writers": ["ICLR.cc/2024/Conference"],
        "signatures": ["ICLR.cc/2024/Conference/Submission1/Authors"],
        "number": 1,
        "cdate": 1695398400000,
        "tcdate": 1695398400000,
        "mdate": 1710000000000,
        "tmdate": 1710000000000,
        "pdate": pdate,
        "odate": 1697328000000,
        "domain": "ICLR.cc/2024/Conference",
        "version": 2,
    }
    return json.dumps({"notes": [note], "count": 1}).encode()


def openreview_v1_note(note_id: str, *, title: str, authors: list[str], abstract: str, venue: str) -> bytes:
    """OpenReview API 1's answer (api.openreview.net, older venues): content values bare."""
    note = {
        "id": note_id,
        "forum": note_id,
        "original": None,
        "number": 7,
        "cdate": 1569439325000,
        "tcdate": 1569439325000,
        "tmdate": 1583912031000,
        "ddate": None,
        "content": {
            "title": title,
            "authors": authors,
            "abstract": abstract,
            "venue": venue,
            "pdf": "/pdf/x.pdf",
        },
        "invitation": "ICLR.cc/2020/Conference/-/Blind_Submission",
        "readers": ["everyone"],
        "writers": ["ICLR.cc/2020/Conference"],
        "signatures": ["ICLR.cc/2020/Conference"],
    }
    return json.dumps({"notes": [note], "count": 1}).encode()


OPENREVIEW_NOT_FOUND = json.dumps(
    {
        "name": "NotFoundError",
        "message": "The Note nope was not found",
        "status": 404,
        "details": {"path": "id"},
    }
).encode()
OPENREVIEW_FORBIDDEN = json.dumps(
    {"name": "ForbiddenError", "message": "You do not have permission to read this note", "status": 403}
).encode()


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering: longer than PAPER_LOOKUP_TIMEOUT is a timeout


@dataclass
class Request:
    source: str  # "arxiv", "crossref", "openreview"
    key: str  # the id, DOI or note id asked for
    headers: dict[str, str]
    query: dict[str, list[str]]
    at: float


@dataclass
class FakeSources:
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arxiv(self, arxiv_id: str, body: bytes, **answer: object) -> None:
        answer.setdefault("content_type", "application/atom+xml")
        self.answers[("arxiv", arxiv_id)] = Answer(body=body, **answer)  # type: ignore[arg-type]

    def crossref(self, doi: str, body: bytes, **answer: object) -> None:
        self.answers[("crossref", doi.lower())] = Answer(body=body, **answer)  # type: ignore[arg-type]

    def openreview(self, note_id: str, body: bytes, **answer: object) -> None:
        self.answers[("openreview", note_id)] = Answer(body=body, **answer)  # type: ignore[arg-type]

    def asked(self, source: str | None = None) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if source is None or request.source == source]

    def answer_for(self, source: str, key: str) -> Answer:
        lookup_key = key.lower() if source == "crossref" else key
        if (source, lookup_key) in self.answers:
            return self.answers[(source, lookup_key)]
        if source == "arxiv":
            return Answer(body=arxiv_empty_feed(key), content_type="application/atom+xml")
        if source == "crossref":
            return Answer(status=404, body=b"Resource not found.", content_type="text/plain")
        return Answer(status=404, body=OPENREVIEW_NOT_FOUND)


def _handler(sources: FakeSources) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/arxiv/api/query":
                source, key = "arxiv", query.get("id_list", [""])[0]
            elif parts.path.startswith("/crossref/works/"):
                source, key = "crossref", unquote(parts.path.removeprefix("/crossref/works/"))
            elif parts.path == "/openreview/notes":
                source, key = "openreview", query.get("id", [""])[0]
            else:
                self.send_error(404)
                return
            with sources.lock:
                sources.requests.append(
                    Request(source, key, dict(self.headers.items()), query, time.monotonic())
                )
            answer = sources.answer_for(source, key)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


@contextmanager
def serving() -> Iterator[FakeSources]:
    sources = FakeSources()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(sources))
    server.daemon_threads = True
    sources.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield sources
    finally:
        server.shutdown()
        server.server_close()


def point_settings_at(settings, sources: FakeSources) -> None:
    """Every source's base URL on the local server; a short timeout; no arXiv wait unless asked."""
    settings.ARXIV_API_URL = f"{sources.url}/arxiv/api/query"
    settings.CROSSREF_API_URL = f"{sources.url}/crossref"
    settings.OPENREVIEW_API_URL = f"{sources.url}/openreview"
    settings.PAPER_LOOKUP_TIMEOUT = 0.5
    settings.PAPER_LOOKUP_CONTACT = "editors@news.example.org"
    settings.ARXIV_MIN_INTERVAL = 0


# The papers the tests look up, as their sources describe them.
PYRAMID_ID = "2111.15121"
PYRAMID_TITLE = "Pyramid Adversarial Training Improves ViT Performance"
PYRAMID_AUTHORS = [
    "Charles Herrmann",
    "Kimberly Sargent",
    "Lu Jiang",
    "Ramin Zabih",
    "Huiwen Chang",
    "Ce Liu",
    "Dilip Krishnan",
    "Deqing Sun",
]
PYRAMID_FEED = arxiv_feed(
    PYRAMID_ID,
    title="Pyramid Adversarial Training Improves ViT\n  Performance",
    authors=PYRAMID_AUTHORS,
    published="2021-11-30T04:03:47Z",
    summary="Aggressive data augmentation is a key component of the strong generalization\ncapabilities "
    "of Vision Transformer (ViT).",
)
