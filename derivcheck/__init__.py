"""derivcheck: check the matrix calculus of neural-network derivations.

The public API for writing claims in Python: dimensions, matrix symbols,
defined intermediates, the functions of the vocabulary and the claim
constructors.  ``sum`` and ``abs`` shadow builtins on ``from derivcheck import *``;
prefer explicit imports.
"""
import importlib

__version__ = "0.1.0"

# The API is imported on first use (PEP 562), so that `derivcheck --help` does not wait for SymPy.
_EXPORTS = {
    **dict.fromkeys(("Claim", "Kernel", "derivation", "directional", "gradient", "identity", "jacobian", "value"),
                    "claims"),
    **dict.fromkeys(("Expr", "ShapeError", "Symbol", "define", "dims", "elementwise", "matrix"), "expr"),
    **dict.fromkeys(("HOLDS", "VERDICTS", "Result", "Verdict"), "verdict"),
    **dict.fromkeys(("abs", "cos", "det", "diag", "exp", "eye", "grad", "inner", "inv", "log", "ones", "relu",
                     "sigmoid", "sin", "softmax", "sqrt", "step", "sum", "tanh", "trace", "zeros"), "vocabulary"),
}
_RENAMED = {"jacobian_of": ("vocabulary", "jacobian")}


def __getattr__(name):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name], name
    elif name in _RENAMED:
        module, attr = _RENAMED[name]
    else:
        raise AttributeError(f"module 'derivcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS, *_RENAMED])

__all__ = [
    "dims", "matrix", "define", "elementwise", "Expr", "Symbol", "ShapeError",
    "sigmoid", "tanh", "relu", "step", "exp", "log", "sqrt", "sin", "cos", "abs", "softmax",
    "sum", "trace", "det", "inv", "diag", "inner", "ones", "zeros", "eye", "grad", "jacobian_of",
    "Claim", "Kernel", "identity", "gradient", "jacobian", "directional", "value", "derivation",
    "Result", "Verdict", "VERDICTS", "HOLDS",
]
