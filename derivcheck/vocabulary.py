"""The functions of the expression vocabulary, in one table (``CALLS``).

The Python API re-exports them; the claim-file parser accepts exactly the
names in ``CALLS`` plus the generic functions a file declares.
"""
from __future__ import annotations

from .expr import Diag, Det, Fill, Grad, Inner, Inv, Jacobian, Softmax, Sum, Trace, applier, as_expr
from .functions import FUNCTIONS

sigmoid = applier(FUNCTIONS["sigmoid"])
tanh = applier(FUNCTIONS["tanh"])
relu = applier(FUNCTIONS["relu"])
step = applier(FUNCTIONS["step"])
exp = applier(FUNCTIONS["exp"])
log = applier(FUNCTIONS["log"])
sqrt = applier(FUNCTIONS["sqrt"])
sin = applier(FUNCTIONS["sin"])
cos = applier(FUNCTIONS["cos"])
abs = applier(FUNCTIONS["abs"])  # noqa: A001 - the vocabulary's name


def softmax(a):
    """Row-wise softmax."""
    return Softmax(as_expr(a))


def sum(a, axis=None):  # noqa: A001 - the vocabulary's name
    """Sum of all entries, or of each column (axis=0) / row (axis=1), keeping two dimensions."""
    if axis not in (None, 0, 1):
        raise ValueError("sum: axis must be 0 or 1")
    return Sum(as_expr(a), axis)


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



#: name -> (constructor, argument kinds): "e" an expression, "dim" a dimension,
#: "axis" an optional literal 0 or 1, "wrt" a symbol or defined name.
CALLS = {
    **{name: (applier(fn), ("e",)) for name, fn in FUNCTIONS.items()},
    "softmax": (softmax, ("e",)),
    "sum": (sum, ("e", "axis?")),
    "trace": (trace, ("e",)),
    "det": (det, ("e",)),
    "inv": (inv, ("e",)),
    "diag": (diag, ("e",)),
    "inner": (inner, ("e", "e")),
    "ones": (ones, ("dim", "dim")),
    "zeros": (zeros, ("dim", "dim")),
    "eye": (eye, ("dim",)),
    "grad": (grad, ("e", "wrt")),
    "jacobian": (jacobian, ("e", "wrt")),
}
