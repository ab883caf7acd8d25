"""The LaTeX/Markdown front end: extraction, macros, grammar, translation, claims, coverage."""
import textwrap
from pathlib import Path

import pytest

from derivcheck import expr as E
from derivcheck.catalog import ClaimFileError, load_file
from derivcheck.check import check
from derivcheck.latex import coverage_text, load_document
from derivcheck.latex.extract import extract
from derivcheck.latex.macros import MacroError, collect, expand
from derivcheck.printing import to_text

DECLARE = """
```toml derivcheck
prefix = "t"
dims = ["m", "n", "h"]
functions = ["g"]
[symbols]
X = ["m", "n"]
W = ["n", "h"]
b = [1, "h"]
Y = ["m", "h"]
A = ["m", "h"]
B = ["h", "h"]
x = ["n", 1]
[names]
"\\\\mathbf{1}_m" = "ones(m, 1)"
"W^{[1]}" = "W"
```
"""


def note(tmp_path, body, name="note.md", declare=DECLARE):
    p = tmp_path / name
    p.write_text(declare + textwrap.dedent(body), encoding="utf-8")
    return load_document(p)


def by_line(doc):
    return {e.line: e for e in doc.equations}


FIRST = DECLARE.count("\n") + 1  # the line a note's body starts on


# ---------------------------------------------------------------- extraction


def test_every_display_form_is_found_with_its_line():
    text = textwrap.dedent(r"""
    intro $x$ inline is not displayed
    $$ a = b $$
    \[ c = d \]
    \begin{equation} e = f \end{equation}
    \begin{align*}
    g &= h \\
      &= i
    \end{align*}
    \begin{gather} j = k \\ l = m \end{gather}
    $$\begin{split} n &= o \\ &= p \end{split}$$
    """)
    displays = extract(text)
    assert [d.line for d in displays] == [3, 4, 5, 6, 10, 11]
    assert [d.delimiter for d in displays] == ["$$", "\\[", "equation", "align*", "gather", "$$"]
    align = displays[3]
    assert [r.line for r in align.rows] == [7, 8]
    assert [r.cells for r in align.rows][0] == ["\ng ", "= h "]
    assert [r.text for r in displays[4].rows] == ["j = k", "l = m"]
    assert [r.text for r in displays[5].rows] == ["n = o", "= p"]


def test_code_blocks_escaped_dollars_and_inner_matrices_are_not_equations():
    text = "```\n$$ a = b $$\n```\nprice \\$\\$ 5\n$$ A = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} $$\n"
    displays = extract(text)
    assert len(displays) == 1 and displays[0].line == 5
    assert len(displays[0].rows) == 1  # the \\ inside pmatrix does not cut the row


def test_an_unclosed_display_is_reported_not_dropped(tmp_path):
    doc = note(tmp_path, "\n$$ Z = X W\n\nmore text\n")
    (eq,) = doc.equations
    assert eq.status == "skipped" and eq.reason == "unclosed display" and "never closed" in eq.detail


# ---------------------------------------------------------------- macros


def test_newcommand_with_arguments_expands():
    macros = collect(r"\newcommand{\dadb}[2]{\frac{\partial #1}{\partial #2}} \newcommand{\bx}{\mathbf{x}}"
                     r"\newcommand{\opt}[2][1]{#1+#2}")
    assert expand(r"\dadb{L}{\bx}", macros) == r"\frac{\partial L}{\partial \mathbf{x}}"
    assert expand(r"\opt{y} \opt[z]{y}", macros) == "1+y z+y"


def test_a_macro_that_uses_itself_is_an_error_not_a_hang():
    with pytest.raises(MacroError, match="keeps expanding"):
        expand(r"\loop", collect(r"\newcommand{\loop}{a\loop}"))


def test_document_macros_are_expanded_before_parsing(tmp_path):
    doc = note(tmp_path, r"""
    \[ \newcommand{\dadb}[2]{\frac{\partial #1}{\partial #2}} \]
    $$ L = \frac{1}{2}\|X W - Y\|_F^2 $$
    $$ \dadb{L}{W} = X^T (X W - Y) $$
    """)
    eqs = doc.equations
    assert eqs[0].reason == "macro definitions"
    assert eqs[2].status == "checked"
    (claim,) = doc.claims
    assert claim.kind == "gradient" and claim.wrt.name == "W"
    assert check(claim).verdict.status == "proved"


# ---------------------------------------------------------------- constructs


CONSTRUCTS = {
    r"A^T": "A.T", r"A^\top": "A.T", r"A^{\intercal}": "A.T", r"B^{-1}": "inv(B)",
    r"A \odot A": "A * A", r"A \circ A": "A * A", r"X \cdot W": "X @ W", "X W": "X @ W",
    r"\sigma(A)": "sigmoid(A)", r"\tanh(A)": "tanh(A)", r"\log A": "log(A)", r"\exp(A)": "exp(A)",
    r"\operatorname{tr}(B)": "trace(B)", r"\text{tr}(B)": "trace(B)", r"\mathrm{tr}(B)": "trace(B)",
    r"\text{diag}(x)": "diag(x)", r"\text{softmax}(A)": "softmax(A)", r"\left( A + A \right)": "A + A",
    r"\frac{A}{2}": "A / 2", r"\frac 1m X": "1 / m * X", r"W^{[1]}": "W", r"g'(A)": "g_prime(A)",
    r"\sigma'(A)": "sigmoid(A) * (1 - sigmoid(A))", r"\|A\|_F^2": "sum(A ** 2)", r"(A > 0)": "step(A)",
    r"\mathbf{1}_m b": "ones(m, 1) @ b", r"e^{A}": "exp(A)", r"\text{ReLU}(A)": "relu(A)",
    r"\sum_{i=1}^n x_i^2": "sum(x ** 2)", r"\frac{\partial}{\partial W} \|X W\|_F^2": "grad(sum((X @ W) ** 2), W)",
    r"\nabla_W \|X W\|_F^2": "grad(sum((X @ W) ** 2), W)",
    # a power of a square matrix is the matrix power, as B^{-1} is the inverse; ^{\circ k} is entrywise
    r"B^2": "matrix_power(B, 2)", r"B^{-2}": "matrix_power(B, -2)", r"B^{h-1}": "matrix_power(B, h - 1)",
    r"(A^T A)^3": "matrix_power(A.T @ A, 3)", r"B^{\circ 2}": "B ** 2",
    # a numeric subscript on log is its base; ‖x‖ takes its scripts in either order
    r"\log_2 A": "log(A) / log(2)", r"\log_{10}(A)": "log(A) / log(10)", r"\log_e A": "log(A)",
    r"\|x\|^2_2": "sum(x ** 2)",
}


@pytest.mark.parametrize("latex", sorted(CONSTRUCTS))
def test_each_construct_translates(tmp_path, latex):
    doc = note(tmp_path, f"$$ Q = {latex} $$\n$$ Q = Q $$\n")
    eq = doc.equations[0]
    assert eq.status == "definition", (eq.reason, eq.detail)
    claim = doc.claims[0]
    body = claim.lhs.body
    want = CONSTRUCTS[latex]
    if want is not None:
        assert to_text(body).replace(" ", "") == want.replace(" ", "")


POWERS = DECLARE.replace("x = [\"n\", 1]", "x = [\"n\", 1]\nP = [\"m\", \"n\"]\n[assume]\nP = \"positive\"")


def test_a_power_of_a_square_matrix_is_the_matrix_power(tmp_path):
    # B^2 was the entrywise square while B^{-1} was the inverse: B^2 = B ⊙ B and the gradient of tr(B^2)
    # as 2 B ⊙ I were proved (the true gradient is 2 B^T)
    doc = note(tmp_path, r"""
    $$ B^2 = B \odot B $$
    $$ \frac{\partial}{\partial B} \operatorname{tr}(B^2) = 2 B \odot I_h $$
    $$ \frac{\partial}{\partial B} \operatorname{tr}(B^2) = 2 B^T $$
    $$ B^{-2} = B^{-1} B^{-1} $$
    $$ B^{\circ 2} = B \odot B $$
    """, declare=POWERS)
    verdicts = [check(c).verdict for c in doc.claims]
    assert [v.status for v in verdicts[:2]] == ["refuted", "refuted"]
    assert all(v.holds for v in verdicts[2:]) and len(verdicts) == 5


def test_a_power_the_notation_leaves_open_is_said_or_refused(tmp_path):
    doc = note(tmp_path, r"""
    $$ x^2 = x \odot x $$
    $$ B^{1/2} = B $$
    $$ \sum_{i=1}^n x_i^2 = x^T x $$
    $$ |x| = x $$
    $$ |B| = B $$
    """, declare=POWERS)
    square, root, entries, absolute, det = doc.equations
    assert check(doc.claims[0]).verdict.holds
    assert square.guesses == ["x^{2} of the n×1 vector x is read as elementwise (each entry's power)"]
    assert "read as the absolute value of each entry" in absolute.guesses[0]
    assert not entries.guesses  # inside Σ_i the entries are numbers: nothing to guess
    assert root.reason == "unsupported notation" and "not an integer" in root.detail
    assert det.reason == "unsupported notation" and "determinant" in det.detail
    text = coverage_text([doc])
    assert "read with a choice the notation leaves open" in text and f"line {square.line}: x^{{2}} of the n×1" in text


def test_a_subscript_on_a_function_is_a_log_base_or_refused(tmp_path):
    # the subscript was dropped: log_10(Z ⊙ Z + 1) = log(Z ⊙ Z + 1) and log_2 P = log P were proved
    doc = note(tmp_path, r"""
    $$ \log_{10} (X \odot X + 1) = \log (X \odot X + 1) $$
    $$ \log_2 P = \log P $$
    $$ \log_2 P = \frac{\log P}{\log 2} $$
    $$ \frac{\partial}{\partial P} \mathbf{1}_m^T \log_2 P \mathbf{1}_n = \frac{1}{\log 2} \frac{1}{P} $$
    $$ \log_b P = \log P $$
    $$ \sigma_1(X) = \sigma(X) $$
    $$ \lg P = \log P $$
    """, declare=POWERS.replace('"\\\\mathbf{1}_m"', '"\\\\mathbf{1}_n" = "ones(n, 1)"\n"\\\\mathbf{1}_m"'))
    verdicts = [check(c).verdict for c in doc.claims]
    assert [v.status for v in verdicts[:2]] == ["refuted", "refuted"]
    assert all(v.holds for v in verdicts[2:]) and len(verdicts) == 4
    base, sigma, lg = doc.equations[4:]
    assert base.reason == sigma.reason == lg.reason == "unsupported notation"
    assert "subscript _{b} on the function log" in base.detail and "_{1} on the function sigmoid" in sigma.detail
    assert "write \\log_2 or \\log_{10}" in lg.detail


def test_decorations_and_scripts_are_refused_not_dropped(tmp_path):
    doc = note(tmp_path, r"""
    $$ \underline{x} = x $$
    $$ \overset{\sim}{x} = x $$
    $$ \tanh^2(A) = \tanh(A \odot A) $$
    $$ \frac{\partial^2 L}{\partial W^2} = X^T X $$
    $$ \frac{d^2}{dx^2} x = 0 $$
    """)
    assert not doc.claims
    details = [e.detail for e in doc.equations]
    assert "\\underline on x" in details[0] and "\\overset{\\sim} on x" in details[1]
    assert "superscript ^{2} on the function tanh" in details[2]
    assert all("a higher derivative" in d for d in details[3:])


def test_t_is_a_transpose_unless_declared(tmp_path):
    doc = note(tmp_path, "$$ Q = x^t $$\n$$ Q = Q $$\n", declare=DECLARE.replace('"h"]', '"h", "t"]', 1))
    assert to_text(doc.claims[0].lhs.body) == "x**t"
    doc = note(tmp_path, "$$ Q = x^t $$\n$$ Q = Q $$\n")
    assert to_text(doc.claims[0].lhs.body) == "x.T"


def test_sum_over_entries_of_a_declared_vector(tmp_path):
    doc = note(tmp_path, r"$$ \sum_{i=1}^n x_i^2 = x^T x $$")
    (claim,) = doc.claims
    assert to_text(claim.lhs) == "sum(x**2)"
    assert check(claim).verdict.holds


def test_a_chain_is_a_derivation_and_a_derivative_on_the_left_a_gradient(tmp_path):
    doc = note(tmp_path, r"""
    $$ L = \frac{1}{2}\|A - Y\|_F^2 $$
    \begin{align*}
    \frac{\partial L}{\partial A} &= \frac{1}{2} \cdot 2 (A - Y) \\
    &= A - Y
    \end{align*}
    $$ \frac{\partial L}{\partial A} = A - Y $$
    """)
    kinds = {c.id: c.kind for c in doc.claims}
    assert kinds == {f"t.L{FIRST + 3}": "derivation", f"t.L{FIRST + 6}": "gradient"}
    assert all(check(c).verdict.status == "proved" for c in doc.claims)


def test_derivative_claim_for_a_function_prime(tmp_path):
    doc = note(tmp_path, r"$$ \sigma'(A) = \sigma(A) \odot (1 - \sigma(A)) $$" + "\n"
               + r"$$ \tanh'(A) = 1 + \tanh(A)^2 $$")
    good, bad = doc.claims
    assert good.kind == "gradient" and to_text(good.f) == "sum(sigmoid(A))" and good.wrt.name == "A"
    assert check(good).verdict.holds
    assert check(bad).verdict.status == "refuted"


def test_two_vectors_side_by_side_are_read_both_ways(tmp_path):
    doc = note(tmp_path, r"$$ \sigma'(x) = \sigma(x)(1 - \sigma(x)) $$")
    matmul, elementwise = doc.claims
    assert "two vectors of one shape side by side" in matmul.note
    assert matmul.expect == "fails" and check(matmul).verdict.status == "ill_formed"
    assert elementwise.expect is None and check(elementwise).verdict.holds


def test_ambiguous_hadamard_next_to_a_product_is_checked_both_ways(tmp_path):
    doc = note(tmp_path, r"$$ \frac{\partial}{\partial W} \frac{1}{2}\|X W\|_F^2 = X^T X W \odot \mathbf{1}_m b $$")
    a, b = doc.claims
    assert a.id.endswith("reading-a") and b.id.endswith("reading-b")
    assert "ambiguous product" in a.note and "ambiguous product" in b.note
    # (X^T X W) ⊙ (1 b) is n×h ⊙ m×h: only the ⊙-first reading X^T X (W ⊙ 1 b) ... is ill-formed too here,
    # so the claim text says which readings fit
    assert ("well-formed" in a.note) and ("well-formed" in b.note or "do not fit" in b.note)


def test_ambiguity_names_the_reading_the_shapes_support(tmp_path):
    doc = note(tmp_path, r"$$ \frac{\partial}{\partial A} \frac{1}{2}\|A B\|_F^2 = A B \odot A B^T $$")
    a, b = doc.claims  # (A B) ⊙ (A B^T) against A (B ⊙ A) B^T: the second needs h×h ⊙ m×h
    assert "the one the text supports" in a.note and a.expect is None
    assert "does not support" in b.note and b.expect == "fails"
    assert check(b).verdict.status == "ill_formed"


def test_definitions_feed_later_equations_and_redefinitions_are_checked(tmp_path):
    doc = note(tmp_path, r"""
    $$ Z := X W + \mathbf{1}_m b $$
    $$ Z = X W $$
    """)
    eqs = by_line(doc)
    assert eqs[FIRST + 1].status == "definition" and eqs[FIRST + 1].defines == ["Z"]
    (claim,) = doc.claims
    assert claim.kind == "identity" and check(claim).verdict.status == "refuted"


def test_function_definitions_apply_to_arguments(tmp_path):
    doc = note(tmp_path, r"""
    $$ f(A) = A \odot A $$
    $$ f(Y) = Y \odot Y $$
    """)
    (claim,) = doc.claims
    assert to_text(claim.lhs) == "Y * Y" and check(claim).verdict.status == "proved"


# ---------------------------------------------------------------- what is skipped, and why


def test_skipped_equations_carry_their_reasons(tmp_path):
    doc = note(tmp_path, r"""
    $$ X = \begin{bmatrix} 1 & 2 \end{bmatrix} $$
    $$ \frac{\partial L}{\partial W_{i,j}} = X_{ij} $$
    $$ y = \text{some words here} $$
    $$ A = \foo{B} $$
    $$ Z = \frac{X}{ $$
    $$ f : \mathbb{R} \to \mathbb{R} $$
    $$ W \leftarrow W - \eta A $$
    $$ X W + b $$
    $$ a_1, \dots, a_n $$
    """)
    reasons = [e.reason for e in doc.equations]
    assert reasons == ["matrix literal", "index notation", "prose inside math", "unknown macro", "parse error",
                       "function signature", "update rule", "not a claim", "parse error"]
    assert not doc.claims
    unknown = doc.equations[3]
    assert "\\foo" in unknown.detail
    text = coverage_text([doc])
    assert "9 equations found, 7 parsed, 0 checked" in text and f"line {FIRST + 4}: unknown macro" in text


def test_an_unbalanced_brace_is_a_parse_error_with_its_line(tmp_path):
    doc = note(tmp_path, "$$ Z = X {W + b $$\n")
    (eq,) = doc.equations
    assert eq.reason == "parse error" and eq.line == FIRST and not eq.parsed
    assert "unclosed bracket or brace" in eq.detail


def test_unknown_names_are_reported_not_guessed(tmp_path):
    doc = note(tmp_path, "$$ Q = X V $$\n")
    (eq,) = doc.equations
    assert eq.reason == "unknown name" and eq.detail.startswith("V")


def test_bad_declarations_name_file_and_line(tmp_path):
    bad = "```toml derivcheck\ndims = [\"m\"]\n[symbols]\nX = [\"m\", \"q\"]\n```\n$$ a = b $$\n"
    p = tmp_path / "bad.md"
    p.write_text(bad)
    with pytest.raises(ClaimFileError, match=r"bad.md:4: symbol X: 'q' is neither"):
        load_document(p)


def test_side_declarations_file_and_tex_input(tmp_path):
    side = tmp_path / "shapes.toml"
    side.write_text('dims = ["m", "n"]\n[symbols]\nX = ["m", "n"]\nW = ["n", "n"]\n')
    tex = tmp_path / "paper.tex"
    tex.write_text("\\documentclass{article}\n% $$ a = b $$ is a comment\n\\begin{document}\n"
                   "\\begin{equation} X W W^{-1} = X \\end{equation}\n\\end{document}\n")
    claims = load_file(tex, side)
    (claim,) = claims
    assert claim.origin.endswith("paper.tex:4") and claim.latex == "X W W^{-1} = X"
    assert check(claim).verdict.holds


def test_a_5000_line_document_is_read_quickly(tmp_path):
    import time

    body = []
    for i in range(1000):
        body += [f"Paragraph {i} with $x$ inline.", "", "$$", r"\frac{\partial}{\partial W}\frac{1}{2}\|X W\|_F^2 = X^T X W", "$$"]
    start = time.perf_counter()
    doc = note(tmp_path, "\n".join(body) + "\n")
    elapsed = time.perf_counter() - start
    assert len(doc.equations) == 1000 and len(doc.claims) == 1000
    assert len(set(c.id for c in doc.claims)) == 1000
    assert elapsed < 20


def test_numbers_in_a_chain_are_values_not_identities(tmp_path):
    # 'Q = X W = 2.0 × 0.5 + 1.0 = 2.0' holds at the text's point; as an identity in X and W it would be refuted
    doc = note(tmp_path, r"$$ Q = X W = 2.0 \times 0.5 + 1.0 = 2.0 $$" + "\n"
               + r"$$ \frac{\partial}{\partial A} \frac{1}{2}\|A\|_F^2 = A = 1.5 \times 2.0 = 3.0 $$")
    arithmetic, gradient = doc.claims
    assert doc.equations[0].defines == ["Q"]
    assert arithmetic.kind == "identity" and not E.symbols_of(arithmetic.lhs, arithmetic.rhs)
    assert "only the arithmetic" in arithmetic.note and check(arithmetic).verdict.holds
    assert gradient.kind == "gradient" and "a value at a point" in gradient.note
    assert check(gradient).verdict.holds


def test_an_integer_on_the_right_is_still_an_identity(tmp_path):
    doc = note(tmp_path, r"$$ \frac{\partial}{\partial A} \frac{1}{2}\|A\|_F^2 = 1 $$")
    (claim,) = doc.claims
    assert claim.kind == "gradient" and check(claim).verdict.status == "ill_formed"  # a number is not A's shape


def test_reports_show_the_equation_as_written_with_its_line(tmp_path):
    from derivcheck.report import build, render_html, render_latex

    doc = note(tmp_path, r"$$ \frac{\partial}{\partial W} \frac{1}{2}\|X W\|_F^2 = X^T X W $$")
    (claim,) = doc.claims
    result = check(claim)
    data = build([claim], [result], 0, "now")
    html, tex = render_html(data), render_latex(data)
    assert "as the document writes it" in html and r"\frac{\partial}{\partial W}" in html
    assert f"note.md line {FIRST}" in html
    assert r"As the document writes it: \texttt{\textbackslash{}frac" in tex.replace("%\n", "")


def test_a_document_without_claims_says_why_each_equation_was_skipped(tmp_path):
    """It said only "no claims in this file" (exit 2), hiding the reasons; a user who fenced the
    declarations with ```toml instead of ```toml derivcheck could not tell what was wrong."""
    from derivcheck.catalog import load

    p = tmp_path / "notes.md"
    p.write_text("```toml\ndims = [\"m\"]\n```\n\n$$ L = \\frac{1}{m} (z - y)^T (z - y) $$\n", encoding="utf-8")
    with pytest.raises(ClaimFileError) as err:
        load([p])
    text = str(err.value)
    assert "no claims in this file" in text and "unknown name" in text and "toml derivcheck" in text
