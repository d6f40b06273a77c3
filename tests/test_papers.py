"""Pasted links, arXiv ids and DOIs name one stored paper; a paper is never stored twice."""

from __future__ import annotations

import pytest

from newsletter.models import Paper
from newsletter.papers import (
    InvalidPaperReference,
    PaperReference,
    find_or_create_paper,
    find_paper,
    normalise_doi,
    paper_reference,
    parse_paper_link,
)
from tests.factories import make_paper


@pytest.mark.parametrize(
    "pasted",
    [
        "https://arxiv.org/abs/2111.15121v2",
        "https://arxiv.org/abs/2111.15121",
        "http://arxiv.org/pdf/2111.15121v1.pdf",
        "https://arxiv.org/pdf/2111.15121",
        "https://export.arxiv.org/abs/2111.15121?context=cs",
        "arXiv:2111.15121",
        "arxiv: 2111.15121v3",
        "2111.15121",
        " 2111.15121 ",
        "https://doi.org/10.48550/arXiv.2111.15121",
    ],
)
def test_it_reads_the_arxiv_id_from_whatever_is_pasted(pasted):
    reference = parse_paper_link(pasted)
    assert reference.arxiv_id == "2111.15121"
    assert reference.url == "https://arxiv.org/abs/2111.15121"


def test_it_reads_old_style_arxiv_ids():
    assert parse_paper_link("https://arxiv.org/abs/hep-th/9901001v1").arxiv_id == "hep-th/9901001"


@pytest.mark.parametrize(
    "pasted",
    ["10.1145/3442188.3445922", "doi:10.1145/3442188.3445922", "https://doi.org/10.1145/3442188.3445922"],
)
def test_it_reads_dois(pasted):
    reference = parse_paper_link(pasted)
    assert reference.doi == "10.1145/3442188.3445922"
    assert reference.url == "https://doi.org/10.1145/3442188.3445922"
    assert reference.arxiv_id == ""


def test_it_keeps_other_links_as_they_are():
    link = "https://openreview.net/forum?id=abc123"
    assert parse_paper_link(link) == PaperReference(url=link)


@pytest.mark.parametrize(
    "pasted",
    [
        "not a link",
        "ftp://example.org/paper.pdf",
        "https://",
        "https://arxiv.org/list/cs.LG/recent",
        "10.12/x",
    ],
)
def test_it_refuses_what_names_no_paper(pasted):
    with pytest.raises(InvalidPaperReference) as error:
        parse_paper_link(pasted)
    assert error.value.field == "link"


@pytest.mark.parametrize("doi", ["banana", "10.1/abc", "https://doi.org/", "11.1234/abc"])
def test_it_refuses_bad_dois(doi):
    with pytest.raises(InvalidPaperReference) as error:
        normalise_doi(doi)
    assert error.value.field == "doi"


def test_it_refuses_a_link_and_a_doi_naming_two_arxiv_papers():
    with pytest.raises(InvalidPaperReference, match="two arXiv papers"):
        paper_reference(link="https://arxiv.org/abs/2111.15121", doi="10.48550/arXiv.2201.00001")


def test_it_refuses_a_doi_link_and_a_different_doi():
    with pytest.raises(InvalidPaperReference, match="not 10.1000/other"):
        paper_reference(link="https://doi.org/10.1000/one", doi="10.1000/other")


@pytest.mark.django_db
def test_it_creates_a_paper_from_a_pasted_arxiv_link():
    reference = paper_reference(
        link="https://arxiv.org/abs/2111.15121v2", title="  Pyramid   Adversarial Training "
    )

    paper, created = find_or_create_paper(reference)

    assert created
    assert paper.arxiv_id == "2111.15121"
    assert paper.url == "https://arxiv.org/abs/2111.15121"
    assert paper.title == "Pyramid Adversarial Training"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"link": "arXiv:2111.15121"},
        {"link": "https://arxiv.org/pdf/2111.15121v3.pdf"},
        {"link": "https://doi.org/10.1000/PYRAMID"},
        {"doi": "10.1000/pyramid"},
        {"link": "https://example.org/pyramid/"},
    ],
)
def test_it_reuses_the_stored_paper(fields):
    stored = make_paper(url="https://example.org/pyramid", arxiv_id="2111.15121", doi="10.1000/pyramid")

    paper, created = find_or_create_paper(paper_reference(title="Another title", **fields))

    assert (paper, created) == (stored, False)
    assert Paper.objects.count() == 1
    paper.refresh_from_db()
    assert paper.title == stored.title  # a stored paper keeps its details


@pytest.mark.django_db
def test_it_fills_in_what_the_stored_paper_lacks():
    stored = make_paper(url="", arxiv_id="2111.15121", venue="")

    find_or_create_paper(paper_reference(link="2111.15121", doi="10.1000/xyz", venue="CVPR", year=2022))

    stored.refresh_from_db()
    assert (stored.doi, stored.venue, stored.year) == ("10.1000/xyz", "CVPR", 2022)
    assert stored.url == "https://arxiv.org/abs/2111.15121"


@pytest.mark.django_db
def test_it_refuses_identifiers_that_name_two_stored_papers():
    make_paper("First", url="", arxiv_id="2111.15121")
    make_paper("Second", url="", doi="10.1000/second")

    with pytest.raises(InvalidPaperReference, match="two stored papers"):
        find_paper(paper_reference(link="2111.15121", doi="10.1000/second"))


@pytest.mark.django_db
def test_it_refuses_a_doi_that_contradicts_the_stored_paper():
    make_paper(url="", arxiv_id="2111.15121", doi="10.1000/stored")

    with pytest.raises(InvalidPaperReference, match="has DOI 10.1000/stored"):
        find_paper(paper_reference(link="2111.15121", doi="10.1000/typed"))


@pytest.mark.django_db
def test_it_needs_a_title_for_a_new_paper():
    with pytest.raises(InvalidPaperReference) as error:
        find_or_create_paper(paper_reference(link="2111.15121"))
    assert error.value.field == "title"
    assert not Paper.objects.exists()


@pytest.mark.django_db
def test_it_reuses_a_paper_named_by_its_exact_title_alone():
    stored = make_paper("Unsolved Problems in ML Safety", url="")

    paper, created = find_or_create_paper(paper_reference(title="unsolved problems in ML safety"))

    assert (paper, created) == (stored, False)
