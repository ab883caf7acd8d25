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
    **dict.fromkeys(("Claim", "Kernel", "derivation", "directional", "gradient", "hessian", "identity", "jacobian",
                     "second_differential", "value"), "claims"),
    **dict.fromkeys(("Expr", "ShapeError", "Symbol", "define", "dims", "elementwise", "matrix"), "expr"),
    **dict.fromkeys(("HOLDS", "VERDICTS", "Result", "Verdict"), "verdict"),
}
_RENAMED = {"jacobian_of": ("vocabulary", "jacobian"), "hessian_of": ("vocabulary", "hessian")}


def _vocabulary() -> list[str]:
    """Every call of the vocabulary's table (vocabulary.__all__: each function row is one), except the
    two whose names the claim kinds take (their expressions are jacobian_of and hessian_of)."""
    names = importlib.import_module(".vocabulary", __name__).__all__
    return [n for n in names if n not in _EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name], name
    elif name in _RENAMED:
        module, attr = _RENAMED[name]
    elif name == "__all__":
        value = [*_EXPORTS, *_RENAMED, *_vocabulary()]
        globals()[name] = value
        return value
    elif not name.startswith("__") and name in _vocabulary():
        module, attr = "vocabulary", name
    else:
        raise AttributeError(f"module 'derivcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS, *_RENAMED, *_vocabulary()])
