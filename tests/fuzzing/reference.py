"""An independent reference: claims decided by explicit entries at tiny sizes.

Nothing here uses derivcheck's evaluate, forward, truth, instances or
assumptions modules.  An expression is evaluated entry by entry in mpmath at
``DIGITS`` digits (NumPy object arrays of mpf, one rule per node type in
``_RULES``); a derivative is a central difference at twice the precision with
a step of 10^-(DIGITS+10), so its error is far below 10^-DIGITS (a different
method from derivcheck's forward mode and from its SymPy differentiation).

The domain of a claim is read from the assumption semantics, with samplers of
our own (``DOMAINS``): discrete symbols (binary, one-hot rows/columns,
permutations) are enumerated exhaustively at every size assignment;
continuous ones are drawn as dyadic rationals, which are exact at any
precision, so rows summing to one sum to exactly one.  A point where a
function leaves its domain (log or sqrt of a non-positive number, a
derivative across a kink of relu/step/abs, a singular matrix) is outside the
claim's domain and is skipped, as the checker skips it; a kink's own value
(relu(0) = 0) is a value.

A difference is zero when it is zero: one that is not below 10^-(DIGITS-80)
relative is re-evaluated at ``RECHECK_DIGITS`` at the very same point, and
counts only when it does not shrink (round-off shrinks with the precision, a
real difference does not).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from derivcheck import expr as E

__all__ = ["DIGITS", "OutsideDomain", "Undecided", "Unsatisfiable", "Truth", "decide", "holds_at", "evaluate",
           "size_assignments", "DOMAINS", "domain_of", "configurations"]

DIGITS = 200
RECHECK_DIGITS = 300
ZERO = 80  # a relative difference below 10^-(DIGITS - ZERO) is round-off; above it, re-checked
KINK_MARGIN = mpmath.mpf(10) ** -60  # far beyond the difference step, far below any sampled distance
MAX_CONFIGURATIONS = 512  # discrete configurations enumerated per size assignment
SIZES = ({"m": 2, "n": 3}, {"m": 3, "n": 2})  # symbolic dimensions; distinct, tiny


class OutsideDomain(ArithmeticError):
    """The point is outside the claim's domain."""


class Undecided(Exception):
    """The reference cannot decide this claim (no point in the domain, a difference that neither
    shrinks nor stays, a combination of assumptions it has no domain for)."""


class Unsatisfiable(Undecided):
    """A symbol's assumptions cannot hold together (0/1 entries in the open interval (0, 1); a
    symmetric, invertible or permutation matrix that is not square): the claim is ill_formed."""


# ---------------------------------------------------------------- scalar functions

def _kink(x):
    # exactly on the kink is a value like any other (relu(0) = step(0) = abs(0) = 0, as derivcheck
    # defines them): it happens structurally (step(relu(a)) for every a < 0), and the differences of a
    # derivative across a kink land near it, not on it, which stays outside
    if x != 0 and abs(x) < KINK_MARGIN:
        raise OutsideDomain("at a kink")
    return x


def _domain(x):
    if x < KINK_MARGIN:
        raise OutsideDomain("outside a function's domain")
    return x


#: beyond this, exp(-x) is below 10^-170 next to 1, and 1 - sigmoid(x) is 0 at 200 digits but not at
#: 300: past about 690 it is 0 at both, and a true claim such as sigmoid'(x) = s(1 - s) would look
#: false at every precision we use.  A difference found at such a point leaves the claim undecided
#: (agreement there still counts: the true zero of a gradient of sum(softmax) is seen as zero).
REACH = 400
_BEYOND = {"seen": None}  # the largest such argument met since the last reset


def _reach(x):
    if abs(x) > REACH and (_BEYOND["seen"] is None or abs(x) > _BEYOND["seen"]):
        _BEYOND["seen"] = abs(x)
    return x


def _reached(x, exponent):
    """x, noting the exponent of its function's distance to its asymptote as _reach notes x's."""
    _reach(exponent)
    return x


FUNCTIONS = {
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-_reach(x))),
    "tanh": lambda x: mpmath.tanh(_reach(x)),
    "relu": lambda x: _kink(x) if x > 0 else mpmath.mpf(0) + 0 * _kink(x),
    "step": lambda x: mpmath.mpf(1) if _kink(x) > 0 else mpmath.mpf(0),
    "exp": lambda x: mpmath.exp(_reach(x)),
    "log": lambda x: mpmath.log(_domain(x)),
    "sqrt": lambda x: mpmath.sqrt(_domain(x)),
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "abs": lambda x: abs(_kink(x)),
    "softplus": lambda x: mpmath.log(1 + mpmath.exp(_reach(x))),
    "log1p": lambda x: mpmath.log(_domain(1 + x)),
    "expm1": lambda x: mpmath.exp(_reach(x)) - 1,
    # 1 - erf(x) ~ e^(-x²) and 1 - Φ(x) ~ e^(-x²/2): they saturate for |x| near 20 and 30, not 400
    # (Φ(1e20 x) = 1 at any precision, and its difference quotient 0 against φ's 10^(-2e39): a false
    # 'fails' of a true Jacobian in the final campaign)
    "erf": lambda x: mpmath.erf(_reached(x, x * x)),
    "normal_cdf": lambda x: (1 + mpmath.erf(_reached(x, x * x / 2) / mpmath.sqrt(2))) / 2,
    "normal_pdf": lambda x: mpmath.exp(-x ** 2 / 2) / mpmath.sqrt(2 * mpmath.pi),
    "lgamma": lambda x: mpmath.loggamma(_domain(x)),
    "digamma": lambda x: mpmath.digamma(_domain(x)),
    "trigamma": lambda x: mpmath.psi(1, _domain(x)),
}


# ---------------------------------------------------------------- evaluation

@dataclass
class Point:
    """Sizes (dimension name -> int), values (symbol name -> object array of mpf) and
    overrides (defined or symbol name -> value, to differentiate)."""

    sizes: dict
    values: dict
    overrides: dict = field(default_factory=dict)
    generics: dict = field(default_factory=dict)  # generic function's name -> its coefficients here

    def but(self, **overrides) -> "Point":
        return Point(self.sizes, self.values, {**self.overrides, **overrides}, self.generics)


def _size(d, sizes) -> int:
    d = sympy.sympify(d)
    return int(d.subs({s: sizes[s.name] for s in d.free_symbols}))


def _number(v, sizes):
    v = sympy.sympify(v).subs({s: sympy.Integer(sizes[s.name]) for s in sympy.sympify(v).free_symbols})
    if v.is_Rational:
        return mpmath.mpf(int(v.p)) / int(v.q)
    return mpmath.mpf(sympy.N(v, mpmath.mp.dps + 10))


def _full(r, c, fill):
    out = np.empty((r, c), dtype=object)
    for i in range(r):
        for j in range(c):
            out[i, j] = fill(i, j)
    return out


def _elementwise(fn, a):
    return _full(a.shape[0], a.shape[1], lambda i, j: fn(a[i, j]))


def _pow(base, exponent):
    p = exponent[0, 0]

    def one(x):
        if p == int(p):
            if x == 0 and p < 0:
                raise OutsideDomain("division by zero")
            return x ** int(p)
        return _domain(x) ** p

    return _elementwise(one, base)


def _softmax(z):
    for row in z:
        _reach(max(row) - min(row))
    out = _elementwise(mpmath.exp, z)
    return out / out.sum(axis=1, keepdims=True)


def _eliminate(a, rhs=None):
    """Gauss-Jordan elimination with partial pivoting: (determinant, a⁻¹ applied to rhs or None)."""
    n = a.shape[0]
    m = [list(row) for row in a]
    r = [list(row) for row in rhs] if rhs is not None else [[] for _ in range(n)]
    det = mpmath.mpf(1)
    for col in range(n):
        pivot = max(range(col, n), key=lambda i: abs(m[i][col]))
        if m[pivot][col] == 0:
            return mpmath.mpf(0), None
        if pivot != col:
            m[col], m[pivot], r[col], r[pivot] = m[pivot], m[col], r[pivot], r[col]
            det = -det
        p = m[col][col]
        det *= p
        for i in range(n):
            if i != col and m[i][col] != 0:
                f = m[i][col] / p
                m[i] = [x - f * y for x, y in zip(m[i], m[col])]
                m[i][col] = mpmath.mpf(0)  # exactly, not up to round-off
                r[i] = [x - f * y for x, y in zip(r[i], r[col])]
    return det, [[x / m[i][i] for x in r[i]] for i in range(n)]


def _det(a):
    if a.shape[0] != a.shape[1]:
        raise ValueError("det of a non-square matrix")
    return np.array([[_eliminate(a)[0]]], dtype=object)


def _inv(a):
    n = a.shape[0]
    det, inv = _eliminate(a, _full(n, n, lambda i, j: mpmath.mpf(int(i == j))))
    scale = max(abs(x) for x in a.reshape(-1)) or 1
    if inv is None or abs(det) < mpmath.mpf(10) ** -40 * scale ** n:
        raise OutsideDomain("singular matrix")
    return _full(n, n, lambda i, j: inv[i][j])


def _diag(a):
    r, c = a.shape
    if c == 1 and r != 1:
        return _full(r, r, lambda i, j: a[i, 0] if i == j else mpmath.mpf(0))
    if r == 1 and c != 1:
        return _full(c, c, lambda i, j: a[0, i] if i == j else mpmath.mpf(0))
    return _full(r, 1, lambda i, j: a[i, i])


def _sum(a, axis):
    if axis is None:
        return np.array([[sum(a.reshape(-1), mpmath.mpf(0))]], dtype=object)
    return a.sum(axis=axis, keepdims=True)


def _fill(e, sizes):
    r, c = _size(e.rows, sizes), _size(e.cols, sizes)
    one, zero = mpmath.mpf(1), mpmath.mpf(0)
    return _full(r, c, {"ones": lambda i, j: one, "zeros": lambda i, j: zero,
                        "eye": lambda i, j: one if i == j else zero}[e.kind])


def _generic(order: int, c):
    """The order-th derivative of our member of "any smooth g": c0 u³ + c1 sin(c2 u) + c3 u + c4
    (another family than the checker's, so that a claim must hold for g, not for one family)."""
    poly = [c[4], c[3], 0, c[0]]  # coefficients of u^0 .. u^3
    for _ in range(order):
        poly = [k * a for k, a in enumerate(poly)][1:] or [0]

    def g(u):
        value = sum((a * u ** k for k, a in enumerate(poly)), mpmath.mpf(0))
        return value + c[1] * c[2] ** order * mpmath.sin(c[2] * u + order * mpmath.pi / 2)

    return g


def _function(e, pt):
    if getattr(e.fn, "generic", False):
        return _generic(e.fn.order, pt.generics[e.fn.base])
    return FUNCTIONS[e.fn.name]


def _difference(f, pt: Point, wrt: E.Expr, direction: np.ndarray):
    """d/dt f(wrt + t·direction) at t = 0, by a central difference at twice the precision."""
    base = _value_of(wrt, pt)
    dps = mpmath.mp.dps
    with mpmath.workdps(2 * dps + 20):
        h = mpmath.mpf(10) ** -(dps + 10)
        plus = evaluate(f, pt.but(**{wrt.name: base + h * direction}))
        minus = evaluate(f, pt.but(**{wrt.name: base - h * direction}))
        out = (plus - minus) / (2 * h)
    return _elementwise(lambda x: +x, out)  # back to the working precision


def _value_of(e, pt):
    return pt.overrides[e.name] if e.name in pt.overrides else evaluate(e, pt)


def _unit(shape, i, j):
    return _full(shape[0], shape[1], lambda a, b: mpmath.mpf(1 if (a, b) == (i, j) else 0))


def _grad(e, pt):
    """∂f/∂wrt entry by entry (denominator layout: the shape of wrt)."""
    w = _value_of(e.wrt, pt)
    return _full(*w.shape, lambda i, j: _difference(e.f, pt, e.wrt, _unit(w.shape, i, j))[0, 0])


def _jacobian(e, pt):
    """J[i, j] = ∂f_i/∂x_j (numerator layout), f and x read as vectors in row-major order."""
    w = _value_of(e.wrt, pt)
    columns = [_difference(e.f, pt, e.wrt, _unit(w.shape, *divmod(k, w.shape[1]))).reshape(-1)
               for k in range(w.size)]
    return _full(len(columns[0]), len(columns), lambda i, j: columns[j][i])


def _directional(e, pt):
    return _difference(e.f, pt, e.wrt, evaluate(e.direction, pt))


def _kron(a, b):
    p, q = b.shape
    return _full(a.shape[0] * p, a.shape[1] * q, lambda i, j: a[i // p, j // q] * b[i % p, j % q])


def _vec(a):
    return a.T.reshape(-1, 1).copy()  # columns stacked


def _outer_sum(c, r):
    return _full(c.shape[0], r.shape[1], lambda i, j: c[i, 0] + r[0, j])


def _extreme(a, axis, which, mask=False):
    """max/min of all entries, each column or each row; or the 0/1 mask of where it is attained.
    Two entries within the kink margin of the extreme are a tie: outside the domain."""
    pick = max if which == "max" else min
    groups = {None: [[(i, j) for i in range(a.shape[0]) for j in range(a.shape[1])]],
              0: [[(i, j) for i in range(a.shape[0])] for j in range(a.shape[1])],
              1: [[(i, j) for j in range(a.shape[1])] for i in range(a.shape[0])]}[axis]
    best = []
    for group in groups:
        values = sorted((a[ij] for ij in group), reverse=which == "max")
        if len(values) > 1 and abs(values[0] - values[1]) < KINK_MARGIN:
            raise OutsideDomain("a tie at the extreme")
        best.append(pick(a[ij] for ij in group))
    if mask:
        out = _full(*a.shape, lambda i, j: mpmath.mpf(0))
        for group, b in zip(groups, best):
            for ij in group:
                if a[ij] == b:
                    out[ij] = mpmath.mpf(1)
        return out
    shape = {None: (1, 1), 0: (1, a.shape[1]), 1: (a.shape[0], 1)}[axis]
    return np.array(best, dtype=object).reshape(shape)


def _matrix_power(a, k):
    k = int(k)
    base = _inv(a) if k < 0 else a
    out = _full(*a.shape, lambda i, j: mpmath.mpf(int(i == j)))
    for _ in range(abs(k)):
        out = np.dot(out, base)
    return out


def _matrix_function(name, a):
    m = mpmath.matrix(a.tolist())
    if name in ("logm", "sqrtm"):  # principal branches: real only for a spectrum off the closed negative axis
        # an eigenvalue is real when its imaginary part is round-off (mpmath.eig leaves ~1e-60 on -0.167,
        # and sqrtm then took a non-principal root: a false 'fails' against a claim that holds)
        if any(abs(mpmath.im(x)) <= mpmath.mpf(10) ** (-mpmath.mp.dps // 2) * (1 + abs(x)) and mpmath.re(x) <= KINK_MARGIN
               for x in mpmath.eig(m)[0]):
            raise OutsideDomain(f"{name} of a matrix with a non-positive real eigenvalue")
    out = {"expm": mpmath.expm, "logm": mpmath.logm, "sqrtm": mpmath.sqrtm}[name](m)
    return _full(*a.shape, lambda i, j: mpmath.re(out[i, j]))


def _symbol(e, pt):
    if e.name in pt.overrides:
        return pt.overrides[e.name]
    v = pt.values[e.name]
    return _elementwise(lambda x: +x, v)  # rounded to the working precision (values are exact dyadics)


def _defined(e, pt):
    return pt.overrides[e.name] if e.name in pt.overrides else evaluate(e.body, pt)


_RULES = {
    E.Symbol: _symbol,
    E.Scalar: lambda e, pt: np.array([[_number(e.value, pt.sizes)]], dtype=object),
    E.Fill: lambda e, pt: _fill(e, pt.sizes),
    E.Defined: _defined,
    E.Add: lambda e, pt: evaluate(e.a, pt) + evaluate(e.b, pt),
    E.Mul: lambda e, pt: evaluate(e.a, pt) * evaluate(e.b, pt),
    E.Pow: lambda e, pt: _pow(evaluate(e.a, pt), evaluate(e.b, pt)),
    E.MatMul: lambda e, pt: np.dot(evaluate(e.a, pt), evaluate(e.b, pt)),
    E.Transpose: lambda e, pt: evaluate(e.a, pt).T.copy(),
    E.Apply: lambda e, pt: _elementwise(_function(e, pt), evaluate(e.a, pt)),
    E.Softmax: lambda e, pt: _softmax(evaluate(e.a, pt)),
    E.Sum: lambda e, pt: _sum(evaluate(e.a, pt), e.axis),
    E.Trace: lambda e, pt: np.array([[sum(np.diagonal(evaluate(e.a, pt)), mpmath.mpf(0))]], dtype=object),
    E.Det: lambda e, pt: _det(evaluate(e.a, pt)),
    E.Inv: lambda e, pt: _inv(evaluate(e.a, pt)),
    E.Diag: lambda e, pt: _diag(evaluate(e.a, pt)),
    E.Inner: lambda e, pt: _sum(evaluate(e.a, pt) * evaluate(e.b, pt), None),
    E.Kron: lambda e, pt: _kron(evaluate(e.a, pt), evaluate(e.b, pt)),
    E.Vec: lambda e, pt: _vec(evaluate(e.a, pt)),
    E.OuterSum: lambda e, pt: _outer_sum(evaluate(e.a, pt), evaluate(e.b, pt)),
    E.Extreme: lambda e, pt: _extreme(evaluate(e.a, pt), e.axis, e.which),
    E.ExtremeMask: lambda e, pt: _extreme(evaluate(e.a, pt), e.axis, e.which, mask=True),
    E.MatPow: lambda e, pt: _matrix_power(evaluate(e.a, pt), _number(e.exponent, pt.sizes)),
    E.ApplyMatrix: lambda e, pt: _matrix_function(e.fn.name, evaluate(e.a, pt)),
    E.Grad: _grad,
    E.Jacobian: _jacobian,
    E.Directional: _directional,
}


def evaluate(e: E.Expr, pt: Point) -> np.ndarray:
    """The value of e at the point, a 2-D object array of mpf (at the current mpmath precision)."""
    out = _RULES[type(e)](e, pt)
    if not isinstance(out, np.ndarray) or out.ndim != 2:
        raise TypeError(f"{type(e).__name__} gave {out!r}")
    return out


# ---------------------------------------------------------------- domains (the assumption semantics)

def _dyadic(x: float, bits: int = 20) -> mpmath.mpf:
    return mpmath.mpf(int(round(x * 2 ** bits))) / 2 ** bits


def _matrix(rng, r, c, draw):
    return _full(r, c, lambda i, j: draw(rng))


def _normal(rng):
    while True:
        x = _dyadic(rng.standard_normal())
        if x != 0:
            return x


def _unconstrained(rng, r, c):
    return _matrix(rng, r, c, _normal)


def _probability(rng, r, c):
    return _matrix(rng, r, c, lambda g: mpmath.mpf(int(g.integers(1, 2 ** 20))) / 2 ** 20)


def _positive_entries(rng, r, c):
    return _matrix(rng, r, c, lambda g: _dyadic(math.exp(g.uniform(-2.5, 2.5))) or mpmath.mpf(2) ** -20)


def _soft_rows(rng, r, c, strict: bool):
    """Rows on the simplex (interior), as multiples of 2^-20 that sum to exactly one."""
    out = np.empty((r, c), dtype=object)
    total = 2 ** 20
    for i in range(r):
        while True:
            cuts = sorted(int(x) for x in rng.integers(1, total, size=c - 1))
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
            if all(p > 0 for p in parts) or not strict:
                break
        for j, p in enumerate(parts):
            out[i, j] = mpmath.mpf(p) / total
    return out


def _symmetric(rng, r, c):
    a = _unconstrained(rng, r, c)
    return (a + a.T) / 2


def _spd(rng, r, c):
    a = _unconstrained(rng, r, c)
    return np.dot(a, a.T) + _full(r, r, lambda i, j: mpmath.mpf(2) ** -4 if i == j else mpmath.mpf(0))


def _invertible(base):
    def draw(rng, r, c):
        for _ in range(20):
            a = base(rng, r, c)
            if abs(_eliminate(a)[0]) > mpmath.mpf(2) ** -30:
                return a
        raise Undecided("no invertible matrix drawn")
    return draw


def _binary_configs(r, c):
    for bits in itertools.product((0, 1), repeat=r * c):
        yield _full(r, c, lambda i, j: mpmath.mpf(bits[i * c + j]))


def _one_hot_row_configs(r, c):
    for hot in itertools.product(range(c), repeat=r):
        yield _full(r, c, lambda i, j: mpmath.mpf(int(hot[i] == j)))


def _one_hot_column_configs(r, c):
    for cfg in _one_hot_row_configs(c, r):
        yield cfg.T.copy()


def _permutation_configs(r, c):
    if r != c:
        raise Undecided("a permutation matrix must be square")
    for perm in itertools.permutations(range(r)):
        yield _full(r, c, lambda i, j: mpmath.mpf(int(perm[i] == j)))


@dataclass(frozen=True)
class Domain:
    """The set an assumption combination means: enumerated (``configs``) or sampled (``draw``)."""

    name: str
    configs: object = None  # (r, c) -> iterator of values
    count: object = None  # (r, c) -> number of configurations
    draw: object = None  # (rng, r, c) -> value
    square: bool = False


#: assumption combination (after implications) -> its domain.  One row per combination the
#: semantics define; anything else is unsatisfiable (ill_formed) or not covered here.
DOMAINS = {
    frozenset(): Domain("unconstrained", draw=_unconstrained),
    frozenset({"binary"}): Domain("binary", _binary_configs, lambda r, c: 2 ** (r * c)),
    frozenset({"one_hot_rows"}): Domain("one_hot_rows", _one_hot_row_configs, lambda r, c: c ** r),
    frozenset({"one_hot_columns"}): Domain("one_hot_columns", _one_hot_column_configs, lambda r, c: r ** c),
    frozenset({"one_hot_rows", "one_hot_columns"}): Domain("permutation", _permutation_configs,
                                                           lambda r, c: math.factorial(r), square=True),
    frozenset({"rows_sum_to_one"}): Domain("rows_sum_to_one", draw=lambda g, r, c: _soft_rows(g, r, c, False)),
    frozenset({"rows_sum_to_one", "positive"}): Domain("soft rows > 0", draw=lambda g, r, c: _soft_rows(g, r, c, True)),
    frozenset({"probability"}): Domain("probability", draw=_probability),
    frozenset({"positive"}): Domain("positive", draw=_positive_entries),
    frozenset({"symmetric"}): Domain("symmetric", draw=_symmetric, square=True),
    frozenset({"spd"}): Domain("spd", draw=_spd, square=True),
    frozenset({"invertible"}): Domain("invertible", draw=_invertible(_unconstrained), square=True),
    frozenset({"symmetric", "invertible"}): Domain("symmetric invertible", draw=_invertible(_symmetric), square=True),
}

#: implications used to bring a combination to its row: one-hot rows are binary rows summing to one, ...
_IMPLIED = [
    (frozenset({"binary", "rows_sum_to_one"}), frozenset({"one_hot_rows"})),
    (frozenset({"one_hot_rows"}), frozenset({"binary", "rows_sum_to_one"})),
    (frozenset({"one_hot_columns"}), frozenset({"binary"})),
    (frozenset({"spd"}), frozenset({"symmetric", "invertible"})),
    (frozenset({"probability"}), frozenset({"positive"})),
]
_WEAKER = {  # implied facts dropped once a stronger row covers them
    "one_hot_rows": {"binary", "rows_sum_to_one"}, "one_hot_columns": {"binary"},
    "spd": {"symmetric", "invertible"}, "probability": {"positive"},
}


#: combinations whose intersection is empty: the entries 0 and 1 are not in the open interval (0, 1)
EMPTY = (frozenset({"binary", "probability"}),)


def domain_of(assume) -> Domain:
    """The domain of a symbol with these assumptions; Undecided when the combination is not
    one the reference samples (the checker must call it ill_formed or cover exactly it)."""
    props = set(assume)
    changed = True
    while changed:
        changed = False
        for need, add in _IMPLIED:
            if need <= props and not add <= props:
                props |= add
                changed = True
    for strong, weak in _WEAKER.items():
        if strong in props:
            props -= weak
    if "rows_sum_to_one" in props and "probability" in props:
        props -= {"probability"}  # interior of the simplex; a single column is {1}, not in (0, 1)
        props |= {"positive"}
    if any(empty <= props for empty in EMPTY):
        raise Unsatisfiable(f"{', '.join(sorted(assume))} cannot hold together")
    key = frozenset(props)
    if key not in DOMAINS:
        raise Undecided(f"no reference domain for {', '.join(sorted(assume))}")
    return DOMAINS[key]


# ---------------------------------------------------------------- claims -> comparisons

def _column(x):
    return x.reshape(-1, 1)


def _expression_pair(a, b):
    return (lambda pt, v: evaluate(a, pt)), (lambda pt, v: evaluate(b, pt))


def _gradient_pair(claim):
    # <claimed, V> against d/dt f(wrt + tV) for a random V: decides claimed = ∂f/∂wrt
    return ((lambda pt, v: _sum(evaluate(claim.claimed, pt) * v, None)),
            (lambda pt, v: _difference(claim.f, pt, claim.wrt, v)))


def _jacobian_pair(claim):
    # J v against d/dt f(x + tv), f and v read as columns
    return ((lambda pt, v: np.dot(evaluate(claim.claimed, pt), _column(v))),
            (lambda pt, v: _column(_difference(claim.f, pt, claim.wrt, v))))


#: kind -> the equalities it asserts: [(label, left(point, direction), right(point, direction))]
_PAIRS = {
    "identity": lambda c: [("identity", *_expression_pair(c.lhs, c.rhs))],
    "directional": lambda c: [("directional", *_expression_pair(c.claimed, E.Directional(c.f, c.wrt, c.direction)))],
    "gradient": lambda c: [("gradient", *_gradient_pair(c))],
    "jacobian": lambda c: [("jacobian", *_jacobian_pair(c))],
    "derivation": lambda c: [(f"step {i}", *_expression_pair(c.steps[i - 1], c.steps[i]))
                             for i in range(1, len(c.steps))],
}


def _pairs(claim):
    if claim.kind not in _PAIRS:
        raise Undecided(f"kind {claim.kind} is outside the reference")
    return _PAIRS[claim.kind](claim)


def _exprs(claim):
    if claim.kind == "identity":
        return [claim.lhs, claim.rhs]
    if claim.kind == "derivation":
        return list(claim.steps)
    return [x for x in (claim.f, claim.claimed, claim.direction) if x is not None] + [claim.wrt]


def _shape_of(claim):
    for e in _exprs(claim):
        E.shape(e)
    if claim.kind in ("gradient", "jacobian"):
        truth = (E.Grad if claim.kind == "gradient" else E.Jacobian)(claim.f, claim.wrt)
        if E.shape(truth) != E.shape(claim.claimed):
            raise E.ShapeError("claimed and true shapes differ")
    elif claim.kind == "identity" and E.shape(claim.lhs) != E.shape(claim.rhs):
        raise E.ShapeError("sides differ in shape")
    elif claim.kind == "derivation":
        if len({E.shape(s) for s in claim.steps}) != 1:
            raise E.ShapeError("steps differ in shape")


# ---------------------------------------------------------------- deciding

@dataclass
class Truth:
    """What the reference found: ``holds`` over every point it tried, or a counterexample."""

    holds: bool
    points: int  # points evaluated (inside the domain)
    exhaustive: bool  # every discrete configuration was enumerated at every size assignment
    where: str = ""  # the counterexample: which comparison, sizes, values, discrepancy
    sizes: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    error: float = 0.0


def size_assignments(claim, extra: list | None = None) -> list[dict]:
    names = sorted({d.name for e in _exprs(claim) for d in E.dims_of(e)})
    out = []
    for s in (*SIZES, *(extra or [])):
        assignment = {n: s[n] for n in names if n in s}
        if len(assignment) == len(names) and assignment not in out:
            out.append(assignment)
    if not out:
        raise Undecided("dimensions other than m and n")
    return out


def _largest(x) -> mpmath.mpf:
    return max((abs(v) for v in x.reshape(-1)), default=mpmath.mpf(0))


def _gap(left, right):
    """(largest entry difference, largest entry) of two values."""
    return _largest(left - right), max(_largest(left), _largest(right))


def _differs(left_fn, right_fn, pt, v) -> tuple[bool, float]:
    """(a real difference, log10 of the relative difference) at this point, at two precisions.
    The absolute difference is compared across precisions: round-off shrinks with the precision
    (a zero gradient computed as 10^-200 becomes 10^-300), a real difference stays."""
    _BEYOND["seen"] = None
    with mpmath.workdps(DIGITS):
        diff, scale = _gap(left_fn(pt, v), right_fn(pt, v))
        if diff == 0 or diff < scale * mpmath.mpf(10) ** -(DIGITS - ZERO):
            return False, -math.inf
        first = float(mpmath.log10(diff))
        relative = float(mpmath.log10(diff / scale))
    with mpmath.workdps(RECHECK_DIGITS):
        again, _ = _gap(left_fn(pt, v), right_fn(pt, v))
        second = float(mpmath.log10(again)) if again else -math.inf
    if second < first - 40:
        return False, second  # shrank with the precision: round-off
    if abs(second - first) < 0.5:
        if _BEYOND["seen"] is not None:
            raise Undecided(f"a difference at a point where exp, sigmoid, tanh, softmax, erf or normal_cdf "
                            f"saturates (an exponent of {mpmath.nstr(_BEYOND['seen'], 3)}): beyond what 200 "
                            "and 300 digits resolve")
        return True, relative
    raise Undecided(f"a difference that neither shrinks nor stays (10^{first:.0f} then 10^{second:.0f})")


def configurations(symbols: dict, sizes: dict, limit: int = MAX_CONFIGURATIONS):
    """(discrete symbol names, iterator over their joint configurations, count)."""
    discrete = []
    for name, s in sorted(symbols.items()):
        dom = domain_of(s.assume)
        if dom.square and sympy.sympify(s.rows) != sympy.sympify(s.cols):
            raise Unsatisfiable(f"{name} is {', '.join(sorted(s.assume))} but not square")
        if dom.configs is not None:
            r, c = _size(s.rows, sizes), _size(s.cols, sizes)
            discrete.append((name, dom, r, c))
    count = math.prod(dom.count(r, c) for _, dom, r, c in discrete) if discrete else 1
    if count > limit:
        raise Undecided(f"{count} discrete configurations (more than {limit})")
    names = [d[0] for d in discrete]
    return names, itertools.product(*(list(dom.configs(r, c)) for _, dom, r, c in discrete)), count


def _draw_continuous(symbols, sizes, rng, fixed: dict):
    values = dict(fixed)
    for name, s in sorted(symbols.items()):
        if name in values:
            continue
        dom = domain_of(s.assume)
        r, c = _size(s.rows, sizes), _size(s.cols, sizes)
        if dom.square and sympy.sympify(s.rows) != sympy.sympify(s.cols):
            raise Unsatisfiable(f"{name} is {', '.join(sorted(s.assume))} but not square")
        values[name] = dom.draw(rng, r, c)
    return values


def _draw_generics(exprs, rng) -> dict:
    return {g: tuple(_dyadic(x) for x in rng.uniform(0.5, 1.5, 5) * rng.choice([-1.0, 1.0], 5))
            for g in sorted(E.generics_of(*exprs))}


def _direction(claim, pt, rng):
    if claim.kind not in ("gradient", "jacobian"):
        return None
    w = _value_of(claim.wrt, pt)
    return _unconstrained(rng, *w.shape)


PIECEWISE_POINTS = 8


def _piecewise(exprs) -> bool:
    """Whether a claim uses a function with a kink (relu, step, abs) or a root (sqrt(x²) = |x|)."""
    for e in exprs:
        for node in E.walk(e):
            if isinstance(node, E.Apply) and node.fn.name in ("relu", "step", "abs", "sqrt"):
                return True
            if isinstance(node, E.Pow) and isinstance(node.b, E.Scalar) and not sympy.sympify(node.b.value).is_Integer:
                return True
    return False


def decide(claim, rng: np.random.Generator, points: int = 2, max_tries: int = 12) -> Truth:
    """Whether the claim holds over its domain: every discrete configuration, ``points`` random
    continuous draws (each with its own direction for derivatives) per configuration and size
    assignment.  A claim whose shapes do not fit raises ``E.ShapeError``."""
    _shape_of(claim)
    exprs = _exprs(claim)
    symbols = E.symbols_of(*exprs)
    pairs = _pairs(claim)
    if _piecewise(exprs):  # an identity of piecewise functions can hold on a whole region: more points
        points = max(points, PIECEWISE_POINTS)
    evaluated = 0
    for sizes in size_assignments(claim):
        names, configs, count = configurations(symbols, sizes)
        per_config = points if not names else 1
        for config in configs:
            fixed = dict(zip(names, config))
            for _ in range(per_config):
                for _ in range(max_tries):
                    values = _draw_continuous(symbols, sizes, rng, fixed)
                    pt = Point(sizes, values, generics=_draw_generics(exprs, rng))
                    try:
                        with mpmath.workdps(DIGITS):
                            v = _direction(claim, pt, rng)
                        for label, left, right in pairs:
                            differs, err = _differs(left, right, pt, v)
                            if differs:
                                return Truth(False, evaluated + 1, True, _describe(label, sizes, values, err),
                                             sizes, values, err)
                    except OutsideDomain:
                        if not symbols or not any(domain_of(s.assume).draw for s in symbols.values()):
                            break  # nothing to redraw: this configuration is outside the domain
                        continue
                    evaluated += 1
                    break
    if evaluated == 0:
        raise Undecided("no point of the domain found")
    return Truth(True, evaluated, True)


def holds_at(claim, sizes: dict, values: dict, rng: np.random.Generator, directions: int = 2) -> bool:
    """Whether the claim holds at one given point (a checker's counterexample); values as nested
    lists of floats (exact rationals).  OutsideDomain when the point is not in the domain."""
    _shape_of(claim)
    symbols = E.symbols_of(*_exprs(claim))
    with mpmath.workdps(DIGITS):
        fixed = {k: _full(len(v), len(v[0]), lambda i, j, v=v: mpmath.mpf(v[i][j])) for k, v in values.items()
                 if k in symbols}
    values = _draw_continuous(symbols, sizes, rng, fixed)  # symbols the counterexample does not list
    pt = Point(sizes, values, generics=_draw_generics(_exprs(claim), rng))
    for _ in range(directions):
        with mpmath.workdps(DIGITS):
            v = _direction(claim, pt, rng)
        for label, left, right in _pairs(claim):
            if _differs(left, right, pt, v)[0]:
                return False
    return True


def _describe(label, sizes, values, err) -> str:
    shown = {k: [[float(x) for x in row] for row in v] for k, v in values.items()}
    where = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items())) or "fixed sizes"
    return f"{label} differs (relative 1e{err:.0f}) at {where}: {shown}"
