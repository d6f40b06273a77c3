"""Hostile input against every URL the resolver knows: never a 5xx, nothing reflected, nothing written.

The URLs come from the resolver itself (the public archive, subscribers.urls, editorial.urls,
Anymail's webhook URLs and admin.site.urls), so a new URL is fuzzed without anyone listing it.
Each path converter is filled by hypothesis with known-good values (a real issue number, a real
token) and with hostile ones: huge and negative-looking numbers, unicode, percent-escapes, `../`,
NUL bytes, very long strings and an HTML probe. Query strings and bodies (form-encoded, multipart,
JSON, broken JSON, binary, wrong content types) are junk of the same kind, with and without a
CSRF token.

Every request must hold three things:

- its answer is below 500 (the test client keeps a view's exception as `response.exc_info`,
  which the failure message shows);
- the probe `<x-probe-"'>` that the request carried never appears unescaped in the answer;
- no row is written (counts of the main models and the state columns of issues, subscribers,
  sends and deliveries), except for the legitimate writes in `may_write`: a subscriber's own
  POST through a valid link or the sign-up form when it succeeds (2xx/3xx), an authenticated
  webhook call the ESP's view accepts, and a staff POST the admin accepts (a redirect).

Public, token and webhook URLs are requested anonymously; staff URLs (the admin, the outbox,
markdownx) as a managing editor and as a writer. A small publication is built once per class
(setUpTestData); each hypothesis example runs in its own transaction, rolled back after it.
`test_every_url_once` walks every URL with fixed hostile values, so no URL depends on the draw.
"""

from __future__ import annotations

import base64
import json
import os
import re
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from editorial import previews, revisions
from editorial.models import ReviewComment, Transition
from newsletter.models import Issue, OutboxMessage, Paper, PaperSummary
from subscribers import tokens
from subscribers.models import Delivery, DeliveryEvent, Send, Subscriber
from tests.factories import (
    ARCHIVE_SECTION_NAMES,
    fill_issue,
    make_author,
    make_issue,
    make_issues,
    make_sections,
    make_user,
    unique_paper,
)

# HOSTILE_INPUT_EXAMPLES=2000 explores further, locally; CI keeps the default.
hypothesis_settings.register_profile(
    "hostile-input",
    max_examples=int(os.environ.get("HOSTILE_INPUT_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,  # the same requests on every run and in CI
    database=None,  # no .hypothesis/ example store in the working tree
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = hypothesis_settings.get_profile("hostile-input")
# Each public URL gets a reading test of its own, with two thirds of the examples.
FUZZ_PER_URL = hypothesis_settings(FUZZ, max_examples=max(1, FUZZ.max_examples * 2 // 3))

MARKER = "<x-probe-\"'>"
MARKER_START = b"<x-probe"  # an unescaped "<" before it is enough to open a tag

STAFF_PREFIXES = ("admin/", "outbox/", "markdownx/")
WEBHOOK_PREFIX = "webhooks/"
WEBHOOK_SECRET = "anymail:hostile-input-secret"
WEBHOOK_AUTH = "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()
# Every ESP's own keys, so that each of Anymail's views starts and gets as far as its checks.
ANYMAIL_SETTINGS = {
    "WEBHOOK_SECRET": [WEBHOOK_SECRET],
    "BREVO_API_KEY": "hostile",
    "SENDINBLUE_API_KEY": "hostile",
    "MAILERSEND_SIGNING_SECRET": "hostile",
    "MAILERSEND_INBOUND_SECRET": "hostile",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "key-hostile",
    "MAILTRAP_API_TOKEN": "hostile",
    "MANDRILL_WEBHOOK_KEY": "hostile",
    "MANDRILL_WEBHOOK_URL": "https://news.example.org/webhooks/anymail/mandrill/",
    "POSTAL_WEBHOOK_KEY": "hostile",
    "RESEND_API_KEY": "hostile",
    "RESEND_SIGNING_SECRET": "whsec_aG9zdGlsZQ==",
    "UNISENDER_GO_API_KEY": "hostile",
}

# Writes a request may make, by URL name, when it is a POST that succeeded (2xx or 3xx).
PUBLIC_WRITES = {
    "subscribe": "a valid sign-up creates or refreshes a pending subscriber",
    "subscribe_confirm": "the confirm button confirms the subscriber",
    "preferences": "saving preferences, or resubscribing",
    "preferences_delete": "erasing the subscriber, after ticking the confirmation",
    "unsubscribe": "the unsubscribe button or RFC 8058's one-click POST",
}


# Hostile values ---------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "-1",
    "0",
    "-0",
    "+1",
    "1.5",
    "1e9",
    "0x1f",
    "NaN",
    "Infinity",
    "99999999999",
    str(2**31),
    str(2**63),
    str(2**64),
    "9" * 60,
    "１２",  # full-width digits: str.isdigit() says yes, int() agrees, isascii() does not
    "٣",
    "abc",
    "%",
    "%00",
    "%2e%2e%2f",
    "%252e",
    "..",
    "../",
    "../../../../etc/passwd",
    "..\\..\\windows",
    "\x00",
    "a\x00b",
    "\r\nSet-Cookie: probe=1",
    "\t",
    "é",
    "\u202e",
    "\ufeff",
    "💥",
    "ǅ",
    "İ",
    "ﬁ",
    "null",
    "true",
    "[]",
    "{}",
    "' OR 1=1 --",
    '" OR ""="',
    "%s%s%s",
    "{0}",
    "{{ 7*7 }}",
    "${7*7}",
    "\\",
    "*",
    "?",
    "#",
    "&",
    "=",
    ";",
    ":",
    "x" * 5000,
    "y" * 20000,
    MARKER,
    f"<script>{MARKER}</script>",
    f"javascript:alert(1)//{MARKER}",
]

short_text = st.text(max_size=12)
junk = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.builds("{}{}{}".format, short_text, st.just(MARKER), short_text),
    st.integers(-(10**40), 10**40).map(str),
)
digit_strings = st.one_of(
    st.integers(0, 10**40).map(str),
    # "9" * 5000: more digits than Python's int() converts (4300), a ValueError where unguarded
    st.sampled_from(["0", "007", str(2**31), str(2**63), str(2**64), "9" * 100, "9" * 5000]),
)
slug_strings = st.from_regex(r"[-a-zA-Z0-9_]{1,120}", fullmatch=True)
path_strings = st.one_of(junk, st.lists(junk, min_size=1, max_size=4).map("/".join))

QUERY_NAMES = [
    "page",
    "q",
    "year",
    "section",
    "tag",
    "o",
    "p",
    "e",
    "all",
    "_popup",
    "_to_field",
    "_changelist_filters",
    "next",
    "status__exact",
    "kind__exact",
    "issue__id__exact",
    "format",
    "term",
    "app_label",
    "model_name",
    "field_name",
]
FIXED_QUERIES = [
    "page=-1",
    "page=abc",
    "page=0",
    "page=99999999999",
    f"page={10**30}",
    "page=%EF%BC%91",  # full-width 1
    "page=1&page=2",
    "q=issue",  # matches the publication, so the search runs
    "q=paper+-summary",
    "q=%22headline%22+or+body",
    "q=%3Cscript%3E",
    "q=%00",
    "q=a&q=b",
    "year=99999999999",
    "year=-1",
    "year=2021&year=abc",
    "section=robustness",
    "section=%00",
    "tag=robustness",
    "tag=..%2F",
    "o=-999",
    "o=1.2.-3",
    "p=-1",
    "_to_field=password",
    "e=1",
    "all=",
    "app_label=newsletter&model_name=papersummary&field_name=tags&term=%3Cx",
]
numbers = st.one_of(digit_strings, st.sampled_from(["-1", "0", "1", "2", "1.0", "１", "abc"]))
# Each parameter the views read, present or not, with junk or with a value that gets past the form.
query_params = st.fixed_dictionaries(
    {},
    optional={
        "page": st.one_of(numbers, junk),
        "q": st.one_of(
            st.sampled_from(
                ["issue", "paper -summary", '"headline" or body', "über", MARKER, f"issue {MARKER}"]
            ),
            junk,
        ),
        "year": st.one_of(numbers, st.sampled_from(["2021", "1899", "2101"]), junk),
        "section": st.one_of(st.sampled_from(["robustness", "other-news"]), junk),
        "tag": st.one_of(st.sampled_from(["robustness", "ethics"]), junk),
        "o": st.one_of(numbers, st.sampled_from(["1.-2", "-1.2.3", "0"]), junk),
        "p": st.one_of(numbers, junk),
        "e": junk,
        "all": st.just(""),
        "_popup": st.sampled_from(["1", "x"]),
        "_to_field": st.one_of(st.sampled_from(["id", "password", "email"]), junk),
        "_changelist_filters": junk,
        "next": junk,
    },
)
query_pair = st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), junk), st.one_of(junk, digit_strings))
queries = st.builds(
    lambda params, pairs, fixed: "&".join(
        part for part in (urlencode(params), urlencode(pairs), *fixed) if part
    ),
    query_params,
    st.lists(query_pair, max_size=2),
    st.lists(st.sampled_from(FIXED_QUERIES), max_size=2),
)

FORM_FIELDS = [
    "email",
    "name",
    "sections",
    "sections_shown",
    "website",
    "format",
    "paused_issues",
    "action",
    "confirm",
    "List-Unsubscribe",
    "wording_version",
    "comment",
    "body",
    "parent",
    "summary",
    "publish_on",
    "publish_time",
    "time_zone",
    "start_send",
    "loaded_version",
    "issue",
    "kind",
    "dry_run",
    "consent_basis",
    "file",
    "url",
    "content",
    "title",
    "number",
    "slug",
    "status",
    "subject",
    "preheader",
    "intro",
    "paper_link",
    "paper_title",
    "paper_year",
    "_save",
    "_continue",
    "_selected_action",
    "select_across",
    "index",
    "username",
    "password",
    "old_password",
    "new_password1",
    "csrfmiddlewaretoken",
    "summaries-TOTAL_FORMS",
    "summaries-INITIAL_FORMS",
    "summaries-0-headline",
]
form_pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(FORM_FIELDS), junk), st.one_of(junk, digit_strings)), max_size=8
)


def _multipart(pairs: list[tuple[str, str]]) -> tuple[str, bytes]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return MULTIPART_CONTENT, encode_multipart(BOUNDARY, data)


JSON_KEYS = ["event", "type", "Type", "RecordType", "MessageID", "event-data", "signature", "Message", "msys"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | junk,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.one_of(st.sampled_from(JSON_KEYS), junk), children, max_size=3)
    ),
    max_leaves=8,
)
BROKEN_JSON = ["{", "[1,", '{"a":}', "nul", '"\\ud800"', '{"a":1}{', "\x00", "[" * 50000 + "]" * 50000]
CONTENT_TYPES = [
    "application/octet-stream",
    "application/json",
    "application/json; charset=utf-16",
    "text/plain",
    "text/xml",
    "multipart/form-data",
    "multipart/form-data; boundary=hostile",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "",
]
bodies = st.one_of(
    form_pairs.map(lambda pairs: ("application/x-www-form-urlencoded", urlencode(pairs).encode())),
    form_pairs.map(_multipart),
    json_values.map(lambda value: ("application/json", json.dumps(value).encode())),
    st.sampled_from(BROKEN_JSON).map(lambda text: ("application/json", text.encode())),
    st.tuples(st.sampled_from(CONTENT_TYPES), st.binary(max_size=300)),
    st.sampled_from(
        [
            ("application/x-www-form-urlencoded", b"a=1&" * 1500),  # more fields than Django accepts
            ("application/x-www-form-urlencoded", b"email=" + b"x" * 3_000_000),  # bigger than allowed
            ("application/x-www-form-urlencoded", b"email=%ZZ&name=%C3%28"),  # bad escapes, bad UTF-8
        ]
    ),
)


def _as_header(value: str) -> str:
    # What a WSGI server hands Django: bytes read as latin-1, no line breaks.
    return value.encode("utf-8", "replace").decode("latin-1").replace("\r", "").replace("\n", "")


headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_X_FORWARDED_FOR": junk.map(_as_header),
        "HTTP_USER_AGENT": junk.map(_as_header),
        "HTTP_REFERER": junk.map(_as_header),
        "HTTP_ACCEPT_LANGUAGE": junk.map(_as_header),
    },
)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM = "application/x-www-form-urlencoded"
methods = st.sampled_from(
    ["GET", "GET", "GET", "HEAD", "OPTIONS", "POST", "POST", "POST", "PUT", "PATCH", "DELETE"]
)


# The URLs ----------------------------------------------------------------------------------------

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


@dataclass(frozen=True)
class Route:
    pieces: tuple  # the patterns from the root URLconf down to the view
    name: str

    @property
    def template(self) -> str:
        return "".join(str(piece) for piece in self.pieces)

    @property
    def label(self) -> str:
        return self.name or self.template

    @property
    def is_staff(self) -> bool:
        return self.template.startswith(STAFF_PREFIXES)

    @property
    def is_webhook(self) -> bool:
        return self.template.startswith(WEBHOOK_PREFIX)


def all_routes() -> list[Route]:
    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, (*prefix, entry.pattern))
            elif isinstance(entry, URLPattern):
                yield Route((*prefix, entry.pattern), entry.name or "")

    return list(walk(get_resolver().url_patterns, ()))


@dataclass
class KnownValues:
    """Values that name real rows, so that some requests get past the lookup into the view."""

    ints: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def strategy(self, converter) -> st.SearchStrategy[str]:
        if isinstance(converter, IntConverter):
            return st.one_of(st.sampled_from(self.ints), digit_strings, junk)
        if isinstance(converter, SlugConverter):
            return st.one_of(st.sampled_from(self.slugs), slug_strings, junk)
        if isinstance(converter, PathConverter):
            known = st.sampled_from(self.ints)
            return st.one_of(known, known.map(lambda pk: f"{pk}/change"), path_strings)
        if isinstance(converter, UUIDConverter):
            return st.one_of(st.uuids().map(str), junk)
        if isinstance(converter, StringConverter):
            return st.one_of(st.sampled_from(self.tokens), st.sampled_from(self.slugs), junk, _tampered(self))
        return st.one_of(st.from_regex(converter.regex, fullmatch=True), junk)

    def first(self, converter) -> str:
        if isinstance(converter, IntConverter | PathConverter):
            return self.ints[0]
        if isinstance(converter, SlugConverter):
            return self.slugs[0]
        return self.tokens[0]


def _tampered(known: KnownValues) -> st.SearchStrategy[str]:
    """A real token with one character changed, cut short or doubled."""

    def tamper(token: str, index: int, char: str) -> str:
        index %= len(token)
        return token[:index] + char + token[index + 1 :]

    return st.one_of(
        st.builds(tamper, st.sampled_from(known.tokens), st.integers(0, 500), st.sampled_from("A:_-0%")),
        st.sampled_from(known.tokens).map(lambda token: token[: len(token) // 2]),
        st.sampled_from(known.tokens).map(lambda token: token + token),
    )


def fill(route: Route, value_for) -> str:
    """The route's path (decoded, with a leading slash), each parameter from `value_for`."""
    parts = []
    for piece in route.pieces:
        if isinstance(piece, RoutePattern):
            text = str(piece)
            position = 0
            for match in _PARAMETER.finditer(text):
                parts.append(text[position : match.start()])
                parts.append(value_for(piece.converters[match["parameter"]], match["parameter"], None))
                position = match.end()
            parts.append(text[position:])
        else:  # a regex pattern: Anymail's mailgun route, the admin's app list and catch-all, media
            parts.append(value_for(None, "", piece.regex.pattern))
    return "/" + "".join(parts)


# Requests and what they must hold ---------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # decoded, as the view sees it
    query: str = ""
    content_type: str | None = None
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    enforce_csrf: bool = False

    @property
    def url(self) -> str:
        return quote(self.path, safe="/") + (f"?{self.query}" if self.query else "")

    def __str__(self) -> str:
        parts = [f"{self.method} {self.url[:600]}"]
        if self.method in UNSAFE_METHODS:
            parts.append(f"content_type={self.content_type!r} body={self.body[:400]!r}")
        if self.headers:
            parts.append(f"headers={ {name: value[:80] for name, value in self.headers.items()} }")
        parts.append(f"CSRF checked: {self.enforce_csrf}")
        return "\n  ".join(parts)


@dataclass(frozen=True)
class KnownElsewhere:
    """A 500 in another helper's area, left to its owner.

    The fuzzing here tolerates it (so that it keeps finding everything else), and a strict xfail
    test below pins it down exactly. When the owner's fix lands that test XPASSes, which fails the
    run: then delete both the entry and the xfail marker.
    """

    owner: str
    request: str  # a regex for "METHOD /decoded/path?query"
    exceptions: tuple[str, ...]  # the class names of the exceptions the view lets escape

    def matches(self, probe: Probe, exc_info) -> bool:
        return bool(
            exc_info
            and type(exc_info[1]).__name__ in self.exceptions
            and re.search(self.request, f"{probe.method} {probe.path}?{probe.query}")
        )


KNOWN_ELSEWHERE: list[KnownElsewhere] = []

COUNTED_MODELS = [
    Issue,
    PaperSummary,
    Paper,
    Subscriber,
    Send,
    Delivery,
    DeliveryEvent,
    OutboxMessage,
    ReviewComment,
    Transition,
]


def snapshot() -> dict:
    """Row counts of the main models and the state columns a request could change."""
    quote_name = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote_name(m._meta.db_table)})" for m in COUNTED_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    return {
        "counts": dict(zip([m.__name__ for m in COUNTED_MODELS], row, strict=True)),
        "issues": list(Issue.objects.order_by("pk").values_list("pk", "status", "version", "published_at")),
        "subscribers": list(
            Subscriber.objects.order_by("pk").values_list(
                "pk", "status", "token_version", "confirmed_at", "name", "format"
            )
        ),
        "sends": list(Send.objects.order_by("pk").values_list("pk", "status")),
        "deliveries": list(Delivery.objects.order_by("pk").values_list("pk", "status")),
    }


def may_write(probe: Probe, url_name: str, status: int) -> bool:
    """The documented, legitimate writes: a POST that succeeded (2xx or 3xx), and only these."""
    if probe.method != "POST" or status >= 400:
        return False
    path = probe.path.lstrip("/")
    if path.startswith(STAFF_PREFIXES):
        return 300 <= status < 400  # the admin answers a POST it accepted with a redirect
    if path.startswith(WEBHOOK_PREFIX):
        return probe.headers.get("HTTP_AUTHORIZATION") == WEBHOOK_AUTH  # the ESP, reporting events
    return url_name in PUBLIC_WRITES


def content_of(response) -> bytes:
    # The test client closes the response itself (at the end of a streamed one); closing it again
    # would send request_finished, which closes the database connection on PostgreSQL.
    return b"".join(response.streaming_content) if response.streaming else response.content


def run_probe(probe: Probe, session: str | None = None):
    """Send `probe` (logged in through `session`); return the response, its body and the snapshots.

    The request runs inside a savepoint that is rolled back afterwards: on PostgreSQL a failed
    query would otherwise poison the rest of the example's transaction.
    """
    client = Client(enforce_csrf_checks=probe.enforce_csrf, raise_request_exception=False)
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    savepoint = transaction.savepoint()
    try:
        before = snapshot()
        extra = dict(probe.headers)
        if probe.method in UNSAFE_METHODS:
            extra.update(data=probe.body, content_type=probe.content_type or "")
        response = client.generic(probe.method, probe.url, **extra)
        body = content_of(response)
        after = snapshot() if response.status_code < 500 else before
    finally:
        transaction.savepoint_rollback(savepoint)
    return response, body, before, after


def resolved(path: str) -> tuple[str, bool] | None:
    """(URL name, CSRF-exempt?) of the view `path` reaches, or None when no URL matches."""
    try:
        match = resolve(path)
    except (Resolver404, ValueError):
        return None
    return match.url_name or match.route or "", bool(getattr(match.func, "csrf_exempt", False))


def check(probe: Probe, session: str | None = None) -> int:
    """Send `probe` and assert what every answer must hold; returns the status."""
    response, body, before, after = run_probe(probe, session)
    status = response.status_code
    failure = f"{probe}\nanswered {status}"
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        if status >= 500 and any(known.matches(probe, exc_info) for known in KNOWN_ELSEWHERE):
            return status
        failure += "\n" + "".join(traceback.format_exception(*exc_info))[-4000:]
    assert status < 500, failure
    assert MARKER_START not in body.lower(), f"{failure}\nreflects the probe unescaped:\n{_around(body)}"
    url_name, csrf_exempt = resolved(probe.path) or ("", True)
    if probe.enforce_csrf and probe.method in UNSAFE_METHODS and not csrf_exempt:
        # Django itself refuses a form over its upload limits with a 400 (TooManyFieldsSent,
        # RequestDataTooBig) wherever a middleware reads it before the CSRF check: also a refusal.
        oversized = (
            probe.body.count(b"&") >= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            or len(probe.body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        expected = {400, 403} if oversized else {403}
        assert status in expected, f"{failure}\na request without a CSRF token must be refused with 403"
    if not may_write(probe, url_name, status):
        assert before == after, f"{failure}\nwrote rows:\nbefore {before}\nafter  {after}"
    return status


def _around(body: bytes) -> str:
    index = body.lower().find(MARKER_START)
    return body[max(0, index - 300) : index + 200].decode("utf-8", "replace")


# The publication ---------------------------------------------------------------------------------


class HostileInputTestCase(TestCase):
    """A small publication, built once for the class: published issues with papers, a draft with a
    preview link, comments, a revision and a transition, subscribers with links, a send."""

    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        sections = make_sections(*ARCHIVE_SECTION_NAMES)
        writer_author = make_author("Dan Hendrycks", slug="dan-hendrycks")
        issues = make_issues(3)
        for issue in issues:
            fill_issue(issue, sections.values(), 4, writer=writer_author, figures=0)
        issues[0].authors.add(writer_author)
        issues[0].tags.add("robustness", "ethics")
        undated = unique_paper("An undated paper", url="https://example.org/undated", authors="Ada Lovelace")
        PaperSummary.objects.filter(pk=issues[1].summaries.order_by("pk").first().pk).update(paper=undated)

        managing_editor = make_user("max", "Managing editor")
        writer = make_user("wanda", "Writer")
        draft = make_issue(50, published=False, title="A draft", created_by=writer, last_edited_by=writer)
        fill_issue(draft, [sections["robustness"]], 2, writer=writer_author, figures=0)
        revisions.save_revision(draft, writer)
        comment = ReviewComment.objects.create(issue=draft, author=managing_editor, body="Check the figure.")
        Transition.objects.create(
            issue=draft,
            actor=writer,
            from_status=Issue.Status.DRAFT,
            to_status=Issue.Status.DRAFT,
            action="edited",
        )
        link = previews.create_link(draft, managing_editor)

        active = Subscriber.objects.create(
            email="ann@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=now - timedelta(days=30)
        )
        pending = Subscriber.objects.create(email="bob@example.org")
        gone = Subscriber.objects.create(email="gone@example.org")
        gone_token = tokens.preferences_token(gone)
        gone.delete()
        send = Send.objects.create(issue=issues[-1], recipient_count=1)
        delivery = Delivery.objects.create(
            send=send,
            subscriber=active,
            email_hash=active.email_hash,
            status=Delivery.Status.SENT,
            sent_at=now,
        )
        DeliveryEvent.objects.create(
            delivery=delivery, send=send, esp_name="Postmark", esp_event_id="probe-1", event_type="delivered"
        )
        outbox = OutboxMessage.objects.create(
            from_email="news@example.org", to="ann@example.org", subject="Hello", raw="Subject: Hello"
        )

        pks = {
            *(issue.pk for issue in [*issues, draft]),
            *(issue.number for issue in [*issues, draft]),
            *Paper.objects.values_list("pk", flat=True),
            *PaperSummary.objects.values_list("pk", flat=True)[:3],
            comment.pk,
            link.pk,
            send.pk,
            delivery.pk,
            outbox.pk,
            active.pk,
            managing_editor.pk,
            writer.pk,
        }
        cls.known = KnownValues(
            ints=[str(pk) for pk in sorted(pks)],
            slugs=[
                *sections,  # their slugs
                writer_author.slug,
                "robustness",
                "ethics",
                "submit",
                "approve",
                "request_changes",
                "back_to_draft",
                "publish",
                "unpublish",
                "cancel_schedule",
                "resolve",
                "reopen",
                "pause",
                "resume",
                "cancel",
                "resend-unknown",
            ],
            tokens=[
                tokens.preferences_token(active),
                tokens.unsubscribe_token(active),
                tokens.confirm_token(pending),
                tokens.preferences_token(pending),
                tokens.confirm_token(active),  # already used
                previews.token_for(link),
                signing.dumps([active.key.hex, active.token_version], salt="another purpose"),
                gone_token,  # its subscriber was deleted
            ],
        )
        cls.sessions = {"managing editor": _session_for(managing_editor), "writer": _session_for(writer)}

    def setup_example(self):
        super().setup_example()
        cache.clear()  # rate limits count per example, not across the whole run

    def draw_path(self, data, route: Route) -> str:
        def value_for(converter, parameter, regex):
            if regex is not None:
                alphabet = st.characters(exclude_categories=["Cs"])
                return data.draw(st.from_regex(regex, fullmatch=True, alphabet=alphabet), label="path")
            return data.draw(self.known.strategy(converter), label=parameter)

        return fill(route, value_for)

    def draw_probe(self, data, routes: list[Route], methods=methods, extra_headers=None) -> Probe:
        route = data.draw(st.sampled_from(routes), label="route")
        method = data.draw(methods, label="method")
        content_type, body = data.draw(bodies, label="body") if method in UNSAFE_METHODS else (None, b"")
        return Probe(
            method=method,
            path=self.draw_path(data, route),
            query=data.draw(queries, label="query"),
            content_type=content_type,
            body=body,
            headers={**data.draw(headers, label="headers"), **(extra_headers or {})},
            enforce_csrf=method in UNSAFE_METHODS and data.draw(st.booleans(), label="CSRF checked"),
        )


def _session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# The tests ---------------------------------------------------------------------------------------

ROUTES = all_routes()
PUBLIC_ROUTES = [route for route in ROUTES if not route.is_staff and not route.is_webhook]
STAFF_ROUTES = [route for route in ROUTES if route.is_staff]
WEBHOOK_ROUTES = [route for route in ROUTES if route.is_webhook]
WRONG_CREDENTIALS = [
    None,
    "Basic Og==",
    "Basic !!!",
    "Bearer x",
    "Basic " + base64.b64encode(b"a:b").decode(),
]


class PublicUrlsTest(HostileInputTestCase):
    """One reading test per public or token URL (added below), so that each URL gets examples of
    its own; writing to them (unsafe methods, junk bodies) is one test across them all."""

    @pytest.mark.slow
    @FUZZ
    @given(st.data())
    def test_other_methods_and_junk_bodies(self, data):
        other_methods = st.sampled_from(
            ["HEAD", "OPTIONS", "POST", "POST", "POST", "POST", "PUT", "PATCH", "DELETE"]
        )
        check(self.draw_probe(data, PUBLIC_ROUTES, methods=other_methods))


def _reading_test(route: Route):
    @FUZZ_PER_URL
    @given(st.data())
    def test(self, data):
        check(self.draw_probe(data, [route], methods=st.just("GET")))

    test.__doc__ = f"Reading {route.template} with hostile path values, queries and headers, as anonymous."
    return test


for _route in PUBLIC_ROUTES:
    _name = "test_reading_" + re.sub(r"\W+", "_", _route.label).strip("_")
    assert not hasattr(PublicUrlsTest, _name), f"two public URLs named {_route.label}"
    setattr(PublicUrlsTest, _name, _reading_test(_route))


class StaffUrlsTest(HostileInputTestCase):
    @FUZZ
    @given(st.data())
    def test_staff_urls_as_anonymous(self, data):
        check(self.draw_probe(data, STAFF_ROUTES))

    @FUZZ
    @given(st.data())
    def test_staff_urls_as_a_managing_editor(self, data):
        check(self.draw_probe(data, STAFF_ROUTES), self.sessions["managing editor"])

    @FUZZ
    @given(st.data())
    def test_staff_urls_as_a_writer(self, data):
        check(self.draw_probe(data, STAFF_ROUTES), self.sessions["writer"])


@override_settings(ANYMAIL=ANYMAIL_SETTINGS)
class WebhookUrlsTest(HostileInputTestCase):
    @FUZZ
    @given(st.data(), st.sampled_from(WRONG_CREDENTIALS))
    def test_webhooks_without_credentials(self, data, authorization):
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        check(self.draw_probe(data, WEBHOOK_ROUTES, methods=st.just("POST"), extra_headers=extra))

    @FUZZ
    @given(st.data())
    def test_webhooks_with_credentials_and_junk_bodies(self, data):
        check(
            self.draw_probe(
                data,
                WEBHOOK_ROUTES,
                methods=st.just("POST"),
                extra_headers={"HTTP_AUTHORIZATION": WEBHOOK_AUTH},
            )
        )


SWEEP_QUERIES = [
    urlencode([("q", f"issue {MARKER}"), ("o", MARKER), ("next", MARKER), ("_changelist_filters", MARKER)]),
    urlencode([("q", "issue"), ("page", str(10**30)), ("year", "99999999999"), ("p", "-1")]),
    urlencode([("page", "-1"), ("section", "\x00"), ("tag", "../"), ("e", "1"), ("_to_field", "x")]),
]
SWEEP_FORM = urlencode([(name, MARKER) for name in FORM_FIELDS]).encode()
HOSTILE_VALUES = [
    (IntConverter, str(10**30)),
    (SlugConverter, "x-probe-" + "z" * 300),
    (PathConverter, f"1/../{MARKER}\x00"),
    (StringConverter, f"{MARKER}%00\u202e"),
]


def _regex_prefix(regex: str) -> str:
    """The literal start of a regex route ("mailgun/inbound" of "^mailgun/inbound(_mime)?/$")."""
    return re.split(r"[(\[.*+?$]", regex.lstrip("^"), maxsplit=1)[0]


@pytest.mark.slow
@override_settings(ANYMAIL=ANYMAIL_SETTINGS)
class EveryUrlTest(HostileInputTestCase):
    def test_every_url_once(self):
        """Each URL, with real values and with hostile ones, read and posted to by its audience."""

        def known_value(converter, parameter, regex):
            if regex is not None:
                return _regex_prefix(regex) + "newsletter/"
            return self.known.first(converter)

        def hostile_value(converter, parameter, regex):
            if regex is not None:
                return _regex_prefix(regex) + MARKER
            return next(value for kind, value in HOSTILE_VALUES if isinstance(converter, kind))

        form = ("application/x-www-form-urlencoded", SWEEP_FORM)
        for route in ROUTES:
            known, hostile = fill(route, known_value), fill(route, hostile_value)
            paths = [known] if hostile == known else [known, hostile]
            if route.is_webhook:
                probes = [(None, Probe("POST", path, "", *form)) for path in paths]
            elif route.is_staff:
                probes = [("managing editor", Probe("GET", known, query)) for query in SWEEP_QUERIES[:2]]
                probes += [("managing editor", Probe("GET", hostile))] if hostile != known else []
                probes += [("managing editor", Probe("POST", path, "", *form)) for path in paths]
                probes += [("writer", Probe("GET", known, SWEEP_QUERIES[1])), (None, Probe("GET", known))]
            else:
                probes = [(None, Probe("GET", known, query)) for query in SWEEP_QUERIES]
                probes += [(None, Probe("GET", hostile))] if hostile != known else []
                probes += [(None, Probe("POST", path, "", *form)) for path in paths]
                probes += [(None, Probe("POST", known, "", *form, enforce_csrf=True))]
            for role, probe in probes:
                with self.subTest(route=route.label, role=role, probe=str(probe)[:200]):
                    check(probe, self.sessions[role] if role else None)


# Fixed here ----------------------------------------------------------------------------------------


class SearchPagesTest(HostileInputTestCase):
    def test_a_search_page_past_any_number_is_404(self):
        for page in (str(10**30), "9" * 5000):
            with self.subTest(page=page[:40]):
                self.assertEqual(Client().get("/search/", {"q": "issue", "page": page}).status_code, 404)


# Left to their owners: each passes once its owner's fix lands (then drop the marker) -------------


class KnownElsewhereTest(HostileInputTestCase):
    def assert_not_a_500(self, probe: Probe, role: str | None = None):
        response, *_ = run_probe(probe, self.sessions[role] if role else None)
        self.assertLess(response.status_code, 500, str(probe))

    def test_change_and_delete_pages_with_an_empty_to_field(self):
        for path in ("/admin/newsletter/issue/1/change/", "/admin/taggit/tag/1/delete/"):
            self.assert_not_a_500(Probe("GET", path, "_to_field="), "writer")

    def test_subscriber_export_with_an_unknown_query_parameter(self):
        self.assert_not_a_500(
            Probe("GET", "/admin/subscribers/subscriber/export/", "page=2"), "managing editor"
        )

    def test_summary_form_posted_with_a_junk_issue_or_paper(self):
        for name in ("issue", "paper"):
            body = urlencode({name: "x"}).encode()
            probe = Probe("POST", "/admin/newsletter/papersummary/add/", "", FORM, body)
            self.assert_not_a_500(probe, "managing editor")

    @override_settings(ANYMAIL=ANYMAIL_SETTINGS)
    def test_amazon_ses_webhooks_given_junk_with_wrong_credentials(self):
        wrong = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"a:b").decode()}
        for kind, body in (("tracking", b"junk"), ("inbound", b"null")):
            probe = Probe(
                "POST", f"/webhooks/anymail/amazon_ses/{kind}/", "", "application/json", body, wrong
            )
            self.assert_not_a_500(probe)

    @override_settings(ANYMAIL=ANYMAIL_SETTINGS)
    def test_resend_tracking_webhook(self):
        self.assert_not_a_500(
            Probe("POST", "/webhooks/anymail/resend/tracking/", "", "application/json", b"{}")
        )

    @override_settings(ANYMAIL={"WEBHOOK_SECRET": [WEBHOOK_SECRET]})
    def test_webhooks_of_an_esp_that_is_not_configured(self):
        for esp in ("brevo/inbound", "mailgun/tracking", "mandrill/tracking", "postal/tracking"):
            self.assert_not_a_500(Probe("POST", f"/webhooks/anymail/{esp}/", "", "application/json", b"{}"))

    @override_settings(ANYMAIL=ANYMAIL_SETTINGS)
    def test_webhooks_given_junk_by_the_esp(self):
        auth = {"HTTP_AUTHORIZATION": WEBHOOK_AUTH}
        for esp in ("postmark/tracking", "mailjet/tracking", "amazon_ses/tracking", "sendgrid/inbound"):
            probe = Probe("POST", f"/webhooks/anymail/{esp}/", "", "application/json", b"junk", auth)
            self.assert_not_a_500(probe)
