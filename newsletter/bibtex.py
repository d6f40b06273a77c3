"""BibTeX for the papers the newsletter covered: one entry per paper, or a whole .bib file.

Values are written inside braces, so the one thing that must never leak through is an unbalanced
brace: BibTeX counts braces without regard to backslashes, so `\\{` is no escape at all. Literal
braces and backslashes become `\\textbraceleft{}`, `\\textbraceright{}` and `\\textbackslash{}`,
and LaTeX's other special characters are escaped. Words with capitals after their first letter
(ViT, GPT-3, ImageNet) are wrapped in braces so bibliography styles keep their case.

Citation keys (`citation_key`) are one per paper and the same wherever the paper's BibTeX
appears: its page, its own export, every combined file whatever its filters. A key is
`<first author's surname><year><first title word>`; papers of the archive that share that much
are told apart by a letter in the order an issue first covered them (hendrycks2021pyramid,
hendrycks2021pyramida, ...), so a paper covered later never renames one that readers may
already cite. Without an author the key is the arXiv id or the paper's id, unique already.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Issue, Paper, PaperSummary

# Applied one character at a time, so the replacements are never escaped twice.
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "toward", "towards", "is"}
# arXiv ids that encode their year: 2111.15121 (new style) and hep-th/9901001 (old style). Plain
# regexes that Python, SQLite (through Django's REGEXP) and PostgreSQL read alike: archive.py
# applies them in SQL so that the year filter agrees with paper_year.
NEW_STYLE_ARXIV = r"^[0-9]{4}\.[0-9]{4,5}$"
OLD_STYLE_ARXIV = r"^[A-Za-z-]+(\.[A-Za-z]{2})?/[0-9]{7}$"
_ET_AL = re.compile(r",?\s*\bet\.?\s+al\.?\s*$", re.IGNORECASE)
_ARXIV_VENUES = {"arxiv", "arxiv preprint", "corr"}
# Venues cited as @inproceedings{booktitle}: the words proceedings use, and the big ML conferences.
_PROCEEDINGS = re.compile(
    r"conference|workshop|proceedings|symposium|\b(neurips|nips|icml|iclr|cvpr|iccv|eccv|acl|emnlp|naacl"
    r"|eacl|coling|aaai|ijcai|colt|uai|aistats|kdd|corl|facct|satml|icra|iros|www|sigir)\b",
    re.IGNORECASE,
)


def escape_latex(value: str) -> str:
    """`value` as literal text inside a braced BibTeX field: specials escaped, whitespace folded."""
    value = _CONTROL_CHARS.sub(" ", value)
    value = " ".join(value.split())
    return "".join(_LATEX_SPECIALS.get(char, char) for char in value)


def _protect_case(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    return len(letters) > 1 and any(char.isupper() for char in letters[1:])


def escape_title(title: str) -> str:
    """Escape a title and brace the words whose capitals must survive a lowercasing style."""
    words = _CONTROL_CHARS.sub(" ", title).split()
    return " ".join("{" + escape_latex(w) + "}" if _protect_case(w) else escape_latex(w) for w in words)


def split_authors(authors: str) -> list[str]:
    """The names in a paper's author line, in order; "et al." becomes BibTeX's "others".

    Accepts "A. One, B. Two and C. Three", "One, A.; Two, B." and "A. One and B. Two".
    """
    authors = " ".join(_CONTROL_CHARS.sub(" ", authors).split())
    if not authors:
        return []
    et_al = bool(_ET_AL.search(authors))
    authors = _ET_AL.sub("", authors)
    names = authors.split(";") if ";" in authors else re.split(r",|\band\b|&", authors)
    result = [name.strip() for name in names if name.strip()]
    if et_al:
        result.append("others")
    return result


def _ascii_word(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _surname(name: str) -> str:
    name = name.strip()
    if "," in name:  # "Hendrycks, Dan"
        return name.split(",", 1)[0]
    parts = name.split()
    return parts[-1] if parts else ""


def arxiv_year(arxiv_id: str) -> int | None:
    """The year an arXiv id encodes: 2111.15121 and hep-th/9901001 were submitted in 2021 and 1999."""
    arxiv_id = arxiv_id or ""
    if re.match(NEW_STYLE_ARXIV, arxiv_id):
        two_digits = int(arxiv_id[:2])
    elif re.match(OLD_STYLE_ARXIV, arxiv_id):
        two_digits = int(arxiv_id.split("/", 1)[1][:2])
    else:
        return None
    return (1900 if two_digits >= 91 else 2000) + two_digits


def paper_year(paper: Paper) -> int | None:
    """The year the archive lists, filters, shows and cites a paper under.

    Its own year; else the year its arXiv id encodes; else the year an issue first covered it
    (`first_covered_year`, annotated by archive.archive_papers(), whose `listed_year` is this
    same rule in SQL). None when none is known.
    """
    return paper.year or arxiv_year(paper.arxiv_id) or getattr(paper, "first_covered_year", None)


def _author_key(paper: Paper) -> str:
    """`hendrycks2021pyramid`, or "" when the paper has no author to name it by."""
    authors = split_authors(paper.authors)
    surname = _ascii_word(_surname(authors[0])) if authors and authors[0] != "others" else ""
    if not surname:
        return ""
    year = paper_year(paper)
    words = [_ascii_word(word) for word in paper.title.split()]
    word = next((w for w in words if w and w not in _KEY_STOPWORDS), "")
    return f"{surname}{year or ''}{word}"


def base_key(paper: Paper) -> str:
    """A key like `hendrycks2021pyramid`; `arxiv2111.15121` or `paper12` when there is no author.
    Two papers may share it; `citation_key` tells them apart."""
    if key := _author_key(paper):
        return key
    if paper.arxiv_id and re.fullmatch(r"[A-Za-z0-9.\-/]+", paper.arxiv_id):
        return "arxiv" + paper.arxiv_id.replace("/", "-")
    return f"paper{paper.pk}"


def citation_key(paper: Paper) -> str:
    """The paper's key: its base key, plus a letter when papers of the archive covered before it
    share that base key (see the module docstring). An unsaved paper has no rivals."""
    key = _author_key(paper)
    if not key or paper._state.adding or paper.pk is None:
        return base_key(paper)
    year = paper_year(paper)
    rivals = _archive_papers().filter(**({"listed_year": year} if year else {"listed_year__isnull": True}))
    return _disambiguated([*rivals, paper]).get(paper.pk, key)


def citation_keys(papers: Iterable[Paper]) -> dict[int, str]:
    """`citation_key` of each saved paper, by pk, in one query whatever their number."""
    papers = list(papers)
    if not any(_author_key(p) and not p._state.adding for p in papers):
        return {p.pk: base_key(p) for p in papers}
    return _disambiguated([*_archive_papers(), *papers])


def _archive_papers() -> QuerySet[Paper]:
    """The archive's papers with what their keys need, and when an issue first covered each."""
    from .archive import archive_papers  # archive.py imports this module

    covering = PaperSummary.objects.filter(issue__in=Issue.objects.published(), paper=OuterRef("pk"))
    first = covering.order_by("issue__published_at", "issue__number").values("issue__published_at")[:1]
    return (
        archive_papers()
        .only("pk", "title", "authors", "year", "arxiv_id")
        .annotate(first_covered=Subquery(first))
        .order_by()
    )


def _disambiguated(papers: list[Paper]) -> dict[int, str]:
    """Keys for `papers` (the archive first, then any others), lettered per shared base key in the
    order an issue first covered them; a paper outside the archive comes after those in it."""
    groups: dict[str, dict[int, Paper]] = defaultdict(dict)
    for paper in papers:
        if paper.pk is not None and paper.pk not in groups[base_key(paper)]:
            groups[base_key(paper)][paper.pk] = paper
    keys = {}
    for base, group in groups.items():
        for index, paper in enumerate(sorted(group.values(), key=_coverage_order)):
            keys[paper.pk] = f"{base}{_letters(index)}"
    return keys


def _coverage_order(paper: Paper) -> tuple[bool, str, int]:
    covered = getattr(paper, "first_covered", None)
    return (covered is None, covered.isoformat() if covered else "", paper.pk)


def entry_type(paper: Paper) -> str:
    """@inproceedings for a conference or workshop, @article for a journal, @misc for a preprint."""
    venue = paper.venue.strip()
    if not venue or venue.lower() in _ARXIV_VENUES:
        return "misc"
    return "inproceedings" if _PROCEEDINGS.search(venue) else "article"


def _fields(paper: Paper) -> list[tuple[str, str]]:
    fields = [("title", escape_title(paper.title))]
    authors = split_authors(paper.authors)
    if authors:
        fields.append(("author", " and ".join(escape_latex(name) for name in authors)))
    kind = entry_type(paper)
    if kind != "misc":
        fields.append(
            ("booktitle" if kind == "inproceedings" else "journal", escape_latex(paper.venue.strip()))
        )
    year = paper_year(paper)
    if year:
        fields.append(("year", str(year)))
    if paper.arxiv_id:
        fields += [("eprint", escape_latex(paper.arxiv_id)), ("archivePrefix", "arXiv")]
    if paper.doi:
        fields.append(("doi", escape_latex(paper.doi)))
    url = paper.link
    if url.lower().startswith(("https://", "http://")):
        # URLs are read verbatim by the url package, but a brace would still unbalance the entry.
        fields.append(("url", url.replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")))
    return fields


def bibtex_entry(paper: Paper, key: str | None = None) -> str:
    """One entry, its type from `entry_type`; arXiv papers carry eprint and archivePrefix."""
    lines = [f"@{entry_type(paper)}{{{key or citation_key(paper)},"]
    lines += [f"  {name} = {{{value}}}," for name, value in _fields(paper)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def bibtex_file(papers: Iterable[Paper], header: str = "") -> str:
    """Entries for `papers`, each under its `citation_key`; keys that would still repeat in the file
    (unsaved papers) get a letter (hendrycks2021pyramid, hendrycks2021pyramida, ...)."""
    papers = list(papers)
    stable = citation_keys(papers)
    seen: set[str] = set()
    entries = []
    for paper in papers:
        base = key = stable.get(paper.pk) or base_key(paper)
        suffix = 0
        while key in seen:
            suffix += 1
            key = f"{base}{_letters(suffix)}"
        seen.add(key)
        entries.append(bibtex_entry(paper, key))
    preamble = "".join(f"% {line}\n" for line in header.replace("@", "(at)").splitlines())
    return preamble + ("\n" if preamble and entries else "") + "\n".join(entries)


def _letters(number: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa: suffixes for otherwise identical keys."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters
