"""Evaluate an expression at concrete sizes and values, in one of three arithmetics.

- ``FLOAT``: NumPy float64 arrays, for fast numeric checks at larger shapes;
- ``MP``: object arrays of mpmath numbers, for high-precision re-checks and
  the exact stage (run inside ``mpmath.workdps``);
- ``SYM``: object arrays of SymPy expressions in the entries, to build the
  explicit scalar function that ground-truth derivatives differentiate.

One rule per node type (``_RULES``), written once for all arithmetics: NumPy
broadcasting and ``@`` work on object arrays too.  What differs between them
(elementwise functions, softmax, det, inv, derivatives) is in ``Backend``.
Every value is a 2-D array.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import numpy as np
import sympy

from . import expr as E

__all__ = ["Env", "Backend", "FLOAT", "MP", "SYM", "evaluate", "entry_symbols", "EvaluationError"]


class EvaluationError(ArithmeticError):
    """A value could not be computed (outside a function's domain, singular matrix...)."""


@dataclass
class Env:
    """Where to evaluate: sizes of dimensions, values of symbols, generic-function parameters.

    ``overrides`` replaces a defined name's value (used to differentiate w.r.t. an
    intermediate such as Z2)."""

    sizes: dict
    values: dict
    params: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    def with_overrides(self, **more) -> "Env":
        return Env(self.sizes, self.values, self.params, {**self.overrides, **more})

    def with_values(self, **more) -> "Env":
        return Env(self.sizes, {**self.values, **more}, self.params, self.overrides)


@dataclass(frozen=True)
class Backend:
    name: str
    dtype: type  # float for float64 arrays, object for mpmath/SymPy entries
    scalar: Callable  # sympy number -> backend number
    apply: Callable  # (fn, array, params) -> array
    softmax: Callable
    det: Callable
    inv: Callable
    derivative: Callable | None = None  # (node, env, backend) -> array; set by truth.py


# ---------------------------------------------------------------- arithmetics


def _float_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))  # the usual shift: no overflow
    return e / e.sum(axis=1, keepdims=True)


def _object_softmax(exp):
    def softmax(z):
        e = np.vectorize(exp, otypes=[object])(z)
        return e / e.sum(axis=1, keepdims=True)

    return softmax


def _object_apply(call: str):
    def apply(fn, a, params):
        f = getattr(fn, call)
        return np.vectorize(lambda v: f(v, params), otypes=[object])(a)

    return apply


def _float_inv(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError as exc:
        raise EvaluationError(f"singular matrix: {exc}") from None


FLOAT = Backend(
    "float64",
    float,
    scalar=lambda v: float(v),
    apply=lambda fn, a, params: np.asarray(fn.numpy_call(a, params), dtype=float),
    softmax=_float_softmax,
    det=lambda a: np.array([[np.linalg.det(a)]]),
    inv=_float_inv,
)

MP = Backend(
    "mpmath",
    object,
    scalar=lambda v: mpmath.mpf(sympy.N(v, mpmath.mp.dps + 10)),
    apply=_object_apply("mpmath_call"),
    softmax=_object_softmax(mpmath.exp),
    det=lambda a: np.array([[mpmath.det(mpmath.matrix(a.tolist()))]], dtype=object),
    inv=lambda a: np.array(mpmath.inverse(mpmath.matrix(a.tolist())).tolist(), dtype=object),
)

SYM = Backend(
    "sympy",
    object,
    scalar=lambda v: v,
    apply=_object_apply("sympy_call"),
    softmax=_object_softmax(sympy.exp),
    det=lambda a: np.array([[sympy.Matrix(a).det(method="berkowitz")]], dtype=object),
    inv=lambda a: np.array(sympy.Matrix(a).inv(method="LU").tolist(), dtype=object),
)


def entry_symbols(name: str, rows: int, cols: int) -> np.ndarray:
    """A matrix of real SymPy symbols named like ``W1_0_2``: valid identifiers, so
    lambdify can use them as they are (renaming them costs more than the derivative)."""
    stem = re.sub(r"\W", "_", name)
    return np.array([[sympy.Symbol(f"{stem}_{i}_{j}", real=True) for j in range(cols)]
                     for i in range(rows)], dtype=object).reshape(rows, cols)


def _fill(backend: Backend, kind: str, r: int, c: int):
    one, zero = backend.scalar(sympy.Integer(1)), backend.scalar(sympy.Integer(0))
    dtype = backend.dtype
    if kind == "eye":
        out = np.full((r, c), zero, dtype=dtype)
        np.fill_diagonal(out, one)
        return out
    return np.full((r, c), one if kind == "ones" else zero, dtype=dtype)


def at_sizes(value, sizes: dict) -> sympy.Expr:
    """A dimension expression (m, 1/m, 2*n) at concrete sizes."""
    return sympy.sympify(value).xreplace({k: sympy.Integer(v) for k, v in sizes.items()})


def _size(d, env: Env) -> int:
    v = at_sizes(d, env.sizes)
    if not v.is_Integer:
        raise EvaluationError(f"dimension {d} has no size")
    return int(v)


def _diag(a):
    r, c = a.shape
    if r == 1 or c == 1:
        flat = a.reshape(-1)
        out = np.zeros((flat.size, flat.size), dtype=a.dtype)
        if a.dtype == object:
            out[:] = flat[0] * 0
        np.fill_diagonal(out, flat)
        return out
    return np.diag(a).reshape(-1, 1).copy()


def _as_2d(v):
    return np.asarray(v).reshape(1, 1) if np.ndim(v) == 0 else v


# ---------------------------------------------------------------- rules

_RULES: dict[type, Callable] = {
    E.Symbol: lambda ev, e, env, be: env.values[e.name],
    E.Scalar: lambda ev, e, env, be: np.array([[be.scalar(at_sizes(e.value, env.sizes))]],
                                              dtype=be.dtype),
    E.Fill: lambda ev, e, env, be: _fill(be, e.kind, _size(e.rows, env), _size(e.cols, env)),
    E.Defined: lambda ev, e, env, be: env.overrides[e.name] if e.name in env.overrides else ev(e.body),
    E.Add: lambda ev, e, env, be: ev(e.a) + ev(e.b),
    E.Mul: lambda ev, e, env, be: ev(e.a) * ev(e.b),
    E.Pow: lambda ev, e, env, be: ev(e.a) ** ev(e.b),
    E.MatMul: lambda ev, e, env, be: ev(e.a) @ ev(e.b),
    E.Transpose: lambda ev, e, env, be: ev(e.a).T,
    E.Apply: lambda ev, e, env, be: be.apply(e.fn, ev(e.a), env.params.get(getattr(e.fn, "base", None))),
    E.Softmax: lambda ev, e, env, be: be.softmax(ev(e.a)),
    E.Sum: lambda ev, e, env, be: _as_2d(np.sum(ev(e.a), axis=e.axis, keepdims=e.axis is not None)),
    E.Trace: lambda ev, e, env, be: _as_2d(np.trace(ev(e.a))),
    E.Det: lambda ev, e, env, be: be.det(ev(e.a)),
    E.Inv: lambda ev, e, env, be: be.inv(ev(e.a)),
    E.Diag: lambda ev, e, env, be: _diag(ev(e.a)),
    E.Inner: lambda ev, e, env, be: _as_2d(np.sum(ev(e.a) * ev(e.b))),
}
for _node in (E.Grad, E.Jacobian, E.Directional):
    _RULES[_node] = lambda ev, e, env, be: be.derivative(e, env, be)


def evaluate(e: E.Expr, env: Env, backend: Backend, watch: list | None = None) -> np.ndarray:
    """The value of ``e`` as a 2-D array.  ``watch`` collects (function, argument)
    for functions with kinks or a restricted domain, so samplers can avoid them."""
    memo: dict[int, np.ndarray] = {}

    def ev(node: E.Expr):
        key = id(node)
        if key not in memo:
            if backend.derivative is None and isinstance(node, (E.Grad, E.Jacobian, E.Directional)):
                raise EvaluationError("this arithmetic has no derivative method")
            value = _RULES[type(node)](ev, node, env, backend)
            if watch is not None and isinstance(node, E.Apply) and (node.fn.kinks or node.fn.domain != "real"):
                watch.append((node.fn, ev(node.a)))
            memo[key] = value
        return memo[key]

    return ev(e)
