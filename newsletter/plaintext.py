"""HTML to plain text for the text part of emails: wrapped paragraphs, Markdown-ish lists, quotes
and headings, and links as numbered references ("recent papers [4]") listed under "Links:".

It reads the small tag set that `rendering.sanitize_html` lets through; the HTML parser decodes
entities, so no tag or `&amp;` reaches the text. Math shows its TeX source between dollars, read
from the annotation `newsletter/math.py` stores beside the MathML.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

from .math import TEX_ENCODING

TEXT_WIDTH = 72
_WHITESPACE = re.compile(r"\s+")


class LinkReferences:
    """Numbers the links of one plain-text email; a URL keeps its number wherever it recurs."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._numbers: dict[str, int] = {}

    def number(self, url: str) -> int:
        if url not in self._numbers:
            self.urls.append(url)
            self._numbers[url] = len(self.urls)
        return self._numbers[url]

    def listing(self, numbers: Iterable[int], heading: str = "Links:") -> str:
        lines = [f"[{number}] {self.urls[number - 1]}" for number in numbers]
        return "\n".join([heading, *lines]) if lines else ""


def wrap(text: str, width: int = TEXT_WIDTH, initial: str = "", subsequent: str = "") -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=initial,
        subsequent_indent=subsequent,
        break_long_words=False,  # URLs and placeholders stay whole
        break_on_hyphens=False,
    )


def html_to_plain_text(html: str, refs: LinkReferences, width: int = TEXT_WIDTH) -> tuple[str, list[int]]:
    """Wrapped plain text of sanitised HTML, and the link numbers it used, in order."""
    if not html:
        return "", []
    writer = _TextWriter(refs, width)
    writer.feed(html)
    writer.close()
    return writer.result(), writer.used


_BLOCK_TAGS = {"p", "div", "figure", "figcaption", "table", "thead", "tbody"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _TextWriter(HTMLParser):
    """Turns the small tag set that `sanitize_html` allows into readable, wrapped plain text."""

    def __init__(self, refs: LinkReferences, width: int) -> None:
        super().__init__(convert_charrefs=True)
        self.refs = refs
        self.width = width
        self.used: list[int] = []
        self.blocks: list[tuple[str, str]] = []  # (separator before it, text)
        self.inline: list[str] = []
        self.lists: list[list[Any]] = []  # [tag, items so far], innermost last
        self.bullet = ""  # the marker the current list item's first line still has to carry
        self.quote_depth = 0
        self.pre: list[str] | None = None
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in self.inline)
        self.row_cells = 0
        self.table_rows = 0
        self.math: _MathText | None = None

    # Parsing

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.pre is not None:
            return
        if self.math is not None:
            self.math.in_tex = tag == "annotation" and attributes.get("encoding") == TEX_ENCODING
            return
        if tag == "math":
            self.math = _MathText(display=attributes.get("display") == "block")
            return
        if tag in _BLOCK_TAGS or tag in _HEADING_TAGS:
            self.flush()
            if tag == "table":
                self.table_rows = 0
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.append([tag, 0])
        elif tag == "li":
            self.flush()
            if self.lists:
                self.lists[-1][1] += 1
                kind, count = self.lists[-1]
                self.bullet = f"{count}. " if kind == "ol" else "- "
        elif tag == "blockquote":
            self.flush()
            self.quote_depth += 1
        elif tag == "pre":
            self.flush()
            self.pre = []
        elif tag == "br":
            self.inline.append("\n")
        elif tag == "hr":
            self.flush()
            self.add_block("* * *")
        elif tag == "tr":
            self.flush()
            self.row_cells = 0
        elif tag in ("td", "th"):
            if self.row_cells:
                while self.inline and not self.inline[-1].strip():
                    self.inline.pop()
                self.inline.append(" | ")
            self.row_cells += 1
        elif tag == "a":
            self.links.append((attributes.get("href") or "", len(self.inline)))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            self.inline.append(f"[Image: {alt}]" if alt else "[Image]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.pre is not None:
            code = "".join(self.pre).strip("\n")
            self.pre = None
            self.add_block(textwrap.indent(code, "    ", lambda line: True))
            return
        if self.pre is not None:
            return
        if self.math is not None:
            if tag == "math":
                self.end_math(self.math)
            else:
                self.math.in_tex = False
            return
        if tag in _HEADING_TAGS:
            self.flush(prefix="#### ")
        elif tag in _BLOCK_TAGS or tag == "li":
            self.flush()
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self.flush()
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "tr":
            # A table's rows follow each other line by line, unwrapped.
            self.flush(rewrap=False, tight=self.table_rows > 0)
            self.table_rows += 1
        elif tag == "a" and self.links:
            self.end_link(*self.links.pop())

    def handle_data(self, data: str) -> None:
        if self.pre is not None:
            self.pre.append(data)
        elif self.math is not None:
            self.math.add(data)
        else:
            self.inline.append(_WHITESPACE.sub(" ", data))

    def end_link(self, href: str, start: int) -> None:
        label = "".join(self.inline[start:]).strip()
        if not href or href.removeprefix("mailto:") in (label, label.removeprefix("mailto:")):
            return  # a bare URL or address already shows where it goes
        number = self.refs.number(href)
        if number not in self.used:
            self.used.append(number)
        self.inline.append(f" [{number}]")

    def end_math(self, math: _MathText) -> None:
        self.math = None
        text = math.text()
        # Display math stands on lines of its own, as its TeX lines were written.
        self.inline.append(f"\n{text}\n" if math.display else text)

    # Output

    def flush(self, prefix: str = "", rewrap: bool = True, tight: bool = False) -> None:
        text = "".join(self.inline)
        self.inline = []
        lines = [line.strip() for line in text.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return
        # Nested lists indent by the markers of the lists around them.
        indent = "".join(" " * _marker_width(kind) for kind, _ in self.lists[:-1])
        marker = " " * _marker_width(self.lists[-1][0]) if self.lists else ""
        first = indent + (self.bullet or marker)
        rest = indent + marker
        quote = "> " * self.quote_depth
        width = self.width - len(quote)
        wrapped = []
        for index, line in enumerate(lines):
            lead = first if index == 0 else rest
            line = prefix + line if index == 0 else line
            wrapped.append(wrap(line, width, lead, rest) if rewrap else lead + line)
        block = "\n".join(wrapped)
        if quote:
            block = textwrap.indent(block, quote, lambda line: True)
        # A list's items follow each other line by line; the rest are paragraphs.
        tight = tight or bool(self.bullet and (self.lists[-1][1] > 1 or len(self.lists) > 1))
        separator = "\n" if tight else "\n\n"
        self.bullet = ""
        self.add_block(block, separator)

    def add_block(self, block: str, separator: str = "\n\n") -> None:
        self.blocks.append((separator, block))

    def result(self) -> str:
        self.flush()
        if not self.blocks:
            return ""
        out = [self.blocks[0][1]]
        for separator, block in self.blocks[1:]:
            out += [separator, block]
        return "".join(out).strip("\n")


class _MathText:
    """One <math> being read: its TeX annotation, or its text if it has none (typed by hand)."""

    def __init__(self, display: bool) -> None:
        self.display = display
        self.in_tex = False
        self.tex: list[str] = []
        self.shown: list[str] = []

    def add(self, data: str) -> None:
        (self.tex if self.in_tex else self.shown).append(data)

    def text(self) -> str:
        tex = "".join(self.tex).strip()
        if not tex:
            return _WHITESPACE.sub(" ", "".join(self.shown)).strip()
        if self.display:
            return f"$${tex}$$"
        return f"${_WHITESPACE.sub(' ', tex)}$"


def _marker_width(list_tag: str) -> int:
    return 3 if list_tag == "ol" else 2


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    text = _TRAILING_SPACE.sub("", text)
    text = text.replace("\n--\n", "\n-- \n")  # the signature separator keeps its space
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"
