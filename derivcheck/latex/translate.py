"""LaTeX parse trees to derivcheck expressions, with the document's declarations.

One method per grammar rule (``_<rule>``), as the claim-file parser has one
per ``ast`` node.  What a piece of notation means is looked up in tables
(functions, styles, transpose marks, skip reasons), not decided by if-chains
over spellings.  Anything the vocabulary cannot say raises :class:`Skip` with
a reason from ``REASONS``; an index letter that the declarations instantiate
raises :class:`NeedIndex` so that the caller checks the equation once per
value; a product that mixes ⊙ with matrix products without brackets is an
ambiguity *site*: the caller translates it once per reading.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Callable

import sympy
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from .. import expr as E
from ..functions import FUNCTIONS, PRIMES
from ..parse import ExpressionError, Scope, parse_expression
from ..printing import to_text
from ..vocabulary import CALLS
from .prepare import prepare

__all__ = ["READINGS", "SITE_KINDS", "Skip", "NeedIndex", "UnknownName", "Translator", "parse_statement", "members_of", "REASONS", "Member", "Fn"]

#: Why an equation (or one member of a chain) is not checked: one row per reason.
REASONS = {
    "parse error": "the LaTeX does not parse (malformed, unbalanced braces or an unsupported construct)",
    "unknown macro": "a command that is neither standard nor defined by the document",
    "unknown name": "a name the declarations do not give a shape or a definition",
    "index notation": "index notation (entries, sums over indices) beyond the vocabulary",
    "prose inside math": "words inside the mathematics",
    "matrix literal": "a matrix written out entry by entry",
    "cases": "a definition by cases",
    "ellipsis": "an ellipsis (…): a pattern, not a formula",
    "tensor derivative": "a derivative of a vector or matrix by a matrix (a tensor)",
    "function signature": "a function's domain and codomain, or a set",
    "not a claim": "an expression on its own, with no relation to check",
    "relation not checked": "a relation other than equality (≈, ←, ∈, <, …)",
    "update rule": "an assignment (←), such as a gradient-descent update",
    "macro definitions": "macro definitions only",
    "unsupported notation": "notation outside the vocabulary",
    "ambiguous": "too many ambiguous products to check every reading",
    "skipped by the declarations": "skipped by the declarations",
    "unclosed display": "a display that is never closed",
    "internal error": "the front end failed on this equation (a bug: please report it)",
}


class Skip(Exception):
    """Notation the vocabulary cannot express; ``reason`` is a key of REASONS."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or REASONS[reason])
        self.reason, self.detail = reason, detail or REASONS[reason]


class NeedIndex(Exception):
    """An index the declarations instantiate, met without a value: check once per value."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


_PARSER = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        from importlib.resources import files

        grammar = files("derivcheck.latex").joinpath("grammar.lark").read_text(encoding="utf-8")
        # cache=True keeps the compiled LALR tables in the temporary directory: the next process skips building them
        # no propagate_positions: spans come from the tokens (span()), which halves the parse time
        _PARSER = Lark(grammar, parser="lalr", maybe_placeholders=False, cache=True)
    return _PARSER


@dataclass
class Parsed:
    tree: Tree
    text: str  # the prepared text the tree's positions refer to
    environments: dict
    label: str


def span(tree) -> tuple[int, int]:
    """Where a subtree's text lies in the parsed text: its first token's start, its last token's end."""
    first = last = tree
    while isinstance(first, Tree):
        if not first.children:
            return 0, 0
        first = first.children[0]
    while isinstance(last, Tree):
        last = last.children[-1]
    return first.start_pos, last.end_pos


def members_of(parsed: Parsed) -> list:
    """A statement's members and the relations between them, untranslated."""
    stmt = parsed.tree.children[0]
    out, rel = [], None
    for child in stmt.children:
        if child.data == "rel":
            rel = "".join(str(t) for t in child.children if isinstance(t, Token))
            continue
        start, end = span(child)
        out.append(Member(rel, child, parsed.text[start:end], parsed))
        rel = None
    if rel is not None:
        out.append(Member(rel, None, "", parsed))
    return out


@functools.lru_cache(maxsize=4096)
def parse_statement(latex: str) -> Parsed:
    """Parse one statement; raises Skip('parse error') naming the position.

    Cached by text: documents repeat equations (the parse trees are never modified)."""
    prepared = prepare(latex)
    try:
        tree = _parser().parse(prepared.text)
    except UnexpectedInput as exc:
        where = prepared.text[max(0, exc.pos_in_stream - 15):exc.pos_in_stream + 15] if exc.pos_in_stream is not None else ""
        token = getattr(exc, "token", None)
        what = f"unexpected {str(token)!r}" if token is not None and str(token) else "unexpected end"
        if isinstance(token, Token) and token.type == "$END":
            what = "unexpected end (an unclosed bracket or brace?)"
        raise Skip("parse error", f"{what} near {where.strip()!r}") from None
    except LarkError as exc:
        raise Skip("parse error", str(exc).splitlines()[0]) from None
    return Parsed(tree, prepared.text, prepared.environments, prepared.label)


# ---------------------------------------------------------------- tables

GREEK = {g: g for g in (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho "
    "varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
    "Psi Omega ell").split()}

#: LaTeX function commands and words (\text{…}, \operatorname{…}) -> vocabulary call name
FUNCTION_WORDS = {
    "log": "log", "ln": "log", "exp": "exp", "tanh": "tanh", "sin": "sin", "cos": "cos", "sqrt": "sqrt",
    "sigmoid": "sigmoid", "softmax": "softmax", "Softmax": "softmax", "ReLU": "relu", "relu": "relu", "Relu": "relu",
    "diag": "diag", "Diag": "diag", "tr": "trace", "Tr": "trace", "trace": "trace", "det": "det", "step": "step",
    "max": "max", "abs": "abs", "sgn": None, "sign": None,
}
#: commands that are functions unless the declarations give the name another meaning
FUNCTION_COMMANDS = {"\\log": "log", "\\ln": "log", "\\exp": "exp", "\\tanh": "tanh", "\\sin": "sin",
                     "\\cos": "cos", "\\det": "det", "\\tr": "trace", "\\sigma": "sigmoid", "\\max": "max"}
#: commands whose meaning depends on a convention the document does not state: refused with the reason
REFUSED_COMMANDS = {"\\lg": "\\lg is the logarithm to base 2 in computer science and to base 10 in ISO 80000-2: "
                              "write \\log_2 or \\log_{10}"}
#: \style{x} -> how the name is formed from x
STYLES = {
    "\\mathbf": "{}", "\\boldsymbol": "{}", "\\bm": "{}", "\\vec": "{}", "\\overrightarrow": "{}", "\\mathit": "{}",
    "\\mathcal": "{}", "\\mathscr": "{}", "\\mathsf": "{}", "\\textbf": "{}", "\\textit": "{}",
    "\\hat": "{}hat", "\\widehat": "{}hat", "\\bar": "{}bar", "\\overline": "{}bar", "\\tilde": "{}tilde",
    "\\widetilde": "{}tilde", "\\dot": "{}dot", "\\ddot": "{}ddot", "\\check": "{}check", "\\breve": "{}breve",
    "\\acute": "{}acute", "\\grave": "{}grave", "\\mathfrak": "{}",
}
WORD_STYLES = {"\\text", "\\mathrm", "\\operatorname", "\\operatorname*", "\\textrm", "\\mbox"}
TRANSPOSE_MARKS = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\rm T", "\\rmT", "t", "\\mathbf{T}",
                   "\\textsf{T}", "\\text{T}", "\\mathit{T}"}
SETS = {"R", "N", "Z", "C", "Q"}
MATRIX_ENVS = {"matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "array"}
#: operators between factors of a product: what kind of product each writes
PRODUCT_KINDS = {None: "mat", "\\cdot": "mat", "\\times": "mat", "*": "mat", "\\ast": "mat", "\\odot": "had",
                 "\\circ": "had", "\\otimes": "outer", "\\bullet": "inner", "/": "div", "\\div": "div"}
#: the two readings of each kind of ambiguous product, and what makes it ambiguous
READINGS = {"mixed": {"a": "matrix products first", "b": "⊙ first"},
            "juxtaposed": {"a": "as a matrix product", "b": "as an elementwise product"}}
SITE_KINDS = {"mixed": "⊙ next to a matrix product without brackets",
              "juxtaposed": "two vectors of one shape side by side, where a matrix product does not fit"}


@dataclass
class Fn:
    """Something applied to an argument: a function of the vocabulary, a generic g, or g'."""

    name: str
    call: Callable  # list[Expr] -> Expr
    prime: Callable | None = None  # -> Fn, the derivative
    arity: int = 1


@dataclass
class DerivOp:
    """∂/∂X (or d/dX) written as an operator: applies to the rest of the product."""

    wrt: E.Expr


@dataclass
class SumOp:
    index: str
    lower: str
    upper: str


@dataclass
class Nabla:
    wrt: E.Expr | None


@dataclass
class Partial:
    """A bare \\partial or d inside a derivative."""


@dataclass
class NameRef:
    """A name still being built from its scripts (W, then W^{[1]} -> W1)."""

    name: str
    latex: str
    bound: dict | None = None  # the sum whose index subscripts it (a_j^2 in Σ_j): recorded when resolved


@dataclass
class Member:
    rel: str | None  # the relation before this member ("=", ":=", ...) or None for the first
    tree: Tree | None
    latex: str  # the member's prepared text
    parsed: Parsed | None = None  # the statement it belongs to (positions refer to its text)


@dataclass
class Translator:
    scope: Scope
    names: dict = field(default_factory=dict)  # canonical LaTeX -> value string
    indices: dict = field(default_factory=dict)  # index name -> int | list
    assignment: dict = field(default_factory=dict)  # index name -> the value in force
    layout: str = "denominator"
    superscript: str = "power"
    loss: str = ""
    choices: dict = field(default_factory=dict)  # ambiguity site -> "a" | "b"
    params: dict = field(default_factory=dict)  # defined name -> parameter symbols (f(x, w) = ...)
    sites: list = field(default_factory=list)  # ambiguity sites met, in order
    site_shapes: dict = field(default_factory=dict)
    text: str = ""
    environments: dict = field(default_factory=dict)
    guesses: list = field(default_factory=list)  # readings the notation does not decide (x^2 of a vector), said
    _bound: list = field(default_factory=list)  # stack of {index: [(expr, axis)]} for sums being read

    # ------------------------------------------------------------ entry points

    def member(self, m: Member) -> E.Expr:
        """The expression of one member of a statement."""
        self.text, self.environments = m.parsed.text, m.parsed.environments
        return self.expression(m.tree)

    def expression(self, tree: Tree) -> E.Expr:
        value = self._value(tree)
        return self._as_expr(value, tree)

    def source(self, tree: Tree) -> str:
        return self._src(tree)

    # ------------------------------------------------------------ helpers

    def _src(self, tree) -> str:
        if isinstance(tree, Token):
            return str(tree)
        start, end = span(tree)
        return self.text[start:end]

    def _as_expr(self, value, tree=None) -> E.Expr:
        if isinstance(value, NameRef):
            value = self._resolve(value)
        if isinstance(value, E.Expr):
            return value
        what = self._src(tree) if tree is not None else ""
        if isinstance(value, Fn):
            raise Skip("unsupported notation", f"the function {value.name} without an argument ({what})")
        if isinstance(value, (DerivOp, Nabla, Partial)):
            raise Skip("unsupported notation", f"a derivative operator with nothing to act on ({what})")
        if isinstance(value, SumOp):
            raise Skip("index notation", f"a sum with nothing to sum ({what})")
        raise Skip("unsupported notation", what)

    def _value(self, tree):
        if isinstance(tree, Token):
            raise Skip("parse error", f"unexpected {tree!s}")
        method = getattr(self, f"_{tree.data}", None)
        if method is None:
            raise Skip("unsupported notation", f"{tree.data}: {self._src(tree)}")
        return method(tree)

    # ------------------------------------------------------------ sums and products

    def _sum(self, tree):
        kids = tree.children
        i, sign = 0, 1
        if kids and kids[0].data == "sign":
            sign = -1 if str(kids[0].children[0]) in ("-", "\\mp") else 1
            if str(kids[0].children[0]) in ("\\pm", "\\mp"):
                raise Skip("unsupported notation", "±")
            i = 1
        value = self._value(kids[i])
        if len(kids) == i + 1 and sign == 1:
            return value
        total = self._as_expr(value, kids[i])
        if sign == -1:
            total = -total
        i += 1
        while i < len(kids):
            op = str(kids[i].children[0])
            rhs = self._as_expr(self._value(kids[i + 1]), kids[i + 1])
            if op in ("\\pm", "\\mp"):
                raise Skip("unsupported notation", "±")
            total = total + rhs if op == "+" else total - rhs
            i += 2
        return total

    def _term(self, tree):
        factors, op = [], None
        for child in tree.children:
            if child.data == "mulop":
                op = str(child.children[0])
                continue
            factors.append((op, child))
            op = None
        return self._product(factors, tree)

    def _product(self, factors, tree):
        if len(factors) == 1:
            value = self._value(factors[0][1])
            if isinstance(value, (NameRef, Fn)):
                return value  # {g^{[L]}}' : the braces group a name, not a product
        items: list = []  # (op, value)
        i = 0
        while i < len(factors):
            op, ft = factors[i]
            value = self._value(ft)
            if isinstance(value, Partial):  # \partial A / \partial B written inline
                if i + 3 < len(factors) and factors[i + 2][0] == "/" and isinstance(self._value(factors[i + 2][1]), Partial):
                    f = self._as_expr(self._value(factors[i + 1][1]), factors[i + 1][1])
                    wrt = self._as_expr(self._value(factors[i + 3][1]), factors[i + 3][1])
                    items.append((op, self._derivative(f, wrt, factors[i + 3][1])))
                    i += 4
                    continue
                raise Skip("unsupported notation", f"∂ outside a derivative ({self._src(tree)})")
            if isinstance(value, NameRef):
                value = self._resolve_or_call(value, factors, i)
                if isinstance(value, tuple):  # a defined function applied to arguments
                    value, used = value
                    items.append((op, value))
                    i += 1 + used
                    continue
            if isinstance(value, Fn):
                if i + 1 >= len(factors):
                    raise Skip("unsupported notation", f"{value.name} without an argument")
                args = self._arguments(factors[i + 1][1])
                items.append((op, value.call(args)))
                i += 2
                continue
            if isinstance(value, (DerivOp, SumOp)):
                rest = factors[i + 1:]
                if not rest:
                    raise Skip("unsupported notation", f"an operator with nothing to act on ({self._src(tree)})")
                if isinstance(value, DerivOp):
                    inner = self._product([(None, rest[0][1])] + rest[1:], tree)
                    items.append((op, self._derivative(self._as_expr(inner, tree), value.wrt, tree)))
                else:
                    items.append((op, self._index_sum(value, [(None, rest[0][1])] + rest[1:], tree)))
                break
            if isinstance(value, Nabla):
                if i + 1 >= len(factors):
                    raise Skip("unsupported notation", "∇ with nothing to act on")
                target = self._as_expr(self._value(factors[i + 1][1]), factors[i + 1][1])
                if value.wrt is None:
                    if not self.loss or self.loss not in self.scope.defines:
                        raise Skip("unsupported notation", "∇X without a subscript needs `loss` in the declarations")
                    items.append((op, self._derivative(self.scope.defines[self.loss], target, factors[i + 1][1])))
                else:
                    items.append((op, self._derivative(target, value.wrt, factors[i + 1][1])))
                i += 2
                continue
            items.append((op, self._as_expr(value, ft)))
            i += 1
        return self._combine(items, tree)

    def _arguments(self, tree) -> list:
        atom = tree.children[0]
        if atom.data == "paren" and len(tree.children) == 1:
            return [self.expression(c) for c in atom.children if isinstance(c, Tree)]
        return [self._as_expr(self._value(tree), tree)]

    def _resolve_or_call(self, ref: NameRef, factors, i):
        """A name; a defined function followed by its arguments is applied to them."""
        value = self._resolve(ref)
        if isinstance(value, Fn):
            return value
        nxt = factors[i + 1][1] if i + 1 < len(factors) and factors[i + 1][0] is None else None
        if nxt is not None and nxt.children[0].data == "paren" and len(nxt.children) == 1 and isinstance(value, E.Defined):
            params = self.params.get(value.name)
            args = [self.expression(c) for c in nxt.children[0].children if isinstance(c, Tree)]
            if params is not None:
                if len(args) != len(params):
                    raise Skip("unsupported notation", f"{value.name} takes {len(params)} arguments, got {len(args)}")
                mapping = {p.name: a for p, a in zip(params, args) if not (isinstance(a, E.Symbol) and a.name == p.name)}
                return (substitute(value, mapping) if mapping else value), 1
            if E.shape_or_none(value) == (1, 1) and all(_depends_on(value, a) for a in args):
                return value, 1  # L(ŷ): the loss written with its argument
        return value

    def _combine(self, items, tree):
        """A flat product: coefficients out, then matrix and Hadamard products (two readings when mixed)."""
        if len(items) == 1:
            return items[0][1]
        # division binds the factors next to it
        merged = [list(items[0])]
        for op, value in items[1:]:
            if PRODUCT_KINDS.get(op) == "div":
                merged[-1][1] = merged[-1][1] * E.Pow(value, E.Scalar(sympy.Integer(-1)))
            else:
                merged.append([op, value])
        scalars, rest = [], []
        for k, (op, value) in enumerate(merged):
            if _is_scalar(value):
                scalars.append(value)
                # a coefficient belongs to what follows it: the operator before it stays
                if k + 1 < len(merged) and PRODUCT_KINDS.get(merged[k + 1][0]) == "mat":
                    merged[k + 1][0] = op if rest else None
                continue
            rest.append((op if rest else None, value))
        coefficient = None
        for s in scalars:
            coefficient = s if coefficient is None else coefficient * s
        if not rest:
            return coefficient
        kinds = {PRODUCT_KINDS.get(op, "mat") for op, _ in rest[1:]}
        if "inner" in kinds:
            raise Skip("unsupported notation", "• between more than two factors")
        if kinds <= {"mat", "outer"} or kinds <= {"had"}:
            product = self._fold(rest, tree)
        else:
            choice = self._site(tree, "mixed")
            split_on = "had" if choice == "a" else "mat"
            groups, current = [], []
            for op, value in rest:
                if current and PRODUCT_KINDS.get(op, "mat") == split_on:
                    groups.append(current)
                    current = [(None, value)]
                else:
                    current.append((op if current else None, value))
            groups.append(current)
            parts = [self._fold(g) for g in groups]
            joiner = "\\odot" if split_on == "had" else None
            product = self._fold([(None if k == 0 else joiner, p) for k, p in enumerate(parts)])
        return product if coefficient is None else coefficient * product

    def _site(self, tree, kind: str) -> str:
        """Register an ambiguity site; the reading chosen for it ("a" unless told otherwise)."""
        pos = span(tree)[0]
        site = (pos, self._src(tree), kind)
        if site not in self.sites:
            self.sites.append(site)
        return self.choices.get(site, "a")

    def _fold(self, items, tree=None):
        value = items[0][1]
        for op, nxt in items[1:]:
            kind = PRODUCT_KINDS.get(op, "mat")
            if kind == "had":
                value = E.Mul(value, nxt)
            elif kind == "outer":
                value = E.MatMul(value, E.Transpose(nxt))
            elif kind == "inner":
                value = E.Inner(value, nxt)
            elif op is None and self._bound and E.shape_or_none(value) == E.shape_or_none(nxt) is not None:
                value = E.Mul(value, nxt)  # inside Σ_i, y_i log p_i multiplies entries: numbers, not matrices
            elif op is None and tree is not None and _side_by_side_vectors(value, nxt):
                value = E.MatMul(value, nxt) if self._site(tree, "juxtaposed") == "a" else E.Mul(value, nxt)
            else:
                value = _matrix_product(value, nxt, op)
        return value

    # ------------------------------------------------------------ factors and atoms

    def _factor(self, tree):
        atom, posts = tree.children[0], tree.children[1:]
        if atom.data == "bigop":
            return self._sum_operator(atom, posts)
        key_value = self._names_lookup(atom, posts)
        if key_value is not None:
            value, used = key_value
            posts = posts[used:]
        else:
            value = self._value(atom)
        if isinstance(value, _Norm):
            value, posts = self._norm_posts(value, posts)
        for post in posts:
            value = self._post(value, post, atom)
        return value

    def _sum_operator(self, atom, posts):
        op = str(atom.children[0])
        if op != "\\sum":
            raise Skip("unsupported notation", f"{op}{''.join(self._src(p) for p in posts)}")
        lower = upper = ""
        for p in posts:
            if p.data == "sub":
                lower = _script_text(p)
            elif p.data == "sup":
                upper = _script_text(p)
            else:
                raise Skip("unsupported notation", "a prime on Σ")
        index = lower.split("=")[0].strip() if lower else ""
        if not index:
            raise Skip("index notation", "a sum without an index")
        return SumOp(index, lower, upper)

    def _names_lookup(self, atom, posts):
        """The longest atom+scripts prefix that the declarations name."""
        if not self.names:
            return None
        canon = _canonical_names(self.names)
        head = _canon(self._src(atom))
        if not any(k.startswith(head) for k in canon):  # most factors: no key begins with this atom
            return None
        for used in range(len(posts), -1, -1):
            key = head + _canon("".join(self._src(p) for p in posts[:used]))
            if key in canon:
                return self._names_value(canon[key], key), used
        return None

    def _names_value(self, text: str, key: str):
        def fill(m):
            name = m.group(1)
            if name not in self.assignment:
                if name in self.indices:
                    raise NeedIndex(name)
                raise Skip("unknown name", f"[names] {key}: {{{name}}} is not a declared index")
            return str(self.assignment[name])

        text = re.sub(r"\{([A-Za-z]+)\}", fill, text)
        stripped = text.strip()
        if stripped in self.scope.generics:
            return self._generic_fn(stripped)
        if stripped in CALLS and CALLS[stripped][1] == ("e",):
            return self._call_fn(stripped)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stripped) and self.scope.lookup(stripped) is None:
            raise UnknownName(stripped, key)  # a name the document is about to define
        try:
            return parse_expression(stripped, self.scope)
        except ExpressionError as exc:
            raise Skip("unknown name", f"[names] {key} = {text!r}: {exc}") from None

    def _norm_posts(self, norm, posts):
        """‖x‖, ‖X‖_F, ‖x‖²: the squared norm is a sum of squares (no square root)."""
        rest = list(posts)
        if len(rest) >= 2 and (rest[0].data, rest[1].data) == ("sup", "sub"):
            rest[0], rest[1] = rest[1], rest[0]  # ‖x‖^2_2 is ‖x‖_2^2
        arg = norm.inner
        if rest and rest[0].data == "sub":
            kind = _script_text(rest[0])
            shape = E.shape_or_none(arg)
            if kind not in ("F", "2") or (kind == "2" and shape is not None and 1 not in shape):
                raise Skip("unsupported notation", f"the norm ‖·‖_{kind}")
            rest = rest[1:]
        squares = E.Sum(E.Pow(arg, E.Scalar(sympy.Integer(2))))
        if rest and rest[0].data == "sup" and _script_text(rest[0]) == "2":
            return squares, rest[1:]
        return E.Apply(FUNCTIONS["sqrt"], squares), rest

    def _post(self, value, post, atom):
        kind = post.data
        if kind == "prime":
            value = self._resolve(value) if isinstance(value, NameRef) else value
            if not isinstance(value, Fn) or value.prime is None:
                raise Skip("unsupported notation", f"a prime on something that is not a function ({self._src(atom)}')")
            for _ in range(len(post.children)):
                value = value.prime()
            return value
        script = _script_text(post)
        if kind == "sub":
            return self._subscript(value, script, atom)
        return self._superscript(value, script, atom)

    def _subscript(self, value, script, atom):
        bound = self._bound_index(script)
        if bound is not None:
            if isinstance(value, NameRef):  # a_j^2: the layer superscript may still follow
                return NameRef(value.name, value.latex + "_" + script, bound)
            return self._bound_use(value, bound, atom)
        if isinstance(value, NameRef) and value.name in ("_ones", "_zeros") and script.strip() in self.scope.dims:
            size = self.scope.dims[script.strip()]  # \mathbf{1}_N: the column of N ones
            return E.Fill(value.name[1:], size, 1)
        if isinstance(value, NameRef) and value.name == "I" and script.strip() in self.scope.dims \
                and "I" not in self.scope.symbols and "I" not in self.scope.defines:
            size = self.scope.dims[script.strip()]  # I_n: the identity matrix
            return E.Fill("eye", size, size)
        if isinstance(value, NameRef):
            number = self._index_value(script)
            if number is not None:
                return NameRef(value.name + str(number), value.latex + "_" + script)
            word = _word(script)
            if word is not None and len(word) > 1 and not re.fullmatch(r"[i-t]+", word):  # X_ij is an entry
                return NameRef(f"{value.name}_{word}", value.latex + "_" + script)
            raise Skip("index notation", f"{value.latex}_{{{script}}} is an entry")
        if isinstance(value, Nabla) and value.wrt is None:
            return Nabla(self._script_expr(script))
        if isinstance(value, Fn):
            return self._function_subscript(value, script, atom)
        raise Skip("index notation", f"a subscript on an expression ({self._src(atom)}_{{{script}}}): an entry")

    def _function_subscript(self, fn: Fn, script: str, atom) -> Fn:
        """log_b with a numeric base b is log / log b; any other subscript on a function is refused, never dropped."""
        base = _log_base(script, self.scope) if fn.name == "log" else None
        if base is None:
            raise Skip("unsupported notation", f"the subscript _{{{script}}} on the function {fn.name} "
                       f"({self._src(atom)}_{{{script}}}): only a numeric base of log is read; name it in [names]")
        return _log_to_base(fn, base)

    def _superscript(self, value, script, atom):
        bare = script.strip()
        if bare in TRANSPOSE_MARKS and not self._declared(bare):  # x^t is x at t when t is an index or a size
            return E.Transpose(self._as_expr(value, atom))
        if bare in ("-1",) and not isinstance(value, Fn):
            e = self._as_expr(value, atom)
            return E.Pow(e, E.Scalar(sympy.Integer(-1))) if _is_scalar(e) else E.Inv(e)
        hadamard = re.fullmatch(r"\\(?:circ|odot)\s*(.+)", bare)
        if hadamard is not None:  # A^{\circ 2}: the Hadamard power, entry by entry whatever A is
            return E.Pow(self._as_expr(value, atom), self._script_expr(hadamard.group(1)))
        if bare in ("\\prime", "'"):
            return self._post(value, Tree("prime", [Token("PRIME", "'")]), atom)
        if bare in ("*", "\\ast", "\\star") and isinstance(value, NameRef):
            return NameRef(value.name + "_star", value.latex + "^*")
        m = re.fullmatch(r"[\[(](.*)[\])]", bare)
        if m is not None:
            inner = m.group(1).strip()
            bound = self._bound_index(inner)
            if bound is not None:
                return self._bound_use(value, bound, atom)
            number = self._index_value(inner)
            if number is not None and isinstance(value, (NameRef, Fn)):
                if isinstance(value, Fn):
                    return self._resolve(NameRef(value.name + str(number), ""))
                return NameRef(value.name + str(number), value.latex + "^" + script, value.bound)
            if number is None and isinstance(value, NameRef):
                raise Skip("index notation", f"{value.latex}^{{{script}}}: an index ({inner}) the declarations do not give")
            raise Skip("unsupported notation", f"the superscript {script} on {self._src(atom)}")
        if self.superscript == "layer" and isinstance(value, (NameRef, Fn)):
            number = self._index_value(bare)
            if number is not None:
                if isinstance(value, Fn):
                    return self._resolve(NameRef(value.name + str(number), ""))
                return NameRef(value.name + str(number), value.latex + "^" + script, value.bound)
        if isinstance(value, NameRef) and value.name == "e" and "e" not in self.scope.symbols \
                and "e" not in self.scope.defines:
            return E.Apply(FUNCTIONS["exp"], self._script_expr(script))
        if isinstance(value, Fn):  # \tanh^2(a), \sin^{-1}(a), f^2(x): a power of the value, an inverse, f∘f
            raise Skip("unsupported notation", f"the superscript ^{{{script}}} on the function {value.name} "
                       f"({self._src(atom)}^{{{script}}}): a power of its value, an inverse function or a composition; "
                       "write the power outside the brackets")
        base = self._as_expr(value, atom)
        return self._power(base, self._script_expr(script), script, atom)

    def _power(self, base: E.Expr, exponent: E.Expr, script: str, atom) -> E.Expr:
        """base^exponent by what the base is (_operand_kind): the matrix power of a square matrix,
        an ordinary power of a number, the entries' powers of a vector or a non-square matrix (a guess, noted)."""
        kind = _operand_kind(base)
        if self._bound:
            kind = "scalar"  # inside Σ_i the indexed objects stand for their entries: numbers
        written = f"{self._src(atom)}^{{{script}}}"
        if kind == "square":
            k = _integer_exponent(exponent)
            if k is None:
                raise Skip("unsupported notation", f"{written}: a power of a square matrix whose exponent is not an "
                           "integer (a matrix root is sqrtm; for entrywise powers write A^{\\circ p})")
            return E.Inv(base) if k == -1 else E.MatPow(base, k)
        if kind in ("vector", "matrix"):
            rows, cols = E.shape(base)
            self.guesses.append(f"{written} of the {rows}×{cols} {kind} {to_text(base)} is read as elementwise "
                                "(each entry's power)")
        return E.Pow(base, exponent)

    def _declared(self, name: str) -> bool:
        return any(name in table for table in (self.indices, self.assignment, self.scope.dims, self.scope.symbols,
                                                self.scope.defines))

    def _script_expr(self, script: str) -> E.Expr:
        parsed = parse_statement(script)
        saved = (self.text, self.environments)
        try:
            self.text, self.environments = parsed.text, parsed.environments
            stmt = parsed.tree.children[0]
            if len(stmt.children) != 1:
                raise Skip("unsupported notation", f"the exponent {script}")
            return self.expression(stmt.children[0])
        finally:
            self.text, self.environments = saved

    # indices -------------------------------------------------------

    def _index_value(self, script: str):
        """The integer an index script stands for (1, L-1, \\ell+1 with declared indices), else None."""
        text = script.strip().strip("{}").strip()
        text = re.sub(r"\\ell(?![A-Za-z])", "ell", text)
        if not re.fullmatch(r"[A-Za-z0-9+\- ]+", text):
            return None
        tokens = re.findall(r"[A-Za-z]+|\d+|[+-]", text)
        total, sign, expect_operand = 0, 1, True
        for tok in tokens:
            if tok in "+-":
                if expect_operand and tok == "-":
                    sign = -sign
                elif expect_operand:
                    pass
                else:
                    sign = 1 if tok == "+" else -1
                expect_operand = True
                continue
            if not expect_operand:
                return None
            if tok.isdigit():
                total += sign * int(tok)
            elif tok in self.assignment:
                total += sign * self.assignment[tok]
            elif tok in self.indices:
                value = self.indices[tok]
                if isinstance(value, int):
                    total += sign * value
                else:
                    raise NeedIndex(tok)
            else:
                return None
            expect_operand, sign = False, 1
        return None if expect_operand else total

    def _bound_index(self, script: str):
        text = script.strip().strip("{}").strip()
        for frame in reversed(self._bound):
            if text in frame["names"]:
                return frame
        return None

    def _bound_use(self, value, frame, atom):
        e = self._as_expr(value, atom)
        frame["uses"].append(e)
        return e

    def _index_sum(self, op: SumOp, factors, tree):
        """Σ_i over entries (or rows) of declared vectors and matrices: a sum of the vocabulary.

        The summand may only combine its indexed symbols entry by entry (no
        matrix products); x_i of a vector is its entry, Y_i of a matrix its row."""
        names = {n.strip() for n in op.index.split(",")}
        if len(names) != 1 or not re.fullmatch(r"[A-Za-z]|\\[A-Za-z]+", next(iter(names))):
            raise Skip("index notation", f"a sum over {op.index}")
        frame = {"names": names, "uses": []}
        self._bound.append(frame)
        try:
            inner = self._as_expr(self._product(factors, tree), tree)
        finally:
            self._bound.pop()
        if not frame["uses"]:
            raise Skip("index notation", f"a sum over {op.index} whose summand does not use it as an index")
        allowed = (E.Add, E.Mul, E.Pow, E.Apply, E.Scalar, E.Symbol, E.Defined)
        used = {id(u) for u in frame["uses"]}
        for node in E.walk(inner, into_defined=False):
            if not isinstance(node, allowed):
                raise Skip("index notation", f"a sum over {op.index} of {to_text(inner)}: only entrywise "
                           "operations can be summed this way")
            if isinstance(node, (E.Symbol, E.Defined)) and id(node) not in used and not _is_scalar(node):
                raise Skip("index notation", f"{node.name} is not indexed by {op.index} inside the sum")
        shapes = {E.shape(u) for u in frame["uses"]}
        if len(shapes) != 1:
            raise Skip("index notation", f"the sum over {op.index} indexes objects of different shapes")
        rows, cols = shapes.pop()
        if op.upper:
            bound = self._script_expr(op.upper)
            length = rows if cols == 1 or rows != 1 else cols
            if not (isinstance(bound, E.Scalar) and sympy.simplify(bound.value - length) == 0):
                raise Skip("index notation", f"the sum runs to {op.upper}, but the indexed objects have {length} entries")
        if cols == 1 or rows == 1:
            return E.Sum(inner)
        return E.Sum(inner, 0)  # Y_i is the i-th row: summing rows leaves a row

    # atoms ----------------------------------------------------------

    def _letter(self, tree):
        ch = str(tree.children[0])
        if ch == "d" and False:
            return Partial()
        return NameRef(ch, ch)

    def _number(self, tree):
        return E.Scalar(sympy.Rational(str(tree.children[0])))

    def _command(self, tree):
        cmd = str(tree.children[0])
        if cmd == "\\partial":
            return Partial()
        if cmd == "\\nabla":
            return Nabla(None)
        name = cmd[1:]
        if cmd in REFUSED_COMMANDS:
            raise Skip("unsupported notation", REFUSED_COMMANDS[cmd])
        if cmd in FUNCTION_COMMANDS and name not in self.scope.symbols and name not in self.scope.defines:
            return self._call_fn(FUNCTION_COMMANDS[cmd])
        if name in GREEK:
            return NameRef(name, cmd)
        if name in SETS or name in ("Reals", "RR"):
            raise Skip("function signature", f"the set {cmd}")
        if cmd in ("\\infty",):
            raise Skip("unsupported notation", "∞")
        raise Skip("unknown macro", f"{cmd} (define it with \\newcommand or name it in [names])")

    def _styled(self, tree):
        style = str(tree.children[0]).replace(" ", "")
        raw = str(tree.children[1])
        content = raw[1:-1].strip() if raw.startswith("{") else raw
        if style in WORD_STYLES:
            return self._word_value(content, style)
        if style == "\\mathbb":
            if content in SETS:
                raise Skip("function signature", f"the set \\mathbb{{{content}}}")
            raise Skip("unsupported notation", f"\\mathbb{{{content}}}")
        if style in ("\\mathbf", "\\boldsymbol", "\\bm") and content in ("1", "0"):
            return NameRef("_ones" if content == "1" else "_zeros", f"{style}{{{content}}}")
        base = _name_from(content)
        if base is None:
            raise Skip("unsupported notation", f"{style}{{{content}}}")
        if base in FUNCTION_WORDS and style in ("\\mathrm",):
            return self._call_fn(FUNCTION_WORDS[base])
        return NameRef(STYLES.get(style, "{}").format(base), f"{style}{{{content}}}")

    def _word_value(self, content, style):
        word = content.replace("\\_", "_").strip()
        if word in FUNCTION_WORDS:
            if FUNCTION_WORDS[word] is None:
                raise Skip("unsupported notation", f"the function {word}")
            return self._call_fn(FUNCTION_WORDS[word])
        if word in ("step_function",):
            return self._call_fn("step")
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", word) and (word in self.scope.symbols or word in self.scope.defines
                                                              or word in self.scope.generics):
            return NameRef(word, f"{style}{{{content}}}")
        if re.fullmatch(r"[A-Za-z]", word):
            return NameRef(word, f"{style}{{{content}}}")
        raise Skip("prose inside math", f"{style}{{{content}}}")

    def _frac(self, tree):
        num, den = (c for c in tree.children if isinstance(c, Tree))
        num_f, den_f = _arg_factors(num), _arg_factors(den)
        if num_f and self._is_higher_differential(num_f[0]):
            raise Skip("unsupported notation", f"a higher derivative ({self._src(tree)}): only first derivatives "
                       "are read")
        if den_f and self._is_differential(den_f[0]) and num_f and self._is_differential(num_f[0]):
            if len(den_f) != 2:
                raise Skip("unsupported notation", f"the derivative variable in {self._src(tree)}")
            wrt = self._as_expr(self._value(den_f[1][1]), den_f[1][1])
            if len(num_f) == 1:
                return DerivOp(wrt)
            rest = [(None, num_f[1][1])] + num_f[2:]
            f = self._product(rest, num)
            return self._derivative(self._as_expr(f, num), wrt, den_f[1][1])
        a = self._as_expr(self._value(_arg_tree(num)), num)
        b = self._as_expr(self._value(_arg_tree(den)), den)
        return a * E.Pow(b, E.Scalar(sympy.Integer(-1)))

    def _is_higher_differential(self, item) -> bool:
        """∂² or d² (any power of the differential) opening a numerator: a second derivative, not ∂ squared."""
        _, ft = item
        atom, posts = ft.children[0], ft.children[1:]
        if len(posts) != 1 or posts[0].data != "sup":
            return False
        return self._is_differential((None, Tree("factor", [atom])))

    def _is_differential(self, item) -> bool:
        op, ft = item
        atom = ft.children[0]
        if len(ft.children) != 1:
            return False
        if atom.data == "command" and str(atom.children[0]) == "\\partial":
            return True
        if atom.data == "letter" and str(atom.children[0]) == "d" and "d" not in self.scope.symbols:
            return True
        return atom.data == "styled" and str(atom.children[0]) in ("\\mathrm", "\\text") and str(atom.children[1]) in ("d", "{d}")

    def _sqrt(self, tree):
        kids = [c for c in tree.children if isinstance(c, Tree)]
        if len(kids) != 1:
            raise Skip("unsupported notation", "an n-th root")
        return E.Apply(FUNCTIONS["sqrt"], self._as_expr(self._value(_arg_tree(kids[0])), kids[0]))

    def _arg(self, tree):
        return self._value(_arg_tree(tree))

    def _paren(self, tree):
        kids = [c for c in tree.children if isinstance(c, Tree)]
        if len(kids) != 1:
            raise Skip("unsupported notation", f"a tuple ({self._src(tree)})")
        return self._value(kids[0])

    def _paren_rel(self, tree):
        kids = [c for c in tree.children if isinstance(c, Tree)]
        rel = next(str(c) for c in tree.children if isinstance(c, Token) and c.type == "REL")
        lhs, rhs = (self.expression(k) for k in kids)
        if rel == ">" and isinstance(rhs, E.Scalar) and rhs.value == 0:
            return E.Apply(FUNCTIONS["step"], lhs)
        raise Skip("unsupported notation", f"the comparison ({self._src(tree)})")

    def _bracket(self, tree):
        return self._paren(tree)

    def _group(self, tree):
        kids = [c for c in tree.children if isinstance(c, Tree)]
        return self._value(kids[0])

    def _set(self, tree):
        raise Skip("function signature", f"a set ({self._src(tree)})")

    def _empty(self, tree):
        raise Skip("unsupported notation", "an empty group {}")

    def _norm(self, tree):
        kids = [c for c in tree.children if isinstance(c, Tree)]
        return _Norm(self.expression(kids[0]))

    def _abs(self, tree):
        """|x|: the absolute value of a number, of each entry of a vector or non-square matrix (a guess,
        noted); |A| of a square matrix is also its determinant: refused."""
        kids = [c for c in tree.children if isinstance(c, Tree)]
        inner = self.expression(kids[0])
        kind = "scalar" if self._bound else _operand_kind(inner)
        if kind == "square":
            raise Skip("unsupported notation", f"|{self._src(kids[0])}| of a square matrix: its determinant or its "
                       "entries' absolute values (write \\det or name it in [names])")
        if kind in ("vector", "matrix"):
            rows, cols = E.shape(inner)
            self.guesses.append(f"|{self._src(kids[0])}| of the {rows}×{cols} {kind} {to_text(inner)} is read as the "
                                "absolute value of each entry")
        return E.Apply(FUNCTIONS["abs"], inner)

    def _angle(self, tree):
        kids = [self.expression(c) for c in tree.children if isinstance(c, Tree)]
        if len(kids) != 2:
            raise Skip("unsupported notation", "⟨…⟩ of other than two arguments")
        return E.Inner(*kids)

    def _env(self, tree):
        name, _body = self.environments.get(str(tree.children[0]), ("?", ""))
        base = name.rstrip("*")
        if base in MATRIX_ENVS:
            raise Skip("matrix literal", f"\\begin{{{name}}}…")
        if base == "cases":
            raise Skip("cases", "\\begin{cases}…")
        raise Skip("unsupported notation", f"the environment {name}")

    def _ellipsis(self, tree):
        raise Skip("ellipsis", f"{tree.children[0]!s}")

    def _under(self, tree):
        """\\underbrace{e}, \\overbrace{e}: e (the label after it is a comment); \\underline, \\underset and
        \\overset decorate a symbol into another one (x̲, x̃ written as \\overset{\\sim}{x}): refused, never dropped."""
        kids = [c for c in tree.children if isinstance(c, Tree)]
        command = str(tree.children[0])
        if not command.startswith(("\\underbrace", "\\overbrace")):
            raise Skip("unsupported notation", f"the decoration {command} on {self._src(kids[0])} "
                       "(another symbol: name it in [names])")
        return self._value(kids[0])

    def _bigop(self, tree):
        raise Skip("unsupported notation", f"{tree.children[0]!s}")

    # ------------------------------------------------------------ names

    def _resolve(self, value):
        if not isinstance(value, NameRef):
            return value
        if value.bound is not None:
            found = self._resolve(NameRef(value.name, value.latex))
            value.bound["uses"].append(found)
            return found
        name = value.name
        canon = _canonical_names(self.names) if self.names else {}
        if name in canon:  # [names] may also name a composed name: A0 = "X"
            return self._names_value(canon[name], name)
        if name == "_ones" or name == "_zeros":
            raise Skip("unsupported notation", f"{value.latex} needs its size: write {value.latex}_N or name it in [names]")
        for table in (self.scope.symbols, self.scope.defines):
            if name in table:
                return table[name]
        if name in self.scope.dims:
            return E.Scalar(self.scope.dims[name])
        if name in self.scope.generics:
            return self._generic_fn(name)
        if name == "sigma":
            return self._call_fn("sigmoid")
        if name in self.indices or name in self.assignment:
            number = self._index_value(name)
            if number is not None:
                return E.Scalar(sympy.Integer(number))
        raise UnknownName(name, value.latex)

    def _generic_fn(self, name: str) -> Fn:
        g = self.scope.generics[name]
        prime = name + "_prime"

        def call(args):
            if len(args) != 1:
                raise Skip("unsupported notation", f"{name} takes one argument")
            return g(args[0])

        return Fn(name, call, (lambda: self._generic_fn(prime)) if prime in self.scope.generics or True else None)

    def _call_fn(self, name: str) -> Fn:
        if name == "max":
            def call_max(args):
                if len(args) == 2 and any(isinstance(a, E.Scalar) and a.value == 0 for a in args):
                    other = args[0] if not (isinstance(args[0], E.Scalar) and args[0].value == 0) else args[1]
                    return E.Apply(FUNCTIONS["relu"], other)
                raise Skip("unsupported notation", "max of other than (x, 0)")
            return Fn("max", call_max, lambda: self._call_fn("relu").prime())
        fn, kinds = CALLS[name]

        def call(args):
            if len(args) != 1:
                raise Skip("unsupported notation", f"{name} takes one argument")
            return fn(args[0])

        prime = None
        if name in PRIMES:
            def prime():
                def call_prime(args):
                    if len(args) != 1:
                        raise Skip("unsupported notation", f"{name}' takes one argument")
                    a = args[0]
                    return PRIMES[name](a, E.Apply(FUNCTIONS[name], a), lambda n, x: E.Apply(FUNCTIONS[n], x))
                return Fn(name + "'", call_prime, None)
        return Fn(name, call, prime)

    # ------------------------------------------------------------ derivatives

    def _derivative(self, f: E.Expr, wrt: E.Expr, wrt_tree) -> E.Expr:
        if not isinstance(wrt, (E.Symbol, E.Defined)):
            target = to_text(wrt)
            named = E.Defined(f"({target})", wrt)
            replaced = replace_subexpression(f, target, named)
            if replaced is f:
                raise Skip("unsupported notation", f"a derivative with respect to {self._src(wrt_tree)}, "
                           "which does not occur as written in the function")
            f, wrt = replaced, named
        sf, sx = E.shape_or_none(f), E.shape_or_none(wrt)
        if sf is None or sx is None:
            return E.Grad(f, wrt)
        f_scalar = sf == (1, 1)
        f_vector = 1 in sf
        x_vector = 1 in sx
        if f_scalar:
            if self.layout == "numerator" and x_vector and sx != (1, 1):
                return E.Jacobian(f, wrt)
            return E.Grad(f, wrt)
        if f_vector and x_vector:
            jac = E.Jacobian(f, wrt)
            return E.Transpose(jac) if self.layout == "denominator" else jac
        raise Skip("tensor derivative", f"∂/∂{to_text(wrt)} of a {sf[0]}×{sf[1]} {'vector' if f_vector else 'matrix'} "
                   f"by a {sx[0]}×{sx[1]} {'vector' if x_vector else 'matrix'}")


class UnknownName(Skip):
    def __init__(self, name: str, latex: str):
        super().__init__("unknown name", f"{latex or name} (give it a shape in [symbols], define it, or name it in [names])")
        self.name = name


@dataclass
class _Norm:
    """‖x‖ until its scripts say which norm and which power."""

    inner: E.Expr


# ---------------------------------------------------------------- helpers


def _is_scalar(e) -> bool:
    return isinstance(e, E.Scalar) or E.shape_or_none(e) == (1, 1)


def _operand_kind(e) -> str:
    """What a power or |·| applies to: "scalar" (a number or 1×1), "square" (a square matrix), "vector",
    "matrix" (not square), or "unknown" (no shape: the claim's shape check reports it)."""
    if _is_scalar(e):
        return "scalar"
    s = E.shape_or_none(e)
    if s is None:
        return "unknown"
    if 1 in s:
        return "vector"
    return "square" if sympy.simplify(s[0] - s[1]) == 0 else "matrix"


def _integer_exponent(exponent: E.Expr):
    """The exponent as a SymPy integer (2, -3, k, k - 1 in dimension names), or None if it is not one."""
    k = _number_of(exponent)
    return k if k is not None and k.is_integer else None


#: the arithmetic an exponent may be written with (B^{k-1}, B^{-2}), as SymPy operations
_EXPONENT_OPS = {E.Add: sympy.Add, E.Mul: sympy.Mul, E.Pow: sympy.Pow}


def _number_of(e: E.Expr):
    """An expression of numbers and dimension names as SymPy, or None if it holds anything else."""
    if isinstance(e, E.Scalar):
        return sympy.sympify(e.value)
    op = _EXPONENT_OPS.get(type(e))
    if op is None:
        return None
    a, b = _number_of(e.a), _number_of(e.b)
    return None if a is None or b is None else op(a, b)


def _log_base(script: str, scope: Scope):
    """The base b of log_b: a positive number other than 1 (2, 10, 0.5) or e (unless e is declared), else None."""
    text = script.strip()
    if text == "e" and "e" not in scope.symbols and "e" not in scope.defines:
        return sympy.E
    if not re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text):
        return None
    b = sympy.Rational(text)
    return b if b > 0 and b != 1 else None


def _log_to_base(fn: Fn, base) -> Fn:
    """log_b x = log x / log b (and its derivative 1 / (x log b))."""
    if base == sympy.E:
        return fn
    scale = E.Pow(E.Apply(FUNCTIONS["log"], E.Scalar(base)), E.Scalar(sympy.Integer(-1)))
    name = f"log_{base}"
    prime = (lambda: Fn(f"{name}'", lambda args: fn.prime().call(args) * scale, None)) if fn.prime else None
    return Fn(name, lambda args: fn.call(args) * scale, prime)


def _side_by_side_vectors(a, b) -> bool:
    """Two vectors of one shape written side by side, where no matrix product fits (σ(z)(1 − σ(z)))."""
    sa, sb = E.shape_or_none(a), E.shape_or_none(b)
    return sa is not None and sa == sb and 1 in sa and sa[1] != sb[0]


def _matrix_product(a, b, op):
    sa, sb = E.shape_or_none(a), E.shape_or_none(b)
    if sa is not None and sb is not None and sa[1] != sb[0] and op == "\\cdot" and sa == sb and 1 in sa:
        return E.Inner(a, b)  # a · b of two vectors of one shape: the dot product
    return E.MatMul(a, b)


def _script_text(post) -> str:
    token = next(t for t in post.children if isinstance(t, Tree)).children[0]
    text = str(token)
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return text.strip()


def _word(script: str):
    s = script.strip()
    m = re.fullmatch(r"\\(?:text|mathrm|textrm|mathit)\s*\{([A-Za-z][A-Za-z0-9 ]*)\}", s)
    if m:
        s = m.group(1).replace(" ", "_")
    return s if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", s) else None


def _name_from(content: str):
    """The name a styled symbol's content gives: x, \\theta, \\hat{y}, \\mathbf{x} inside."""
    s = content.strip()
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", s):
        return s
    m = re.fullmatch(r"\\([A-Za-z]+)", s)
    if m and m.group(1) in GREEK:
        return m.group(1)
    m = re.fullmatch(r"(\\[A-Za-z]+)\s*\{(.*)\}", s)
    if m and m.group(1) in STYLES:
        inner = _name_from(m.group(2))
        return None if inner is None else STYLES[m.group(1)].format(inner)
    m = re.fullmatch(r"(\\[A-Za-z]+)\s+([A-Za-z])", s)
    if m and m.group(1) in STYLES:
        return STYLES[m.group(1)].format(m.group(2))
    return None


def _canon(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    return text


_CANON_CACHE: dict = {}


def _canonical_names(names: dict) -> dict:
    key = id(names)
    hit = _CANON_CACHE.get(key)
    if hit is not None and hit[0] is names:
        return hit[1]
    table = {}
    for k, v in names.items():
        table[_canon(prepare(k).text)] = v
    _CANON_CACHE[key] = (names, table)
    return table


def _arg_factors(arg_tree):
    """The factors of a \\frac argument, as (op, factor) pairs."""
    inner = _arg_tree(arg_tree)
    if isinstance(inner, Tree) and inner.data == "sum" and len(inner.children) == 1:
        inner = inner.children[0]
    if isinstance(inner, Tree) and inner.data == "term":
        out, op = [], None
        for c in inner.children:
            if c.data == "mulop":
                op = str(c.children[0])
                continue
            out.append((op, c))
            op = None
        return out
    if isinstance(inner, Tree) and inner.data == "factor":
        return [(None, inner)]
    return []


def _arg_tree(arg_tree):
    kids = [c for c in arg_tree.children if isinstance(c, Tree)]
    if kids:
        return kids[0]
    tok = arg_tree.children[0]
    kind = {"LETTER": "letter", "NUMBER": "number", "CMD": "command"}[tok.type]
    atom = Tree(kind, [tok])
    return Tree("factor", [atom])


def _depends_on(value: E.Expr, arg: E.Expr) -> bool:
    names = {n.name for n in E.walk(value) if isinstance(n, (E.Symbol, E.Defined))}
    return all(n.name in names for n in E.walk(arg, into_defined=False) if isinstance(n, (E.Symbol, E.Defined))) and \
        any(isinstance(n, (E.Symbol, E.Defined)) for n in E.walk(arg, into_defined=False))


def rebuild(e: E.Expr, fn) -> E.Expr:
    """``e`` with ``fn`` applied bottom-up to its sub-expressions (fn returns a node or None to keep it)."""
    hit = fn(e)
    if hit is not None:
        return hit
    if isinstance(e, (E.Symbol, E.Scalar, E.Fill)):
        return e
    changes = {}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, E.Expr):
            nv = rebuild(v, fn)
            if nv is not v:
                changes[f.name] = nv
    if not changes:
        return e
    if isinstance(e, E.Defined):
        return changes["body"]  # a different value: no longer the named intermediate
    return dataclasses.replace(e, **changes)


def substitute(e: E.Expr, mapping: dict) -> E.Expr:
    """``e`` with the named symbols replaced (a function applied to arguments)."""
    return rebuild(e, lambda n: mapping.get(n.name) if isinstance(n, E.Symbol) else None)


def replace_subexpression(e: E.Expr, target_text: str, replacement: E.Expr) -> E.Expr:
    """``e`` with every sub-expression that prints as ``target_text`` replaced."""
    def hit(n):
        if isinstance(n, (E.Scalar,)):
            return None
        try:
            return replacement if to_text(n) == target_text else None
        except Exception:
            return None
    return rebuild(e, hit)
