"""Mathematical notation for reports: expressions as LaTeX and presentation MathML.

One table (``_NOTATION``) says how each node is written, as a small layout
tree; two renderers (a table for LaTeX, a method per kind for MathML) turn a
layout into LaTeX or MathML.  Names and constants
(``W1`` → W₁, ``sigma``, ``1/m``) are printed by SymPy's own LaTeX and MathML
printers.  The nodes themselves are not handed to SymPy's matrix-expression
classes: those refuse what the documents write (a bias row broadcast over
rows, the Hadamard product of σ(Z) with a matrix), so the layout is built
here and SymPy prints the atoms.

Layouts: ``("atom", sympy_obj)``, ``("op", latex, mathml)``, ``("row", [..])``,
``("paren", x)``, ``("sup", base, exp)``, ``("sub", base, sub)``, ``("frac", num, den)``,
``("call", name_latex, name_mathml, x)``, ``("abs", x)``, ``("sqrt", x)``.
"""
from __future__ import annotations

import xml.dom.minidom

import sympy
from sympy.printing.mathml import MathMLPresentationPrinter

from . import expr as E
from .precedence import ATOM, KRON, POWER, PRODUCT, SUM, UNARY, bracketed, is_minus_one
from .functions import PRIME_SUFFIX

__all__ = ["to_latex", "to_mathml", "symbol_latex"]



def _sym(name: str) -> sympy.Symbol:
    return sympy.Symbol(name)


def _op(latex: str, mathml: str | None = None):
    return ("op", latex, mathml if mathml is not None else latex)


def _is_scalar_like(e) -> bool:
    return isinstance(e, E.Scalar) or E.shape_or_none(e) == (1, 1)



class _Layout:
    """Expression → (layout, precedence), one method per node type."""

    def build(self, e: E.Expr):
        return _NOTATION[type(e)](self, e)

    def wrap(self, e: E.Expr, level: int, strict: bool = False):
        lay, prec = self.build(e)
        return ("paren", lay) if bracketed(prec, level, strict) else lay

    def call(self, latex_name: str, mathml_name: str, *args):
        inner = [self.build(a)[0] for a in args]
        body = inner[0] if len(inner) == 1 else ("row", _interleave(inner, _op(",\\,", ",")))
        return ("call", latex_name, mathml_name, body), ATOM


def _interleave(items, sep):
    out = []
    for i, x in enumerate(items):
        if i:
            out.append(sep)
        out.append(x)
    return out


def _symbol(p, e):
    return ("atom", _sym(e.name)), ATOM


def _scalar(p, e):
    v = sympy.sympify(e.value)
    if v.is_Atom and not (v.is_Number and v < 0):
        return ("atom", v), ATOM
    return ("atom", v), SUM if v.is_Add else PRODUCT


def _fill(p, e):
    if e.kind == "eye":
        return ("sub", ("atom", _sym("I")), ("atom", sympy.sympify(e.rows))), ATOM
    size = ("row", [("atom", sympy.sympify(e.rows)), _op("\\times", "×"), ("atom", sympy.sympify(e.cols))])
    return ("sub", ("atom", sympy.Integer(0 if e.kind == "zeros" else 1)), size), ATOM


def _add(p, e):
    left = p.wrap(e.a, SUM)
    if isinstance(e.b, E.Mul) and is_minus_one(e.b.a):
        return ("row", [left, _op("-", "−"), p.wrap(e.b.b, SUM, strict=True)]), SUM
    return ("row", [left, _op("+"), p.wrap(e.b, SUM)]), SUM


def _is_hadamard(e) -> bool:
    return (isinstance(e, E.Mul) and not is_minus_one(e.a) and not _is_scalar_like(e.a)
            and not _is_scalar_like(e.b) and not (isinstance(e.b, E.Pow) and is_minus_one(e.b.b)))


def _factor(p, e, strict=False):
    """An operand of ⊙ or of a matrix product: the other of the two is bracketed,
    never left to precedence (A ⊙ B C is the ambiguity the documents fall into)."""
    if isinstance(e, E.MatMul) or _is_hadamard(e):
        return ("paren", p.build(e)[0])
    return p.wrap(e, PRODUCT, strict)


def _mul(p, e):
    if is_minus_one(e.a):
        return ("row", [_op("-", "−"), p.wrap(e.b, UNARY)]), UNARY
    if isinstance(e.b, E.Pow) and is_minus_one(e.b.b):  # a * b**-1 is a / b
        return ("frac", p.build(e.a)[0], p.build(e.b.a)[0]), PRODUCT
    if _is_scalar_like(e.a) or _is_scalar_like(e.b):  # scaling: juxtaposition
        return ("row", [p.wrap(e.a, PRODUCT), _op("\\,", "\u2062"), p.wrap(e.b, PRODUCT, strict=True)]), PRODUCT
    a = p.wrap(e.a, PRODUCT) if _is_hadamard(e.a) else _factor(p, e.a)
    return ("row", [a, _op("\\odot", "⊙"), _factor(p, e.b, strict=True)]), PRODUCT


def _matmul(p, e):
    a = p.wrap(e.a, PRODUCT) if isinstance(e.a, E.MatMul) else _factor(p, e.a)
    return ("row", [a, _op("\\,", "\u2062"), _factor(p, e.b, strict=True)]), PRODUCT


def _pow(p, e):
    if is_minus_one(e.b):
        return ("frac", ("atom", sympy.Integer(1)), p.build(e.a)[0]), PRODUCT
    return ("sup", p.wrap(e.a, POWER, strict=True), p.build(e.b)[0]), POWER


def _transpose(p, e):
    return ("sup", p.wrap(e.a, ATOM), _op("\\top", "T")), POWER


def _operator_name(name: str) -> str:
    return "\\operatorname{" + name.replace("_", "\\_") + "}"


def _apply(p, e):
    """An elementwise function as its table row says (functions.py: latex, mathml, layout)."""
    fn = e.fn
    if fn.generic:  # generic g_prime is g′
        base, primes = fn.name, 0
        while base.endswith(PRIME_SUFFIX):
            base, primes = base[: -len(PRIME_SUFFIX)], primes + 1
        return p.call(base + "'" * primes, base + "′" * primes, e.a)
    if fn.layout != "call":  # √x, |x|
        return (fn.layout, p.build(e.a)[0]), ATOM
    return p.call(fn.latex or _operator_name(fn.name), fn.mathml or fn.name, e.a)


def _apply_matrix(p, e):
    return p.call(e.fn.latex, e.fn.mathml, e.a)


def _extreme(p, e):
    name = e.which if e.axis is None else f"{e.which}_{e.axis}"
    return p.call(f"\\{e.which}" if e.axis is None else f"\\{e.which}_{{{e.axis}}}", name, e.a)


def _extreme_mask(p, e):
    name = f"{e.which}_mask" + ("" if e.axis is None else f"_{e.axis}")
    latex = _operator_name(f"{e.which}_mask") + ("" if e.axis is None else f"_{{{e.axis}}}")
    return p.call(latex, name, e.a)


def _matpow(p, e):
    return ("sup", p.wrap(e.a, POWER, strict=True), ("atom", sympy.sympify(e.exponent))), POWER


def _kron(p, e):
    return ("row", [_factor(p, e.a), _op("\\otimes", "⊗"), _factor(p, e.b, strict=True)]), KRON


def _named(latex_name, mathml_name):
    return lambda p, e: p.call(latex_name, mathml_name, e.a)


def _sum(p, e):
    if e.axis is None:
        return p.call("\\operatorname{sum}", "sum", e.a)
    return p.call(f"\\operatorname{{sum}}_{{{e.axis}}}", f"sum_{e.axis}", e.a)


def _inv(p, e):
    return ("sup", p.wrap(e.a, ATOM), ("atom", sympy.Integer(-1))), POWER


def _inner(p, e):
    return ("row", [p.wrap(e.a, PRODUCT), _op("\\bullet", "•"), p.wrap(e.b, PRODUCT, strict=True)]), PRODUCT


def _partial(p, f, wrt):
    top = ("row", [_op("\\partial", "∂"), p.wrap(f, ATOM)])
    return ("frac", top, ("row", [_op("\\partial", "∂"), p.wrap(wrt, ATOM)]))


def _grad(p, e):
    return _partial(p, e.f, e.wrt), PRODUCT


def _directional(p, e):
    return ("row", [_partial(p, e.f, e.wrt), _op("[", "["), p.build(e.direction)[0], _op("]", "]")]), PRODUCT


_NOTATION = {
    E.Symbol: _symbol, E.Defined: _symbol, E.Scalar: _scalar, E.Fill: _fill,
    E.Add: _add, E.Mul: _mul, E.MatMul: _matmul, E.Pow: _pow, E.Transpose: _transpose,
    E.Apply: _apply, E.Softmax: _named("\\operatorname{softmax}", "softmax"), E.Sum: _sum,
    E.Trace: _named("\\operatorname{tr}", "tr"), E.Det: _named("\\det", "det"), E.Inv: _inv,
    E.Diag: _named("\\operatorname{diag}", "diag"), E.Inner: _inner,
    E.Extreme: _extreme, E.ExtremeMask: _extreme_mask, E.ApplyMatrix: _apply_matrix, E.MatPow: _matpow,
    E.Kron: _kron, E.Vec: _named("\\operatorname{vec}", "vec"),
    E.OuterSum: lambda p, e: p.call(_operator_name("outer_sum"), "outer_sum", e.a, e.b),
    E.Grad: _grad, E.Jacobian: _grad, E.Directional: _directional,
}


# ---------------------------------------------------------------- LaTeX


def _latex(lay) -> str:
    return _LATEX[lay[0]](*lay[1:])


def _script(mark):
    return lambda base, script: f"{{{_latex(base)}}}{mark}{{{_latex(script).strip()}}}"


_LATEX = {  # layout kind -> LaTeX
    "atom": lambda obj: sympy.latex(obj),
    "op": lambda latex, mathml: latex if latex in ("\\,", "[", "]") else f" {latex} ",
    "row": lambda items: "".join(_latex(x) for x in items),
    "paren": lambda x: f"\\left({_latex(x)}\\right)",
    "sup": _script("^"),
    "sub": _script("_"),
    "frac": lambda num, den: f"\\frac{{{_latex(num)}}}{{{_latex(den)}}}",
    "call": lambda latex_name, mathml_name, x: f"{latex_name}\\left({_latex(x)}\\right)",
    "abs": lambda x: f"\\left|{_latex(x)}\\right|",
    "sqrt": lambda x: f"\\sqrt{{{_latex(x)}}}",
}


def symbol_latex(name: str) -> str:
    """A claim's name (W1, dW, L_target) as SymPy writes it in LaTeX."""
    return sympy.latex(_sym(name))


def to_latex(e: E.Expr) -> str:
    return _latex(_Layout().build(e)[0]).strip()


# ---------------------------------------------------------------- MathML


class _MathML:
    def __init__(self):
        self.printer = MathMLPresentationPrinter()
        self.dom = xml.dom.minidom.Document()
        self.printer.dom = self.dom

    def el(self, tag, *children, text=None):
        node = self.dom.createElement(tag)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for c in children:
            node.appendChild(c)
        return node

    def fence(self, text):
        mo = self.el("mo", text=text)
        mo.setAttribute("lspace", "0")
        mo.setAttribute("rspace", "0")
        return mo

    def render(self, lay):
        return getattr(self, f"_{lay[0]}")(*lay[1:])  # one method per layout kind

    def _atom(self, obj):
        return self.printer._print(obj)

    def _op(self, latex, mathml):
        return self.el("mo", text=mathml)

    def _row(self, items):
        return self.el("mrow", *[self.render(x) for x in items])

    def _paren(self, x):
        return self.el("mrow", self.fence("("), self.render(x), self.fence(")"))

    def _pair(self, tag, a, b):
        return self.el(tag, self.el("mrow", a), self.el("mrow", b))

    def _sup(self, base, exp):
        # ᵀ is an identifier-like superscript, not an operator
        script = self.el("mi", text=exp[2]) if exp[0] == "op" else self.render(exp)
        return self._pair("msup", self.render(base), script)

    def _sub(self, base, sub):
        return self._pair("msub", self.render(base), self.render(sub))

    def _frac(self, num, den):
        return self._pair("mfrac", self.render(num), self.render(den))

    def _call(self, latex_name, mathml_name, x):
        name = self.el("mi", text=mathml_name)
        if len(mathml_name) > 1:
            name.setAttribute("mathvariant", "normal")
        return self.el("mrow", name, self.el("mo", text="\u2061"), self.fence("("), self.render(x), self.fence(")"))

    def _abs(self, x):
        return self.el("mrow", self.el("mo", text="|"), self.render(x), self.el("mo", text="|"))

    def _sqrt(self, x):
        return self.el("msqrt", self.render(x))


def to_mathml(*parts, display: bool = True) -> str:
    """Presentation MathML for expressions joined by operators: ``to_mathml(lhs, "=", rhs)``.

    Strings in ``parts`` are operators; expressions are laid out by the table above;
    anything else is a SymPy object, printed by SymPy."""
    m = _MathML()
    row = []
    for part in parts:
        if isinstance(part, str):
            row.append(m.el("mo", text=part))
        elif isinstance(part, E.Expr):
            row.append(m.render(_Layout().build(part)[0]))
        else:  # a SymPy object such as the stated matrix of a worked example
            row.append(m.render(("atom", part)))
    math = m.el("math", m.el("mrow", *row))
    math.setAttribute("xmlns", "http://www.w3.org/1998/Math/MathML")
    math.setAttribute("display", "block" if display else "inline")
    return math.toxml()
