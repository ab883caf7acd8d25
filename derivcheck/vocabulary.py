"""The functions of the expression vocabulary, in one table (``CALLS``).

Every elementwise function of functions.FUNCTIONS and every matrix function of
matrix_functions.MATRIX_FUNCTIONS is a call of the same name, with no other line to write.  The
Python API re-exports everything here (``__all__``); the claim-file parser accepts exactly the
names in ``CALLS`` plus the generic functions a file declares.
"""
from __future__ import annotations

import sympy

from . import expr as E
from .expr import (ApplyMatrix, Diag, Det, Extreme, ExtremeMask, Fill, Grad, Inner, Inv, Jacobian, Kron, MatPow,
                   OuterSum, Softmax, Sum, Trace, Vec, applier, as_expr)
from .functions import FUNCTIONS
from .matrix_functions import MATRIX_FUNCTIONS

_AXES = (None, 0, 1)


def _axis(name: str, axis):
    if axis not in _AXES:
        raise ValueError(f"{name}: axis must be 0 or 1")
    return axis


def softmax(a):
    """Row-wise softmax."""
    return Softmax(as_expr(a))


def sum(a, axis=None):  # noqa: A001 - the vocabulary's name
    """Sum of all entries, or of each column (axis=0) / row (axis=1), keeping two dimensions."""
    return Sum(as_expr(a), _axis("sum", axis))


def max(a, axis=None):  # noqa: A001 - the vocabulary's name
    """The largest entry of all, or of each column (axis=0) / row (axis=1), keeping two dimensions."""
    return Extreme(as_expr(a), _axis("max", axis), "max")


def min(a, axis=None):  # noqa: A001 - the vocabulary's name
    """The smallest entry of all, or of each column (axis=0) / row (axis=1), keeping two dimensions."""
    return Extreme(as_expr(a), _axis("min", axis), "min")


def max_mask(a, axis=None):
    """1 where a attains its maximum (over all entries, each column or each row), else 0: ∂ max."""
    return ExtremeMask(as_expr(a), _axis("max_mask", axis), "max")


def min_mask(a, axis=None):
    """1 where a attains its minimum (over all entries, each column or each row), else 0: ∂ min."""
    return ExtremeMask(as_expr(a), _axis("min_mask", axis), "min")


def trace(a):
    return Trace(as_expr(a))


def det(a):
    return Det(as_expr(a))


def inv(a):
    return Inv(as_expr(a))


def diag(a):
    return Diag(as_expr(a))


def inner(a, b):
    """Frobenius inner product A•B."""
    return Inner(as_expr(a), as_expr(b))


def kron(a, b):
    """The Kronecker product A ⊗ B."""
    return Kron(as_expr(a), as_expr(b))


def vec(a):
    """The columns of A stacked into one column."""
    return Vec(as_expr(a))


def outer_sum(c, r):
    """outer_sum(c, r)[i, j] = c[i] + r[j] for a column c and a row r."""
    return OuterSum(as_expr(c), as_expr(r))


def _integer(k) -> sympy.Expr:
    """An exponent written as an expression of numbers and dimension names (k, k - 1, 2*n), as SymPy."""
    if isinstance(k, E.Scalar):
        return sympy.sympify(k.value)
    if isinstance(k, (E.Add, E.Mul, E.Pow)):
        a, b = _integer(k.a), _integer(k.b)
        return a + b if isinstance(k, E.Add) else a * b if isinstance(k, E.Mul) else a ** b
    if isinstance(k, E.Expr):
        raise E.ShapeError("matrix power: the exponent must be a number or an expression in dimension names")
    return sympy.sympify(k)


def matrix_power(a, k):
    """A^k (matrix product) for an integer k: a number or dimension names, such as k - 1."""
    return MatPow(as_expr(a), _integer(k))


def ones(rows, cols):
    return Fill("ones", rows, cols)


def zeros(rows, cols):
    return Fill("zeros", rows, cols)


def eye(n):
    return Fill("eye", n, n)


def jacobian(f, wrt):
    """∂f/∂wrt for vectors, numerator layout (J_ij = ∂f_i/∂x_j), usable inside expressions."""
    return Jacobian(as_expr(f), wrt)


def grad(f, wrt):
    """∂f/∂wrt of a scalar f, usable inside expressions (a derivation may start from it)."""
    return Grad(as_expr(f), wrt)


def hessian(f, wrt):
    """∂²f/∂x∂xᵀ of a scalar f and a vector x: the Jacobian of the gradient (n × n)."""
    return Jacobian(Grad(as_expr(f), wrt), wrt)


def _matrix_applier(fn):
    def call(a):
        return ApplyMatrix(fn, as_expr(a))

    call.__name__ = fn.name
    call.__doc__ = f"The matrix function {fn.name} of a square matrix."
    return call


#: every elementwise and matrix function, as a callable of the Python API (``sigmoid(Z)``, ``expm(X)``)
_FUNCTION_CALLS = {**{name: applier(fn) for name, fn in FUNCTIONS.items()},
                   **{name: _matrix_applier(fn) for name, fn in MATRIX_FUNCTIONS.items()}}
globals().update(_FUNCTION_CALLS)

#: name -> (constructor, argument kinds): "e" an expression, "dim" a dimension,
#: "axis" an optional literal 0 or 1, "wrt" a symbol or defined name.
CALLS = {
    **{name: (call, ("e",)) for name, call in _FUNCTION_CALLS.items()},
    "softmax": (softmax, ("e",)),
    "sum": (sum, ("e", "axis?")),
    "max": (max, ("e", "axis?")),
    "min": (min, ("e", "axis?")),
    "max_mask": (max_mask, ("e", "axis?")),
    "min_mask": (min_mask, ("e", "axis?")),
    "trace": (trace, ("e",)),
    "det": (det, ("e",)),
    "inv": (inv, ("e",)),
    "diag": (diag, ("e",)),
    "inner": (inner, ("e", "e")),
    "kron": (kron, ("e", "e")),
    "vec": (vec, ("e",)),
    "outer_sum": (outer_sum, ("e", "e")),
    "matrix_power": (matrix_power, ("e", "e")),
    "ones": (ones, ("dim", "dim")),
    "zeros": (zeros, ("dim", "dim")),
    "eye": (eye, ("dim",)),
    "grad": (grad, ("e", "wrt")),
    "jacobian": (jacobian, ("e", "wrt")),
    "hessian": (hessian, ("e", "wrt")),
}

#: named constants an expression may use (a declared symbol of the same name takes precedence)
CONSTANTS = {"pi": sympy.pi}

#: other spellings of the same call (SciPy's and NumPy's names)
ALIASES = {"ndtr": "normal_cdf", "gammaln": "lgamma", "matpow": "matrix_power"}
CALLS.update({alias: CALLS[name] for alias, name in ALIASES.items()})

__all__ = sorted(name for name in CALLS if name not in ALIASES)
