"""What a claim's data must satisfy before anything checks it, for both loaders (TOML and Python).

Two rules, each a pure function returning a problem or None:

- ``depth``: the engines recurse over expression trees, so a tree nested more
  than ``MAX_DEPTH`` levels (definitions included) is refused with that number
  instead of crashing somewhere inside SymPy or a printer.  Long flat sums and
  products are not deep: the TOML parser builds them as balanced trees.
- ``value_problem``: a worked example (``value`` claim) states finite numbers in
  rectangular matrices, positive integers for the dimensions and a finite,
  non-negative tolerance.  NaN compares false with everything and an infinite
  tolerance accepts anything, so both would let a wrong number through.
"""
from __future__ import annotations

import math
import unicodedata

from . import expr as E

__all__ = ["MAX_DEPTH", "depth", "depth_problem", "value_problem", "name_problem", "compatibility_character"]

# The deepest tree every engine (shapes, the three evaluators, the proof, the diagnoses, the
# printers) handles under Python's default recursion limit, with margin: they break near 200.
# The catalog's deepest expression is 25 levels.
MAX_DEPTH = 128


def depth(e: E.Expr, memo: dict | None = None) -> int:
    """Levels of the tree under e, definitions included (iterative: any depth is measured).
    ``memo`` (node id -> levels) may be shared by expressions that share sub-trees; it must not
    outlive them (ids are reused)."""
    return E.fold(e, lambda node, levels: 1 + max((levels[id(k)] for k in E.children(node)), default=0), memo)


def depth_problem(e: E.Expr, memo: dict | None = None) -> str | None:
    d = depth(e, memo)
    if d <= MAX_DEPTH:
        return None
    return (f"the expression is nested {d} levels deep; derivcheck handles at most {MAX_DEPTH} "
            "(a long sum or product written flat is not deep: only chains such as X.T.T.T… or "
            "-(-(-…)) and definitions built on definitions count)")


def claim_expressions(claim) -> list:
    """Every expression a claim carries (for the depth rule)."""
    found = [getattr(claim, k) for k in ("lhs", "rhs", "f", "wrt", "claimed", "direction", "expr")]
    return [e for e in [*found, *claim.steps] if isinstance(e, E.Expr)]


# ---------------------------------------------------------------- names


def compatibility_character(text: str) -> str | None:
    """The first character that Python would silently replace when reading a name (NFKC
    normalisation: a fullwidth Ｘ is read as X, a superscript ² as 2), described for a message."""
    if unicodedata.normalize("NFKC", text) == text:
        return None
    for ch in text:
        norm = unicodedata.normalize("NFKC", ch)
        if norm != ch:
            return (f"{ch!r} ({unicodedata.name(ch, 'unnamed character')}) would be read as {norm!r}; "
                    f"write {norm!r} if that is meant")
    return "the text is not in Unicode normal form NFKC; Python would read some of its names differently"


NAMES_ALLOWED = ("a name is letters (any alphabet: X, W1, α, Σ), digits and underscores, not starting with a "
                 "digit and not a Python keyword")


def name_problem(name) -> str | None:
    """Why ``name`` cannot be a dimension, symbol, function or definition name (or None)."""
    import keyword

    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return f"{name!r} is not a valid name: {NAMES_ALLOWED}"
    bad = compatibility_character(name)
    if bad:
        return f"{name!r} is not a valid name: {bad}"
    return None


# ---------------------------------------------------------------- value claims


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def matrix_problem(value, what: str) -> str | None:
    """A number, a list of numbers (one row) or a list of equal-length rows of numbers; all finite."""
    if _is_number(value):
        return None if math.isfinite(value) else f"{what} must be finite, got {value!r}"
    if not isinstance(value, (list, tuple)) or not value:
        return f"{what} must be a number or a list of rows of numbers, got {value!r}"
    if all(isinstance(r, (list, tuple)) for r in value):
        rows = value
    elif any(isinstance(r, (list, tuple)) for r in value):
        return f"{what} mixes numbers and rows: {value!r}"
    else:
        rows = [value]  # one row
    widths = {len(r) for r in rows}
    if len(widths) != 1 or 0 in widths:
        return f"{what} is ragged: its rows have lengths {[len(r) for r in rows]}"
    for r in rows:
        for x in r:
            if not _is_number(x):
                return f"{what} must contain only numbers (a matrix is a list of rows), got {x!r}"
            if not math.isfinite(x):
                return f"{what} must be finite, got {x!r}"
    return None


def value_problem(claim) -> tuple[str, str] | None:
    """(key, message) for the first unusable part of a value claim, or None."""
    if claim.kind != "value" or claim.expr is None:
        return None
    if not isinstance(claim.at, dict):
        return "at", "at must be a table of values, e.g. at = {x = 2.0}"
    dim_names = {d.name for d in E.dims_of(claim.expr)}
    for name, v in claim.at.items():
        if name in dim_names:
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                return "at", f"at.{name}: the dimension {name} must be a positive integer, got {v!r}"
        else:  # a value the expression does not use is harmless (a catalog shares one table of numbers)
            problem = matrix_problem(v, f"at.{name}")
            if problem:
                return "at", problem
    problem = matrix_problem(claim.equals, "equals")
    if problem:
        return "equals", problem
    tol = claim.tolerance
    if not (_is_number(tol) and math.isfinite(tol) and tol >= 0):
        return "tolerance", f"tolerance must be a finite number ≥ 0, got {tol!r}"
    return None


def claim_problem(claim, memo: dict | None = None) -> str | None:
    """The first reason a loaded claim cannot be checked at all (depth or value data), or None."""
    for e in claim_expressions(claim):
        problem = depth_problem(e, memo)
        if problem:
            return problem
    found = value_problem(claim)
    return found[1] if found else None
