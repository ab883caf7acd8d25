"""derivcheck: check the matrix calculus of neural-network derivations.

The public API for writing claims in Python: dimensions, matrix symbols,
defined intermediates, the functions of the vocabulary and the claim
constructors.  ``sum`` and ``abs`` shadow builtins on ``from derivcheck import *``;
prefer explicit imports.
"""
from .claims import Claim, Kernel, derivation, directional, gradient, identity, jacobian, value
from .expr import Expr, ShapeError, Symbol, define, dims, elementwise, matrix
from .verdict import HOLDS, VERDICTS, Result, Verdict
from .vocabulary import (abs, cos, det, diag, exp, eye, grad, inner, inv, log, ones, relu, sigmoid, sin,
                         softmax, sqrt, step, sum, tanh, trace, zeros)
from .vocabulary import jacobian as jacobian_of

__version__ = "0.1.0"

__all__ = [
    "dims", "matrix", "define", "elementwise", "Expr", "Symbol", "ShapeError",
    "sigmoid", "tanh", "relu", "step", "exp", "log", "sqrt", "sin", "cos", "abs", "softmax",
    "sum", "trace", "det", "inv", "diag", "inner", "ones", "zeros", "eye", "grad", "jacobian_of",
    "Claim", "Kernel", "identity", "gradient", "jacobian", "directional", "value", "derivation",
    "Result", "Verdict", "VERDICTS", "HOLDS",
]
