"""Evaluate an expression at concrete sizes and values, in one of three arithmetics.

- ``FLOAT``: NumPy float64 arrays, for fast numeric checks at larger shapes;
- ``MP``: object arrays of mpmath numbers, for high-precision re-checks and
  the exact stage (run inside ``mpmath.workdps``);
- ``SYM``: object arrays of SymPy expressions in the entries, to build the
  explicit scalar function that ground-truth derivatives differentiate.

One rule per node type (``_RULES``), written once for all arithmetics: NumPy
broadcasting and ``@`` work on object arrays too.  What differs between them
(elementwise and matrix functions, softmax, det, inv, derivatives, how a value
is compared) is in ``Backend``.  Every value is a 2-D array.

Where an argument must stay (off a kink, inside a domain, away from a tie of a
max, off the negative real axis for logm) is said by a *watcher*: an object
with a ``name`` and ``admits(float64 argument) -> bool``; ``evaluate`` collects
(watcher, argument) pairs for the samplers (``_WATCHERS``, one row per node type).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import numpy as np
import sympy

from . import expr as E
from .functions import KINK_MARGIN
from .matrix_functions import MatrixDomainError

__all__ = ["Env", "Backend", "FLOAT", "MP", "SYM", "evaluate", "entry_symbols", "EvaluationError", "WATCHED_NODES"]


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
    #: what the draw avoided that sits exactly on a kink, tie or domain edge with positive probability
    #: ("max of relu(X)"): this instance then stands only for the points off it (instances.draw)
    avoided: frozenset = frozenset()

    def with_overrides(self, **more) -> "Env":
        return Env(self.sizes, self.values, self.params, {**self.overrides, **more}, self.avoided)

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
    # the plain numbers of an array (under any dual parts), on which a max picks its entry
    values: Callable = lambda a: a
    matrix_function: Callable | None = None  # (MatrixFunction row, array) -> array


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


def matrix_function_method(method: str):
    """A matrix function's ``method`` (numpy, mpmath or exact), its domain errors as EvaluationError."""
    def call(fn, a):
        try:
            return getattr(fn, method)(a)
        except (MatrixDomainError, ZeroDivisionError) as exc:
            raise EvaluationError(f"{fn.name}: {exc or 'singular matrix'}") from None

    return call


def _mp_matrix_function(fn, a):
    out = matrix_function_method("mpmath")(fn, a)  # mpmath answers in complex numbers when it has to
    if any(isinstance(x, mpmath.mpc) and x.imag != 0 for x in out.reshape(-1)):
        raise EvaluationError(f"{fn.name}: the result is not real")
    return np.vectorize(lambda x: x.real if isinstance(x, mpmath.mpc) else x, otypes=[object])(out)


def _no_values(a):
    raise EvaluationError("a max or min needs numbers, not symbolic entries")


def _no_matrix_function(fn, a):
    raise EvaluationError(f"{fn.name} has no entrywise SymPy form")


FLOAT = Backend(
    "float64",
    float,
    scalar=lambda v: float(v),
    apply=lambda fn, a, params: np.asarray(fn.numpy_call(a, params), dtype=float),
    softmax=_float_softmax,
    det=lambda a: np.array([[np.linalg.det(a)]]),
    inv=_float_inv,
    matrix_function=matrix_function_method("numpy"),
)

MP = Backend(
    "mpmath",
    object,
    scalar=lambda v: mpmath.mpf(sympy.N(v, mpmath.mp.dps + 10)),
    apply=_object_apply("mpmath_call"),
    softmax=_object_softmax(mpmath.exp),
    det=lambda a: np.array([[mpmath.det(mpmath.matrix(a.tolist()))]], dtype=object),
    inv=lambda a: np.array(mpmath.inverse(mpmath.matrix(a.tolist())).tolist(), dtype=object),
    matrix_function=_mp_matrix_function,
)

SYM = Backend(
    "sympy",
    object,
    scalar=lambda v: v,
    apply=_object_apply("sympy_call"),
    softmax=_object_softmax(sympy.exp),
    det=lambda a: np.array([[sympy.Matrix(a).det(method="berkowitz")]], dtype=object),
    inv=lambda a: np.array(sympy.Matrix(a).inv(method="LU").tolist(), dtype=object),
    values=_no_values,
    matrix_function=_no_matrix_function,
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
    key = (value, tuple(sizes.items()))
    out = _AT_SIZES.get(key)
    if out is None:
        out = _AT_SIZES[key] = sympy.sympify(value).xreplace({k: sympy.Integer(v) for k, v in sizes.items()})
        if len(_AT_SIZES) > 65536:
            _AT_SIZES.clear()
    return out


_AT_SIZES: dict = {}  # (value, sizes) -> value at those sizes: every evaluation asks again


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


_PICK = {"max": np.argmax, "min": np.argmin}  # Extreme.which -> where along an axis


def _picked(e, a, be) -> tuple:
    """The index array of the entries a max (min) picks: over all entries, or one per column / row."""
    values = be.values(a)
    if e.axis is None:
        return np.unravel_index(_PICK[e.which](values), a.shape)
    return (np.expand_dims(_PICK[e.which](values, axis=e.axis), e.axis),)


def _extreme(a, e, be):
    idx = _picked(e, a, be)
    if e.axis is None:
        return _as_2d(a[idx]).astype(a.dtype)
    return np.take_along_axis(a, idx[0], axis=e.axis)


def _extreme_mask(a, e, be):
    idx = _picked(e, a, be)
    out = np.full(a.shape, be.scalar(sympy.Integer(0)), dtype=be.dtype)
    if e.axis is None:
        out[idx] = be.scalar(sympy.Integer(1))
    else:
        np.put_along_axis(out, idx[0], be.scalar(sympy.Integer(1)), axis=e.axis)
    return out


def _matrix_power(a, k: int, be):
    if k < 0:
        a, k = be.inv(a), -k
    out = _fill(be, "eye", a.shape[0], a.shape[0])
    square = a
    while k:  # by squaring: ⌈log₂ k⌉ products
        if k & 1:
            out = out @ square
        k >>= 1
        if k:
            square = square @ square
    return out


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
    E.Extreme: lambda ev, e, env, be: _extreme(ev(e.a), e, be),
    E.ExtremeMask: lambda ev, e, env, be: _extreme_mask(ev(e.a), e, be),
    E.ApplyMatrix: lambda ev, e, env, be: be.matrix_function(e.fn, ev(e.a)),
    E.MatPow: lambda ev, e, env, be: _matrix_power(ev(e.a), _size(e.exponent, env), be),
    E.Kron: lambda ev, e, env, be: np.kron(ev(e.a), ev(e.b)),
    E.Vec: lambda ev, e, env, be: ev(e.a).reshape(-1, 1, order="F"),
    E.OuterSum: lambda ev, e, env, be: ev(e.a) + ev(e.b),
}
for _node in (E.Grad, E.Jacobian, E.Directional):
    _RULES[_node] = lambda ev, e, env, be: be.derivative(e, env, be)


@dataclass(frozen=True)
class Ties:
    """Watcher of a max or min: the two largest (smallest) candidates must differ where the max is
    differentiated (a tie is its kink), and always for a mask, which is defined off ties only."""

    name: str
    axis: int | None
    always: bool = False

    def admits(self, arg: np.ndarray, kinks: bool = True) -> bool:
        if not np.all(np.isfinite(arg)):
            return False
        if not (kinks or self.always):
            return True
        if self.name.startswith("min"):
            arg = -arg
        lines = arg.reshape(1, -1) if self.axis is None else (arg.T if self.axis == 0 else arg)
        if lines.shape[1] < 2:
            return True
        top = np.sort(lines, axis=1)[:, -2:]
        return bool(np.all((top[:, 1] - top[:, 0]) / (1.0 + np.abs(top[:, 1])) >= KINK_MARGIN))

    def exactly_on_edge(self, arg: np.ndarray) -> bool:
        """Whether two candidates tie exactly (ElementwiseFunction.exactly_on_edge: a tie of continuous
        draws has probability zero, so an exact one comes from structure: relu's zeros, constants)."""
        lines = arg.reshape(1, -1) if self.axis is None else (arg.T if self.axis == 0 else arg)
        if lines.shape[1] < 2:
            return False
        top = np.sort(-lines if self.name.startswith("min") else lines, axis=1)[:, -2:]
        return bool(np.any(top[:, 1] == top[:, 0]))


def _ties(ev, e):
    return [(Ties(e.which, e.axis, isinstance(e, E.ExtremeMask)), ev(e.a))]


_WATCHERS = {  # node type -> [(watcher, argument)] for the samplers
    E.Apply: lambda ev, e: [(e.fn, ev(e.a))] if e.fn.watched else [],
    E.Extreme: _ties,
    E.ExtremeMask: _ties,
    E.ApplyMatrix: lambda ev, e: [(e.fn, ev(e.a))],
}
#: the node types whose arguments may need redrawing (a singular matrix included: inv, det, powers)
WATCHED_NODES = (E.Extreme, E.ExtremeMask, E.ApplyMatrix, E.MatPow)


def evaluate(e: E.Expr, env: Env, backend: Backend, watch: list | None = None, observe=None) -> np.ndarray:
    """The value of ``e`` as a 2-D array.  ``watch`` collects (watcher, argument) for arguments that
    must keep away from kinks, ties and domain boundaries, so samplers can avoid them.  ``observe(node,
    value, ev)`` is called with every node's value (the exact stage reads the magnitudes in play)."""
    memo: dict[int, np.ndarray] = {}

    def ev(node: E.Expr):
        key = id(node)
        if key not in memo:
            if backend.derivative is None and isinstance(node, (E.Grad, E.Jacobian, E.Directional)):
                raise EvaluationError("this arithmetic has no derivative method")
            value = _RULES[type(node)](ev, node, env, backend)
            if watch is not None and type(node) in _WATCHERS:
                watch.extend(_WATCHERS[type(node)](ev, node))
            memo[key] = value
            if observe is not None:
                observe(node, value, ev)
        return memo[key]

    return ev(e)
