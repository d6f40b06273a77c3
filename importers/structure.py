"""The structure of a research digest, recovered from one post's HTML.

A digest like the ML Safety Newsletter is written as: an intro; section headings (Robustness,
Monitoring, Alignment, Other News); under each, summary headings (a paper's title), each with a
figure and its caption, a few paragraphs and a "[Paper]" link; and "Other Recent ... News/Papers"
headings followed by a list, one line per paper. `recover` turns that into an intro, sections and
summaries (feature, brief or news), with the bodies converted to Markdown by markdownify.

Which headings are which is read from their levels: the top level used is the sections' (when
there are at least two levels, or when a top-level heading names a known section), the next one
the summaries'; deeper headings stay in the body. Nothing here touches the database, and the
platform's own chrome (subscribe buttons and the like) is removed by the adapter before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString
from markdownify import markdownify

from newsletter.models import SummaryKind
from newsletter.papers import InvalidPaperReference, parse_paper_link

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
HEADLINE_MAX = 300
# "Other Recent Robustness News", "Other Monitoring Papers", "Other News": a list of briefs.
OTHER_LIST = re.compile(r"^other\b.*\b(news|papers?|research)\s*:?$", re.IGNORECASE)
NEWS_SECTION = re.compile(r"\bnews\b", re.IGNORECASE)
# The text of a link that means "this is the paper": [Paper], Paper, [arXiv], [PDF], [Link].
PAPER_LINK_TEXT = re.compile(r"^\[?\s*(paper|pdf|arxiv|link|preprint)\s*\]?$", re.IGNORECASE)
# Venues whose links are papers even without an arXiv id or DOI in them.
PAPER_HOSTS = (
    "openreview.net",
    "aclanthology.org",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "proceedings.mlr.press",
    "ojs.aaai.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "link.springer.com",
    "semanticscholar.org",
)
_FIGURE_CLASSES = ("captioned-image-container", "image-container", "image2-inset")
_BLOCK_TAGS = {"p", "ul", "ol", "blockquote", "pre", "table", "figure", "hr", *HEADINGS}
_SPACE = re.compile(r"\s+")


@dataclass
class Figure:
    url: str
    alt: str = ""
    caption: str = ""


@dataclass
class RecoveredSummary:
    kind: str
    headline: str
    body: str = ""
    figure: Figure | None = None
    paper_link: str = ""
    paper_title: str = ""
    # Images in the body (beyond the figure), by URL: the importer stores them and rewrites the links.
    images: list[str] = field(default_factory=list)


@dataclass
class RecoveredSection:
    heading: str
    summaries: list[RecoveredSummary] = field(default_factory=list)


@dataclass
class RecoveredIssue:
    intro: str = ""
    intro_images: list[str] = field(default_factory=list)
    sections: list[RecoveredSection] = field(default_factory=list)
    # What the recovery could not place, in sentences for the report.
    notes: list[str] = field(default_factory=list)

    @property
    def summaries(self) -> Iterator[RecoveredSummary]:
        for section in self.sections:
            yield from section.summaries


def parse(html: str) -> Tag:
    """The post's HTML parsed into one wrapper element (Python's own parser: no C dependency)."""
    soup = BeautifulSoup(f"<div>{html}</div>", "html.parser")
    root = soup.div
    assert root is not None
    return root


def text_of(node: Tag | NavigableString) -> str:
    return _SPACE.sub(" ", node.get_text(" ") if isinstance(node, Tag) else str(node)).strip()


def recover(root: Tag, known_sections: Iterable[str] = (), default_section: str = "Papers") -> RecoveredIssue:
    """The intro, sections and summaries of the post under `root` (see the module docstring).
    `known_sections` are names already meaning a section here (the site's and the section map's);
    summaries found before any section heading go to `default_section`."""
    blocks = list(_blocks(root))
    known = {_key(name) for name in known_sections}
    section_level, summary_level = _levels(blocks, known)
    walker = _Walker(section_level, summary_level, default_section)
    for block in blocks:
        walker.take(block)
    return walker.finish()


# Reading the blocks ------------------------------------------------------------------------------


def _blocks(node: Tag) -> Iterator[Tag]:
    """The post's top-level blocks, descending into wrapper divs; loose text becomes a paragraph."""
    loose: list[NavigableString | Tag] = []
    for child in list(node.children):
        if isinstance(child, NavigableString):
            if child.strip() and not _is_comment(child):
                loose.append(child)
            continue
        if not isinstance(child, Tag):
            continue
        if child.name in _BLOCK_TAGS or _is_figure(child):
            yield from _paragraph(loose)
            loose = []
            yield child
        elif child.name == "div":
            yield from _paragraph(loose)
            loose = []
            yield from _blocks(child)
        else:
            loose.append(child)
    yield from _paragraph(loose)


def _paragraph(parts: list[NavigableString | Tag]) -> Iterator[Tag]:
    if not parts or not "".join(text_of(part) for part in parts).strip():
        return
    html = "".join(str(part) for part in parts)
    wrapped = BeautifulSoup(f"<p>{html}</p>", "html.parser").p
    if wrapped is not None:
        yield wrapped


def _is_comment(node: NavigableString) -> bool:
    return isinstance(node, Comment)


def _is_figure(node: Tag) -> bool:
    if node.name == "figure":
        return True
    classes: list[str] = list(node.get_attribute_list("class"))
    if any(name in classes for name in _FIGURE_CLASSES):
        return True
    return node.name in ("div", "a", "picture") and node.find("img") is not None and not text_of(node)


def _level(node: Tag) -> int:
    return int(node.name[1]) if node.name in HEADINGS else 0


def _key(name: str) -> str:
    return _SPACE.sub(" ", name).strip().casefold()


def _levels(blocks: list[Tag], known: set[str]) -> tuple[int | None, int | None]:
    """(section heading level, summary heading level); None where the post has none."""
    headings = [block for block in blocks if _level(block) and text_of(block)]
    levels = sorted({_level(block) for block in headings})
    if not levels:
        return None, None
    if len(levels) >= 2:
        return levels[0], levels[1]
    names = {_key(text_of(block)) for block in headings}
    if names & known:
        return levels[0], None
    return None, levels[0]


# Walking the blocks ------------------------------------------------------------------------------


class _Walker:
    def __init__(self, section_level: int | None, summary_level: int | None, default_section: str) -> None:
        self.section_level = section_level
        self.summary_level = summary_level
        self.default_section = default_section
        self.issue = RecoveredIssue()
        self.intro: list[str] = []
        self.section: RecoveredSection | None = None
        self.summary: RecoveredSummary | None = None
        self.body: list[str] = []
        self.in_list = False
        # The open summary is a news item begun by a bold lead-in: the next such paragraph begins
        # another one.
        self.lead_item = False

    # Where the walk is

    def _open_section(self, heading: str) -> RecoveredSection:
        self.section = RecoveredSection(heading=heading[:100])
        self.issue.sections.append(self.section)
        return self.section

    def _current_section(self) -> RecoveredSection:
        return self.section or self._open_section(self.default_section)

    def _close_summary(self) -> None:
        if self.summary is not None:
            self.summary.body = "\n\n".join(part for part in self.body if part.strip()).strip()
        self.summary, self.body = None, []

    def _start_summary(self, summary: RecoveredSummary, *, lead_item: bool = False) -> None:
        self._close_summary()
        self._current_section().summaries.append(summary)
        self.summary = summary
        self.lead_item = lead_item

    def _news_section(self) -> bool:
        return self.section is not None and bool(NEWS_SECTION.search(self.section.heading))

    # One block

    def take(self, block: Tag) -> None:
        level = _level(block)
        if level and text_of(block):
            self._heading(block, level)
        elif block.name == "hr":
            return
        elif self.in_list:
            self._list_block(block)
        elif self.summary is not None:
            self._summary_block(block)
        elif self.section is None:
            self._intro_block(block)
        else:
            self._loose_block(block)

    def _heading(self, block: Tag, level: int) -> None:
        text = text_of(block)
        if level == self.section_level:
            self._close_summary()
            self.in_list = False
            self._open_section(text)
        elif level == self.summary_level or (self.summary_level is None and self.section_level is None):
            self._close_summary()
            self.in_list = bool(OTHER_LIST.match(text))
            if self.in_list:
                self._current_section()
                return
            kind = SummaryKind.NEWS if self._news_section() else SummaryKind.FEATURE
            link = block.find("a", href=True)
            summary = RecoveredSummary(kind=kind, headline=text[:HEADLINE_MAX], paper_title=text)
            if isinstance(link, Tag) and kind == SummaryKind.FEATURE and _is_paper_url(str(link["href"])):
                summary.paper_link = str(link["href"])
            self._start_summary(summary)
        elif self.summary is not None:
            self._summary_block(block)  # a deeper heading inside a summary stays in its body
        elif self.section is None:
            self._intro_block(block)
        else:
            self._loose_block(block)

    def _intro_block(self, block: Tag) -> None:
        markdown, images = _markdown(block)
        self.intro.append(markdown)
        self.issue.intro_images.extend(images)

    def _summary_block(self, block: Tag) -> None:
        summary = self.summary
        assert summary is not None
        if self.lead_item and _bold_lead(block) is not None:
            self._loose_block(block)
            return
        if _is_figure(block) and summary.figure is None and summary.kind != SummaryKind.NEWS:
            summary.figure = _figure(block)
            if summary.figure is not None:
                return
        paper_link = _paper_marker_link(block)
        if paper_link is not None:
            if not summary.paper_link:
                summary.paper_link = paper_link
            return
        markdown, images = _markdown(block)
        self.body.append(markdown)
        summary.images.extend(images)

    def _list_block(self, block: Tag) -> None:
        section = self._current_section()
        items = block.find_all("li", recursive=False) if block.name in ("ul", "ol") else [block]
        for item in items:
            summary = _list_item(item, news=self._news_section())
            if summary is not None:
                section.summaries.append(summary)

    def _loose_block(self, block: Tag) -> None:
        """A block in a section but under no summary heading: "**Grants.** Open Philanthropy ..."
        paragraphs (news items), a list of items, or text that continues the previous item."""
        section = self._current_section()
        if block.name in ("ul", "ol") and self._news_section():
            self._list_block(block)
            return
        lead = _bold_lead(block)
        if lead is not None:
            headline, rest = lead
            summary = RecoveredSummary(kind=SummaryKind.NEWS, headline=headline[:HEADLINE_MAX])
            self._start_summary(summary, lead_item=True)
            markdown, images = _markdown(rest)
            self.body.append(markdown)
            summary.images.extend(images)
            return
        previous = section.summaries[-1] if section.summaries else None
        markdown, images = _markdown(block)
        if not markdown.strip():
            return
        if previous is not None:
            previous.body = f"{previous.body}\n\n{markdown}".strip()
            previous.images.extend(images)
            return
        headline = _first_words(text_of(block))
        self.issue.notes.append(
            f"Text under “{section.heading}” before its first summary became a news item “{headline}”."
        )
        section.summaries.append(
            RecoveredSummary(kind=SummaryKind.NEWS, headline=headline, body=markdown, images=images)
        )

    def finish(self) -> RecoveredIssue:
        self._close_summary()
        self.issue.intro = "\n\n".join(part for part in self.intro if part.strip()).strip()
        self.issue.sections = [section for section in self.issue.sections if section.summaries]
        return self.issue


# Pieces ------------------------------------------------------------------------------------------


def _figure(block: Tag) -> Figure | None:
    image = block if block.name == "img" else block.find("img")
    if not isinstance(image, Tag) or not image.get("src"):
        return None
    caption = block.find("figcaption")
    return Figure(
        url=str(image["src"]),
        alt=_SPACE.sub(" ", str(image.get("alt") or "")).strip()[:500],
        caption=text_of(caption)[:500] if isinstance(caption, Tag) else "",
    )


def _is_paper_url(url: str) -> bool:
    try:
        reference = parse_paper_link(url)
    except InvalidPaperReference:
        return False
    if reference.arxiv_id or reference.doi:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return any(host == name or host.endswith("." + name) for name in PAPER_HOSTS)


def _paper_marker_link(block: Tag) -> str | None:
    """The link of a block that is only a "[Paper]"-like link (or several, the first a paper)."""
    if block.name != "p":
        return None
    links = block.find_all("a", href=True)
    if not links:
        return None
    if not all(PAPER_LINK_TEXT.match(text_of(link)) for link in links):
        return None
    remaining = text_of(block)
    for link in links:
        remaining = remaining.replace(text_of(link), "")
    if remaining.strip(" |·,-–—[]()"):
        return None
    return str(links[0]["href"])


def _list_item(item: Tag, *, news: bool) -> RecoveredSummary | None:
    """One line of an "Other ... Papers" list: its text the headline, its paper the link."""
    links = [link for link in item.find_all("a", href=True) if isinstance(link, Tag)]
    markers = [link for link in links if PAPER_LINK_TEXT.match(text_of(link))]
    papers = [str(link["href"]) for link in links if _is_paper_url(str(link["href"]))]
    paper_link = str(markers[0]["href"]) if markers else (papers[0] if len(set(papers)) == 1 else "")
    for marker in markers:
        marker.decompose()
    text = text_of(item).strip(" |·,-–—[]()")
    if not text:
        return None
    kind = SummaryKind.BRIEF if paper_link and not news else SummaryKind.NEWS
    headline = text if len(text) <= HEADLINE_MAX else _first_sentence(text)
    markdown, images = _markdown(item)
    # The body is worth keeping when it says more than the headline (other links, a longer text).
    body = markdown if (len(links) > len(markers) or headline != text) else ""
    return RecoveredSummary(
        kind=kind, headline=headline, body=body, paper_link=paper_link, paper_title=headline, images=images
    )


def _bold_lead(block: Tag) -> tuple[str, Tag] | None:
    """("Grants", the rest) for a paragraph that starts with a bold phrase: "**Grants.** Open ..."."""
    if block.name != "p":
        return None
    first = next(
        (child for child in block.children if not (isinstance(child, str) and not child.strip())), None
    )
    if not isinstance(first, Tag) or first.name not in ("strong", "b"):
        return None
    headline = text_of(first).rstrip(" .:—–-")
    if not headline or len(headline) > HEADLINE_MAX:
        return None
    rest = BeautifulSoup(str(block), "html.parser").p
    assert rest is not None
    lead = rest.find(first.name)
    if isinstance(lead, Tag):
        lead.decompose()
    return headline, rest


def _first_sentence(text: str) -> str:
    match = re.match(r"(.{20,}?[.!?])\s", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= HEADLINE_MAX else sentence[: HEADLINE_MAX - 1].rstrip() + "…"


def _first_words(text: str, count: int = 10) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def _markdown(block: Tag) -> tuple[str, list[str]]:
    """`block` as Markdown, figures as `![alt](url)` with the caption below; and the image URLs."""
    copy = BeautifulSoup(str(block), "html.parser")  # the figures are replaced in a copy
    images: list[str] = []
    replacements: dict[str, str] = {}

    def placeholder(figure: Figure) -> str:
        images.append(figure.url)
        key = f"IMPORTERFIGURE{len(replacements)}X"
        markdown = f"![{_escape_alt(figure.alt)}]({figure.url})"
        replacements[key] = f"{markdown}\n\n*{figure.caption}*" if figure.caption else markdown
        return key

    for node in list(copy.find_all(True)):
        if not isinstance(node, Tag) or not any(parent is copy for parent in node.parents):
            continue  # inside a figure already replaced
        if node.name == "img" or _is_figure(node):
            figure = _figure(node)
            if figure is None:
                node.decompose()
            elif node.name == "img":
                node.replace_with(placeholder(figure))
            else:
                paragraph = copy.new_tag("p")
                paragraph.string = placeholder(figure)
                node.replace_with(paragraph)
    markdown = markdownify(
        str(copy), heading_style="ATX", bullets="-", strip=["span", "picture", "source", "svg", "button"]
    ).strip()
    for key, figure_markdown in replacements.items():
        markdown = markdown.replace(key, figure_markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown), images


def _escape_alt(alt: str) -> str:
    return alt.replace("[", "(").replace("]", ")")
