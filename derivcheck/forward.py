"""Forward-mode differentiation of the explicit entries, at 50 digits.

A ``Dual`` carries an entry's value and its derivative along one direction.
Evaluating f with the variable's entries seeded as Dual(x, v) gives
d/dt f(x + t v) at t = 0 exactly up to 50-digit rounding: the chain rule is
applied to scalar operations only (+, ×, ÷, powers and each elementwise
function, whose derivative comes from ``sympy.diff`` of its exact definition),
never to the matrix-level rules a claim states (det and inv are computed by
Gaussian elimination in Dual arithmetic, so they too reduce to scalar
operations).  One pass per direction, so it is much faster than
differentiating SymPy expressions (truth.symbolic_backend), which tests use to
cross-check this module.
"""
from __future__ import annotations

import dataclasses

import mpmath
import numpy as np

from . import expr as E
from .evaluate import MP, Backend, Env, evaluate

__all__ = ["Dual", "forward_backend", "directional_forward"]


class Dual:
    """value + derivative·ε with ε² = 0.  The derivative may be a vector (an object
    array): then one pass carries the derivatives along many directions at once.
    Products put the derivative first (``d * x``, not ``x * d``): an mpf on the left
    of an array makes mpmath try to convert the array through its repr, which is slow."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    @staticmethod
    def _parts(x):
        return (x.v, x.d) if isinstance(x, Dual) else (x, 0)

    def _scalar_ops(method):
        # with an array operand, let NumPy broadcast and come back entry by entry
        def op(self, o):
            return NotImplemented if isinstance(o, np.ndarray) else method(self, o)

        op.__name__ = method.__name__
        return op

    @_scalar_ops
    def __add__(self, o):
        ov, od = Dual._parts(o)
        return Dual(self.v + ov, self.d + od)

    __radd__ = __add__

    @_scalar_ops
    def __sub__(self, o):
        ov, od = Dual._parts(o)
        return Dual(self.v - ov, self.d - od)

    @_scalar_ops
    def __rsub__(self, o):
        ov, od = Dual._parts(o)
        return Dual(ov - self.v, od - self.d)

    @_scalar_ops
    def __mul__(self, o):
        ov, od = Dual._parts(o)
        return Dual(self.v * ov, self.d * ov + od * self.v)

    __rmul__ = __mul__

    @_scalar_ops
    def __truediv__(self, o):
        ov, od = Dual._parts(o)
        return Dual(self.v / ov, (self.d * ov - od * self.v) / (ov * ov))

    @_scalar_ops
    def __rtruediv__(self, o):
        ov, od = Dual._parts(o)
        return Dual(ov / self.v, (od * self.v - self.d * ov) / (self.v * self.v))

    def __neg__(self):
        return Dual(-self.v, -self.d)

    def __pos__(self):
        return self

    @_scalar_ops
    def __pow__(self, o):
        ov, od = Dual._parts(o)
        value = self.v ** ov
        d = self.d * (ov * self.v ** (ov - 1))
        if isinstance(o, Dual):  # d(a^b) also has a^b log(a) b'
            d = d + od * (value * mpmath.log(self.v))
        return Dual(value, d)

    def __rpow__(self, o):
        return Dual(o, 0) ** self

    def __repr__(self):
        # kept cheap: mpmath builds repr(x) for its error message whenever an mpf
        # meets a Dual (then Python falls back to Dual.__rmul__ and the like)
        d = f"<{self.d.shape[0]} directions>" if isinstance(self.d, np.ndarray) else self.d
        return f"Dual({self.v}, {d})"

    del _scalar_ops


def _apply(fn, a, params):
    def one(z):
        if isinstance(z, Dual):
            return Dual(fn.mpmath_call(z.v, params), z.d * fn.derivative_mpmath_call(z.v, params))
        return fn.mpmath_call(z, params)

    return np.vectorize(one, otypes=[object])(a)


def _softmax(z):
    from .functions import FUNCTIONS

    e = _apply(FUNCTIONS["exp"], z, None)
    return e / e.sum(axis=1, keepdims=True)


def _magnitude(z):
    return abs(z.v) if isinstance(z, Dual) else abs(z)


def _eliminate(a: np.ndarray, rhs: np.ndarray | None):
    """Gaussian elimination with partial pivoting in whatever scalar arithmetic the
    entries have (mpmath or Dual); returns det(a) and, if given, a⁻¹·rhs."""
    a = a.copy()
    size = a.shape[0]
    x = None if rhs is None else rhs.copy()
    det = mpmath.mpf(1)
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: _magnitude(a[r, col]))
        if _magnitude(a[pivot, col]) == 0:
            if x is not None:
                raise ZeroDivisionError("singular matrix")
            return mpmath.mpf(0), None
        if pivot != col:
            a[[col, pivot]] = a[[pivot, col]]
            if x is not None:
                x[[col, pivot]] = x[[pivot, col]]
            det = -det
        det = det * a[col, col]
        for r in range(col + 1, size):
            factor = a[r, col] / a[col, col]
            a[r, col:] = a[r, col:] - factor * a[col, col:]
            if x is not None:
                x[r] = x[r] - factor * x[col]
    if x is not None:
        for r in reversed(range(size)):
            x[r] = (x[r] - (a[r, r + 1:] @ x[r + 1:] if r + 1 < size else 0)) / a[r, r]
    return det, x


def _det(a):
    return np.array([[_eliminate(a, None)[0]]], dtype=object)


def _inv(a):
    identity = np.full(a.shape, mpmath.mpf(0), dtype=object)
    np.fill_diagonal(identity, mpmath.mpf(1))
    return _eliminate(a, identity)[1]


def _seeded_pass(f: E.Expr, wrt: E.Expr, seeds: np.ndarray, env: Env, backend: Backend) -> np.ndarray:
    """Evaluate f with wrt's entries as Dual(value, seed); the derivative parts of the result."""
    base = evaluate(wrt, env, backend)
    seeded = np.empty(base.shape, dtype=object)
    for idx in np.ndindex(*base.shape):
        seeded[idx] = Dual(base[idx], seeds[idx])
    moved = env.with_values(**{wrt.name: seeded}) if isinstance(wrt, E.Symbol) else \
        env.with_overrides(**{wrt.name: seeded})
    out = evaluate(f, moved, backend)
    zero = seeds.reshape(-1)[0] * 0
    return np.vectorize(lambda v: v.d if isinstance(v, Dual) else zero, otypes=[object])(out)


def directional_forward(f: E.Expr, wrt: E.Expr, direction: np.ndarray, env: Env, backend: Backend) -> np.ndarray:
    """d/dt f(wrt + t·direction) at t = 0, entry by entry."""
    return _seeded_pass(f, wrt, direction, env, backend)


def _all_directions(f: E.Expr, wrt: E.Expr, env: Env, backend: Backend) -> np.ndarray:
    """∂f_p/∂x_q for every entry p of f and q of wrt, in one pass: (f entries, wrt entries)."""
    shape = evaluate(wrt, env, backend).shape
    k = shape[0] * shape[1]
    seeds = np.empty(shape, dtype=object)
    for q, idx in enumerate(np.ndindex(*shape)):
        unit = np.full(k, mpmath.mpf(0), dtype=object)
        unit[q] = mpmath.mpf(1)
        seeds[idx] = unit
    out = _seeded_pass(f, wrt, seeds, env, backend)
    return np.stack([np.asarray(d, dtype=object).reshape(k) for d in out.reshape(-1)])


def _derivative(node, env: Env, backend: Backend):
    if isinstance(node, E.Directional):
        return directional_forward(node.f, node.wrt, evaluate(node.direction, env, backend), env, backend)
    table = _all_directions(node.f, node.wrt, env, backend)
    if isinstance(node, E.Grad):  # f is 1x1: one row, reshaped to wrt's shape
        return table[0].reshape(evaluate(node.wrt, env, backend).shape)
    return table  # Jacobian, numerator layout


def forward_backend() -> Backend:
    """mpmath arithmetic whose derivatives come from forward-mode differentiation."""
    return dataclasses.replace(MP, apply=_apply, softmax=_softmax, det=_det, inv=_inv,
                               derivative=_derivative)
