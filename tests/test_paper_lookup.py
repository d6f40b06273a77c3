"""A pasted identifier becomes a paper's details: arXiv, Crossref (DOIs, ACL Anthology) and
OpenReview answers, in their documented formats, served by a local server (tests/paper_sources.py);
not-found, timeouts, malformed and throttled answers are clear refusals; answers are cached; arXiv
gets at most one request per interval; the staff endpoint and the drafting forms use it all."""

from __future__ import annotations

import json
import time

import pytest
from django.core.cache import cache

from newsletter import paper_lookup
from newsletter.models import Issue, Paper
from newsletter.paper_lookup import identifiers
from tests import paper_sources
from tests.factories import make_issue, make_paper, make_section, make_summary, make_user, user_fixture
from tests.paper_sources import PYRAMID_AUTHORS, PYRAMID_FEED, PYRAMID_ID, PYRAMID_TITLE

LOOKUP = "/admin/paper-lookup/"
ISSUE_ADD = "/admin/newsletter/issue/add/"
PAPER_ADD = "/admin/newsletter/paper/add/"

writer = user_fixture("wanda", "Writer")


@pytest.fixture
def sources(settings):
    with paper_sources.serving() as served:
        paper_sources.point_settings_at(settings, served)
        yield served


# Reading what was pasted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "kind", "value"),
    [
        ("2111.15121", "arxiv", "2111.15121"),
        ("arXiv:2111.15121v3", "arxiv", "2111.15121"),
        ("https://arxiv.org/abs/2111.15121v2", "arxiv", "2111.15121"),
        ("https://arxiv.org/pdf/2111.15121v1.pdf", "arxiv", "2111.15121"),
        ("https://arxiv.org/html/2402.01234v1", "arxiv", "2402.01234"),
        ("https://arxiv.org/abs/hep-th/9901001v1", "arxiv", "hep-th/9901001"),
        ("https://doi.org/10.48550/arXiv.2111.15121", "arxiv", "2111.15121"),
        ("10.1145/3442188.3445922", "doi", "10.1145/3442188.3445922"),
        ("doi:10.1145/3442188.3445922", "doi", "10.1145/3442188.3445922"),
        ("https://dx.doi.org/10.1145/3442188.3445922", "doi", "10.1145/3442188.3445922"),
        ("https://dl.acm.org/doi/abs/10.1145/3442188.3445922", "doi", "10.1145/3442188.3445922"),
        ("https://openreview.net/forum?id=Hk2-x9_Ab", "openreview", "Hk2-x9_Ab"),
        ("https://openreview.net/pdf?id=Hk2-x9_Ab", "openreview", "Hk2-x9_Ab"),
        ("https://aclanthology.org/2023.acl-long.1/", "acl", "2023.acl-long.1"),
        ("https://aclanthology.org/2023.acl-long.1.pdf", "acl", "2023.acl-long.1"),
        ("https://www.aclweb.org/anthology/P19-1001.pdf", "acl", "P19-1001"),
        ("https://doi.org/10.18653/v1/2023.acl-long.1", "acl", "2023.acl-long.1"),
    ],
)
def test_every_way_of_pasting_a_paper_names_it(pasted, kind, value):
    assert paper_lookup.parse_identifier(pasted) == identifiers.Identifier(kind, value)


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("", "Paste an arXiv id"),
        ("a paper about robustness", "Details are fetched for arXiv"),
        ("https://example.org/paper.pdf", "Details are fetched for arXiv"),
        ("https://arxiv.org/list/cs.LG/recent", "does not point to a paper"),
        ("https://openreview.net/group?id=ICLR.cc/2024/Conference", "OpenReview link names no paper"),
        ("https://aclanthology.org/events/acl-2023/", "ACL Anthology link names no paper"),
        ("10.1145", "not a DOI"),
        ("2111.15121\x00", "control characters"),
        ("https://doi.org/10.1234/a%00b", "not a DOI"),
        ("https://arxiv.org/abs/" + "1" * 2000, "longer than"),
    ],
)
def test_what_names_no_paper_is_refused_with_a_reason(pasted, says):
    with pytest.raises(paper_lookup.InvalidIdentifier, match=says):
        paper_lookup.parse_identifier(pasted)


# arXiv ------------------------------------------------------------------------------------------


def test_an_arxiv_link_gives_the_papers_details_from_its_atom_feed(sources):
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED)

    paper = paper_lookup.lookup("https://arxiv.org/pdf/2111.15121v1")

    assert paper.title == PYRAMID_TITLE  # hard-wrapped in the feed
    assert paper.authors == tuple(PYRAMID_AUTHORS)
    assert paper.year == 2021
    assert paper.venue == "arXiv"
    assert paper.abstract.startswith(
        "Aggressive data augmentation is a key component of the strong generalization"
    )
    assert paper.url == "https://arxiv.org/abs/2111.15121"  # canonical: no version
    assert paper.arxiv_id == PYRAMID_ID
    (request,) = sources.asked("arxiv")
    assert request.query["id_list"] == [PYRAMID_ID]
    assert "mailto:editors@news.example.org" in request.headers["User-Agent"]


def test_arxivs_journal_reference_and_doi_become_the_venue_and_doi(sources):
    sources.arxiv(
        "2109.13916",
        paper_sources.arxiv_feed(
            "2109.13916",
            title="Unsolved Problems in ML Safety",
            authors=["Dan Hendrycks", "Nicholas Carlini", "John Schulman", "Jacob Steinhardt"],
            published="2021-09-28T17:59:36Z",
            summary="Machine learning systems are rapidly increasing in size.",
            journal_ref="Proceedings of the Workshop on ML Safety 2022",
            doi="10.1000/workshop.2022.1",
            comment="Position paper",
        ),
    )

    paper = paper_lookup.lookup("2109.13916")

    assert paper.venue == "Proceedings of the Workshop on ML Safety 2022"
    assert paper.doi == "10.1000/workshop.2022.1"


@pytest.mark.parametrize(
    ("answer", "failure", "says"),
    [
        (
            {"body": paper_sources.arxiv_empty_feed(PYRAMID_ID)},
            paper_lookup.NotFound,
            "arXiv has no paper 2111.15121",
        ),
        ({"body": paper_sources.arxiv_error(PYRAMID_ID)}, paper_lookup.NotFound, "arXiv has no paper"),
        (
            {"body": b"<html><body>Service temporarily down</body></html>", "content_type": "text/html"},
            paper_lookup.BadAnswer,
            "not the Atom feed",
        ),
        (
            {"body": b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>Cut"},
            paper_lookup.BadAnswer,
            "Atom",
        ),
        (
            {"body": b"Rate exceeded.", "content_type": "text/plain"},
            paper_lookup.RateLimited,
            "limiting requests",
        ),
        ({"status": 503, "body": b"Rate exceeded."}, paper_lookup.RateLimited, "limiting requests"),
        ({"status": 500, "body": b"oops"}, paper_lookup.Unavailable, "HTTP 500"),
        ({"body": PYRAMID_FEED, "delay": 1.5}, paper_lookup.TimedOut, "did not answer within 0.5 seconds"),
    ],
)
def test_an_arxiv_failure_is_a_clear_refusal(sources, answer, failure, says):
    sources.arxiv(PYRAMID_ID, **answer)

    with pytest.raises(failure, match=says):
        paper_lookup.lookup(PYRAMID_ID)

    assert paper_lookup.cached(PYRAMID_ID) is None  # a failure is asked again next time


def test_an_unreachable_source_is_a_clear_refusal(settings):
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"  # nothing listens on the discard port
    settings.ARXIV_MIN_INTERVAL = 0

    with pytest.raises(paper_lookup.Unavailable, match="arXiv could not be reached"):
        paper_lookup.lookup(PYRAMID_ID)


# Crossref and the ACL Anthology -------------------------------------------------------------------

PARROTS_DOI = "10.1145/3442188.3445922"
PARROTS = paper_sources.crossref_work(
    PARROTS_DOI,
    title=["On the Dangers of Stochastic Parrots: Can Language Models Be Too Big? 🦜"],
    author=[
        {"given": "Emily M.", "family": "Bender", "sequence": "first", "affiliation": []},
        {"given": "Timnit", "family": "Gebru", "sequence": "additional", "affiliation": []},
        {"given": "Angelina", "family": "McMillan-Major", "sequence": "additional", "affiliation": []},
        {"given": "Shmargaret", "family": "Shmitchell", "sequence": "additional", "affiliation": []},
    ],
    **{
        "container-title": [
            "Proceedings of the 2021 ACM Conference on Fairness, Accountability, and Transparency"
        ],
        "event": {"name": "FAccT '21: 2021 ACM Conference on Fairness, Accountability, and Transparency"},
        "issued": {"date-parts": [[2021, 3, 3]]},
        "published-print": {"date-parts": [[2021, 3, 3]]},
        "abstract": "<jats:title>Abstract</jats:title><jats:p>The past 3 years of work in NLP have been "
        "characterized by the development and deployment of ever larger language models.</jats:p>",
    },
)


def test_a_doi_gives_the_papers_details_from_crossref(sources):
    sources.crossref(PARROTS_DOI, PARROTS)

    paper = paper_lookup.lookup(f"https://doi.org/{PARROTS_DOI}")

    assert paper.source == "Crossref"
    assert paper.title == "On the Dangers of Stochastic Parrots: Can Language Models Be Too Big? 🦜"
    assert paper.authors == (
        "Emily M. Bender",
        "Timnit Gebru",
        "Angelina McMillan-Major",
        "Shmargaret Shmitchell",
    )
    assert paper.year == 2021
    assert (
        paper.venue == "Proceedings of the 2021 ACM Conference on Fairness, Accountability, and Transparency"
    )
    assert paper.abstract.startswith("The past 3 years of work in NLP")  # JATS and its "Abstract" title gone
    assert paper.url == f"https://doi.org/{PARROTS_DOI}"
    assert paper.doi == PARROTS_DOI
    (request,) = sources.asked("crossref")
    assert request.key == PARROTS_DOI
    assert request.query["mailto"] == ["editors@news.example.org"]  # Crossref's polite pool
    assert "mailto:editors@news.example.org" in request.headers["User-Agent"]


def test_an_acl_anthology_link_is_looked_up_by_its_doi_and_keeps_the_anthology_link(sources):
    doi = "10.18653/v1/2023.acl-long.1"
    sources.crossref(
        doi,
        paper_sources.crossref_work(
            doi,
            title=["Detecting <i>adversarial</i> prompts in dialogue"],
            author=[{"given": "Ada", "family": "Example", "sequence": "first"}, {"name": "The ACL Team"}],
            publisher="Association for Computational Linguistics",
            **{
                "container-title": [
                    "Proceedings of the 61st Annual Meeting of the Association for "
                    "Computational Linguistics (Volume 1: Long Papers)"
                ],
                "issued": {"date-parts": [[2023]]},
            },
        ),
    )

    paper = paper_lookup.lookup("https://aclanthology.org/2023.acl-long.1.pdf")

    assert paper.title == "Detecting adversarial prompts in dialogue"  # markup stripped
    assert paper.authors == ("Ada Example", "The ACL Team")
    assert paper.year == 2023
    assert paper.venue.startswith("Proceedings of the 61st Annual Meeting")
    assert paper.url == "https://aclanthology.org/2023.acl-long.1/"
    assert paper.doi == doi
    assert [request.key for request in sources.asked("crossref")] == [doi]


def test_an_acl_paper_without_a_doi_says_so(sources):
    with pytest.raises(paper_lookup.NotFound, match="P79-1001 has no DOI at Crossref"):
        paper_lookup.lookup("https://aclanthology.org/P79-1001/")


@pytest.mark.parametrize(
    ("answer", "failure", "says"),
    [
        (
            {"status": 404, "body": b"Resource not found.", "content_type": "text/plain"},
            paper_lookup.NotFound,
            "Crossref knows no DOI 10.1145/3442188.3445922",
        ),
        ({"body": b"{not json"}, paper_lookup.BadAnswer, "not the JSON"),
        (
            {"body": b'{"status": "ok", "message-type": "work-list", "message": {}}'},
            paper_lookup.BadAnswer,
            "did not describe a work",
        ),
        (
            {"body": b'{"status": "ok", "message-type": "work", "message": {"title": []}}'},
            paper_lookup.NotFound,
            "no title",
        ),
        ({"status": 429, "body": b"{}"}, paper_lookup.RateLimited, "Crossref is limiting requests"),
        ({"body": PARROTS, "delay": 1.5}, paper_lookup.TimedOut, "Crossref did not answer"),
    ],
)
def test_a_crossref_failure_is_a_clear_refusal(sources, answer, failure, says):
    sources.crossref(PARROTS_DOI, **answer)

    with pytest.raises(failure, match=says):
        paper_lookup.lookup(PARROTS_DOI)


# OpenReview -------------------------------------------------------------------------------------


def test_an_openreview_forum_gives_the_papers_details_from_api_2(sources):
    sources.openreview(
        "Hk2-x9_Ab",
        paper_sources.openreview_note(
            "Hk2-x9_Ab",
            title="Certified robustness at scale",
            authors=["Ada Example", "Grace Sample"],
            abstract="We certify\n robustness.",
            venue="ICLR 2024 poster",
            pdate=1705276800000,
        ),
    )

    paper = paper_lookup.lookup("https://openreview.net/pdf?id=Hk2-x9_Ab")

    assert paper.source == "OpenReview"
    assert (paper.title, paper.authors, paper.year) == (
        "Certified robustness at scale",
        ("Ada Example", "Grace Sample"),
        2024,
    )
    assert paper.venue == "ICLR 2024 poster"
    assert paper.abstract == "We certify robustness."
    assert paper.url == "https://openreview.net/forum?id=Hk2-x9_Ab"
    assert sources.asked("openreview")[0].query["id"] == ["Hk2-x9_Ab"]


def test_an_api_1_note_is_read_too_with_the_year_from_its_dates(sources):
    sources.openreview(
        "rkgOld1",
        paper_sources.openreview_v1_note(
            "rkgOld1",
            title="An older paper",
            authors=["Ada Example"],
            abstract="Old.",
            venue="Submitted to ICLR",
        ),
    )

    paper = paper_lookup.lookup("https://openreview.net/forum?id=rkgOld1")

    assert (paper.title, paper.authors, paper.year) == ("An older paper", ("Ada Example",), 2019)


@pytest.mark.parametrize(
    ("answer", "failure", "says"),
    [
        (
            {"status": 404, "body": paper_sources.OPENREVIEW_NOT_FOUND},
            paper_lookup.NotFound,
            "no public paper",
        ),
        (
            {"status": 403, "body": paper_sources.OPENREVIEW_FORBIDDEN},
            paper_lookup.NotFound,
            "no public paper",
        ),
        ({"body": b'{"notes": [], "count": 0}'}, paper_lookup.NotFound, "OpenReview has no paper"),
        ({"body": b'{"notes": {"id": "x"}}'}, paper_lookup.BadAnswer, "no list of notes"),
        (
            {"body": b"<html>maintenance</html>", "content_type": "text/html"},
            paper_lookup.BadAnswer,
            "not the JSON",
        ),
        (
            {"body": b'{"notes": [], "count": 0}', "delay": 1.5},
            paper_lookup.TimedOut,
            "OpenReview did not answer",
        ),
    ],
)
def test_an_openreview_failure_is_a_clear_refusal(sources, answer, failure, says):
    sources.openreview("Hk2-x9_Ab", **answer)

    with pytest.raises(failure, match=says):
        paper_lookup.lookup("https://openreview.net/forum?id=Hk2-x9_Ab")


# Cache and throttle -------------------------------------------------------------------------------


def test_a_lookup_is_cached_per_identifier_however_it_was_written(sources):
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED)

    first = paper_lookup.lookup("https://arxiv.org/abs/2111.15121v2")
    again = paper_lookup.lookup("arXiv:2111.15121")

    assert again == first
    assert len(sources.asked("arxiv")) == 1
    assert paper_lookup.cached("https://arxiv.org/pdf/2111.15121") == first


def test_arxiv_gets_at_most_one_request_per_interval(sources, settings):
    settings.ARXIV_MIN_INTERVAL = 0.6
    for arxiv_id in ("2111.15121", "2111.15122", "2111.15123"):
        sources.arxiv(arxiv_id, PYRAMID_FEED)

    for arxiv_id in ("2111.15121", "2111.15122", "2111.15123"):
        paper_lookup.lookup(arxiv_id)

    times = [request.at for request in sources.asked("arxiv")]
    assert len(times) == 3
    assert all(later - earlier >= 0.55 for earlier, later in zip(times, times[1:], strict=False))


def test_a_lookup_that_cannot_get_an_arxiv_slot_in_time_is_refused_unsent(sources, settings):
    settings.ARXIV_MIN_INTERVAL = 0.3
    cache.add("paper-lookup:slot:arXiv", time.time(), timeout=30)  # another process's request

    with pytest.raises(paper_lookup.RateLimited, match="one request every 0.3 seconds"):
        paper_lookup.lookup(PYRAMID_ID)

    assert sources.asked("arxiv") == []


def test_crossref_is_not_held_by_arxivs_throttle(sources, settings):
    settings.ARXIV_MIN_INTERVAL = 30
    cache.add("paper-lookup:slot:arXiv", time.time(), timeout=30)
    sources.crossref(PARROTS_DOI, PARROTS)

    assert paper_lookup.lookup(PARROTS_DOI).year == 2021


# The staff endpoint ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_writer_looks_a_link_up_and_gets_its_details(client, writer, sources):
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED)
    client.force_login(writer)

    response = client.get(LOOKUP, {"q": "https://arxiv.org/abs/2111.15121v2"})

    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is True
    assert answer["source"] == "arXiv"
    assert answer["paper"]["title"] == PYRAMID_TITLE
    assert answer["paper"]["authors"] == ", ".join(PYRAMID_AUTHORS)
    assert answer["paper"]["year"] == 2021
    assert answer["stored"] is None
    assert answer["message"] == "Filled in from arXiv."
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_paper_already_covered_is_reused_and_says_in_which_issue(client, writer, sources):
    section = make_section()
    paper = make_paper(
        PYRAMID_TITLE, url="https://arxiv.org/abs/2111.15121", authors="Charles Herrmann et al."
    )
    make_summary(make_issue(4), section, paper=paper)
    make_summary(make_issue(9), section, paper=paper)
    make_summary(make_issue(12, published=False), section, paper=paper)  # a draft is not "covered"
    client.force_login(writer)

    answer = client.get(LOOKUP, {"q": "arXiv:2111.15121v1"}).json()

    assert answer["ok"] is True
    assert answer["source"] == "index"
    assert answer["stored"] == {"id": paper.pk, "covered_in": [9, 4]}
    assert answer["message"] == "Covered before in issues #9 and #4."
    assert answer["paper"]["authors"] == "Charles Herrmann et al."
    assert sources.asked() == []  # the index answered: no request went out


@pytest.mark.django_db
def test_a_paper_covered_once_says_covered_before_in_issue_n(client, writer, sources):
    paper = make_paper("Stochastic parrots", url="", doi=PARROTS_DOI.upper())
    make_summary(make_issue(4), make_section(), paper=paper)
    client.force_login(writer)

    answer = client.get(LOOKUP, {"q": f"https://doi.org/{PARROTS_DOI}"}).json()

    assert answer["message"] == "Covered before in issue #4."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pasted", "reason"),
    [("2111.99999", "not_found"), ("https://example.org/paper", "invalid"), ("10.1145/slow", "timeout")],
)
def test_a_failed_lookup_is_an_answer_saying_why(client, writer, sources, pasted, reason):
    sources.crossref("10.1145/slow", PARROTS, delay=1.5)
    client.force_login(writer)

    response = client.get(LOOKUP, {"q": pasted})

    assert response.status_code == 200  # the lookup ran; the script shows why it found nothing
    answer = response.json()
    assert answer["ok"] is False
    assert answer["reason"] == reason
    assert answer["error"].endswith("Enter the paper's details by hand.")


@pytest.mark.django_db
def test_the_endpoint_escapes_markup_and_never_repeats_the_input(client, writer, sources):
    sources.arxiv(
        PYRAMID_ID,
        paper_sources.arxiv_feed(
            PYRAMID_ID,
            title="&lt;script&gt;alert(1)&lt;/script&gt; & co",
            authors=["A"],
            published="2021-01-01T00:00:00Z",
            summary="x",
        ),
    )
    client.force_login(writer)

    found = client.get(LOOKUP, {"q": PYRAMID_ID})
    refused = client.get(LOOKUP, {"q": "<x-probe>"})

    assert b"<" not in found.content and b"&" not in found.content.replace(b"\\u0026", b"")
    assert json.loads(found.content)["paper"]["title"] == "<script>alert(1)</script> & co"
    assert b"x-probe" not in refused.content


@pytest.mark.django_db
def test_the_endpoint_is_for_staff_who_write_papers(client, sources):
    anonymous = client.get(LOOKUP, {"q": PYRAMID_ID})
    client.force_login(make_user("norole"))  # staff, but in no role
    no_role = client.get(LOOKUP, {"q": PYRAMID_ID})
    client.force_login(make_user("wendy", "Writer"))
    posted = client.post(LOOKUP, {"q": PYRAMID_ID})
    empty = client.get(LOOKUP)

    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert no_role.status_code == 403 and no_role.json()["reason"] == "forbidden"
    assert posted.status_code == 405
    assert empty.status_code == 400 and "`q`" in empty.json()["error"]
    assert sources.asked() == []


# The drafting forms -------------------------------------------------------------------------------


def issue_with_summary(**paper_fields: str) -> dict[str, str]:
    summary = {
        "id": "",
        "issue": "",
        "section": "",
        "kind": "feature",
        "position": "",
        "headline": "Pyramid adversarial training",
        "body": "It helps.",
        "paper": "",
        "paper_link": "",
        "paper_title": "",
        "paper_authors": "",
        "paper_venue": "",
        "paper_year": "",
        "paper_doi": "",
        "paper_abstract": "",
        "figure_caption": "",
        "figure_alt": "",
        "writer": "",
        "tags": "",
        **paper_fields,
    }
    data = {
        "number": "5",
        "title": "Robust vision",
        "slug": "",
        "subject": "",
        "preheader": "",
        "intro": "Hello.",
        "tags": "",
        "summaries-TOTAL_FORMS": "1",
        "summaries-INITIAL_FORMS": "0",
        "summaries-MIN_NUM_FORMS": "0",
        "summaries-MAX_NUM_FORMS": "1000",
    }
    data.update({f"summaries-0-{name}": value for name, value in summary.items()})
    return data


@pytest.mark.django_db
def test_a_pasted_arxiv_link_alone_makes_the_paper_with_its_details(client, writer, sources):
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED)
    section = make_section()
    client.force_login(writer)

    response = client.post(
        ISSUE_ADD,
        issue_with_summary(section=str(section.pk), paper_link="https://arxiv.org/pdf/2111.15121v1"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    paper = Paper.objects.get()
    assert paper.title == PYRAMID_TITLE
    assert paper.authors == ", ".join(PYRAMID_AUTHORS)
    assert paper.year == 2021
    assert paper.abstract.startswith("Aggressive data augmentation")
    assert (paper.url, paper.arxiv_id) == ("https://arxiv.org/abs/2111.15121", PYRAMID_ID)
    assert Issue.objects.get(number=5).summaries.get().paper == paper


@pytest.mark.django_db
def test_a_failed_lookup_at_save_is_a_form_error_and_typing_the_title_saves(client, writer, sources):
    sources.arxiv(PYRAMID_ID, PYRAMID_FEED, delay=1.5)
    section = make_section()
    client.force_login(writer)
    data = issue_with_summary(section=str(section.pk), paper_link=PYRAMID_ID)

    refused = client.post(ISSUE_ADD, data)
    data["summaries-0-paper_title"] = "Pyramid adversarial training (typed)"
    saved = client.post(ISSUE_ADD, data)

    assert refused.status_code == 200
    assert "arXiv did not answer within 0.5 seconds. Enter the paper&#x27;s title" in refused.content.decode()
    assert saved.status_code == 302
    assert Paper.objects.get().title == "Pyramid adversarial training (typed)"
    assert len(sources.asked("arxiv")) == 1  # with a title typed, saving asks nobody


@pytest.mark.django_db
def test_what_the_browser_filled_in_is_saved_as_it_is(client, writer, sources):
    section = make_section()
    client.force_login(writer)

    response = client.post(
        ISSUE_ADD,
        issue_with_summary(
            section=str(section.pk),
            paper_link="https://openreview.net/pdf?id=Hk2-x9_Ab",
            paper_title="Certified robustness at scale",
            paper_authors="Ada Example",
            paper_year="2024",
            paper_venue="ICLR 2024 poster",
            paper_abstract="We certify robustness.",
        ),
    )

    assert response.status_code == 302
    paper = Paper.objects.get()
    assert (paper.title, paper.venue, paper.abstract) == (
        "Certified robustness at scale",
        "ICLR 2024 poster",
        "We certify robustness.",
    )
    assert paper.url == "https://openreview.net/pdf?id=Hk2-x9_Ab"
    assert sources.asked() == []


@pytest.mark.django_db
def test_the_paper_admin_fills_in_a_paper_from_its_link_alone(client, sources):
    sources.crossref(PARROTS_DOI, PARROTS)
    client.force_login(make_user("edith", "Editor"))
    blank = {
        "title": "",
        "url": "",
        "authors": "",
        "venue": "",
        "year": "",
        "arxiv_id": "",
        "doi": "",
        "abstract": "",
    }

    response = client.post(PAPER_ADD, {**blank, "doi": f"https://doi.org/{PARROTS_DOI}"})

    assert response.status_code == 302, response.content.decode()[:3000]
    paper = Paper.objects.get()
    assert paper.title.startswith("On the Dangers of Stochastic Parrots")
    assert paper.authors.startswith("Emily M. Bender, Timnit Gebru")
    assert (paper.year, paper.doi, paper.url) == (2021, PARROTS_DOI, f"https://doi.org/{PARROTS_DOI}")
    assert paper.abstract.startswith("The past 3 years")


@pytest.mark.django_db
def test_the_paper_admin_shows_why_a_lookup_failed_and_keeps_what_was_typed(client, sources):
    client.force_login(make_user("edith", "Editor"))
    blank = {
        "title": "",
        "url": "",
        "authors": "",
        "venue": "",
        "year": "",
        "arxiv_id": "",
        "doi": "",
        "abstract": "",
    }

    response = client.post(PAPER_ADD, {**blank, "arxiv_id": "2111.99999", "venue": "NeurIPS"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "arXiv has no paper 2111.99999. Enter the paper&#x27;s title" in html
    assert 'value="NeurIPS"' in html
    assert not Paper.objects.exists()
