"""Math: `$...$` and `$$...$$` become MathML on pages, Unicode or TeX in the email, TeX in its
plain text; prices, escapes and code keep their dollars; invalid TeX is its source and a failed
pre-publish check, never an error."""

from __future__ import annotations

import xml.etree.ElementTree as etree
from html import unescape

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from latex2mathml.converter import convert_to_element

from editorial import checks
from newsletter import math
from newsletter.plaintext import LinkReferences, html_to_plain_text
from newsletter.rendering import markdown_to_html, math_problems, render_issue_email, sanitize_html
from tests import test_roles
from tests.factories import make_issue, make_ready_issue, make_section, make_summary

writer = test_roles.writer

MATHML = "{http://www.w3.org/1998/Math/MathML}"
XHTML = "{http://www.w3.org/1999/xhtml}"

# TeX a research digest writes, and every construct latex2mathml turns into its own elements.
CORPUS = [
    r"x^2",
    r"\epsilon",
    r"\|x\|_2 \leq \epsilon",
    r"\frac{a+b}{2}",
    r"\sum_{i=1}^n x_i",
    r"\mathbb{R}^d",
    r"\mathcal{L}(\theta) = -\log p_\theta(y \mid x)",
    r"\sqrt[3]{x} + \sqrt{y}",
    r"\hat{y}, \bar{x}, \vec{v}, \tilde{x}, \dot{x}",
    r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
    r"\begin{array}{c|c} a & b \\ \hline c & d \end{array}",
    r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"\binom{n}{k} \overbrace{x+y}^{a} \underbrace{z}_{b}",
    r"\lim_{x \to 0} \frac{\sin x}{x} = 1",
    r"\color{red}{x} \colorbox{yellow}{y} \boxed{z} \cancel{w}",
    r"\left( \frac{1}{2} \right) \displaystyle \int_0^1 \operatorname{argmax}_x",
    r"a\,b\;c\quad d \hspace{1em} e \rule{1em}{1pt} \phantom{x}",
    r"\mathrm{KL}(p \,\|\, q) \not= 0, \sideset{_a^b}{_c^d}\sum",
    r"\text{a <b> & c} \mathbf{x} \mathsf{y} \mathtt{z}",
]


def math_elements(html: str) -> list[etree.Element]:
    """The <math> elements of `html`, parsed as a browser would (html5lib, strict)."""
    document = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(
        f"<!doctype html><html lang='en'><head><title>t</title></head><body>{html}</body></html>"
    )
    return list(document.iter(f"{MATHML}math"))


def annotation_text(element: etree.Element) -> str:
    annotation = element.find(f"{MATHML}semantics/{MATHML}annotation")
    assert annotation is not None and annotation.get("encoding") == "application/x-tex"
    return annotation.text or ""


# Finding math ----------------------------------------------------------------------------------


def test_inline_math_is_mathml_with_its_tex_beside_it():
    html = markdown_to_html(r"Robust within $\|x\|_2 \leq \epsilon$ of the input.")

    [element] = math_elements(html)
    assert element.get("display") == "inline"
    semantics = element.find(f"{MATHML}semantics")
    assert semantics is not None
    annotation = semantics.find(f"{MATHML}annotation")
    assert annotation is not None and annotation.get("encoding") == "application/x-tex"
    assert annotation.text == r"\|x\|_2 \leq \epsilon"
    assert [node.text for node in semantics.iter(f"{MATHML}mi")] == ["x", "ϵ"]
    assert html.startswith("<p>Robust within <math") and html.endswith("</math> of the input.</p>")


def test_display_math_on_lines_of_its_own_is_a_block_whatever_its_lines_look_like():
    text = "Before.\n\n$$\n\\sum_i x_i\n- y\n# z\n---\n$$\n\nAfter."

    html = markdown_to_html(text)

    [element] = math_elements(html)
    assert element.get("display") == "block"
    assert "<ul>" not in html and "<h1>" not in html and "<hr>" not in html  # no line was read as Markdown
    assert annotation_text(element) == "\\sum_i x_i\n- y\n# z\n---"


def test_display_math_inside_a_paragraph_is_a_block_too():
    [element] = math_elements(markdown_to_html(r"The loss $$\mathcal{L} = \sum_i \ell_i$$ is summed."))

    assert element.get("display") == "block"


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",
        "Between $20,000 and $30,000 a year.",
        "Tickets: $5, or $10 at the door",
        "From $5 to$10",  # a closing $ followed by a digit is a price
        "A lone $ sign, and $ spaced $ dollars.",
        "Empty: $$$$ and $$",
    ],
)
def test_prices_are_not_math(text):
    html = markdown_to_html(text)

    assert "<math" not in html
    assert html.count("$") == text.count("$")
    assert math_problems(text) == []


def test_an_escaped_dollar_is_a_dollar():
    html = markdown_to_html(r"Literal \$x\$ and math $y$.")

    assert "Literal $x$ and math <math" in html
    assert len(math_elements(html)) == 1


@pytest.mark.parametrize(
    "text, code",
    [
        ("A span `$x$` here.", "<code>$x$</code>"),
        ("```\n$$x^2$$ and $y$\n```", "<code>$$x^2$$ and $y$\n</code>"),
        ("Text:\n\n    $x$ indented\n", "<code>$x$ indented\n</code>"),
    ],
)
def test_code_keeps_its_dollars(text, code):
    html = markdown_to_html(text)

    assert code in html
    assert "<math" not in html


def test_tex_is_not_read_as_markdown():
    html = markdown_to_html(r"Take $a_1 * b_2 * c_3$ and $[x](y)$ and $\{a\}$.")

    assert "<em>" not in html and "<a " not in html
    annotations = [annotation_text(element) for element in math_elements(html)]
    assert annotations == [r"a_1 * b_2 * c_3", "[x](y)", r"\{a\}"]


def test_math_works_in_lists_headings_and_quotes():
    html = markdown_to_html("## The $\\epsilon$-ball\n\n- item $x_i$\n\n> quoted $y^2$\n")

    assert len(math_elements(html)) == 3
    assert "<h2>The <math" in html


# Sanitising --------------------------------------------------------------------------------------


def test_the_allowlist_keeps_all_the_mathml_latex2mathml_makes():
    for tex in CORPUS:
        for display in (False, True):
            mathml = math.tex_to_mathml(tex, display=display)
            assert unescape(sanitize_html(mathml)) == unescape(mathml), tex  # nh3 writes &nbsp;


def test_the_allowlist_is_exactly_the_elements_latex2mathml_makes():
    made = {"semantics", "annotation"}
    for tex in CORPUS:
        for display in ("inline", "block"):
            made |= {element.tag for element in convert_to_element(tex, display=display).iter()}

    assert made == math.MATHML_TAGS


@pytest.mark.parametrize(
    "tex, dropped",
    [
        (r"\href{javascript:alert(1)}{x}", "href"),
        (r"\style{background:url(https://evil.example)}{x}", "style"),
        (r"\class{admin-only}{x}", "class"),
    ],
)
def test_what_latex2mathml_passes_through_from_the_author_is_dropped(tex, dropped):
    html = markdown_to_html(f"${tex}$")

    assert len(math_elements(html)) == 1
    assert f"{dropped}=" not in html.split("<annotation")[0]


def test_mathml_typed_by_hand_is_sanitised_too():
    html = markdown_to_html(
        '<math><mi onclick="alert(1)" href="javascript:x">x</mi><script>alert(1)</script>'
        '<annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml></math>'
    )

    assert "onclick" not in html and "javascript" not in html and "<script" not in html
    assert "onerror" not in html and "annotation-xml" not in html


# Invalid TeX -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tex, reason",
    [
        (r"\frac{a", "braces"),
        (r"x^", "nothing after it"),
        (r"a_1_2", "double subscript"),
        (r"\undefinedcommand x", r"\undefinedcommand is not a command"),
        (r"\left( x", r"\right"),
        (r"\frac{a}", "missing an argument"),
        (r"\newcommand{\a}{\b\b}\a", "macro definitions"),
        (r"\frac{<script>alert(1)</script>", "braces"),
    ],
)
def test_invalid_tex_shows_as_its_escaped_source_and_says_why(tex, reason):
    text = f"Before ${tex}$ after."

    html = markdown_to_html(text)

    assert "<math" not in html and "<script" not in html
    escaped = tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'<code class="math-error">${escaped}$</code>' in html
    [problem] = math_problems(text)
    assert problem.tex == tex and reason in problem.reason


@pytest.mark.parametrize(
    "tex",
    [
        "{" * 900 + "x" + "}" * 900,
        r"\sqrt" * 300 + "x",
        "a^{" * 300 + "}" * 300,
        "x" * (math.MAX_TEX_LENGTH + 9),
    ],
)
def test_huge_or_deep_tex_is_refused_not_an_error(tex):
    html = markdown_to_html(f"${tex}$")

    assert "<math" not in html and 'class="math-error"' in html
    [problem] = math_problems(f"${tex}$")
    assert "characters" in problem.reason or "levels deep" in problem.reason
    assert len(str(problem)) < 200  # the check names it without quoting all of it


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="$\\{}^_&<>`ab1 \n", max_size=40))
def test_any_text_renders_to_html_an_email_and_plain_text(text):
    html = markdown_to_html(text)

    math_elements(html)  # strict: raises on a parse error
    assert "<math" not in math.email_fallback(html)
    html_to_plain_text(html, LinkReferences())


# Pre-publish checks ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invalid_tex_fails_the_math_check_and_says_where():
    issue = make_ready_issue(intro=r"We bound $\frac{a$ tightly.")
    body = r"Loss $x^$ falls; $y^2$ is fine."
    make_summary(issue, make_section("Alignment"), headline="Scaling", body=body)

    result = next(result for result in checks.run_checks(issue) if result.name == "math")

    assert result.problems == [
        "Math in the intro is not valid TeX and shows as its source: “\\frac{a”: its braces { } do not "
        "balance.",
        "Math in “Scaling” (Alignment) is not valid TeX and shows as its source: “x^”: a ^ or _ with nothing "
        "after it.",
    ]
    assert result in checks.failing(checks.run_checks(issue))


@pytest.mark.django_db
def test_valid_math_passes_the_math_check():
    issue = make_ready_issue(intro=r"Within $\epsilon$ of $x$; it costs $5 and $10.")

    assert next(result for result in checks.run_checks(issue) if result.name == "math").passed


# Pages -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_public_page_with_math_is_valid_html_with_mathml_and_no_script(client):
    issue = make_issue(intro=r"Models robust within $\|x\|_\infty \leq \epsilon$.")
    make_summary(
        issue,
        make_section("Robustness"),
        headline="Certified bounds",
        body="The bound is\n\n$$\n\\mathbb{E}[\\ell] \\leq \\frac{1}{n} \\sum_{i=1}^n \\ell_i\n$$\n\n"
        "for all $n$.",
    )

    response = client.get(f"/issues/{issue.number}/")

    assert response.status_code == 200
    page = response.content.decode()
    document = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(page)  # raises on any error
    elements = list(document.iter(f"{MATHML}math"))
    assert [element.get("display") for element in elements] == ["inline", "block", "inline"]
    block = elements[1]
    assert block.find(f"{MATHML}semantics/{MATHML}mrow/{MATHML}mfrac") is not None
    assert block.find(f"{MATHML}semantics/{MATHML}annotation").get("encoding") == "application/x-tex"
    # Every element inside <math> is MathML (no HTML leaked into it), and nothing renders it client-side.
    assert all(node.tag.startswith(MATHML) for element in elements for node in element.iter())
    assert not [node for node in document.iter(f"{XHTML}script") if "math" in (node.get("src") or "").lower()]


@pytest.mark.django_db
def test_math_is_searchable_text_as_tex():
    issue = make_issue(intro="Intro.")
    summary = make_summary(issue, make_section("Robustness"), body=r"Squared $x^2$ norms.")

    assert summary.search_text == r"Squared $x^2$ norms."


@pytest.mark.django_db
def test_the_editors_live_preview_shows_mathml(client, writer):
    client.force_login(writer)

    response = client.post("/markdownx/markdownify/", {"content": r"$\alpha$ and $\frac{a$"})

    assert response.status_code == 200
    html = response.content.decode()
    assert len(math_elements(html)) == 1 and 'class="math-error"' in html


# Email -------------------------------------------------------------------------------------------

SUMMARY_WITH_MATH = (
    "Perturbations with $\\|x\\|_2 \\leq \\epsilon$ and $\\frac{a+b}{2}$ steps.\n\n"
    "$$\n\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\n$$\n\nPrices stay: $5 and $10."
)


@pytest.mark.django_db
def test_the_email_shows_simple_math_as_unicode_and_the_rest_as_tex():
    issue = make_ready_issue(intro=r"Hello $x^2$.")
    make_summary(issue, make_section("Alignment"), headline="Bounds", body=SUMMARY_WITH_MATH)

    email = render_issue_email(issue)

    assert "<math" not in email.html and "<semantics" not in email.html
    assert '<span class="math"' in email.html  # the class survives css-inline, its style is inlined
    assert "‖<i" in email.html and "<sub" in email.html and "≤ ϵ" in email.html
    assert "(<i" in email.html and "</i>)/2</span>" in email.html  # (a + b)/2
    assert "x</i><sup" in email.html  # the intro's x²
    assert '<code class="math-tex math-display"' in email.html
    assert "$$\\begin{pmatrix} 1 &amp; 2 \\\\ 3 &amp; 4 \\end{pmatrix}$$</code>" in email.html
    assert "Prices stay: $5 and $10." in email.html


@pytest.mark.django_db
def test_the_plain_text_email_shows_the_tex():
    issue = make_ready_issue(intro=r"Hello $x^2$.")
    make_summary(issue, make_section("Alignment"), headline="Bounds", body=SUMMARY_WITH_MATH)

    text = render_issue_email(issue).text

    assert "Hello $x^2$." in text
    assert "$\\|x\\|_2 \\leq \\epsilon$" in text and "$\\frac{a+b}{2}$" in text
    assert "\n$$\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$$\n" in text
    assert "ϵ" not in text and "<" not in text


@pytest.mark.django_db
def test_the_email_preview_shows_the_fallback_and_the_tex(client, writer):
    issue = make_ready_issue(created_by=writer, intro=r"Within $\epsilon$ of $\hat{y}$.")
    client.force_login(writer)

    page = client.get(f"/admin/newsletter/issue/{issue.pk}/email/").content.decode()
    frame = client.get(f"/admin/newsletter/issue/{issue.pk}/email/html/").content.decode()

    assert r"Within $\epsilon$ of $\hat{y}$." in page  # the plain-text part, as TeX
    assert "<math" not in frame
    assert '<span class="math"' in frame and ">ϵ</span>" in frame and "<i>y\u0302</i>" in frame  # ŷ


@pytest.mark.parametrize(
    "tex, shown",
    [
        (r"\|x\|_2 \leq \epsilon", "‖<i>x</i>‖<sub>2</sub> ≤ ϵ"),
        (r"\frac{a+b}{2}", "(<i>a</i> + <i>b</i>)/2"),
        (
            r"\frac{1}{n} \sum_{i=1}^n x_i^2",
            "1/<i>n</i> ∑<sub><i>i</i>=1</sub><sup><i>n</i></sup> <i>x</i><sub><i>i</i></sub><sup>2</sup>",
        ),
        (r"\lim_{x \to 0} f(x, y)", "lim<sub><i>x</i>→0</sub> <i>f</i>(<i>x</i>, <i>y</i>)"),
        (r"O(n \log n)", "<i>O</i>(<i>n</i> log <i>n</i>)"),
        (r"\sqrt{a+b} + \sqrt{x}", "√(<i>a</i> + <i>b</i>) + √<i>x</i>"),
        (r"\hat{y} \in \mathbb{R}^d", "<i>y\u0302</i> ∈ ℝ<sup><i>d</i></sup>"),
        (r"\text{a <b> & c}", "a\xa0&lt;b&gt;\xa0&amp;\xa0c"),
    ],
)
def test_simple_math_reads_as_unicode_in_the_email(tex, shown):
    assert math.email_fallback(markdown_to_html(f"${tex}$")) == f'<p><span class="math">{shown}</span></p>'


@pytest.mark.parametrize(
    "tex",
    [r"\begin{pmatrix} a & b \end{pmatrix}", r"\sqrt[3]{x}", r"\binom{n}{k}", r"\overline{AB}", r"\boxed{x}"],
)
def test_math_that_needs_layout_shows_its_tex_in_the_email(tex):
    fallback = math.email_fallback(markdown_to_html(f"${tex}$"))

    assert fallback == f'<p><code class="math-tex">${tex.replace("&", "&amp;")}$</code></p>'


def test_mathml_without_a_tex_annotation_falls_back_to_its_text():
    html = "<p><math><msub><mi>x</mi></msub></math> and <math><mi>y</mi></math></p>"

    assert math.email_fallback(html) == (
        '<p><code class="math-tex">x</code> and <span class="math"><i>y</i></span></p>'
    )
    assert html_to_plain_text(html, LinkReferences())[0] == "x and y"


# In a browser -------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chromium_lays_out_the_mathml_with_no_script_and_axe_finds_nothing(live_server, page, artifacts_dir):
    from tests.browser_helpers import audit_page

    issue = make_issue(intro=r"Within $\|x\|_2 \leq \epsilon$ of the input.")
    body = "The bound:\n\n$$\n\\frac{1}{n} \\sum_{i=1}^n \\ell(f(x_i), y_i) \\leq \\hat{R}\n$$\n\nholds."
    make_summary(issue, make_section("Robustness"), headline="Bounds", body=body)

    audit = audit_page(page, "math", f"{live_server.url}/issues/{issue.number}/", artifacts_dir)

    assert audit.problems() == []  # no console (CSP) errors, no axe violation, fits a phone
    page.set_viewport_size({"width": 1280, "height": 900})
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('math')].map(math => {
            const box = math.getBoundingClientRect();
            const note = math.querySelector('annotation').getBoundingClientRect();
            return {display: getComputedStyle(math).display, width: box.width, height: box.height,
                    note: note.width * note.height};
        })"""
    )
    inline, block = boxes
    assert inline["display"] in ("math", "inline math") and inline["width"] > 20 and inline["height"] > 10
    assert block["display"] == "block math" and block["height"] > inline["height"]  # the fraction stacks
    assert inline["note"] == 0 and block["note"] == 0  # the TeX annotation is not shown
    assert page.evaluate("document.scripts.length") == 0 or page.evaluate(
        "[...document.scripts].every(script => !/math/i.test(script.src))"
    )
