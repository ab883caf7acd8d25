"""Rigorous float64 error bounds: ball arithmetic on whole arrays, for refutations at large sizes.

At a 1000×1000 instance the float64 stage finds a wrong claim in a fraction of a second, but deciding
the same point at 50 digits takes minutes (object arrays of mpmath numbers).  Ball arithmetic decides
it in about the time of a few float64 evaluations: every value is an array of midpoints with an array
of radii such that the exact value lies within mid ± rad, entry by entry.  When the balls of the two
sides are disjoint at some entry, the sides differ there: a counterexample that round-off cannot
explain.  When they overlap nothing is decided (the exact stage is then asked).

The bounds assume IEEE-754 float64 for + − × ÷ (each correctly rounded, relative error ≤ u = 2⁻⁵³),
any summation order in BLAS products and sums (|error| ≤ γₙ Σ|terms|, γₙ = nu/(1 − nu)), and NumPy's
elementwise functions within FUNCTION_ULPS units in the last place; every computed radius is inflated
to cover the rounding of its own computation.  A value whose bound cannot be kept (a ball around a
pole, a kink or outside a domain) raises Unbounded.

One rule per node type (``_RULES``), on ``Ball`` values; ``Dual`` carries a directional derivative
(forward mode, the derivative rules of functions.PRIMES evaluated in ball arithmetic), so a gradient
claim's comparison ⟨claimed, V⟩ against d/dt f(W + tV) is decided without any finite difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from . import expr as E
from .evaluate import at_sizes
from .functions import FUNCTIONS, PRIMES

__all__ = ["Ball", "Unbounded", "evaluate_balls", "apart", "enclose", "separated"]

U = 2.0 ** -53
TINY = 2.0 ** -1000  # absolute floor for underflow
FUNCTION_ULPS = 8  # NumPy's elementwise functions: error below this many ulps of the result (typically ≤ 1)


class Unbounded(ArithmeticError):
    """No rigorous bound can be kept for this value."""


def _up(x):
    """An upper bound for a non-negative quantity computed with a few roundings."""
    out = np.multiply(x, 1 + 16 * U)
    out += TINY  # in place: one array, not two (at 1000×1000 the temporaries are most of the cost)
    return out


def _gamma(n: int) -> float:
    nu = n * U
    if nu >= 0.5:
        raise Unbounded("sum too long for a float64 error bound")
    return nu / (1 - nu)


@dataclass(frozen=True)
class Ball:
    """Entrywise enclosure: the exact value lies within mid ± rad."""

    mid: np.ndarray
    rad: np.ndarray

    @staticmethod
    def exact(values) -> "Ball":
        mid = np.asarray(values, dtype=float)
        return Ball(mid, np.zeros_like(mid))

    @property
    def shape(self):
        return self.mid.shape

    @property
    def T(self) -> "Ball":
        return Ball(self.mid.T, self.rad.T)

    def _finite(self) -> "Ball":
        if not (np.all(np.isfinite(self.mid)) and np.all(np.isfinite(self.rad))):
            raise Unbounded("overflow")
        return self

    def __add__(self, o) -> "Ball":
        o = _ball(o)
        mid = self.mid + o.mid
        return Ball(mid, _up(self.rad + o.rad + U * np.abs(mid)))._finite()

    __radd__ = __add__

    def __neg__(self) -> "Ball":
        return Ball(-self.mid, self.rad)

    def __sub__(self, o) -> "Ball":
        return self + (-_ball(o))

    def __rsub__(self, o) -> "Ball":
        return _ball(o) + (-self)

    def __mul__(self, o) -> "Ball":
        o = _ball(o)
        mid = self.mid * o.mid
        rad = U * np.abs(mid)
        ra, rb = self.rad.any(), o.rad.any()  # an exact factor (an input, a constant) adds no terms
        if rb:
            rad += np.abs(self.mid) * o.rad
        if ra:
            rad += np.abs(o.mid) * self.rad
        if ra and rb:
            rad += self.rad * o.rad
        return Ball(mid, _up(rad))._finite()

    __rmul__ = __mul__

    def reciprocal(self) -> "Ball":
        low = np.abs(self.mid) - self.rad
        if np.any(low <= 0):
            raise Unbounded("division by a ball around zero")
        mid = 1.0 / self.mid
        return Ball(mid, _up(self.rad / (np.abs(self.mid) * low) + U * np.abs(mid)))._finite()

    def __truediv__(self, o) -> "Ball":
        return self * _ball(o).reciprocal()

    def __rtruediv__(self, o) -> "Ball":
        return _ball(o) * self.reciprocal()

    def __matmul__(self, o) -> "Ball":
        o = _ball(o)
        mid = self.mid @ o.mid
        ra, rb = (r if r.any() else None for r in (self.rad, o.rad))  # inputs are exact: skip their terms
        return Ball(mid, _up(_product_radius(self.mid, ra, o.mid, rb)))._finite()

    def __rmatmul__(self, o) -> "Ball":
        return _ball(o) @ self

    def __pow__(self, k) -> "Ball":
        if not float(k).is_integer():
            raise Unbounded("a non-integer power")
        return self.power(int(k))

    def power(self, k: int) -> "Ball":
        """An integer power by repeated squaring (each product bounded)."""
        if k < 0:
            return self.power(-k).reciprocal()
        out, base = Ball.exact(np.ones_like(self.mid)), self
        while k:
            if k & 1:
                out = out * base
            base = base * base
            k >>= 1
        return out

    def total(self, axis=None) -> "Ball":
        """Sum of all entries (axis None) or along an axis, keeping two dimensions."""
        n = self.mid.size if axis is None else self.mid.shape[axis]
        keep = axis is not None
        mid = np.sum(self.mid, axis=axis, keepdims=keep)
        rad = np.sum(self.rad, axis=axis, keepdims=keep) + _gamma(n + 1) * np.sum(np.abs(self.mid), axis=axis,
                                                                                   keepdims=keep)
        return Ball(np.reshape(mid, (1, 1)) if not keep else mid,
                    _up(np.reshape(rad, (1, 1)) if not keep else rad))._finite()


CAUCHY_SCHWARZ_INNER = 256  # longer products are bounded through norms, in O(n²) (_product_radius)


def _product_radius(a, ra, b, rb):
    """A radius for the product of the balls a ± ra and b ± rb (None: exact) computed as a @ b:
    |exact − computed| ≤ γₙ|a||b| + |a|rb + ra|b| + ra rb = (γₙ|a| + ra)|b| + (|a| + ra)rb.

    Up to CAUCHY_SCHWARZ_INNER terms the products of non-negative matrices are computed (and inflated
    by their own round-off); beyond, Cauchy–Schwarz bounds them, (|x||y|)ᵢⱼ ≤ ‖xᵢ‖ ‖yⱼ‖, with
    ‖γ|a| + ra‖ ≤ γ‖a‖ + ‖ra‖: a 1000×1000 radius then costs no matrix product beyond the midpoint's
    (looser by ~1.6 for random values, √n at worst, far below any tolerance at that size)."""
    n = a.shape[1]
    g = _gamma(n + 2)
    if n > CAUCHY_SCHWARZ_INNER:
        na, nb = _norms_up(a, 1), _norms_up(b, 0)
        nra = 0.0 if ra is None else _norms_up(ra, 1)
        rad = _up(g * na + nra) * nb
        if rb is not None:
            rad = rad + _up(na + nra) * _norms_up(rb, 0)
        if np.all(np.isfinite(rad)):
            return rad
    am, bm, inflate = np.abs(a), np.abs(b), 1 + 2 * g  # a computed product of non-negative terms: ≤ γₙ off
    rad = (_up(g * am if ra is None else g * am + ra) @ bm) * inflate
    if rb is not None:
        rad = rad + (_up(am if ra is None else am + ra) @ rb) * inflate
    return rad


def _norms_up(a, axis):
    """Upper bounds for the 2-norms of a's rows (axis 1, as a column) or columns (axis 0, as a row).
    Squares that underflow lose less than TINY each (added back); one that overflows makes the
    bound infinite (and the caller computes the products instead)."""
    n = a.shape[axis]
    squares = np.einsum("ij,ij->i" if axis == 1 else "ij,ij->j", a, a)
    bound = _up(np.sqrt(squares * (1 + 2 * _gamma(n + 2)) + n * TINY))
    return bound.reshape(-1, 1) if axis == 1 else bound.reshape(1, -1)


def _ball(x) -> Ball:
    if isinstance(x, Ball):
        return x
    if isinstance(x, (int, float)):
        return Ball.exact(np.array([[float(x)]]))
    if isinstance(x, sympy.Basic):
        return _number(x)
    return Ball.exact(x)


def _number(value) -> Ball:
    """A 1×1 ball around an exact SymPy number (0.1 is one tenth: its float is off by ~1e-18)."""
    if value.is_Rational:
        mid = float(value)
        return Ball(np.array([[mid]]), np.array([[_up(float(abs(value - sympy.Rational(mid))))]]))
    mid = float(sympy.N(value, 30))
    return Ball(np.array([[mid]]), np.array([[_up(FUNCTION_ULPS * U * abs(mid))]]))


# ---------------------------------------------------------------- elementwise functions
# Per function: a bound on |f'| over [lo, hi] (mean value theorem: |f(x) − f(m)| ≤ r max|f'|), and the
# domain the whole ball must lie in.  A function without a row is Unbounded here (the exact stage decides).


def _min_abs(lo, hi):
    return np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))


def _step_slope(lo, hi):
    if np.any((lo <= 0) & (hi >= 0)):
        raise Unbounded("a ball around step's jump")
    return np.zeros_like(lo)


def _tanh_slope(lo, hi):
    # 1 − tanh²(x) = 4e^{−2|x|} / (1 + e^{−2|x|})², largest at the smallest |x|; written without the
    # cancellation of 1 − tanh², which rounds to 0 once tanh(x) rounds to 1 (|x| > 19)
    e = np.exp(-2 * _min_abs(lo, hi))
    return 4 * e / (1 + e) ** 2


def _sigmoid_slope(lo, hi):
    # σ'(x) = e^{−|x|} / (1 + e^{−|x|})², largest at the smallest |x| (no cancellation for x < −38)
    e = np.exp(-_min_abs(lo, hi))
    return e / (1 + e) ** 2


_SLOPE = {
    "tanh": _tanh_slope,
    "sigmoid": _sigmoid_slope,
    "exp": lambda lo, hi: np.exp(hi),
    "log": lambda lo, hi: 1 / lo,
    "sqrt": lambda lo, hi: 0.5 / np.sqrt(lo),
    "sin": lambda lo, hi: np.ones_like(lo),
    "cos": lambda lo, hi: np.ones_like(lo),
    "relu": lambda lo, hi: np.ones_like(lo),
    "abs": lambda lo, hi: np.ones_like(lo),
    "step": _step_slope,
}


def _apply(fn, x: Ball, params) -> Ball:
    lo, hi = x.mid - x.rad, x.mid + x.rad
    if fn.domain == "positive" and np.any(lo <= 0):
        raise Unbounded(f"{fn.name} of a ball reaching zero")
    if getattr(fn, "generic", False):
        slope = _generic_slope(fn, lo, hi, params)
    elif fn.name in _SLOPE:
        slope = _SLOPE[fn.name](lo, hi)
    else:
        raise Unbounded(f"no error bound for {fn.name}")
    with np.errstate(all="ignore"):
        mid = np.asarray(fn.numpy_call(x.mid, params), dtype=float)
    error = _generic_error(fn, x.mid, params) if getattr(fn, "generic", False) else FUNCTION_ULPS * U * np.abs(mid)
    rad = x.rad * (slope * (1 + 16 * U)) + error
    return Ball(mid, _up(rad))._finite()


def _generic_error(fn, u, params):
    # NumPy evaluates c0 sin(c1 u + c2) + c3 u + c4 u² (or a derivative) term by term: its error is a few
    # ulps of the terms, not of the result (near a root the terms cancel)
    c0, c1, c2, c3, c4 = (abs(float(c)) for c in params)
    u = np.abs(u)
    terms = c0 * c1 ** fn.order * (1 + c1 * u + c2) + c3 * (u + 1) + c4 * (u * u + 2 * u + 2)
    return 2 * FUNCTION_ULPS * U * terms


def _generic_slope(fn, lo, hi, params):
    # g = c0 sin(c1 u + c2) + c3 u + c4 u² differentiated `order` times (functions.GenericFunction):
    # the next derivative is bounded by |c0||c1|^(order+1) + the polynomial part's derivative
    c0, c1, c2, c3, c4 = (abs(float(c)) for c in params)
    big = np.maximum(np.abs(lo), np.abs(hi))
    polynomial = {0: c3 + 2 * c4 * big, 1: 2 * c4 * np.ones_like(lo)}.get(fn.order, np.zeros_like(lo))
    return c0 * c1 ** (fn.order + 1) + polynomial


# ---------------------------------------------------------------- forward mode


@dataclass(frozen=True)
class Dual:
    """A value and its derivative along one direction, both balls."""

    v: Ball
    d: Ball


def _parts(x):
    return (x.v, x.d) if isinstance(x, Dual) else (x, None)


def _lift(op_value, op_derivative):
    """A binary rule on Duals from the value rule and the derivative rule (None: a constant)."""

    def rule(a, b):
        (av, ad), (bv, bd) = _parts(a), _parts(b)
        value = op_value(av, bv)
        if ad is None and bd is None:
            return value
        return Dual(value, op_derivative(av, ad, bv, bd))

    return rule


def _sum_maybe(x, y):
    return y if x is None else x if y is None else x + y


_add = _lift(lambda a, b: a + b, lambda av, ad, bv, bd: _sum_maybe(ad, bd))
_mul = _lift(lambda a, b: a * b, lambda av, ad, bv, bd: _sum_maybe(None if ad is None else ad * bv,
                                                                     None if bd is None else av * bd))
_matmul = _lift(lambda a, b: a @ b, lambda av, ad, bv, bd: _sum_maybe(None if ad is None else ad @ bv,
                                                                        None if bd is None else av @ bd))


def _unary(x, value, derivative):
    v, d = _parts(x)
    out = value(v)
    return out if d is None else Dual(out, derivative(v, d, out))


def _function(fn, x, params):
    v, d = _parts(x)
    out = _apply(fn, v, params)
    if d is None:
        return out
    if getattr(fn, "generic", False):
        slope = _apply(fn.prime, v, params)
    elif fn.name in PRIMES:
        slope = PRIMES[fn.name](v, out, lambda name, a: _apply(FUNCTIONS[name], a, None))
        slope = _ball(slope) if not isinstance(slope, Ball) else slope
    else:
        raise Unbounded(f"no derivative rule for {fn.name}")
    return Dual(out, slope * d)


def _power(x, k):
    if not (isinstance(k, int) or float(k).is_integer()):
        raise Unbounded("a non-integer power")
    k = int(k)
    return _unary(x, lambda v: v.power(k), lambda v, d, out: d * v.power(k - 1) * k if k else d * 0)


def _softmax(x):
    v, _ = _parts(x)
    shift = Ball.exact(np.max(v.mid, axis=1, keepdims=True))  # softmax(z) = softmax(z − c), exactly
    e = _function(FUNCTIONS["exp"], _add(x, -shift), None)
    return _mul(e, _unary(_total(e, 1), lambda s: s.reciprocal(),
                          lambda s, d, out: -(d * out * out)))


def _total(x, axis=None):
    return _unary(x, lambda v: v.total(axis), lambda v, d, out: d.total(axis))


def _transpose(x):
    return _unary(x, lambda v: v.T, lambda v, d, out: d.T)


def _diag(x):
    def value(v: Ball) -> Ball:
        r, c = v.shape
        if r == 1 or c == 1:
            return Ball(np.diag(v.mid.reshape(-1)), np.diag(v.rad.reshape(-1)))
        return Ball(np.diag(v.mid).reshape(-1, 1).copy(), np.diag(v.rad).reshape(-1, 1).copy())

    return _unary(x, value, lambda v, d, out: value(d))


def _trace(x):
    return _total(_unary(x, lambda v: Ball(np.diag(v.mid).reshape(1, -1), np.diag(v.rad).reshape(1, -1)),
                         lambda v, d, out: Ball(np.diag(d.mid).reshape(1, -1), np.diag(d.rad).reshape(1, -1))))


def _fill(e, env):
    r, c = (int(at_sizes(d, env.sizes)) for d in (e.rows, e.cols))
    return Ball.exact({"ones": np.ones, "zeros": np.zeros, "eye": lambda s: np.eye(s[0])}[e.kind]((r, c)))


def _scalar(e, env):
    return _number(at_sizes(e.value, env.sizes))


def _directional(e, ev, env):
    direction = ev(e.direction)
    point = ev(e.wrt)
    seeded = Dual(_parts(point)[0], _parts(direction)[0])
    if isinstance(e.wrt, E.Symbol):
        moved = env.with_values(**{e.wrt.name: seeded})
    else:
        moved = env.with_overrides(**{e.wrt.name: seeded})
    out = evaluate_balls(e.f, moved)
    return out.d if isinstance(out, Dual) else Ball.exact(np.zeros(_parts(out)[0].shape))


def _pow(e, ev, env):
    if not isinstance(e.b, E.Scalar):
        raise Unbounded("a power with a matrix exponent")
    k = at_sizes(e.b.value, env.sizes)
    if not k.is_Integer:
        raise Unbounded("a non-integer power")
    return _power(ev(e.a), int(k))


_RULES = {
    E.Symbol: lambda e, ev, env: _value(env.values[e.name]),
    E.Scalar: lambda e, ev, env: _scalar(e, env),
    E.Fill: lambda e, ev, env: _fill(e, env),
    E.Defined: lambda e, ev, env: _value(env.overrides[e.name]) if e.name in env.overrides else ev(e.body),
    E.Add: lambda e, ev, env: _add(ev(e.a), ev(e.b)),
    E.Mul: lambda e, ev, env: _mul(ev(e.a), ev(e.b)),
    E.Pow: _pow,
    E.MatMul: lambda e, ev, env: _matmul(ev(e.a), ev(e.b)),
    E.Transpose: lambda e, ev, env: _transpose(ev(e.a)),
    E.Apply: lambda e, ev, env: _function(e.fn, ev(e.a), env.params.get(getattr(e.fn, "base", None))),
    E.Softmax: lambda e, ev, env: _softmax(ev(e.a)),
    E.Sum: lambda e, ev, env: _total(ev(e.a), e.axis),
    E.Trace: lambda e, ev, env: _trace(ev(e.a)),
    E.Inner: lambda e, ev, env: _total(_mul(ev(e.a), ev(e.b))),
    E.Diag: lambda e, ev, env: _diag(ev(e.a)),
    E.Directional: _directional,
}


def _value(v):
    return v if isinstance(v, (Ball, Dual)) else Ball.exact(v)


def evaluate_balls(e: E.Expr, env):
    """The enclosure of ``e`` at a float64 instance (evaluate.Env); Unbounded for what has no rule here."""
    memo: dict[int, object] = {}

    def ev(node):
        key = id(node)
        if key not in memo:
            rule = _RULES.get(type(node))
            if rule is None:
                raise Unbounded(f"no ball rule for {type(node).__name__}")
            memo[key] = rule(node, ev, env)
        return memo[key]

    return ev(e)


def enclose(lhs: E.Expr, rhs: E.Expr, env) -> tuple[Ball, Ball]:
    """The enclosures of both sides at this instance (a derivative's by forward mode); Unbounded when
    no bound can be kept, so a caller can say that nothing rigorous was shown."""
    try:
        with np.errstate(all="ignore"):
            a, b = evaluate_balls(lhs, env), evaluate_balls(rhs, env)
    except (FloatingPointError, ZeroDivisionError, ValueError) as exc:
        raise Unbounded(f"{type(exc).__name__}: {exc}") from exc
    return _parts(a)[0], _parts(b)[0]


def apart(a: Ball, b: Ball):
    """The entry where two enclosures are disjoint, farthest apart, with both midpoints and the gap's
    lower bound; None when they overlap everywhere."""
    gap = np.abs(a.mid - b.mid) - _up(a.rad + b.rad) * (1 + 4 * U)
    if not np.any(gap > 0):
        return None
    entry = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))
    return entry, float(a.mid[entry]), float(b.mid[entry]), float(gap[entry])


def separated(lhs: E.Expr, rhs: E.Expr, env):
    """The entry where the two sides provably differ at this instance (apart), or None when the
    enclosures overlap everywhere or cannot be kept."""
    try:
        return apart(*enclose(lhs, rhs, env))
    except Unbounded:
        return None
