"""TeX math in Markdown: `$...$` inline and `$$...$$` display, rendered on the server as MathML.

`MathExtension` is the Python-Markdown extension `rendering.markdown_to_html` uses. It finds the
math, converts it with latex2mathml and stores the result, so pages show MathML with no script.
Each expression becomes

    <math display="inline|block"><semantics><mrow>...</mrow>
      <annotation encoding="application/x-tex">the TeX source</annotation></semantics></math>

The annotation (which browsers do not show) keeps the source in the stored HTML, so the plain
text of an email, search and descriptions (`math_to_tex`) and the email fallback
(`email_fallback`) are made from the stored HTML, as everything else there is.

Finding math (Pandoc's rule, so prices stay prices): an opening `$` has a non-space character
right after it, a closing `$` a non-space character right before it and no digit right after it;
"$5 and $10" is text. `$$...$$` is display math, in a paragraph or as a block of its own (which
may span lines). `\\$` is a literal dollar. Code spans and code blocks keep their dollars: the
code patterns run before the math pattern, and code blocks are never searched.

Invalid TeX (what latex2mathml refuses, unbalanced braces, an unknown command, a missing
argument, a macro definition, more than MAX_TEX_LENGTH characters) is shown as its source in a
`<code class="math-error">` and recorded on the extension's `problems`, which the pre-publish
checks report (editorial/checks.py).

Email: most mail clients (Gmail, Outlook) show no MathML, so `email_fallback` replaces every
<math> of a rendered email: an expression made only of letters, numbers, operators, sub- and
superscripts, simple fractions, roots and accents becomes HTML text with Unicode symbols and
<sub>/<sup> (`$\\|x\\|_2 \\leq \\epsilon$` reads ‖x‖₂ ≤ ϵ); anything else (matrices, cases, roots
with an index, ...) shows its TeX source in a code span. See docs/math.md.
"""

from __future__ import annotations

import html as html_module
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from latex2mathml.converter import convert_to_element
from markdown import Extension, Markdown
from markdown.blockparser import BlockParser
from markdown.blockprocessors import BlockProcessor
from markdown.inlinepatterns import InlineProcessor

TEX_ENCODING = "application/x-tex"
# Longer or deeper expressions are refused: latex2mathml and the readers of the stored MathML
# (the email fallback) are recursive, and the result is stored on every save.
MAX_TEX_LENGTH = 2000
MAX_DEPTH = 64  # levels of MathML elements; real formulas stay far below

# Exactly the elements and attributes latex2mathml emits, plus <semantics> and <annotation> for
# the source. Left out on purpose: `href` (\href, a link that skips the link checks), `style` and
# `class` (\style, \class: author CSS), and latex2mathml's non-MathML `border-color`.
MATHML_ATTRIBUTES: dict[str, set[str]] = {
    "math": {"display"},
    "annotation": {"encoding"},
    "semantics": set(),
    "menclose": {"notation"},
    "mfrac": {"linethickness"},
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mo": {
        "accent",
        "fence",
        "form",
        "lspace",
        "mathvariant",
        "maxsize",
        "minsize",
        "movablelimits",
        "rspace",
        "separator",
        "stretchy",
    },
    "mover": {"accent"},
    "mpadded": {"depth", "height", "lspace", "mathbackground", "voffset", "width"},
    "mphantom": set(),
    "mroot": set(),
    "mrow": {"movablelimits"},
    "mspace": {"depth", "height", "linebreak", "mathbackground", "width"},
    "msqrt": set(),
    "mstyle": {"displaystyle", "mathcolor", "mathsize", "scriptlevel"},
    "msub": set(),
    "msubsup": set(),
    "msup": set(),
    "mtable": {"columnlines", "columnspacing", "displaystyle", "rowlines", "rowspacing"},
    "mtd": {"columnalign"},
    "mtext": {"mathvariant"},
    "mtr": set(),
    "munder": set(),
    "munderover": set(),
}
MATHML_TAGS = set(MATHML_ATTRIBUTES)

# How many children an element needs; latex2mathml emits fewer when an argument is missing.
_ARITY = {"mfrac": 2, "mroot": 2, "msub": 2, "msup": 2, "mover": 2, "munder": 2}
_ARITY |= {"msubsup": 3, "munderover": 3}
_UNKNOWN_COMMAND = re.compile(r"^\\[A-Za-z]+")
_MACRO_DEFINITION = re.compile(r"\\(newcommand|renewcommand|def|let|gdef|edef)(?![A-Za-z])")
_REASONS = {
    "DoubleSubscriptsError": "a double subscript (write x_{a_b} or {x_a}_b)",
    "DoubleSuperscriptsError": "a double superscript (write x^{a^b} or {x^a}^b)",
    "ExtraLeftOrMissingRightError": r"a \left without its \right",
    "MissingSuperScriptOrSubscriptError": "a ^ or _ with nothing after it",
    "MissingEndError": r"a \begin without its \end",
    "NoAvailableTokensError": r"it ends too early (a missing argument, closing brace, \right or \end?)",
    "NumeratorNotFoundError": "a fraction without its numerator",
    "DenominatorNotFoundError": "a fraction without its denominator",
}


class InvalidTex(ValueError):
    """TeX that cannot be shown as math; the message says why, for an editor."""


@dataclass(frozen=True)
class MathProblem:
    tex: str
    reason: str

    def __str__(self) -> str:
        tex = self.tex if len(self.tex) <= 80 else self.tex[:79] + "…"
        return f"“{tex}”: {self.reason}."


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """The MathML of `tex` with its source as an annotation; raises InvalidTex."""
    tex = tex.strip()
    if not tex:
        raise InvalidTex("it is empty")
    if len(tex) > MAX_TEX_LENGTH:
        raise InvalidTex(f"it has {len(tex)} characters; at most {MAX_TEX_LENGTH} are rendered")
    if match := _MACRO_DEFINITION.search(tex):
        raise InvalidTex(f"macro definitions (\\{match.group(1)}) are not supported")
    if not _braces_balance(tex):
        raise InvalidTex("its braces { } do not balance")
    try:
        math = convert_to_element(tex, display="block" if display else "inline")
    except RecursionError as exc:
        raise InvalidTex("it is nested too deeply") from exc
    except Exception as exc:  # latex2mathml reports bad input with bare exceptions of its own
        raise InvalidTex(_REASONS.get(type(exc).__name__, "latex2mathml cannot read it")) from exc
    if _depth(math) > MAX_DEPTH:
        raise InvalidTex(f"it is nested more than {MAX_DEPTH} levels deep")
    row = "".join(_serialize(child) for child in math)
    annotation = f'<annotation encoding="{TEX_ENCODING}">{html_module.escape(tex, quote=False)}</annotation>'
    mode = "block" if display else "inline"
    return f'<math display="{mode}"><semantics>{row}{annotation}</semantics></math>'


def _braces_balance(tex: str) -> bool:
    depth = 0
    for match in re.finditer(r"\\.|[{}]", tex, re.DOTALL):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _depth(root: etree.Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:  # not recursive: the tree may be deeper than Python's stack
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in element]
    return deepest


def _serialize(element: etree.Element) -> str:
    """HTML for latex2mathml's element tree, checked and limited to MATHML_ATTRIBUTES.

    latex2mathml's own serialisation leaves `<` and `&` of \\text{} unescaped and writes symbols
    as character references in the text, so the text is decoded here and escaped once.
    """
    tag = element.tag
    if tag not in MATHML_ATTRIBUTES:
        raise InvalidTex(f"latex2mathml made an element this site does not allow (<{tag}>)")
    children = list(element)
    if tag in _ARITY and len(children) != _ARITY[tag]:
        raise InvalidTex("a command is missing an argument (\\frac{a}{b}, x^{2}, \\sqrt[n]{x} take them all)")
    text = html_module.unescape(element.text or "")
    if unknown := _UNKNOWN_COMMAND.match(text):
        raise InvalidTex(f"{unknown.group()} is not a command latex2mathml knows")
    allowed = MATHML_ATTRIBUTES[tag]
    attributes = "".join(
        f' {name}="{html_module.escape(str(value))}"'
        for name, value in element.attrib.items()
        if name in allowed
    )
    inner = html_module.escape(text, quote=False) + "".join(_serialize(child) for child in children)
    tail = html_module.escape(html_module.unescape(element.tail or ""), quote=False)
    return f"<{tag}{attributes}>{inner}</{tag}>{tail}"


def math_html(tex: str, display: bool) -> tuple[str, MathProblem | None]:
    """The MathML of `tex`, or, when it is invalid, its escaped source and the problem."""
    try:
        return tex_to_mathml(tex, display=display), None
    except InvalidTex as exc:
        delimiter = "$$" if display else "$"
        source = html_module.escape(f"{delimiter}{tex}{delimiter}", quote=False)
        return f'<code class="math-error">{source}</code>', MathProblem(tex.strip(), str(exc))


# Markdown --------------------------------------------------------------------------------------

# The content of math: escaped characters, or anything but a dollar, a backslash or the markers
# Python-Markdown puts where it has stashed a code span (so math never spans one).
_CONTENT = r"(?:\\[\s\S]|[^\\$\x02\x03])"
_INLINE_MATH = (
    r"(?<![\\$])(?:"
    rf"\$\$(?P<display>{_CONTENT}+?)\$\$"
    rf"|\$(?![\s$])(?P<inline>{_CONTENT}+?)(?<!\s)\$(?!\d)"
    r")"
)
_DISPLAY_BLOCK = re.compile(rf"^ {{0,3}}\$\$(?P<tex>{_CONTENT}+?)\$\$[ \t]*$")
# Above the escape pattern (180), so TeX backslashes reach latex2mathml as written; below the
# code-span pattern (190), so `$x$` in backticks stays code.
_INLINE_PRIORITY = 185
# After indented code (80), before headings, rules and lists, which could take a line of TeX.
_BLOCK_PRIORITY = 75


class _InlineMath(InlineProcessor):
    def __init__(self, md: Markdown, extension: MathExtension) -> None:
        super().__init__(_INLINE_MATH, md)
        self.extension = extension

    # The stubs type InlineProcessor.handleMatch as Pattern's one-argument method.
    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:  # type: ignore[override]
        display = m.group("display") is not None
        tex = m.group("display") if display else m.group("inline")
        return self.extension.stash(self.md, tex, display), m.start(0), m.end(0)


class _DisplayMathBlock(BlockProcessor):
    """A block that is one `$$...$$`, lines and all, before any other block rule reads its lines."""

    def __init__(self, parser: BlockParser, extension: MathExtension) -> None:
        super().__init__(parser)
        self.extension = extension

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(_DISPLAY_BLOCK.match(block))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        match = _DISPLAY_BLOCK.match(blocks.pop(0))
        assert match is not None  # test() matched this block
        paragraph = etree.SubElement(parent, "p")
        paragraph.text = self.extension.stash(self.parser.md, match.group("tex"), display=True)


class MathExtension(Extension):
    """Renders `$...$` and `$$...$$` as MathML; invalid TeX lands in `problems`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems: list[MathProblem] = []

    def extendMarkdown(self, md: Markdown) -> None:
        md.ESCAPED_CHARS = [*md.ESCAPED_CHARS, "$"]
        # Python-Markdown counts <math> as a block, and would take a paragraph that is only
        # `$x$` out of its <p>: math sits in paragraphs like text.
        md.block_level_elements = [tag for tag in md.block_level_elements if tag != "math"]
        md.inlinePatterns.register(_InlineMath(md, self), "math", _INLINE_PRIORITY)
        md.parser.blockprocessors.register(_DisplayMathBlock(md.parser, self), "math_block", _BLOCK_PRIORITY)

    def stash(self, md: Markdown, tex: str, display: bool) -> str:
        html, problem = math_html(tex, display)
        if problem is not None:
            self.problems.append(problem)
        return md.htmlStash.store(html)


# Reading the stored HTML -----------------------------------------------------------------------

# Sanitised HTML (html5ever's serialisation) has no "</math>" but the end tag: text is escaped.
_MATH_ELEMENT = re.compile(r"<math\b[^>]*>.*?</math>", re.DOTALL | re.IGNORECASE)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def elements(self) -> list[_Node]:
        return [child for child in self.children if isinstance(child, _Node)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse_math(fragment: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(fragment)
    builder.close()
    elements = builder.root.elements()
    return elements[0] if elements else _Node("math", {})


@dataclass(frozen=True)
class _Math:
    display: bool
    tex: str  # "" for MathML typed by hand without an annotation
    presentation: _Node


def _read_math(fragment: str) -> _Math:
    math = _parse_math(fragment)
    presentation = _Node("mrow", {}, list(math.children))
    tex = ""
    for child in math.elements():
        if child.tag == "semantics":
            parts = child.elements()
            presentation = parts[0] if parts else _Node("mrow", {})
            for part in parts[1:]:
                if part.tag == "annotation" and part.attrs.get("encoding") == TEX_ENCODING:
                    tex = part.text().strip()
    return _Math(math.attrs.get("display") == "block", tex, presentation)


def math_to_tex(html: str) -> str:
    """`html` with each <math> replaced by its TeX source between dollars, for plain text."""
    return _MATH_ELEMENT.sub(lambda match: html_module.escape(_tex_text(_read_math(match.group()))), html)


def _tex_text(math: _Math) -> str:
    if not math.tex:
        return math.presentation.text()
    delimiter = "$$" if math.display else "$"
    return f"{delimiter}{math.tex}{delimiter}"


def email_fallback(html: str) -> str:
    """`html` with every <math> replaced by markup that mail clients without MathML show well."""
    return _MATH_ELEMENT.sub(lambda match: _fallback(_read_math(match.group())), html)


def _fallback(math: _Math) -> str:
    display = " math-display" if math.display else ""
    try:
        text = _squeeze(_unicode_html(math.presentation))
    except _NotSimple:
        text = ""
    if text:
        return f'<span class="math{display}">{text}</span>'
    return f'<code class="math-tex{display}">{html_module.escape(_tex_text(math), quote=False)}</code>'


class _NotSimple(Exception):
    """The expression needs real math layout: the fallback shows its TeX."""


# Operators written with a space each side, as TeX spaces relations and binary operators.
_SPACED_OPERATORS = set("=<>+−×·÷±∓≤≥≠≈≡∼≃≅∝→←↔⇒⇐⇔↦∈∉⊂⊃⊆⊇∪∩∧∨∣∥≪≫⊕⊗∘") | {"-"}
_COMBINING_ACCENTS = {
    "^": "\u0302",
    "ˆ": "\u0302",
    "~": "\u0303",
    "˜": "\u0303",
    "¯": "\u0304",
    "‾": "\u0305",
    "―": "\u0305",
    "˙": "\u0307",
    "¨": "\u0308",
    "→": "\u20d7",
}
_BIG_OPERATORS = set("∑∏∐∫∬∭∮⋃⋂⋁⋀⨁⨂⨀")  # and words: lim, max, argmax
_LATIN_LETTER = re.compile(r"^[A-Za-z]$")
_SPACES = re.compile(r" {2,}")
_TRANSPARENT = {"mrow", "mstyle", "mpadded", "semantics", "math"}


def _squeeze(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _is_atom(node: _Node) -> bool:
    elements = node.elements()
    if node.tag in _TRANSPARENT and len(elements) == 1:
        return _is_atom(elements[0])
    return node.tag in ("mi", "mn", "mtext") or (node.tag == "mo" and len(node.text()) == 1)


def _unicode_html(node: _Node) -> str:
    """Text and <sub>/<sup> HTML for a simple expression; _NotSimple for anything else."""
    tag = node.tag
    parts = node.elements()
    escape = html_module.escape
    if tag in _ARITY and len(parts) != _ARITY[tag]:
        raise _NotSimple(tag)  # MathML typed by hand may lack a part
    if tag in _TRANSPARENT:
        return "".join(_unicode_html(part) for part in parts)
    if tag == "mphantom":
        return ""
    if tag == "mi":
        text = node.text()
        if _LATIN_LETTER.match(text) and node.attrs.get("mathvariant") != "normal":
            return f"<i>{escape(text)}</i>"
        return f" {escape(text)} " if len(text) > 1 else escape(text)  # log, sin: a word
    if tag in ("mn", "mtext"):
        return escape(node.text())
    if tag == "mo":
        text = node.text()
        if text == ",":
            return ", "
        return f" {escape(text)} " if text in _SPACED_OPERATORS else escape(text)
    if tag == "mspace":
        return "" if node.attrs.get("width", "").startswith("-") else " "
    if tag in ("msub", "munder", "msup", "msubsup", "munderover"):
        scripts = [f"<sub>{_script(parts[1])}</sub>"] if tag != "msup" else []
        if tag != "msub" and tag != "munder":
            scripts.append(f"<sup>{_script(parts[-1])}</sup>")
        scripted = _unicode_html(parts[0]) + "".join(scripts)
        # A big operator with its bounds (∑ᵢ₌₁ⁿ, lim) stands apart from what it applies to.
        return f" {scripted} " if _is_big_operator(parts[0]) else scripted
    if tag == "mover":
        return _accented(parts[0], parts[1])
    if tag == "mfrac" and node.attrs.get("linethickness") != "0":
        return f"{_grouped(parts[0])}/{_grouped(parts[1])}"
    if tag == "msqrt":
        return "√" + _grouped(node)
    raise _NotSimple(tag)


def _is_big_operator(node: _Node) -> bool:
    text = node.text()
    return node.tag == "mo" and (text in _BIG_OPERATORS or len(text) > 1)


def _script(node: _Node) -> str:
    # A sub- or superscript is set tight: x<sub>i=1</sub>, not x<sub> i = 1 </sub>.
    return _unicode_html(node).replace(" ", "")


def _grouped(node: _Node) -> str:
    """A fraction's part or a root's radicand, in parentheses unless it is one symbol."""
    if node.tag == "msqrt":
        parts = node.elements()
        atom = len(parts) == 1 and _is_atom(parts[0])
        inner = "".join(_unicode_html(part) for part in parts)
    else:
        atom, inner = _is_atom(node), _unicode_html(node)
    return _squeeze(inner) if atom else f"({_squeeze(inner)})"


def _accented(base: _Node, over: _Node) -> str:
    """x̂, ṽ, x̄: a one-letter base with a combining accent; \\overset{a}{b} as b with a above."""
    if over.tag != "mo":
        return _unicode_html(base) + f"<sup>{_script(over)}</sup>"
    combining = _COMBINING_ACCENTS.get(over.text())
    letter = base.text()
    if combining is None or len(letter) != 1:
        raise _NotSimple("accent")  # \overline{AB}, \overbrace{...}: TeX says it better
    text = html_module.escape(letter + combining)
    return f"<i>{text}</i>" if _LATIN_LETTER.match(letter) else text
