"""derivcheck: check the matrix calculus of neural-network derivations.

The public API for writing claims in Python: dimensions, matrix symbols,
defined intermediates, the functions of the vocabulary and the claim
constructors.  ``sum`` shadows the builtin on ``from derivcheck import *``;
prefer explicit imports.
"""
from .claims import Claim, derivation, directional, gradient, identity, jacobian, value
from .expr import (Apply, Defined, Det, Diag, Directional, Expr, Fill, Grad, Inner, Inv, Jacobian,
                   ShapeError, Softmax, Sum, Symbol, Trace, _known, as_expr, define, dims, elementwise, matrix)
from .verdict import HOLDS, VERDICTS, Result, Verdict

__version__ = "0.1.0"

sigmoid = _known("sigmoid")
tanh = _known("tanh")
relu = _known("relu")
step = _known("step")
exp = _known("exp")
log = _known("log")
sqrt = _known("sqrt")
sin = _known("sin")
cos = _known("cos")
abs = _known("abs")  # noqa: A001 - the vocabulary's name


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


def grad(f, wrt):
    """∂f/∂wrt of a scalar f, usable inside expressions (a derivation may start from it)."""
    return Grad(as_expr(f), wrt)


__all__ = [
    "dims", "matrix", "define", "elementwise", "Expr", "Symbol", "ShapeError",
    "sigmoid", "tanh", "relu", "step", "exp", "log", "sqrt", "sin", "cos", "abs", "softmax",
    "sum", "trace", "det", "inv", "diag", "inner", "ones", "zeros", "eye", "grad",
    "Claim", "identity", "gradient", "jacobian", "directional", "value", "derivation",
    "Result", "Verdict", "VERDICTS", "HOLDS",
]
