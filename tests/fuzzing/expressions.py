"""Random well-shaped expressions, in equal pairs: (L, R) with L = R by construction.

A pair is grown top-down for a requested shape.  Each step picks a row of
``RULES``: a *congruence* applies the same operation to both sides of equal
child pairs (so L and R stay equal), a *rewrite* writes the two sides with a
known identity ((AB)ᵀ = BᵀAᵀ, tr(AB) = tr(BA), distributivity, A•B = tr(AᵀB),
exp(a + b) = exp(a) exp(b), softmax shift invariance, assumption facts such
as b ⊙ b = b for binary b, ...).  Every expression is built with derivcheck's
Python API, so it is well-shaped by construction; Hypothesis draws every
choice, so a failing claim shrinks to a small one (the first row of each
table is the simplest choice).

Symbols are made on demand (``Ctx.symbol``) with assumptions drawn from the
semantics' combinations; the discrete ones are kept few enough for the
reference to enumerate (``CONFIGURATION_BUDGET``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import sympy
from hypothesis import strategies as st

import derivcheck as dc
from derivcheck import expr as E
from derivcheck import vocabulary as V

__all__ = ["Ctx", "RULES", "m", "n", "pair", "positive", "invertible", "CONSTANTS"]

m, n = E.dims("m n")
ONE = sympy.Integer(1)
#: the reference's largest size for each dimension (its size assignments use 2 and 3)
LARGEST = {m: 3, n: 3}
CONFIGURATION_BUDGET = 64  # discrete configurations at the largest sizes, over all symbols of a claim
CONSTANTS = (2, -1, 3, 0.5, 0.1, 1e-40, 1e20, 2.5, 1e-12)

#: assumption combinations a new symbol may carry (the first is the simplest: none)
GENERAL = ((), ("binary",), ("probability",), ("positive",), ("rows_sum_to_one",), ("one_hot_rows",),
           ("one_hot_columns",), ("binary", "rows_sum_to_one"), ("rows_sum_to_one", "positive"))
SQUARE = (("symmetric",), ("spd",), ("invertible",), ("one_hot_rows", "one_hot_columns"),
          ("symmetric", "invertible"))
DISCRETE = {"binary", "one_hot_rows", "one_hot_columns"}
_MATRIX_NAMES = "ABCDFGHKMNQRSUVWXY"  # not L, P, Z: the templates' defined names
_VECTOR_NAMES = "abcefhkpqrsuvwxyz"  # not g: the generic function


def _size(d) -> int:
    d = sympy.sympify(d)
    return int(d.subs(LARGEST)) if d.free_symbols else int(d)


def configurations(shape, assume) -> int:
    """How many values a discrete symbol of this shape takes at the largest sizes (1 if continuous)."""
    r, c = _size(shape[0]), _size(shape[1])
    props = set(assume)
    if {"one_hot_rows", "one_hot_columns"} <= props:
        return math.factorial(r)
    if "one_hot_rows" in props or {"binary", "rows_sum_to_one"} <= props:
        return c ** r
    if "one_hot_columns" in props:
        return r ** c
    if "binary" in props:
        return 2 ** (r * c)
    return 1


class Ctx:
    """What one generated claim uses: Hypothesis's ``draw``, the symbols made so far, the rules
    applied (for the campaign's statistics), names excluded from reuse (a gradient's variable
    must not hide inside its constants)."""

    def __init__(self, draw, fixed_sizes: bool = True):
        self.draw = draw
        self.fixed_sizes = fixed_sizes
        self.symbols: dict[str, E.Symbol] = {}
        self.exclude: set[str] = set()
        self.rules: list[str] = []
        self.defined = 0

    # -- choices (each one a Hypothesis draw, so it shrinks)
    def choose(self, options):
        return self.draw(st.sampled_from(list(options)))

    def chance(self, percent: int) -> bool:
        # the top of the range: Hypothesis draws small integers more often than uniformly (about twice
        # for 0 and 1), and shrinks towards 0, that is towards "no" (a claim without the option)
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def dim(self, allow_one: bool = False):
        options = [m, n] + ([sympy.Integer(2), sympy.Integer(3)] if self.fixed_sizes else [])
        return self.choose(options + ([ONE] if allow_one else []))

    def draw_steps(self) -> int:
        return self.draw(st.integers(1, 4))

    def constant(self) -> E.Expr:
        return E.as_expr(self.choose(CONSTANTS))

    def scalar(self) -> E.Expr:
        """A number, or a dimension used as a number (m, 1/n)."""
        kind = self.choose(["number", "dim", "inverse dim"])
        if kind == "number":
            return self.constant()
        d = self.choose([m, n])
        return E.Scalar(d if kind == "dim" else 1 / d)

    def name(self, rows, cols) -> str:
        vector = ONE in (sympy.sympify(rows), sympy.sympify(cols))
        pool = _VECTOR_NAMES if vector else _MATRIX_NAMES
        for ch in pool:
            for suffix in ("", "2", "3", "4"):
                if ch + suffix not in self.symbols:
                    return ch + suffix
        raise RuntimeError("out of names")

    def budget(self) -> int:
        return math.prod(configurations((s.rows, s.cols), s.assume) for s in self.symbols.values()
                         if "probability" not in s.assume)  # binary and probability: empty, never enumerated

    def symbol(self, rows, cols, assume=None, reuse: bool = True) -> E.Symbol | None:
        """A symbol of this shape: an existing one (shared symbols make real identities), or a new
        one with the given assumptions (drawn when None).  None when a discrete one would exceed
        the configuration budget."""
        rows, cols = sympy.sympify(rows), sympy.sympify(cols)
        if assume is None and reuse:
            same = [s for s in self.symbols.values()
                    if (s.rows, s.cols) == (rows, cols) and s.name not in self.exclude]
            if same and self.chance(50):
                return self.choose(same)
        if assume is None and self.chance(2):  # an empty domain: the claim must be ill_formed
            assume = self.choose([("binary", "probability"), ("symmetric",), ("spd",), ("invertible",)])
            if rows == cols and assume != ("binary", "probability"):
                assume = ("binary", "probability")
            return self._new(rows, cols, assume)
        if assume is None:
            options = GENERAL + (SQUARE if rows == cols and rows != ONE else ())
            assume = self.choose(options)
            if configurations((rows, cols), assume) * self.budget() > CONFIGURATION_BUDGET:
                assume = ()
        elif configurations((rows, cols), assume) * self.budget() > CONFIGURATION_BUDGET:
            return None
        return self._new(rows, cols, assume)

    def _new(self, rows, cols, assume) -> E.Symbol:
        # E.Symbol, not dc.matrix: a combination the semantics define but the checker does not cover
        # must reach the checker (which then owes an ill_formed verdict), not stop the generator
        s = E.Symbol(self.name(rows, cols), rows, cols, frozenset(assume))
        self.symbols[s.name] = s
        return s

    def define(self, body: E.Expr) -> E.Expr:
        """Sometimes name an intermediate (a derivative may then be taken w.r.t. it)."""
        self.defined += 1
        return dc.define(f"Z{self.defined}", body)

    def pair(self, shape, depth: int):
        return pair(self, shape, depth)


# ---------------------------------------------------------------- shapes

def _square(s) -> bool:
    return s[0] == s[1]


def _scalar(s) -> bool:
    return s == (ONE, ONE)


def _column(s) -> bool:
    return s[1] == ONE and s[0] != ONE


def _broadcast_shape(ctx: Ctx, s):
    """A shape that broadcasts against s without changing it (s itself most often)."""
    options = [s, (ONE, ONE)]
    if s[0] != ONE and s[1] != ONE:
        options += [(ONE, s[1]), (s[0], ONE)]
    return ctx.choose(options)


# ---------------------------------------------------------------- leaves

def leaf(ctx: Ctx, s):
    kinds = ["symbol", "symbol", "ones"] + (["eye"] if _square(s) else []) + (["scalar"] if _scalar(s) else []) \
        + ["zeros"]
    kind = ctx.choose(kinds)
    if kind == "symbol":
        e = ctx.symbol(*s)
    elif kind == "scalar":
        e = ctx.scalar()
    else:
        e = {"ones": dc.ones, "zeros": dc.zeros}[kind](*s) if kind != "eye" else dc.eye(s[0])
    return e, e


def positive(ctx: Ctx, s, depth: int):
    """An equal pair whose entries are positive (arguments of log and sqrt)."""
    kind = ctx.choose(["symbol", "exp", "sigmoid", "square plus", "softmax", "probability"])
    ctx.rules.append(f"positive:{kind}")
    if kind in ("symbol", "probability"):
        e = ctx.symbol(*s, assume=("positive",) if kind == "symbol" else ("probability",))
        if e is None:
            e = dc.ones(*s)
        return e, e
    a, b = ctx.pair(s, depth - 1)
    if kind == "exp":
        return dc.exp(a), dc.exp(b)
    if kind == "sigmoid":
        return dc.sigmoid(a), dc.sigmoid(b)
    if kind == "softmax":
        return dc.softmax(a), dc.softmax(b)
    return a * a + 0.5, b ** 2 + 0.5


def invertible(ctx: Ctx, k, depth: int):
    """An equal pair of (almost surely) invertible k×k matrices."""
    kind = ctx.choose(["symbol", "invertible", "spd", "gram plus eye", "sum"])
    ctx.rules.append(f"invertible:{kind}")
    if kind in ("symbol", "invertible", "spd"):
        e = ctx.symbol(k, k, assume={"symbol": (), "invertible": ("invertible",), "spd": ("spd",)}[kind])
        return e, e
    if kind == "gram plus eye":
        j = ctx.dim()
        a, b = ctx.pair((k, j), depth - 1)
        return a @ a.T + dc.eye(k), b @ b.T + dc.eye(k)
    a, b = invertible(ctx, k, depth - 1)
    c, d = ctx.pair((k, k), 0)
    return a + 0.001 * c, b + d * 0.001  # a small perturbation of an invertible matrix


# ---------------------------------------------------------------- the rule table

@dataclass(frozen=True)
class Rule:
    name: str
    fits: Callable  # shape -> bool
    build: Callable  # (ctx, shape, depth) -> (L, R); depth is what children may use


def _any(s):
    return True


def _add(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(_broadcast_shape(ctx, s), d)
    return (a + c, e + b) if ctx.chance(50) else (a + c, b + e)


def _sub(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(_broadcast_shape(ctx, s), d)
    return a - c, b - e


def _mul(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(_broadcast_shape(ctx, s), d)
    return (a * c, e * b) if ctx.chance(50) else (a * c, b * e)


def _scale(ctx, s, d):
    a, b = ctx.pair(s, d)
    k = ctx.scalar()
    return k * a, b * k


def _div(ctx, s, d):
    a, b = ctx.pair(s, d)
    if ctx.chance(50):
        k = ctx.scalar()
        return a / k, b / k
    p, q = positive(ctx, _broadcast_shape(ctx, s), d)
    return a / p, b * q ** -1


def _matmul(ctx, s, d):
    k = ctx.dim(allow_one=True)
    a, b = ctx.pair((s[0], k), d)
    c, e = ctx.pair((k, s[1]), d)
    return a @ c, b @ e


def _transpose(ctx, s, d):
    a, b = ctx.pair((s[1], s[0]), d)
    return a.T, b.T


_SMOOTH = ("sigmoid", "tanh", "exp", "sin", "cos", "g", "g_prime", "softplus", "erf", "expm1", "normal_cdf",
           "normal_pdf")
_POSITIVE_ARGUMENT = ("log", "sqrt", "lgamma", "digamma", "trigamma", "log1p")
_KINKED = ("relu", "step", "abs")
G, G_PRIME = dc.elementwise("g")  # a generic function: a claim about it must hold for any smooth g


def function(name: str):
    """The vocabulary's function of this name, or the generic g and its derivative."""
    return {"g": G, "g_prime": G_PRIME}.get(name) or getattr(dc, name, None) or getattr(V, name)


def _apply(ctx, s, d):
    fn = function(ctx.choose(_SMOOTH + _KINKED))
    a, b = ctx.pair(s, d)
    return fn(a), fn(b)


def _elementwise_transpose(ctx, s, d):
    fn = function(ctx.choose(_SMOOTH + _KINKED))
    a, b = ctx.pair((s[1], s[0]), d)
    return fn(a).T, fn(b.T)


def _log_sqrt(ctx, s, d):
    fn = function(ctx.choose(_POSITIVE_ARGUMENT))
    a, b = positive(ctx, s, d)
    return fn(a), fn(b)


def _softmax(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.softmax(a), dc.softmax(b)


def _sum(ctx, s, d):
    if _scalar(s):
        a, b = ctx.pair((ctx.dim(), ctx.dim()), d)
        return dc.sum(a), dc.sum(b)
    if s[0] == ONE:
        a, b = ctx.pair((ctx.dim(), s[1]), d)
        return dc.sum(a, 0), dc.sum(b, 0)
    a, b = ctx.pair((s[0], ctx.dim()), d)
    return dc.sum(a, 1), dc.sum(b, 1)


def _vector_or_scalar(s):
    return s[0] == ONE or s[1] == ONE


def _trace(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), d)
    return dc.trace(a), dc.trace(b)


def _inner(ctx, s, d):
    t = (ctx.dim(allow_one=True), ctx.dim())
    a, b = ctx.pair(t, d)
    c, e = ctx.pair(t, d)
    return dc.inner(a, c), dc.inner(b, e)


def _det(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), min(d, 1))
    return dc.det(a), dc.det(b)


def _inv(ctx, s, d):
    a, b = invertible(ctx, s[0], d)
    return dc.inv(a), dc.inv(b)


def _diag_vector(ctx, s, d):
    a, b = ctx.pair((s[0], ONE) if ctx.chance(50) else (ONE, s[0]), d)
    return dc.diag(a), dc.diag(b)


def _diag_matrix(ctx, s, d):
    a, b = ctx.pair((s[0], s[0]), d)
    return dc.diag(a), dc.diag(b)


def _pow(ctx, s, d):
    if ctx.chance(60):
        k = ctx.choose([2, 3])
        a, b = ctx.pair(s, d)
    else:
        k = ctx.choose([-1, 0.5, -2])
        a, b = positive(ctx, s, d)
    return a ** k, b ** k


def _proper_square(s):
    return _square(s) and s[0] != ONE


CONGRUENCES = [
    Rule("add", _any, _add), Rule("sub", _any, _sub), Rule("mul", _any, _mul), Rule("scale", _any, _scale),
    Rule("div", _any, _div), Rule("matmul", _any, _matmul), Rule("transpose", _any, _transpose),
    Rule("apply", _any, _apply), Rule("log/sqrt", _any, _log_sqrt), Rule("softmax", _any, _softmax),
    Rule("sum", _vector_or_scalar, _sum), Rule("trace", _scalar, _trace), Rule("inner", _scalar, _inner),
    Rule("det", _scalar, _det), Rule("inv", _proper_square, _inv), Rule("diag of a vector", _proper_square, _diag_vector),
    Rule("diag of a matrix", _column, _diag_matrix), Rule("pow", _any, _pow),
]


# ---------------------------------------------------------------- rewrites (known identities)

def _transpose_matmul(ctx, s, d):
    k = ctx.dim(allow_one=True)
    a, b = ctx.pair((s[1], k), d)
    c, e = ctx.pair((k, s[0]), d)
    return (a @ c).T, e.T @ b.T


def _transpose_add(ctx, s, d):
    a, b = ctx.pair((s[1], s[0]), d)
    c, e = ctx.pair((s[1], s[0]), d)
    return (a + c).T, b.T + e.T


def _double_transpose(ctx, s, d):
    a, b = ctx.pair(s, d)
    return a.T.T, b


def _trace_cyclic(ctx, s, d):
    k, j = ctx.dim(), ctx.dim(allow_one=True)
    a, b = ctx.pair((k, j), d)
    c, e = ctx.pair((j, k), d)
    return dc.trace(a @ c), dc.trace(e @ b)


def _trace_transpose(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), d)
    return dc.trace(a), dc.trace(b.T)


def _trace_linear(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), d)
    c, e = ctx.pair((k, k), d)
    x = ctx.scalar()
    return dc.trace(a + x * c), dc.trace(b) + x * dc.trace(e)


def _matmul_distribute(ctx, s, d):
    k = ctx.dim(allow_one=True)
    if ctx.chance(50):
        a, b = ctx.pair((s[0], k), d)
        c, e = ctx.pair((k, s[1]), d)
        f, g = ctx.pair((k, s[1]), d)
        return a @ (c + f), b @ e + b @ g
    a, b = ctx.pair((s[0], k), d)
    c, e = ctx.pair((s[0], k), d)
    f, g = ctx.pair((k, s[1]), d)
    return (a + c) @ f, b @ g + e @ g


def _mul_distribute(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(s, d)
    f, g = ctx.pair(s, d)
    return a * (c + f), b * e + g * b


def _matmul_assoc(ctx, s, d):
    k, j = ctx.dim(allow_one=True), ctx.dim(allow_one=True)
    a, b = ctx.pair((s[0], k), d)
    c, e = ctx.pair((k, j), d)
    f, g = ctx.pair((j, s[1]), d)
    return (a @ c) @ f, b @ (e @ g)


def _scalar_pull(ctx, s, d):
    k = ctx.dim(allow_one=True)
    a, b = ctx.pair((s[0], k), d)
    c, e = ctx.pair((k, s[1]), d)
    x = ctx.scalar()
    return (x * a) @ c, x * (b @ e)


def _inner_trace(ctx, s, d):
    t = (ctx.dim(allow_one=True), ctx.dim())
    a, b = ctx.pair(t, d)
    c, e = ctx.pair(t, d)
    right = dc.trace(b.T @ e) if ctx.chance(50) else dc.sum(b * e)
    return dc.inner(a, c), right


def _sum_ones(ctx, s, d):
    if _scalar(s):
        r, c = ctx.dim(), ctx.dim()
        a, b = ctx.pair((r, c), d)
        return dc.sum(a), dc.ones(1, r) @ b @ dc.ones(c, 1)
    if s[0] == ONE:
        r = ctx.dim()
        a, b = ctx.pair((r, s[1]), d)
        return dc.sum(a, 0), dc.ones(1, r) @ b
    c = ctx.dim()
    a, b = ctx.pair((s[0], c), d)
    return dc.sum(a, 1), b @ dc.ones(c, 1)


def _square_of_sum(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(s, d)
    if ctx.chance(50):
        return (a + c) ** 2, b ** 2 + 2 * b * e + e ** 2
    return (a + c) ** 3, b ** 3 + 3 * b ** 2 * e + 3 * b * e ** 2 + e ** 3


def _squared_sum(ctx, s, d):
    a, b = ctx.pair((ctx.dim(), ctx.dim()), d)
    c, e = ctx.pair((ONE, ONE), d)
    if ctx.chance(50):
        return dc.sum(a) ** 2, dc.sum(b) * dc.sum(b)
    return (dc.sum(a) + c) ** 2, dc.sum(b) ** 2 + 2 * e * dc.sum(b) + e * e


def _exp_add(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair(s, d)
    return dc.exp(a + c), dc.exp(b) * dc.exp(e)


def _log_exp(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.log(dc.exp(a)), b


def _exp_log(ctx, s, d):
    a, b = positive(ctx, s, d)
    return dc.exp(dc.log(a)), b


def _log_mul(ctx, s, d):
    a, b = positive(ctx, s, d)
    c, e = positive(ctx, s, d)
    return dc.log(a * c), dc.log(b) + dc.log(e)


def _sigmoid_neg(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.sigmoid(-a), 1 - dc.sigmoid(b)


def _tanh_sigmoid(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.tanh(a), 2 * dc.sigmoid(2 * b) - 1


def _pythagoras(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.sin(a) ** 2 + dc.cos(b) ** 2, dc.ones(*s)


def _relu_step(ctx, s, d):
    a, b = ctx.pair(s, d)
    if ctx.chance(50):
        return dc.relu(a), b * dc.step(b)
    return dc.relu(a) - dc.relu(-a), b


def _abs_sqrt(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.sqrt(a * a), dc.abs(b)


def _sqrt_exp(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.sqrt(dc.exp(a)), dc.exp(b / 2)


def _softmax_shift(ctx, s, d):
    a, b = ctx.pair(s, d)
    c, e = ctx.pair((s[0], ONE), d)
    return dc.softmax(a + c), dc.softmax(b)


def _softmax_definition(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.softmax(a), dc.exp(b) / (dc.exp(b) @ dc.ones(s[1], 1))


def _diag_diag(ctx, s, d):
    a, b = ctx.pair(s, d)
    return dc.diag(dc.diag(a)), b


def _diag_scale(ctx, s, d):
    v, w = ctx.pair((s[0], ONE), d)
    a, b = ctx.pair(s, d)
    return dc.diag(v) @ a, w * b


def _eye(ctx, s, d):
    a, b = ctx.pair(s, d)
    return (dc.eye(s[0]) @ a, b) if ctx.chance(50) else (a @ dc.eye(s[1]), b)


def _neutral(ctx, s, d):
    a, b = ctx.pair(s, d)
    kind = ctx.choose(["zeros", "ones", "one"])
    if kind == "zeros":
        return a + dc.zeros(*s), b
    if kind == "ones":
        return a * dc.ones(*s), b
    return 1 * a, b


def _self_cancel(ctx, s, d):
    a, b = ctx.pair(s, d)
    return a - b, dc.zeros(*s)


def _numbers(ctx, s, d):
    a, b = ctx.pair(s, d)
    kind = ctx.choose(["huge", "tiny", "decimal", "divide"])
    if kind == "huge":
        return (a + 1e20) - 1e20, b
    if kind == "tiny":
        return a * 1e-40 * 1e40, b
    if kind == "decimal":
        return 0.1 * a + 0.2 * a, 0.3 * b
    return a * 3 / 3, b


def _dims_as_numbers(ctx, s, d):
    r, c = ctx.dim(), ctx.dim()
    kind = ctx.choose(["sum ones", "trace eye", "ones product", "sum eye"])
    if kind == "sum ones":
        return dc.sum(dc.ones(r, c)), E.Scalar(sympy.sympify(r * c))
    if kind == "trace eye":
        return dc.trace(dc.eye(r)), E.Scalar(sympy.sympify(r))
    if kind == "ones product":
        return dc.ones(1, r) @ dc.ones(r, 1), E.Scalar(sympy.sympify(r))
    return dc.sum(dc.eye(r)), E.Scalar(sympy.sympify(r))


def _det_product(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), min(d, 1))
    c, e = ctx.pair((k, k), min(d, 1))
    return dc.det(a @ c), dc.det(b) * dc.det(e)


def _det_transpose(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), min(d, 1))
    return dc.det(a.T), dc.det(b)


def _det_scale(ctx, s, d):
    k = ctx.dim()
    a, b = ctx.pair((k, k), min(d, 1))
    x = ctx.choose([2, -1, 3])
    return dc.det(x * a), E.Scalar(sympy.Integer(x) ** sympy.sympify(k)) * dc.det(b)


def _inverse_laws(ctx, s, d):
    k = s[0]
    a, b = invertible(ctx, k, d)
    kind = ctx.choose(["cancel left", "cancel right", "transpose", "twice", "product"])
    if kind == "cancel left":
        return dc.inv(a) @ b, dc.eye(k)
    if kind == "cancel right":
        return a @ dc.inv(b), dc.eye(k)
    if kind == "transpose":
        return dc.inv(a).T, dc.inv(b.T)
    if kind == "twice":
        return dc.inv(dc.inv(a)), b
    c, e = invertible(ctx, k, d)
    return dc.inv(a @ c), dc.inv(e) @ dc.inv(b)


def _det_inv(ctx, s, d):
    k = ctx.dim()
    a, b = invertible(ctx, k, min(d, 1))
    return dc.det(dc.inv(a)) * dc.det(b), E.as_expr(1)


def _powers(ctx, s, d):
    kind = ctx.choose(["power of a power", "root of a square", "root of a positive square", "reciprocal"])
    if kind == "power of a power":
        a, b = ctx.pair(s, d)
        return (a ** 2) ** 3, b ** 6
    if kind == "root of a square":
        a, b = ctx.pair(s, d)
        return (a ** 2) ** 0.5, dc.abs(b)
    a, b = positive(ctx, s, d)
    if kind == "root of a positive square":
        return (a ** 2) ** 0.5, b
    return a * b ** -1, dc.ones(*s)


# -- facts that hold under an assumption (on entries of a symbol, never on sums of them)

def _binary(ctx, s, d):
    b = ctx.symbol(*s, assume=("binary",))
    if b is None:
        return leaf(ctx, s)
    kind = ctx.choose(["square", "power", "complement", "masked"])
    if kind == "square":
        return b * b, b
    if kind == "power":
        return b ** ctx.choose([2, 3]), b
    if kind == "complement":
        return b * (1 - b), dc.zeros(*s)
    a, e = ctx.pair(s, d)
    return (b * a) * b, b * e


def _binary_gram(ctx, s, d):
    k = ctx.dim()
    b = ctx.symbol(k, 1, assume=("binary",))
    if b is None:
        return leaf(ctx, s)
    return b.T @ b, (dc.sum(b) if ctx.chance(50) else dc.ones(1, k) @ b)


def _one_hot_rows(ctx, s, d):
    """Facts of one-hot rows, for a symbol of a shape that fits s."""
    r, c = ctx.dim(), ctx.dim()
    if _column(s):
        r = s[0]
    elif _scalar(s):
        pass
    elif _square(s):
        c = s[0]
    else:
        r, c = s
    y = ctx.symbol(r, c, assume=ctx.choose([("one_hot_rows",), ("binary", "rows_sum_to_one")]))
    if y is None:
        return leaf(ctx, s)
    if _column(s):
        return (dc.sum(y, 1), dc.ones(r, 1)) if ctx.chance(50) else (y @ dc.ones(c, 1), dc.ones(r, 1))
    if _scalar(s):
        return dc.sum(y), E.Scalar(sympy.sympify(r))
    if _square(s):
        return y.T @ y, dc.diag(dc.sum(y, 0))
    return y * y, y


def _one_hot_columns(ctx, s, d):
    r, c = ctx.dim(), ctx.dim()
    if s[0] == ONE and s[1] != ONE:
        c = s[1]
    elif _square(s) and not _scalar(s):
        r = s[0]
    elif not _scalar(s):
        r, c = s
    y = ctx.symbol(r, c, assume=("one_hot_columns",))
    if y is None:
        return leaf(ctx, s)
    if s[0] == ONE and s[1] != ONE:
        return (dc.sum(y, 0), dc.ones(1, c)) if ctx.chance(50) else (dc.ones(1, r) @ y, dc.ones(1, c))
    if _scalar(s):
        return dc.sum(y), E.Scalar(sympy.sympify(c))
    if _square(s):
        return y @ y.T, dc.diag(dc.sum(y, 1))
    return y * y, y


def _permutation(ctx, s, d):
    k = s[0] if not _scalar(s) else ctx.dim()
    y = ctx.symbol(k, k, assume=("one_hot_rows", "one_hot_columns"))
    if y is None:
        return leaf(ctx, s)
    if _scalar(s):
        return dc.det(y) ** 2, E.as_expr(1)
    return (y @ y.T, dc.eye(k)) if ctx.chance(50) else (y.T @ y, dc.eye(k))


def _rows_sum_to_one(ctx, s, d):
    r, c = (s[0], ctx.dim()) if not _scalar(s) else (ctx.dim(), ctx.dim())
    if ctx.chance(35):  # softmax rows sum to one whatever the argument
        a, b = ctx.pair((r, c), d)
        y, z = dc.softmax(a), dc.softmax(b)
    else:
        y = z = ctx.symbol(r, c, assume=ctx.choose([("rows_sum_to_one",), ("rows_sum_to_one", "positive")]))
    if _scalar(s):
        return dc.sum(y), E.Scalar(sympy.sympify(r))
    ones_col = dc.ones(r, 1)
    if _column(s):
        return (dc.sum(y, 1), ones_col) if ctx.chance(50) else (y @ dc.ones(c, 1), ones_col)
    a, b = ctx.pair(s, d)
    return (z @ dc.ones(c, 1)) * a, b


def _probability(ctx, s, d):
    p = ctx.symbol(*s, assume=("probability",))
    return dc.sigmoid(dc.log(p) - dc.log(1 - p)), p


def _positive(ctx, s, d):
    p = ctx.symbol(*s, assume=("positive",))
    kind = ctx.choose(["root squared", "root of square", "abs", "relu", "step", "exp log", "log square"])
    return {"root squared": lambda: (dc.sqrt(p) ** 2, p), "root of square": lambda: (dc.sqrt(p * p), p),
            "abs": lambda: (dc.abs(p), p), "relu": lambda: (dc.relu(p), p), "step": lambda: (dc.step(p), dc.ones(*s)),
            "exp log": lambda: (dc.exp(dc.log(p)), p), "log square": lambda: (dc.log(p ** 2), 2 * dc.log(p))}[kind]()


def _symmetric(ctx, s, d):
    k = s[0]
    kind = ctx.choose(["transpose", "inverse transpose", "sandwich"])
    if kind == "sandwich":  # Aᵀ S A is symmetric
        j = ctx.dim()
        sym = ctx.symbol(j, j, assume=ctx.choose([("symmetric",), ("spd",)]))
        a, b = ctx.pair((j, k), d)
        return (a.T @ sym @ a).T, b.T @ sym @ b
    if kind == "transpose":
        sym = ctx.symbol(k, k, assume=ctx.choose([("symmetric",), ("spd",), ("symmetric", "invertible")]))
        return sym.T, sym
    sym = ctx.symbol(k, k, assume=ctx.choose([("spd",), ("symmetric", "invertible")]))
    return dc.inv(sym).T, dc.inv(sym)


def _symmetric_trace(ctx, s, d):
    k = ctx.dim()
    sym = ctx.symbol(k, k, assume=("symmetric",))
    a, b = ctx.pair((k, k), d)
    return dc.trace(sym @ a), dc.trace(sym @ b.T)


# -- the functions and operations of issue 16's vocabulary

def _special_functions(ctx, s, d):
    kind = ctx.choose(["softplus odd", "log1p expm1", "expm1", "normal symmetry", "erf odd", "gamma recurrences"])
    a, b = ctx.pair(s, d)
    if kind == "softplus odd":
        return V.softplus(a) - V.softplus(-a), b
    if kind == "log1p expm1":
        return V.log1p(V.expm1(a)), b
    if kind == "expm1":
        return V.expm1(a), dc.exp(b) - 1
    if kind == "normal symmetry":
        return (V.normal_cdf(-a), 1 - V.normal_cdf(b)) if ctx.chance(50) else (V.normal_pdf(-a), V.normal_pdf(b))
    if kind == "erf odd":
        return V.erf(-a), -V.erf(b)
    p, q = positive(ctx, s, d)
    which = ctx.choose(["lgamma", "digamma", "trigamma"])
    if which == "lgamma":
        return V.lgamma(p + 1) - V.lgamma(p), dc.log(q)
    if which == "digamma":
        return V.digamma(p + 1), V.digamma(q) + 1 / q
    return V.trigamma(p + 1), V.trigamma(q) - q ** -2


def _kron_vec(ctx, s, d):
    kind = ctx.choose(["sum of kron", "trace of kron", "inner of krons", "sum of vec", "vec inner", "vec of a product"])
    t, u = (ctx.dim(allow_one=True), ctx.dim()), (ctx.dim(), ctx.dim(allow_one=True))
    if kind == "sum of kron":
        a, b = ctx.pair(t, min(d, 1))
        c, e = ctx.pair(u, min(d, 1))
        return dc.sum(V.kron(a, c)), dc.sum(b) * dc.sum(e)
    if kind == "trace of kron":
        k, j = ctx.dim(), ctx.dim()
        a, b = ctx.pair((k, k), min(d, 1))
        c, e = ctx.pair((j, j), min(d, 1))
        return dc.trace(V.kron(a, c)), dc.trace(b) * dc.trace(e)
    if kind == "inner of krons":
        a, b = ctx.pair(t, min(d, 1))
        c, e = ctx.pair(u, min(d, 1))
        f, g = ctx.pair(t, min(d, 1))
        h, i = ctx.pair(u, min(d, 1))
        return dc.inner(V.kron(a, c), V.kron(f, h)), dc.inner(b, g) * dc.inner(e, i)
    if kind == "sum of vec":
        a, b = ctx.pair(t, d)
        return dc.sum(V.vec(a)), dc.sum(b)
    if kind == "vec inner":
        a, b = ctx.pair(t, d)
        c, e = ctx.pair(t, d)
        return V.vec(a).T @ V.vec(c), dc.inner(b, e)
    k = ctx.dim()  # vec(A X B) = (Bᵀ ⊗ A) vec(X)
    a, b = ctx.pair((t[0], k), min(d, 1))
    x, y = ctx.pair((k, u[0]), min(d, 1))
    c, e = ctx.pair((u[0], t[1]), min(d, 1))
    w, z = ctx.pair(t, min(d, 1))
    return dc.inner(V.vec(a @ x @ c), V.vec(w)), dc.inner(V.kron(e.T, b) @ V.vec(y), V.vec(z))


def _outer_sum(ctx, s, d):
    c, e = ctx.pair((s[0], ONE), d)
    r, q = ctx.pair((ONE, s[1]), d)
    return V.outer_sum(c, r), e @ dc.ones(1, s[1]) + dc.ones(s[0], 1) @ q


def _extremes(ctx, s, d):
    """max = -min(-x), and the mask picks the extreme (on a continuous symbol: no ties)."""
    if _scalar(s):
        a = ctx.symbol(ctx.dim(allow_one=True), ctx.dim(), assume=())
        kind = ctx.choose(["max min", "mask picks", "mask sums to one"])
        if kind == "max min":
            return V.max(a), -V.min(-a)
        if kind == "mask picks":
            return dc.inner(V.max_mask(a), a), V.max(a)
        return dc.sum(V.min_mask(a)), E.as_expr(1)
    if s[0] == ONE:
        a = ctx.symbol(ctx.dim(), s[1], assume=())
        return V.max(a, 0), -V.min(-a, 0)
    a = ctx.symbol(s[0], ctx.dim(), assume=())
    return V.min(a, 1), -V.max(-a, 1)


def _matrix_powers(ctx, s, d):
    k = s[0]
    kind = ctx.choose(["square", "cube", "zero", "inverse"])
    if kind == "inverse":
        a, b = invertible(ctx, k, d)
        return V.matrix_power(a, -1), dc.inv(b)
    a, b = ctx.pair(s, min(d, 1))
    return {"square": lambda: (V.matrix_power(a, 2), b @ b), "cube": lambda: (V.matrix_power(a, 3), b @ (b @ b)),
            "zero": lambda: (V.matrix_power(a, 0), dc.eye(k))}[kind]()


def _matrix_functions(ctx, s, d):
    if _scalar(s):  # det(expm(A)) = exp(trace(A))
        k = ctx.dim()
        a, b = ctx.pair((k, k), min(d, 1))
        return dc.det(V.expm(a)), dc.exp(dc.trace(b))
    k = s[0]
    kind = ctx.choose(["transpose", "zero", "square root"])
    if kind == "transpose":
        a, b = ctx.pair(s, min(d, 1))
        return V.expm(a).T, V.expm(b.T)
    if kind == "zero":
        return V.expm(dc.zeros(k, k)), dc.eye(k)
    spd = ctx.symbol(k, k, assume=("spd",))
    return V.sqrtm(spd) @ V.sqrtm(spd), spd


REWRITES = [
    Rule("transpose of a product", _any, _transpose_matmul), Rule("transpose of a sum", _any, _transpose_add),
    Rule("double transpose", _any, _double_transpose), Rule("elementwise commutes with transpose", _any,
                                                            _elementwise_transpose), Rule("trace cyclic", _scalar, _trace_cyclic),
    Rule("trace of a transpose", _scalar, _trace_transpose), Rule("trace linear", _scalar, _trace_linear),
    Rule("matmul distributes", _any, _matmul_distribute), Rule("hadamard distributes", _any, _mul_distribute),
    Rule("matmul associates", _any, _matmul_assoc), Rule("scalar out of a product", _any, _scalar_pull),
    Rule("inner as trace", _scalar, _inner_trace), Rule("sum as ones", _vector_or_scalar, _sum_ones),
    Rule("power of a sum", _any, _square_of_sum), Rule("square of a sum", _scalar, _squared_sum),
    Rule("exp of a sum", _any, _exp_add), Rule("log exp", _any, _log_exp), Rule("exp log", _any, _exp_log),
    Rule("log of a product", _any, _log_mul), Rule("sigmoid odd", _any, _sigmoid_neg),
    Rule("tanh as sigmoid", _any, _tanh_sigmoid), Rule("sin² + cos²", _any, _pythagoras),
    Rule("relu", _any, _relu_step), Rule("abs as root", _any, _abs_sqrt), Rule("root of exp", _any, _sqrt_exp),
    Rule("softmax shift", _any, _softmax_shift), Rule("softmax definition", _any, _softmax_definition),
    Rule("diag diag", _column, _diag_diag), Rule("diag scales rows", _any, _diag_scale),
    Rule("eye", _any, _eye), Rule("neutral element", _any, _neutral), Rule("self cancel", _any, _self_cancel),
    Rule("exact numbers", _any, _numbers), Rule("dimensions as numbers", _scalar, _dims_as_numbers),
    Rule("det product", _scalar, _det_product), Rule("det transpose", _scalar, _det_transpose),
    Rule("det scale", _scalar, _det_scale), Rule("inverse laws", _proper_square, _inverse_laws),
    Rule("det inverse", _scalar, _det_inv), Rule("powers", _any, _powers),
    Rule("binary entries", _any, _binary), Rule("binary gram", _scalar, _binary_gram),
    Rule("one-hot rows", _any, _one_hot_rows), Rule("one-hot columns", _any, _one_hot_columns),
    Rule("permutation", lambda s: _proper_square(s) or _scalar(s), _permutation),
    Rule("rows sum to one", _any, _rows_sum_to_one), Rule("probability", _any, _probability),
    Rule("positive", _any, _positive), Rule("symmetric", _proper_square, _symmetric),
    Rule("symmetric trace", _scalar, _symmetric_trace),
    Rule("special functions", _any, _special_functions), Rule("kron and vec", _scalar, _kron_vec),
    Rule("outer sum", lambda s: ONE not in s, _outer_sum), Rule("max and min", _vector_or_scalar, _extremes),
    Rule("matrix power", _proper_square, _matrix_powers),
    Rule("matrix functions", lambda s: _scalar(s) or _proper_square(s), _matrix_functions),
]

RULES = [Rule("leaf", _any, lambda ctx, s, d: leaf(ctx, s))] + CONGRUENCES + REWRITES


def pair(ctx: Ctx, shape, depth: int, rules=None):
    """(L, R) of the given shape with L = R over the symbols' domains."""
    shape = (sympy.sympify(shape[0]), sympy.sympify(shape[1]))
    if depth <= 0:
        return leaf(ctx, shape)
    fitting = [r for r in (rules or RULES) if r.fits(shape)]
    rule = ctx.choose(fitting)
    if rule.name != "leaf":
        ctx.rules.append(rule.name)
    left, right = rule.build(ctx, shape, depth - 1)
    if E.shape(left) != shape or E.shape(right) != shape:
        raise AssertionError(f"rule {rule.name} built shapes {E.shape(left)}, {E.shape(right)} for {shape}")
    return left, right
