"""The numeric check at larger random shapes.

float64 with NumPy; derivatives by central differences with a Richardson step
(truth.fd_backend), along random directions so the cost does not grow with the
number of parameters.  The float tolerance follows the error model of the
method: ~1e-9 relative for algebra (round-off through a few dozen operations),
~1e-6 when a finite difference is involved (h = 2**-12 after one Richardson
step leaves O(h**4) truncation and O(eps/h) round-off, both far below it).
A value beyond the tolerance is only a suspicion: it is decided first by
rigorous float64 error bounds (balls.py: disjoint enclosures of the two sides
are a counterexample, in about the time of a few float64 evaluations at any
size), and otherwise re-checked at the same instance exactly (exact.decide: derivatives by forward mode, enough digits,
then twice as many until round-off and a real difference are told apart)
before it counts as a counterexample.  A claim whose constants span more
orders of magnitude than float64 resolves (X + 1e-40) has its first instance
decided exactly too: float64 agreement says nothing about such a claim.
"""
from __future__ import annotations

import mpmath
import numpy as np

from . import expr as E
from .assumptions import size_assignments
from .evaluate import FLOAT, evaluate
from .forward import forward_backend
from .balls import separated
from .exact import DIGITS, decide, working_digits
from .instances import (as_lists, configurations, discrepancy, discrete_symbols, draw, fmt_sizes, named_sizes,
                        sizes_rng)
from .truth import central_difference, fd_backend, step_scale
from .verdict import Counterexample, Stage

__all__ = ["numeric_stage", "convergence", "SIZE_POOL"]

SIZE_POOL = (4, 5, 6, 7, 8, 9, 10)
RTOL_ALGEBRA = 1e-9
RTOL_DIFFERENCES = 1e-6
FLOAT_SCALE_FLOOR = 1e-3  # float64 differences of values below this are measured absolutely
MAX_CONFIGURATIONS = 12  # configurations of discrete symbols tried per size assignment (extremes first)


def _has_derivative(*exprs) -> bool:
    return any(isinstance(n, (E.Grad, E.Jacobian, E.Directional)) for e in exprs for n in E.walk(e))


def screen(lhs: E.Expr, rhs: E.Expr, env) -> tuple[bool, float]:
    """(agrees within the float64 tolerance, relative gap) at one instance: a cheap look for
    suspicions, which only exact.decide can turn into counterexamples."""
    rtol = RTOL_DIFFERENCES if _has_derivative(lhs, rhs) else RTOL_ALGEBRA
    backend = fd_backend(FLOAT)
    with np.errstate(all="ignore"):
        lv, rv = evaluate(lhs, env, backend), evaluate(rhs, env, backend)
    err, _ = discrepancy(lv, rv, floor=FLOAT_SCALE_FLOOR)
    return err <= rtol, err  # (<= is False for NaN: a suspicion)


def numeric_stage(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int,
                  points: int = 3, assignments: int = 2, what: str = "") -> Stage:
    """Compare lhs and rhs in float64 at larger sizes; suspicions are re-checked exactly (exact.decide).

    Discrete symbols (binary, one-hot) go through their extreme configurations first (all ones, a
    permutation, ...), then random ones: a random draw rarely hits the configuration that breaks a claim."""
    dims = E.dims_of(lhs, rhs)
    sizes_list = size_assignments(dims, relations, SIZE_POOL, assignments, sizes_rng(seed, dims))
    discrete = discrete_symbols([lhs, rhs])
    # Suspicions are re-checked by forward-mode differentiation with exact zero tests: a gradient in
    # one pass, where high-precision finite differences need four per entry.
    precise = forward_backend()
    digits = working_digits(lhs, rhs)
    worst, count, rechecked, unresolved = 0.0, 0, 0, 0
    for sizes in sizes_list:
        configs, _ = configurations(discrete, sizes, rng)
        runs = max(points, min(len(configs), MAX_CONFIGURATIONS)) if discrete else points
        for i in range(runs):
            env = draw([lhs, rhs], sizes, rng, fixed=configs[i % len(configs)] if discrete else None)
            agrees, err = screen(lhs, rhs, env)
            count += 1
            if not agrees:  # rigorous float64 error bounds first: fast at any size
                gap = separated(lhs, rhs, env)
                if gap is not None:
                    entry, claimed, true, lower = gap
                    cx = Counterexample("numeric", seed, named_sizes(sizes), as_lists(env), entry, claimed, true,
                                        params={k: list(v) for k, v in env.params.items()}, what=what)
                    return Stage("numeric", "fails", [named_sizes(s) for s in sizes_list], count, 0, err,
                                 f"differs at {fmt_sizes(sizes)} by at least {lower:.3g} (float64 with rigorous "
                                 "error bounds: round-off cannot explain it)", rechecked, cx)
            if not agrees or (count == 1 and digits > DIGITS):
                d = decide(lhs, rhs, env, precise, digits)
                if d.status == "differs":
                    cx = Counterexample("numeric", seed, named_sizes(sizes), as_lists(env), d.entry,
                                        float(mpmath.re(d.lhs[d.entry])), float(mpmath.re(d.rhs[d.entry])),
                                        params={k: list(v) for k, v in env.params.items()}, what=what)
                    return Stage("numeric", "fails", [named_sizes(s) for s in sizes_list], count, d.digits,
                                 d.error, f"differs at {fmt_sizes(sizes)} (re-checked at {d.digits} digits)",
                                 rechecked, cx)
                if d.status == "unresolved":
                    unresolved += 1
                    continue
                rechecked += 1
                err = d.error
            worst = max(worst, err)
    used = [named_sizes(s) for s in sizes_list]
    if unresolved:
        return Stage("numeric", "unresolved", used, count, 0, worst,
                     f"{unresolved} float64 discrepancies could not be settled exactly")
    detail = f"agrees at {count} random instances, sizes " + "; ".join(fmt_sizes(s) for s in sizes_list)
    if rechecked:
        detail += f"; {rechecked} float64 discrepancies were round-off (re-checked exactly)"
    return Stage("numeric", "holds", used, count, 0, worst, detail, rechecked)


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
