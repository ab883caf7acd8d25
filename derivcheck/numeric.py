"""The numeric check at larger random shapes.

float64 with NumPy, along random directions so the cost does not grow with the number of parameters.
No tolerance stands in for zero: every instance whose two sides are not identical in float64 is
computed in ball arithmetic (balls.py: float64 midpoints with rigorous radii, derivatives by forward
mode), and disjoint enclosures are a counterexample however small the difference, in about the time
of a few float64 evaluations at any size.  The midpoints are the float64 values; where no bound can be
kept, derivatives are taken by central differences with a Richardson step (truth.fd_backend).  The
float tolerance follows the error model of the method: ~1e-9 relative for algebra, ~1e-6 when a finite
difference may be involved.  A value beyond it that the bounds cannot separate is re-checked at the
same instance exactly (exact.decide: forward mode, enough digits, then twice as many until round-off
and a real difference are told apart).  A claim whose constants span more orders of magnitude than
float64 resolves (X + 1e-40) has its first instance decided exactly too.  The stage's detail says what
every instance showed: identical in float64, within rigorous bounds, within the tolerance only (no
bound could be kept), decided exactly, or round-off shown by the exact re-check.
"""
from __future__ import annotations

import mpmath
import numpy as np

from . import expr as E
from .assumptions import size_assignments
from .evaluate import FLOAT, evaluate
from .forward import forward_backend
from .balls import Unbounded, apart, enclose
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


def _tolerance(lhs: E.Expr, rhs: E.Expr) -> float:
    return RTOL_DIFFERENCES if _has_derivative(lhs, rhs) else RTOL_ALGEBRA


def _float_sides(lhs: E.Expr, rhs: E.Expr, env):
    backend = fd_backend(FLOAT)
    with np.errstate(all="ignore"):
        return evaluate(lhs, env, backend), evaluate(rhs, env, backend)


def screen(lhs: E.Expr, rhs: E.Expr, env) -> tuple[bool, float]:
    """(agrees within the float64 tolerance, relative gap) at one instance: a cheap look for
    suspicions, which only exact.decide can turn into counterexamples."""
    err, _ = discrepancy(*_float_sides(lhs, rhs, env), floor=FLOAT_SCALE_FLOOR)
    return err <= _tolerance(lhs, rhs), err  # (<= is False for NaN: a suspicion)


# What an instance that did not refute the claim showed, weakest evidence first: one row per outcome,
# with the phrase the stage's detail uses for it (``{tol}``: the float64 tolerance, ``{why}``: why no
# rigorous bound could be kept, ``{digits}``: the working precision of the exact check).
OUTCOMES = {
    "tolerance": "within the float64 tolerance {tol:g} only (no rigorous error bound: {why})",
    "identical": "identical in float64",
    "bounded": "within rigorous float64 error bounds",
    "roundoff": "float64 discrepancies shown to be round-off (re-checked exactly at {digits} digits)",
    "exact": "decided exactly at {digits} digits (the claim's constants span more orders of magnitude than "
             "float64 resolves)",
}


def _describe(outcomes: dict, tol: float, why: str, digits: int) -> str:
    """'3 within rigorous float64 error bounds, 1 identical in float64', in OUTCOMES' order."""
    return ", ".join(f"{outcomes[k]} {OUTCOMES[k].format(tol=tol, why=why, digits=digits)}"
                     for k in OUTCOMES if outcomes.get(k))


def numeric_stage(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int,
                  points: int = 3, assignments: int = 2, what: str = "") -> Stage:
    """Compare lhs and rhs in float64 at larger sizes.

    No tolerance stands in for zero: an instance whose two sides are not identical in float64 is
    examined with rigorous error bounds (balls.enclose, balls.apart), whose disjoint enclosures refute the claim
    however small the difference (X + e^-27 = X at a fixed size beyond the exact stage); a difference
    beyond the tolerance that the bounds cannot separate is re-checked exactly (exact.decide).  The
    detail says what each instance showed (OUTCOMES).  Discrete symbols (binary, one-hot) go through
    their extreme configurations first (all ones, a permutation, ...), then random ones: a random draw
    rarely hits the configuration that breaks a claim."""
    dims = E.dims_of(lhs, rhs)
    sizes_list = size_assignments(dims, relations, SIZE_POOL, assignments, sizes_rng(seed, dims))
    used = [named_sizes(s) for s in sizes_list]
    discrete = discrete_symbols([lhs, rhs])
    tol = _tolerance(lhs, rhs)
    derivative = _has_derivative(lhs, rhs)
    # Suspicions are re-checked by forward-mode differentiation with exact zero tests: a gradient in
    # one pass, where high-precision finite differences need four per entry.
    precise = forward_backend()
    digits = working_digits(lhs, rhs)
    worst, count, unresolved, exact_digits, why = 0.0, 0, 0, digits, ""
    outcomes: dict[str, int] = {}
    for sizes in sizes_list:
        configs, _ = configurations(discrete, sizes, rng)
        runs = max(points, min(len(configs), MAX_CONFIGURATIONS)) if discrete else points
        for i in range(runs):
            env = draw([lhs, rhs], sizes, rng, fixed=configs[i % len(configs)] if discrete else None)
            count += 1
            # An identity is screened in float64 first (sides identical there need no bounds); a derivative
            # is taken by forward mode in ball arithmetic, whose midpoints are its float64 values, and by
            # finite differences only where no bound can be kept.
            sides = None if derivative else _float_sides(lhs, rhs, env)
            balls = None
            if sides is None or not np.array_equal(*sides):
                try:
                    balls = enclose(lhs, rhs, env)
                except Unbounded as exc:
                    why = why or str(exc)
            if sides is None:
                sides = (balls[0].mid, balls[1].mid) if balls else _float_sides(lhs, rhs, env)
            err, _ = discrepancy(*sides, floor=FLOAT_SCALE_FLOOR)
            agrees = err <= tol  # (False for NaN: a suspicion)
            outcome = "identical" if np.array_equal(*sides) else "bounded" if balls else "tolerance"
            gap = apart(*balls) if balls else None
            if gap is not None:  # disjoint enclosures: a difference round-off cannot explain, however small
                entry, claimed, true, lower = gap
                cx = Counterexample("numeric", seed, named_sizes(sizes), as_lists(env), entry, claimed, true,
                                    params={k: list(v) for k, v in env.params.items()}, what=what)
                return Stage("numeric", "fails", used, count, 0, err,
                             f"differs at {fmt_sizes(sizes)} by at least {lower:.3g} (float64 with rigorous "
                             "error bounds: round-off cannot explain it)", outcomes.get("roundoff", 0), cx)
            if not agrees or (count == 1 and digits > DIGITS):
                d = decide(lhs, rhs, env, precise, digits)
                if d.status == "differs":
                    cx = Counterexample("numeric", seed, named_sizes(sizes), as_lists(env), d.entry,
                                        float(mpmath.re(d.lhs[d.entry])), float(mpmath.re(d.rhs[d.entry])),
                                        params={k: list(v) for k, v in env.params.items()}, what=what)
                    return Stage("numeric", "fails", used, count, d.digits,
                                 d.error, f"differs at {fmt_sizes(sizes)} (re-checked at {d.digits} digits)",
                                 outcomes.get("roundoff", 0), cx)
                if d.status == "unresolved":
                    unresolved += 1
                    continue
                outcome, err, exact_digits = ("exact" if agrees else "roundoff"), d.error, max(exact_digits, d.digits)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            worst = max(worst, err)
    if unresolved:
        return Stage("numeric", "unresolved", used, count, 0, worst,
                     f"{unresolved} float64 discrepancies could not be settled exactly")
    detail = (f"agrees at {count} random instances, sizes " + "; ".join(fmt_sizes(s) for s in sizes_list)
              + ": " + _describe(outcomes, tol, why, exact_digits))
    return Stage("numeric", "holds", used, count, 0, worst, detail, outcomes.get("roundoff", 0))


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
