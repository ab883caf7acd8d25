"""The exact check at concrete shapes.

Every dimension gets a distinct small size, at two or more assignments.  The
true derivative comes from differentiating the explicit scalar entries, never
from a claim's own rules: by forward-mode differentiation at 50 digits
(forward.py; exact up to rounding) or, for what that does not cover (det,
inv), by ``sympy.diff`` of the explicit SymPy entries (truth.py).  Whether
claimed − true is identically zero is decided by evaluating both at random
points in 50-digit arithmetic: a non-zero analytic function vanishes at a
random point with probability zero, and 50-digit round-off stays far below
the tolerance, so a discrepancy above it is a real counterexample and
agreement below it is not an accident of rounding.  No ``simplify()`` is
ever called.
"""
from __future__ import annotations

import mpmath
import numpy as np

from . import expr as E
from .assumptions import size_assignments
from .evaluate import evaluate
from .instances import as_lists, discrepancy, draw, fmt_sizes, named_sizes, sizes_rng, to_mp
from .forward import forward_backend
from .truth import symbolic_backend
from .verdict import Counterexample, Stage

__all__ = ["exact_stage", "DIGITS", "TOLERANCE", "SIZE_POOL"]

DIGITS = 50
TOLERANCE = 1e-30  # relative; 50-digit round-off stays below 1e-45
SIZE_POOL = (2, 3, 4, 5, 6, 7)


def exact_stage(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int,
                points: int = 3, assignments: int = 2, cache: dict | None = None,
                explain: tuple | None = None, what: str = "", method: str = "forward") -> Stage:
    """Compare lhs and rhs exactly at small distinct sizes; a Stage with a counterexample on failure.

    ``method`` is "forward" (forward-mode at 50 digits) or "sympy" (sympy.diff of
    SymPy expressions, many times slower; ``cache`` then holds its compiled
    derivatives, shared between claims).  ``explain`` is an entrywise pair
    (claimed, true) evaluated at a failing point when lhs and rhs are
    projections, so the counterexample names an entry."""
    dims = E.dims_of(lhs, rhs)
    sizes_list = size_assignments(dims, relations, SIZE_POOL, assignments, sizes_rng(seed, dims))
    backend = {"forward": forward_backend, "sympy": lambda: symbolic_backend({} if cache is None else cache)}[method]()
    label = {"forward": "forward-mode differentiation", "sympy": "sympy.diff"}[method]
    return _exact(lhs, rhs, sizes_list, rng, seed, points, backend, explain, what, label)


def _exact(lhs, rhs, sizes_list, rng, seed, points, backend, explain, what, method) -> Stage:
    worst, count = 0.0, 0
    with mpmath.workdps(DIGITS):
        for sizes in sizes_list:
            for _ in range(points):
                env = draw([lhs, rhs], sizes, rng)
                menv = to_mp(env)
                lv, rv = evaluate(lhs, menv, backend), evaluate(rhs, menv, backend)
                err, entry = discrepancy(lv, rv)
                count += 1
                worst = max(worst, err)
                if err > TOLERANCE:
                    shown, names = what, None
                    if explain is not None:  # show the claim entry by entry; the direction is then irrelevant
                        lv, rv = evaluate(explain[0], menv, backend), evaluate(explain[1], menv, backend)
                        entry, shown, names = discrepancy(lv, rv)[1], "", set(E.symbols_of(*explain))
                    cx = Counterexample("exact", seed, named_sizes(sizes), as_lists(env, names), entry,
                                        float(mpmath.re(lv[entry])), float(mpmath.re(rv[entry])),
                                        params={k: list(v) for k, v in env.params.items()}, what=shown)
                    return Stage("exact", "fails", [named_sizes(s) for s in sizes_list], count, DIGITS, err,
                                 f"differs at {fmt_sizes(sizes)}", counterexample=cx)
    return Stage("exact", "holds", [named_sizes(s) for s in sizes_list], count, DIGITS, worst,
                 "identically equal at " + "; ".join(fmt_sizes(s) for s in sizes_list)
                 + f" (derivatives of the explicit entries by {method})")

