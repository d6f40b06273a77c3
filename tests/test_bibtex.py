"""BibTeX entries stay valid whatever a paper's title or authors contain."""

from __future__ import annotations

import pytest

from newsletter.bibtex import (
    bibtex_entry,
    bibtex_file,
    citation_key,
    escape_latex,
    escape_title,
    split_authors,
)
from newsletter.models import Paper


def paper(**fields) -> Paper:
    """An unsaved paper: BibTeX needs no database."""
    fields.setdefault("title", "Pyramid Adversarial Training Improves ViT Performance")
    fields.setdefault("authors", "Charles Herrmann, Kyle Sargent, Lu Jiang")
    fields.setdefault("pk", 7)
    return Paper(**fields)


def assert_balanced(text: str) -> None:
    """BibTeX counts raw braces, backslash or not: they must balance and never go negative."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, text
    assert depth == 0, text


def test_it_writes_an_arxiv_entry():
    entry = bibtex_entry(paper(url="https://arxiv.org/abs/2111.15121v2", arxiv_id="2111.15121"))

    assert entry == (
        "@misc{herrmann2021pyramid,\n"
        "  title = {Pyramid Adversarial Training Improves {ViT} Performance},\n"
        "  author = {Charles Herrmann and Kyle Sargent and Lu Jiang},\n"
        "  year = {2021},\n"
        "  eprint = {2111.15121},\n"
        "  archivePrefix = {arXiv},\n"
        "  url = {https://arxiv.org/abs/2111.15121v2},\n"
        "}\n"
    )


def test_it_writes_a_journal_article_with_a_doi():
    entry = bibtex_entry(
        paper(
            title="Deep learning",
            authors="LeCun, Yann; Bengio, Yoshua",
            venue="Nature",
            year=2015,
            doi="10.1038/nature14539",
        )
    )

    assert entry.startswith("@article{lecun2015deep,\n")
    assert "  author = {LeCun, Yann and Bengio, Yoshua},\n" in entry
    assert "  journal = {Nature},\n" in entry
    assert "  doi = {10.1038/nature14539},\n" in entry
    assert "  url = {https://doi.org/10.1038/nature14539},\n" in entry


@pytest.mark.parametrize(
    ("venue", "expected"),
    [
        ("NeurIPS", "@inproceedings{herrmann2021pyramid,\n  title"),
        ("Workshop on ML Safety", "@inproceedings"),
        ("Proceedings of the 39th ICML", "@inproceedings"),
        ("Transactions on Machine Learning Research", "@article"),
        ("arXiv", "@misc"),
        ("", "@misc"),
    ],
)
def test_the_entry_type_follows_the_venue(venue, expected):
    entry = bibtex_entry(paper(venue=venue, year=2021))

    assert entry.startswith(expected)
    assert ("booktitle = " in entry) == expected.startswith("@inproceedings")
    assert ("journal = " in entry) == (expected == "@article")


@pytest.mark.parametrize(
    "title",
    [
        "Robustness {under} shift",
        "Unbalanced } brace { here }}",
        r"A \textbf{bold} \\ claim",
        "100% of $X_i$ & #1 ~ ^ _",
        "Line\nbreak\tand\x00control",
        "Über-robust Modèles: 日本語 ✓",
        "}{",
        "\\",
    ],
)
def test_tricky_titles_stay_balanced_and_literal(title):
    entry = bibtex_entry(paper(title=title, authors="O'Brien {Jr}, Zoë & Smith_Jones"))

    assert_balanced(entry)
    assert "\x00" not in entry and "\t" not in entry
    assert entry.count("\n") == len(entry.splitlines())  # every field on one line


def test_specials_are_escaped():
    assert (
        escape_latex("100% & $5 #1 a_b ~ ^") == r"100\% \& \$5 \#1 a\_b \textasciitilde{} \textasciicircum{}"
    )
    assert escape_latex("{x} \\") == r"\textbraceleft{}x\textbraceright{} \textbackslash{}"
    assert escape_latex("Zoë 日本") == "Zoë 日本"


def test_words_with_inner_capitals_keep_their_case():
    assert (
        escape_title("GPT-3 beats ImageNet on NLP, not Humans")
        == "{GPT-3} beats {ImageNet} on {NLP,} not Humans"
    )


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ("A. One, B. Two and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("One, A.; Two, B.", ["One, A.", "Two, B."]),
        ("Dan Hendrycks, Mantas Mazeika, et al.", ["Dan Hendrycks", "Mantas Mazeika", "others"]),
        ("Ada Lovelace & Alan Turing", ["Ada Lovelace", "Alan Turing"]),
        ("Sandra Anderson", ["Sandra Anderson"]),
        ("", []),
    ],
)
def test_it_splits_author_lines(authors, expected):
    assert split_authors(authors) == expected


def test_keys():
    assert citation_key(paper(year=2021)) == "herrmann2021pyramid"
    assert citation_key(paper(title="The Unreasonable Effectiveness", authors="Zoë Ünal", year=2020)) == (
        "unal2020unreasonable"
    )
    assert citation_key(paper(authors="", arxiv_id="2111.15121")) == "arxiv2111.15121"
    assert citation_key(paper(authors="", arxiv_id="hep-th/9901001")) == "arxivhep-th-9901001"
    assert citation_key(paper(authors="", pk=42)) == "paper42"
    assert citation_key(paper(authors="{}\\%", pk=43)) == "paper43"


def test_year_comes_from_an_old_style_arxiv_id_too():
    assert "year = {1999}" in bibtex_entry(paper(arxiv_id="hep-th/9901001"))


def test_non_http_urls_are_left_out():
    entry = bibtex_entry(paper(url="javascript:alert(1)"))

    assert "url =" not in entry and "javascript" not in entry


def test_a_file_has_unique_keys():
    papers = [paper(pk=1, year=2021), paper(pk=2, year=2021), paper(pk=3, year=2021)]

    text = bibtex_file(papers, header="ML Safety Newsletter: papers\nhttps://example.org/papers/?tag=x")

    assert text.startswith("% ML Safety Newsletter: papers\n% https://example.org/papers/?tag=x\n\n@misc{")
    assert "{herrmann2021pyramid," in text
    assert "{herrmann2021pyramida," in text
    assert "{herrmann2021pyramidb," in text
    assert_balanced(text)


def test_the_header_cannot_start_an_entry():
    assert "@" not in bibtex_file([], header="a@b.org")
