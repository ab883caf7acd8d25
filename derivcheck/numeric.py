"""The numeric check at larger random shapes.

float64 with NumPy; derivatives by central differences with a Richardson step
(truth.fd_backend), along random directions so the cost does not grow with the
number of parameters.  The float tolerance follows the error model of the
method: ~1e-9 relative for algebra (round-off through a few dozen operations),
~1e-6 when a finite difference is involved (h = 2**-12 after one Richardson
step leaves O(h**4) truncation and O(eps/h) round-off, both far below it).
A value beyond the tolerance is only a suspicion: it is re-checked at the same
instance in 50-digit arithmetic (derivatives by forward mode) before it counts
as a counterexample.
"""
from __future__ import annotations

import mpmath
import numpy as np

from . import expr as E
from .assumptions import size_assignments
from .evaluate import FLOAT, evaluate
from .forward import forward_backend
from .instances import as_lists, discrepancy, draw, fmt_sizes, named_sizes, sizes_rng, to_mp
from .truth import central_difference, fd_backend, step_scale
from .verdict import Counterexample, Stage

__all__ = ["numeric_stage", "convergence", "SIZE_POOL"]

SIZE_POOL = (4, 5, 6, 7, 8, 9, 10)
RTOL_ALGEBRA = 1e-9
RTOL_DIFFERENCES = 1e-6
FLOAT_SCALE_FLOOR = 1e-3  # float64 differences of values below this are measured absolutely
RECHECK_DIGITS = 50
RECHECK_TOLERANCE = 1e-20  # forward mode at 50 digits is exact to ~1e-45


def _has_derivative(*exprs) -> bool:
    return any(isinstance(n, (E.Grad, E.Jacobian, E.Directional)) for e in exprs for n in E.walk(e))


def numeric_stage(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int,
                  points: int = 3, assignments: int = 2, what: str = "") -> Stage:
    """Compare lhs and rhs in float64 at larger sizes; suspicions are re-checked at 50 digits."""
    rtol = RTOL_DIFFERENCES if _has_derivative(lhs, rhs) else RTOL_ALGEBRA
    dims = E.dims_of(lhs, rhs)
    sizes_list = size_assignments(dims, relations, SIZE_POOL, assignments, sizes_rng(seed, dims))
    # Suspicions are re-checked by forward-mode differentiation at 50 digits: a
    # gradient in one pass, where 50-digit finite differences need four per entry.
    fast, precise = fd_backend(FLOAT), forward_backend()
    worst, count, rechecked = 0.0, 0, 0
    for sizes in sizes_list:
        for _ in range(points):
            env = draw([lhs, rhs], sizes, rng)
            with np.errstate(all="ignore"):
                lv, rv = evaluate(lhs, env, fast), evaluate(rhs, env, fast)
            err, entry = discrepancy(lv, rv, floor=FLOAT_SCALE_FLOOR)
            count += 1
            if not err <= rtol:  # also catches NaN
                with mpmath.workdps(RECHECK_DIGITS):
                    menv = to_mp(env)
                    mlv, mrv = evaluate(lhs, menv, precise), evaluate(rhs, menv, precise)
                    err, entry = discrepancy(mlv, mrv)
                    if err > RECHECK_TOLERANCE:
                        cx = Counterexample("numeric", seed, named_sizes(sizes), as_lists(env), entry,
                                            float(mpmath.re(mlv[entry])), float(mpmath.re(mrv[entry])),
                                            params={k: list(v) for k, v in env.params.items()}, what=what)
                        return Stage("numeric", "fails", [named_sizes(s) for s in sizes_list], count, RECHECK_DIGITS,
                                     err, f"differs at {fmt_sizes(sizes)} (re-checked at 50 digits)",
                                     rechecked, cx)
                rechecked += 1
            worst = max(worst, err)
    detail = f"agrees at {count} random instances, sizes " + "; ".join(fmt_sizes(s) for s in sizes_list)
    if rechecked:
        detail += f"; {rechecked} float64 discrepancies were round-off (re-checked at 50 digits)"
    return Stage("numeric", "holds", [named_sizes(s) for s in sizes_list], count, 0, worst, detail, rechecked)


CONVERGENCE_STEPS = tuple(10.0 ** -(1 + 1.5 * k) for k in range(8))  # 1e-1 … 3e-12
CONVERGENCE_SIZES = (2, 3, 4, 5, 6, 7)  # small: the picture needs one instance, not a hard one


def _derivative_side(e: E.Expr):
    """(the Directional node, whether it is transposed) when e is one, else None."""
    if isinstance(e, E.Directional):
        return e, False
    if isinstance(e, E.Transpose) and isinstance(e.a, E.Directional):
        return e.a, True
    return None


def convergence(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int) -> list:
    """[(h, relative discrepancy)] between the claimed side and a plain central
    difference with step h (relative to the variable's size), at one float64 instance.

    Evidence a reader can see: a true claim falls as h² until round-off (~eps/h)
    takes over; a false one levels off at the size of its error.  Empty when the
    comparison has no derivative side (identities)."""
    side = _derivative_side(rhs)
    if side is None:
        return []
    node, transposed = side
    dims = E.dims_of(lhs, rhs)
    (sizes,) = size_assignments(dims, relations, CONVERGENCE_SIZES, 1, sizes_rng(seed, dims))
    env = draw([lhs, rhs], sizes, rng)
    backend = fd_backend(FLOAT)
    curve = []
    with np.errstate(all="ignore"):
        claimed = evaluate(lhs, env, backend)
        direction = evaluate(node.direction, env, backend)
        scale = step_scale(node.wrt, direction, env, backend)
        for h in CONVERGENCE_STEPS:
            d = central_difference(node.f, node.wrt, direction, env, backend, h * scale)
            err, _ = discrepancy(claimed, d.T if transposed else d, floor=FLOAT_SCALE_FLOOR)
            curve.append((h, err))
    return curve
