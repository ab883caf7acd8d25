"""Derivative claims that are true by construction.

A *chain* grows a function of the variable one operation at a time (a product
on either side, a transpose, adding or multiplying by a constant, an
elementwise function, softmax, naming an intermediate), and records for each
step its rule written by hand: the vector-Jacobian product (for gradients),
the Jacobian-vector product (for directional derivatives) and the Jacobian
factor (for Jacobians of vectors).  The claimed derivative is those rules
composed, in the equal-pair forms of the constants, so the claimed side is
written differently from f.  Named templates add the classic results (the
sigmoid/BCE and softmax/CE collapses, quadratic forms, log det, ...).

Nothing here calls derivcheck's derivative engines; the reference decides
whether each claim really holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy

import derivcheck as dc
from derivcheck import expr as E
from derivcheck import vocabulary as V

from .expressions import G_PRIME, ONE, Ctx, function, m, n

__all__ = ["gradient_claim", "jacobian_claim", "directional_claim"]


@dataclass
class Chain:
    """f built from the variable, with each step's rules (R-forms of the constants)."""

    left: E.Expr  # f as written in the claim
    right: E.Expr  # the same value in the equal forms (used inside the claimed derivative)
    shape: tuple
    positive: bool = False
    vjps: list = field(default_factory=list)  # G -> adjoint of the step's input
    jvps: list = field(default_factory=list)  # dU -> d(step's output)
    jacobians: list = field(default_factory=list)  # the step's Jacobian (vectors), or None for the identity
    names: list = field(default_factory=list)


_PRIMES = {  # f'(u) from f's argument u (R-form) and whether f(u) is positive
    "sigmoid": (lambda u: dc.sigmoid(u) * (1 - dc.sigmoid(u)), True),
    "tanh": (lambda u: 1 - dc.tanh(u) ** 2, False),
    "exp": (lambda u: dc.exp(u), True),
    "sin": (lambda u: dc.cos(u), False),
    "cos": (lambda u: -dc.sin(u), False),
    "relu": (lambda u: dc.step(u), False),
    "abs": (lambda u: 2 * dc.step(u) - 1, False),
    "square": (lambda u: 2 * u, False),
    "cube": (lambda u: 3 * u ** 2, False),
    "g": (lambda u: G_PRIME(u), False),
    "softplus": (lambda u: dc.sigmoid(u), True),
    "expm1": (lambda u: dc.exp(u), False),
    "normal_cdf": (lambda u: V.normal_pdf(u), True),
    "normal_pdf": (lambda u: -u * V.normal_pdf(u), True),
}
_POSITIVE_ONLY = {  # functions whose argument must be positive
    "log": (lambda u: 1 / u, False),
    "sqrt": (lambda u: 0.5 / dc.sqrt(u), True),
    "log1p": (lambda u: 1 / (1 + u), True),
    "lgamma": (lambda u: V.digamma(u), False),
    "digamma": (lambda u: V.trigamma(u), False),
}


def _apply(name, x):
    if name == "square":
        return x ** 2
    if name == "cube":
        return x ** 3
    return function(name)(x)


def _constant(ctx: Ctx, shape, depth):
    """An equal pair that does not contain the variable."""
    return ctx.pair(shape, depth)


def _vector(s) -> bool:
    return ONE in s


def _length(s):
    return s[0] * s[1]


def _diag(x):
    """diag of a vector; a 1×1 stays itself."""
    return x if E.shape(x) == (ONE, ONE) else dc.diag(x)


@dataclass
class Step:
    """One operation on the chain's value, with its rules written by hand (None: the identity)."""

    left: E.Expr
    right: E.Expr
    shape: tuple
    positive: bool = False
    vjp: Callable | None = None  # G -> adjoint of the step's input
    jvp: Callable | None = None  # dU -> d(step's output)
    jacobian: E.Expr | None = None  # for vectors
    name: str = ""


def _function(ctx, chain, depth, vector):
    fn = ctx.choose(list(_PRIMES) + (list(_POSITIVE_ONLY) if chain.positive else []))
    prime, positive = {**_PRIMES, **_POSITIVE_ONLY}[fn]
    d = prime(chain.right)
    return Step(_apply(fn, chain.left), _apply(fn, chain.right), chain.shape, positive, lambda g: g * d,
                lambda du: d * du, _diag(d) if vector else None, name=fn)


def _left_product(ctx, chain, depth, vector):
    r, c = chain.shape
    k = ctx.dim(allow_one=True)
    a, b = _constant(ctx, (k, r), depth)
    return Step(a @ chain.left, b @ chain.right, (k, c), False, lambda g: b.T @ g, lambda du: b @ du, b)


def _right_product(ctx, chain, depth, vector):
    r, c = chain.shape
    k = ctx.dim(allow_one=True)
    a, b = _constant(ctx, (c, k), depth)
    return Step(chain.left @ a, chain.right @ b, (r, k), False, lambda g: g @ b.T, lambda du: du @ b, b.T)


def _transpose(ctx, chain, depth, vector):
    r, c = chain.shape
    return Step(chain.left.T, chain.right.T, (c, r), chain.positive, lambda g: g.T, lambda du: du.T)


def _add(ctx, chain, depth, vector):
    r, c = chain.shape
    a, b = _constant(ctx, ctx.choose([(r, c), (ONE, ONE)] + ([(ONE, c), (r, ONE)] if ONE not in (r, c) else [])),
                     depth)
    return Step(chain.left + a, b + chain.right if ctx.chance(50) else chain.right + b, chain.shape)


def _hadamard(ctx, chain, depth, vector):
    r, c = chain.shape
    shape = ctx.choose([(r, c), (ONE, ONE)])
    a, b = _constant(ctx, shape, depth)
    jacobian = (_diag(b) if shape == (r, c) else b * dc.eye(_length((r, c)))) if vector else None
    return Step(chain.left * a, b * chain.right, chain.shape, False, lambda g: g * b, lambda du: b * du, jacobian)


def _scale(ctx, chain, depth, vector):
    x = ctx.scalar()
    return Step(x * chain.left, chain.right * x, chain.shape, False, lambda g: x * g, lambda du: x * du,
                x * dc.eye(_length(chain.shape)) if vector else None)


def _softmax(ctx, chain, depth, vector):
    p = dc.softmax(chain.right)
    return Step(dc.softmax(chain.left), p, chain.shape, True, lambda g: p * (g - dc.sum(g * p, 1)),
                lambda du: p * (du - dc.sum(p * du, 1)), _diag(p) - p.T @ p if vector else None)


def _define(ctx, chain, depth, vector):
    named = ctx.define(chain.left)
    return Step(named, named, chain.shape, chain.positive)


def _inverse(ctx, chain, depth, vector):
    inv = dc.inv(chain.right)
    return Step(dc.inv(chain.left), inv, chain.shape, False, lambda g: -(inv.T @ g @ inv.T),
                lambda du: -(inv @ du @ inv))


def _gram(ctx, chain, depth, vector):
    R = chain.right
    c = chain.shape[1]
    return Step(chain.left.T @ chain.left, R.T @ R, (c, c), False, lambda g: R @ (g + g.T),
                lambda du: du.T @ R + R.T @ du)


def _any(shape, vector):
    return True


def _column_or_any(shape, vector):
    return not vector or shape[1] == ONE


def _row_or_any(shape, vector):
    return not vector or shape[0] == ONE


def _row_softmax(shape, vector):  # a column's softmax is all ones: its Jacobian is zero
    return not vector or (shape[0] == ONE and shape[1] != ONE)


def _square_matrix(shape, vector):
    return not vector and shape[0] == shape[1] and shape[0] != ONE


#: operation -> (where it applies: (shape, keep a vector?) -> bool, the step)
STEPS = {
    "function": (_any, _function), "left product": (_column_or_any, _left_product),
    "right product": (_row_or_any, _right_product), "transpose": (_any, _transpose), "add": (_any, _add),
    "hadamard": (_any, _hadamard), "scale": (_any, _scale), "softmax": (_row_softmax, _softmax),
    "define": (_any, _define), "inverse": (_square_matrix, _inverse), "gram": (_square_matrix, _gram),
}


def grow(ctx: Ctx, chain: Chain, steps: int, depth: int, vector: bool = False, square_ops: bool = False) -> Chain:
    """Apply ``steps`` random operations to the chain (keeping a vector a vector when asked)."""
    for _ in range(steps):
        ops = [op for op, (fits, _) in STEPS.items() if fits(chain.shape, vector)
               and (square_ops or op not in ("inverse", "gram"))]
        op = ctx.choose(ops)
        step = STEPS[op][1](ctx, chain, depth, vector)
        chain.names.append(step.name or op)
        chain.left, chain.right, chain.shape, chain.positive = step.left, step.right, step.shape, step.positive
        chain.vjps.append(step.vjp or (lambda g: g))
        chain.jvps.append(step.jvp or (lambda du: du))
        chain.jacobians.append(step.jacobian)
    return chain


def _start(ctx: Ctx, shape, depth, allow_defined=True):
    """The variable: a new unconstrained symbol, or a named intermediate built from others."""
    if allow_defined and ctx.chance(25):
        body, _ = ctx.pair(shape, max(depth, 1))
        wrt = ctx.define(body)
        for s in E.symbols_of(body):
            ctx.exclude.add(s)
        return wrt
    wrt = ctx.symbol(*shape, assume=())
    ctx.exclude.add(wrt.name)
    return wrt


def _reduce(ctx: Ctx, chain: Chain, depth):
    """(f, G0): a scalar function of the chain's value and its gradient with respect to that value."""
    r, c = chain.shape
    kinds = ["sum", "inner", "mean", "sum of squares"] + (["trace"] if r == c else []) \
        + (["itself"] if (r, c) == (ONE, ONE) else [])
    kind = ctx.choose(kinds)
    chain.names.append(kind)
    if kind == "sum":
        return dc.sum(chain.left), dc.ones(r, c)
    if kind == "mean":
        return dc.sum(chain.left) / m, dc.ones(r, c) / m
    if kind == "inner":
        a, b = _constant(ctx, (r, c), depth)
        return dc.inner(a, chain.left) if ctx.chance(50) else dc.inner(chain.left, a), b
    if kind == "sum of squares":
        return dc.sum(chain.left ** 2), 2 * chain.right
    if kind == "trace":
        return dc.trace(chain.left), dc.eye(r)
    return chain.left, E.as_expr(1)


def _back(chain: Chain, g):
    for vjp in reversed(chain.vjps):
        g = vjp(g)
    return g


# ---------------------------------------------------------------- named templates

def _bce(ctx: Ctx):
    rows = ctx.choose([m, sympy.Integer(3)])
    X, w = ctx.symbol(rows, n, assume=()), ctx.symbol(n, 1, assume=())
    y = ctx.symbol(rows, 1, assume=ctx.choose([("binary",), ("probability",), ()]))
    if y is None:
        y = ctx.symbol(rows, 1, assume=())
    Z = dc.define("Z", X @ w)
    A = dc.define("A2", dc.sigmoid(Z))
    L = dc.define("L", -(1 / E.Scalar(sympy.sympify(rows))) * (y.T @ dc.log(A) + (1 - y).T @ dc.log(1 - A)))
    wrt = ctx.choose(["Z", "w", "X"])
    delta = (A - y) / E.Scalar(sympy.sympify(rows))
    return L, {"Z": Z, "w": w, "X": X}[wrt], {"Z": delta, "w": X.T @ delta, "X": delta @ w.T}[wrt], "sigmoid + BCE"


def _softmax_ce(ctx: Ctx):
    Y = ctx.symbol(m, n, assume=ctx.choose([("one_hot_rows",), ("rows_sum_to_one",), ("binary", "rows_sum_to_one")]))
    if Y is None:
        Y = ctx.symbol(m, n, assume=("rows_sum_to_one",))
    if ctx.chance(50):
        X, W = ctx.symbol(m, 2, assume=()), ctx.symbol(2, n, assume=())
        Z = dc.define("Z", X @ W)
        wrt, chain = ctx.choose([("Z", None), ("W", X)])
    else:
        Z, wrt, chain = ctx.symbol(m, n, assume=()), "Z", None
    P = dc.define("P", dc.softmax(Z))
    L = dc.define("L", -(1 / m) * dc.sum(Y * dc.log(P)))
    delta = (P - Y) / m
    if wrt == "Z":
        return L, Z, delta, "softmax + CE"
    return L, W, chain.T @ delta, "softmax + CE"


def _mse(ctx: Ctx):
    X, W, T = ctx.symbol(m, n, assume=()), ctx.symbol(n, 2, assume=()), ctx.symbol(m, 2, assume=())
    L = dc.sum((X @ W - T) ** 2) / (2 * m)
    return L, W, X.T @ (X @ W - T) / m, "mean squared error"


def _quadratic(ctx: Ctx):
    x = ctx.symbol(n, 1, assume=())
    A = ctx.symbol(n, n, assume=ctx.choose([(), ("symmetric",)]))
    f = x.T @ A @ x
    if "symmetric" in A.assume and ctx.chance(50):
        return f, x, 2 * A @ x, "quadratic form"
    return f, x, (A + A.T) @ x, "quadratic form"


def _log_det(ctx: Ctx):
    kind = ctx.choose(["log det spd", "det", "trace inverse", "trace quadratic"])
    if kind == "log det spd":
        S = ctx.symbol(n, n, assume=("spd",))
        return dc.log(dc.det(S)), S, dc.inv(S), kind
    X = ctx.symbol(n, n, assume=ctx.choose([(), ("invertible",)]))
    if kind == "det":
        return dc.det(X), X, dc.det(X) * dc.inv(X).T, kind
    A = ctx.symbol(n, n, assume=())
    if kind == "trace inverse":
        return dc.trace(A @ dc.inv(X)), X, -(dc.inv(X) @ A @ dc.inv(X)).T, kind
    return dc.trace(X.T @ A @ X), X, (A + A.T) @ X, kind


TEMPLATES = {"sigmoid + BCE": _bce, "softmax + CE": _softmax_ce, "mean squared error": _mse,
             "quadratic form": _quadratic, "log det": _log_det}


# ---------------------------------------------------------------- claims

def gradient_claim(ctx: Ctx, depth: int):
    """(f, wrt, claimed) of a true gradient claim."""
    if ctx.chance(30):
        name = ctx.choose(list(TEMPLATES))
        f, wrt, claimed, label = TEMPLATES[name](ctx)
        ctx.rules.append(f"template: {label}")
        return f, wrt, claimed
    shape = (ctx.dim(allow_one=True), ctx.dim(allow_one=True))
    wrt = _start(ctx, shape, depth)
    chain = grow(ctx, Chain(wrt, wrt, shape), ctx.draw_steps(), depth, square_ops=True)
    f, g0 = _reduce(ctx, chain, depth)
    ctx.rules.extend(f"chain: {x}" for x in chain.names)
    return f, wrt, _back(chain, g0)


def jacobian_claim(ctx: Ctx, depth: int):
    """(f, wrt, claimed) of a true Jacobian claim: f and wrt vectors, numerator layout."""
    k = ctx.dim()
    shape = ctx.choose([(k, ONE), (ONE, k)])
    wrt = _start(ctx, shape, depth)
    chain = grow(ctx, Chain(wrt, wrt, shape), ctx.draw_steps(), depth, vector=True)
    ctx.rules.extend(f"chain: {x}" for x in chain.names)
    j = None
    for factor in chain.jacobians:
        if factor is not None:
            j = factor if j is None else factor @ j
    if j is None:
        j = dc.eye(_length(shape))
    elif E.shape(j) == (ONE, ONE) and _length(shape) != ONE:
        j = j * dc.eye(_length(shape))
    return chain.left, wrt, j


def directional_claim(ctx: Ctx, depth: int):
    """(f, wrt, direction, claimed) of a true directional-derivative claim."""
    shape = (ctx.dim(allow_one=True), ctx.dim(allow_one=True))
    wrt = ctx.symbol(*shape, assume=())
    ctx.exclude.add(wrt.name)
    direction = dc.matrix("d" + wrt.name, *shape)
    chain = grow(ctx, Chain(wrt, wrt, shape), ctx.draw_steps(), depth, square_ops=True)
    ctx.rules.extend(f"chain: {x}" for x in chain.names)
    du = direction
    for jvp in chain.jvps:
        du = jvp(du)
    if ctx.chance(20) and chain.shape[0] == chain.shape[1] and chain.shape[0] != ONE:
        ctx.rules.append("chain: det")
        return dc.det(chain.left), wrt, direction, dc.det(chain.right) * dc.trace(dc.inv(chain.right) @ du)
    return chain.left, wrt, direction, du
