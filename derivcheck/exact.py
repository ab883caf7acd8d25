"""The exact check at concrete shapes.

Every dimension gets a distinct small size, at two or more assignments.  The
true derivative comes from differentiating the explicit scalar entries, never
from a claim's own rules: by forward-mode differentiation (forward.py) or,
for the tests' cross-check, by ``sympy.diff`` of the explicit SymPy entries
(truth.py).  No ``simplify()`` is ever called.

Whether claimed − true is identically zero is decided at random points:
a non-zero analytic function vanishes at a random point of a continuous
domain with probability zero.  That argument needs a continuous domain, so
discrete symbols (binary, one-hot) are enumerated: every configuration is
checked (with fresh random values for the continuous symbols) when there are
few enough, and sizes are chosen to keep them few; otherwise the extreme
configurations and random ones are checked and the stage says how many of
how many, which is evidence, not a decision.

"Zero" means zero (``decide``): numbers in claims are exact rationals, each
point is evaluated with enough digits for the claim's constants (1e-40 needs
more than 50), and a difference that is not exactly zero is evaluated again
with twice the digits: round-off shrinks with the precision, a real
difference stays put.  Neither a small real difference nor round-off after a
large cancellation is ever mistaken for the other by a fixed tolerance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy

from . import expr as E
from .assumptions import size_assignments
from .evaluate import Env, evaluate
from .forward import forward_backend
from .instances import (NoInstance, as_lists, concrete_shape, configuration_count, configurations, discrete_symbols,
                        draw, fmt_sizes, kink_sides, kinked_nodes, named_sizes, observe_float, sizes_rng, to_mp)
from .printing import to_text
from .truth import symbolic_backend
from .verdict import Counterexample, Stage

__all__ = ["exact_stage", "decide", "working_digits", "Decision", "DIGITS", "SIZE_POOL"]

DIGITS = 50  # the least working precision
MAX_DIGITS = 1600  # the precision ladder stops here (undecided beyond: the point is "unresolved")
KINK_SEARCH_SCALES = (1, 1, 1, 10, 0.1, 100, 0.01, 1e3, 1e-3, 1e4, 1e-6, 1e6)  # points far out and near in, for an unvisited side of a kink
CROSS_CHECK_CONFIGURATIONS = 4  # configurations of discrete symbols screened after a proof, per assignment: the extremes
ROUNDOFF = 10  # digits of a working precision that round-off may take (decide's ``roundoff``)
SIZE_POOL = (2, 3, 4, 5, 6, 7)
#: multiply-adds of the largest matrix product (or entries of the largest value) the exact stage takes on;
#: beyond it (fixed sizes such as 1000 × 1000) the float64 stage decides, with rigorous error bounds.
#: The work, not the largest size: X + e^-81 = X at a 65 × 2 X is cheap to decide exactly, and float64
#: cannot see e^-81 next to 1
EXACT_WORK_LIMIT = 64 ** 3


def working_digits(*exprs) -> int:
    """DIGITS plus the decimal orders of magnitude the claim's constants span: X + 1e-40 = X is
    only decided with digits beyond the 40th, and (X + 1e20) - 1e20 = X keeps 50 after cancelling."""
    orders = [0]
    for e in exprs:
        for node in E.walk(e):
            if isinstance(node, E.Scalar) and node.value.is_number and node.value != 0:
                magnitude = abs(sympy.Rational(node.value)) if node.value.is_Rational else abs(node.value)
                orders.append(abs(int(math.floor(float(sympy.log(magnitude, 10).evalf(20))))))
    return min(MAX_DIGITS // 2, DIGITS + max(orders))


def magnitudes(exprs, env: Env) -> tuple[int, mpmath.mpf]:
    """(decimal orders of magnitude in play, largest magnitude in play) at a float64 instance.

    Digits must cover the magnitudes a claim *computes*, not only those it writes: X + exp(-300) = X
    and 1 - sigmoid(X + 400) = 0 are false by ~1e-130 and ~1e-174, which 50 digits absorb.  Read off a
    float64 pass over every node: the spread of the values' magnitudes, and for each elementwise
    function at its most extreme arguments the magnitude of its value and of its derivative (taken
    with mpmath, whose exponents do not underflow: sigmoid'(400) ~ 1e-174 where sigmoid(400) rounds
    to 1, and do not overflow: exp(exp(8.5)) ~ 1e2134, infinite in float64)."""
    lowest, highest, extra = math.inf, -math.inf, 0.0

    def observe(node, value, ev):
        nonlocal lowest, highest, extra
        try:
            v = np.abs(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            return
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            lowest, highest = min(lowest, float(np.log10(v.min()))), max(highest, float(np.log10(v.max())))
        if isinstance(node, E.Apply):
            orders, top = _function_orders(node, ev)
            extra, highest = max(extra, orders), max(highest, top)
        elif isinstance(node, E.Softmax):
            z = np.asarray(ev(node.a), dtype=float)
            if z.size and np.all(np.isfinite(z)):
                extra = max(extra, float(np.max(z.max(axis=1) - z.min(axis=1))) / math.log(10))

    observe_float(exprs, env, observe)
    spread = highest - lowest if highest >= lowest else 0.0
    return (int(math.ceil(max(spread, extra))),
            mpmath.mpf(10) ** highest if math.isfinite(highest) else mpmath.mpf(0))


def _function_orders(node, ev) -> tuple[float, float]:
    """(decimal orders of the value and first two derivatives of an elementwise function at its most
    extreme arguments, the base-10 logarithm of the largest of those values)."""
    try:
        arg = np.asarray(ev(node.a), dtype=float)
    except (TypeError, ValueError):
        return 0.0, -math.inf
    arg = arg[np.isfinite(arg)]
    if not arg.size:
        return 0.0, -math.inf
    params = None
    if getattr(node.fn, "generic", False):
        return 0.0, -math.inf  # a smooth family with moderate coefficients: no extreme magnitudes of its own
    orders, top = 0.0, -math.inf
    for x in {float(arg.min()), float(arg.max())}:
        for order in (0, 1, 2):  # the second derivative sees a linear asymptote: softplus(x) - x ~ e^-x
            if node.fn.vanishes(order):  # relu'' and step' are 0: nothing to measure
                continue
            try:
                y = _settled(lambda: node.fn.mpmath_derivative(mpmath.mpf(x), params, order=order), x)
            except (ValueError, ZeroDivisionError, TypeError, ArithmeticError):
                continue
            if y is None:  # too far out to measure: more orders than the ladder has digits
                return float(MAX_DIGITS), top
            if y and mpmath.isfinite(y):
                order = float(mpmath.log10(y))
                orders, top = max(orders, abs(order)), max(top, order)
    return orders, top


#: the most digits _settled spends on one function value (|x| up to ~15000 in an exp-like function)
SETTLE_DIGITS = 20000


def _settled(value, x: float) -> mpmath.mpf | None:
    """|value()| to a few digits, value a function's derivative at x by sympy.diff, which can cancel
    (softplus''(5000) = (1 - e^x/(e^x + 1)) e^x/(e^x + 1) is 0 below 2172 digits, 3.4e-2172 in truth):
    at 15 and 30 digits, and where they do not agree on a nonzero value, with digits for terms as
    small as e^(-3|x|); None when that would take more than SETTLE_DIGITS."""
    with mpmath.workdps(15):
        low = abs(mpmath.mpf(value()))
    with mpmath.workdps(30):
        high = abs(mpmath.mpf(value()))
        if high and abs(high - low) <= high * mpmath.mpf(10) ** -8:
            return high
    digits = 30 + int(3 * abs(x) / math.log(10))
    if digits > SETTLE_DIGITS:
        return None
    with mpmath.workdps(digits):
        return abs(mpmath.mpf(value()))


@dataclass
class Decision:
    """Whether two sides are equal at one point: "equal", "differs" or "unresolved"."""

    status: str
    error: float  # largest relative difference (at the precision that decided)
    entry: tuple
    lhs: np.ndarray  # the two sides at that precision
    rhs: np.ndarray
    digits: int


def _values(lhs, rhs, env: Env, backend, digits: int):
    """Both sides and their entrywise absolute differences, all at ``digits``."""
    with mpmath.workdps(digits):
        menv = to_mp(env)
        lv, rv = evaluate(lhs, menv, backend), evaluate(rhs, menv, backend)
        gaps = np.vectorize(lambda a, b: abs(a - b), otypes=[object])(lv, rv).reshape(lv.shape)
    return lv, rv, gaps


def _largest(gaps) -> tuple:
    return max(np.ndindex(*gaps.shape), key=lambda i: gaps[i])


def _relative(lv, rv, gaps, entry) -> float:
    scale = max([abs(x) for x in lv.reshape(-1)] + [abs(x) for x in rv.reshape(-1)])
    return float(gaps[entry] / scale) if scale else float(gaps[entry])


def decide(lhs: E.Expr, rhs: E.Expr, env: Env, backend, digits: int = DIGITS, sentinel: bool = False,
           roundoff: bool = False, measure: bool = True) -> Decision:
    """Are lhs and rhs equal at this instance?  Evaluated with ``digits`` and, unless both sides agree
    exactly (and ``sentinel`` does not ask to look again), with twice as many, and so on up to
    MAX_DIGITS: a difference that stays the same to half the added digits is real ("differs"); one
    that shrinks by at least half the added digits at two doublings in a row is round-off ("equal") —
    one shrink is not enough, since round-off at the lower precision can hide a small real
    difference that the next level shows.

    ``roundoff`` accepts a relative difference within ROUNDOFF digits of the working precision as
    round-off without looking again, relative to the largest value on either side or in play: only
    for the cross-check after a proof, which already decided (a tolerance is not a zero test).
    The digits are raised to cover the magnitudes in play at this instance (exact.magnitudes), unless
    ``measure`` is off (that cross-check, which only looks for gross disagreement); where they
    exceed MAX_DIGITS nothing is called equal: the point is "unresolved"."""
    extra, scale = magnitudes([lhs, rhs], env) if measure else (0, mpmath.mpf(0))
    # an exact zero difference means equal only at the digits the magnitudes in play call for: 1 -
    # sigmoid(X + 5000) is 0 at 1600 digits and e^-5000 ~ 1e-2172 in truth
    needed = DIGITS + extra
    digits = min(MAX_DIGITS // 2, max(digits, needed))
    lv, rv, gaps = _values(lhs, rhs, env, backend, digits)
    if not any(gaps.reshape(-1)) and not sentinel and digits >= needed:
        return Decision("equal", 0.0, (0, 0), lv, rv, digits)
    if roundoff and not sentinel:
        with mpmath.workdps(digits):
            entry = _largest(gaps)
            error = _relative(lv, rv, gaps, entry)
            top = max(max(abs(x) for x in lv.reshape(-1)), max(abs(x) for x in rv.reshape(-1)), scale)
            if gaps[entry] <= top * mpmath.mpf(10) ** (ROUNDOFF - digits):
                return Decision("equal", error, entry, lv, rv, digits)
    shrinks = 0
    while digits * 2 <= MAX_DIGITS:
        more = digits * 2
        hv, hr, high = _values(lhs, rhs, env, backend, more)
        with mpmath.workdps(more):
            entry = _largest(high)
            top_low, top_high = max(gaps.reshape(-1)), high[entry]
            half = mpmath.mpf(10) ** -(digits // 2)
            if not top_high and not top_low and more >= needed:
                return Decision("equal", 0.0, entry, hv, hr, more)
            # the same at both precisions: real, unless it is below what this precision resolves next to
            # the largest value in play (a term absorbed identically at both: 1 - sigmoid(1e40) is 0 at
            # any precision, e^(-1e40) is not; X + e^(e^8.5) - e^(e^8.5) loses X below 2134 digits)
            resolved = top_high > max(abs(hv[entry]), abs(hr[entry]), scale) * \
                mpmath.mpf(10) ** (ROUNDOFF - more)
            if top_high and resolved and abs(top_high - gaps[entry]) <= top_high * half:
                return Decision("differs", _relative(hv, hr, high, entry), entry, hv, hr, more)
            if top_low and top_high <= top_low * half:  # shrank with the precision
                shrinks += 1
                if (shrinks >= 2 or not top_high) and more >= needed:
                    return Decision("equal", _relative(hv, hr, high, entry), entry, hv, hr, more)
            else:
                shrinks = 0
        lv, rv, gaps, digits = hv, hr, high, more
    entry = _largest(gaps)
    return Decision("unresolved", _relative(lv, rv, gaps, entry), entry, lv, rv, digits)


def exact_stage(lhs: E.Expr, rhs: E.Expr, relations, rng: np.random.Generator, seed: int,
                points: int = 3, assignments: int = 2, cache: dict | None = None,
                explain: tuple | None = None, what: str = "", method: str = "forward",
                cross_check: bool = False) -> Stage:
    """Compare lhs and rhs exactly at small distinct sizes; a Stage with a counterexample on failure.

    ``points`` random instances per size assignment, and as the decision procedure, every configuration
    of the discrete symbols (or the extreme and some random ones when there are too many).  With
    ``cross_check`` (after a proof, which already decided) only ``points`` instances are decided
    exactly and the configurations are screened in float64, any suspicion being decided exactly.
    ``method`` is "forward" (forward mode) or "sympy" (sympy.diff of SymPy expressions, many times
    slower; ``cache`` then holds its compiled derivatives, shared between claims).  ``explain`` is an
    entrywise pair (claimed, true) evaluated at a failing point when lhs and rhs are projections, so
    the counterexample names an entry."""
    from .numeric import screen  # numeric.py imports this module

    dims = E.dims_of(lhs, rhs)
    discrete = discrete_symbols([lhs, rhs])
    cost = (lambda sizes: configuration_count(discrete, sizes)) if discrete else None
    sizes_list = size_assignments(dims, relations, SIZE_POOL, assignments, sizes_rng(seed, dims), cost=cost)
    work = max(_work((lhs, rhs), sizes) for sizes in sizes_list)
    if work > EXACT_WORK_LIMIT:  # fixed sizes: 50-digit products of such matrices take minutes
        return Stage("exact", "skipped", [named_sizes(s) for s in sizes_list], 0, 0, 0.0,
                     f"fixed sizes whose largest product or value takes {work} operations per evaluation, "
                     f"beyond the exact stage's {EXACT_WORK_LIMIT} (64 × 64 × 64)")
    backend = {"forward": forward_backend, "sympy": lambda: symbolic_backend({} if cache is None else cache)}[method]()
    label = {"forward": "forward-mode differentiation", "sympy": "sympy.diff"}[method]
    digits = working_digits(lhs, rhs, *(explain or ()))
    worst, count, covered, total, outside, unresolved = 0.0, 0, 0, 0, 0, 0
    used = [named_sizes(s) for s in sizes_list]
    kinked = kinked_nodes([lhs, rhs])
    visits: dict = {}  # (assignment, configuration) -> [sizes, configuration, kink sides its points took]
    avoided: set = set()
    for j, sizes in enumerate(sizes_list):
        configs, how_many = (configurations(discrete, sizes, rng, CROSS_CHECK_CONFIGURATIONS, CROSS_CHECK_CONFIGURATIONS)
                             if cross_check else configurations(discrete, sizes, rng))
        total += how_many
        runs = configs if len(configs) >= points else [configs[i % len(configs)] for i in range(points)]
        exact_at = set(range(points)) if cross_check else set(range(len(runs)))
        checked = set()
        for i, fixed in enumerate(runs):
            try:
                env = draw([lhs, rhs], sizes, rng, fixed=fixed)
            except NoInstance:
                if not discrete:
                    raise
                outside += 1  # this configuration puts a function's argument on a kink or outside its domain
                continue
            avoided |= env.avoided
            if kinked and not cross_check:
                visits.setdefault((j, id(fixed)), [sizes, fixed, set()])[2].update(kink_sides(kinked, [lhs, rhs], env))
            if i not in exact_at and screen(lhs, rhs, env)[0]:
                checked.add(id(fixed))
                continue
            # the digits cover the constants and the magnitudes computed at this point; the first point
            # of each assignment looks again with more digits even when both sides agree exactly, later
            # points whenever they differ at all (a difference below round-off may be real: 6e-82 next
            # to an intermediate 1e40).  Only the cross-check after a proof, which already decided,
            # takes a difference within round-off as round-off.
            d = decide(lhs, rhs, env, backend, digits, sentinel=(i == 0 and not cross_check),
                       roundoff=cross_check, measure=not cross_check)
            if d.status == "differs" and cross_check:  # against a proof: decide again with every safeguard
                d = decide(lhs, rhs, env, backend, digits)
            count += 1
            if d.status == "unresolved":
                unresolved += 1
                continue
            checked.add(id(fixed))
            worst = max(worst, d.error)
            if d.status == "differs":
                return _failure(lhs, rhs, d, env, sizes, seed, used, count, explain, what, backend)
        covered += len(checked)
    # A claim with relu, step or abs is piecewise: random points decide it only on the pieces they
    # visit.  Every side of every kink must have been visited, at every size assignment and with every
    # configuration of the discrete symbols (relu(a) * b = a * b for a binary b fails only where a < 0
    # and b = 1: a < 0 seen with b = 0 is not enough); missing ones are looked for farther out and nearer
    # in (relu(X - 10), relu(1e-6 - X*X)).  Only an argument of discrete symbols whose every
    # configuration was checked has no side left to find.
    enumerated = covered == total
    wanted = {(id(n), k, side) for n in kinked if not (enumerated and _enumerated(n.a, discrete))
              for k in n.fn.kinks for side in ("below", "above")}
    missing: set = set()
    for sizes, fixed, seen in visits.values():
        left = wanted - seen
        for scale in KINK_SEARCH_SCALES if left else ():
            try:
                env = draw([lhs, rhs], sizes, rng, fixed=fixed, scale=scale)
            except NoInstance:
                continue
            new = kink_sides(kinked, [lhs, rhs], env) & left
            if not new:
                continue
            left -= new
            avoided |= env.avoided
            d = decide(lhs, rhs, env, backend, digits)
            count += 1
            if d.status == "differs":
                return _failure(lhs, rhs, d, env, sizes, seed, used, count, explain, what, backend)
            if d.status == "unresolved":
                unresolved += 1
            if not left:
                break
        missing |= left
    detail = "identically equal at " + "; ".join(fmt_sizes(s) for s in sizes_list) + \
             f" (derivatives of the explicit entries by {label})"
    if unresolved:
        return Stage("exact", "unresolved", used, count, digits, worst,
                     f"{unresolved} points where the difference did not settle up to {MAX_DIGITS} digits")
    if count == 0:  # nothing was compared: no evidence either way
        return Stage("exact", "unresolved", used, 0, digits, 0.0,
                     f"no point decided: all {total} configurations of {', '.join(sorted(discrete))} sit on a "
                     "kink, a tie or outside a domain" if discrete else "no point decided")
    if discrete:
        names = ", ".join(sorted(discrete))
        how = " (screened in float64, suspicions decided exactly)" if cross_check else ""
        if covered == total:
            detail += f"; every configuration of {names} ({total}){how}"
        else:
            detail += f"; {covered} of {total} configurations of {names}{how}"
    unreached = sorted({f"{n.fn.name}({to_text(n.a)}) never {side} {k:g}" for n in kinked for k in n.fn.kinks
                        for side in ("below", "above") if (id(n), k, side) in missing})
    if unreached and not cross_check:
        detail += "; not visited (values scaled from 1e-6 to 1e6 tried): " + "; ".join(unreached)
    settled = (lambda e: enumerated and _enumerated(e, discrete))  # every configuration checked
    pieces = [] if cross_check else _pieces(lhs, rhs, [n for n in kinked if not settled(n.a)], settled)
    if pieces:
        detail += "; " + pieces[0]
    # draws that hit a kink or tie exactly were drawn again: that set has positive probability, and
    # the claim was decided only off it (both for the points and for a proof, which assumes no ties)
    edges = [f"{what} (exact, with positive probability: drawn again)" for what in sorted(avoided)]
    if outside:
        edges.append(f"{outside} configurations of {', '.join(sorted(discrete))} on a kink, a tie or outside a domain")
    if edges:
        detail += "; decided only off " + "; ".join(edges)
    stage = Stage("exact", "holds", used, count, digits, worst, detail)
    stage.configurations = (covered, total) if discrete else None
    stage.unvisited = (unreached if not cross_check else []) + pieces + edges
    return stage


def _work(exprs, sizes: dict) -> int:
    """The largest number of scalar operations one node takes at these sizes: entries of its value,
    times the inner size for a matrix product."""
    worst = 1
    for e in exprs:
        for node in E.walk(e):
            try:
                rows, cols = concrete_shape(node, sizes)
                inner = concrete_shape(node.a, sizes)[1] if isinstance(node, E.MatMul) else 1
            except (E.ShapeError, TypeError, ValueError):
                continue
            worst = max(worst, rows * cols * inner)
    return worst


def _enumerated(e: E.Expr, discrete: dict) -> bool:
    """Whether e depends on discrete symbols only (their every configuration then shows every side)."""
    return all(name in discrete for name in E.symbols_of(e))


def _pieces(lhs, rhs, kinked, settled) -> list[str]:
    """Why visiting both sides of every kink does not visit every piece, if it does not: kinks of
    different arguments cut the space into pieces that can be thin (step(X) against step(X - 0.001)
    differ only on 0 < X < 0.001, which no side count sees, and draws keep off kinks by a margin), and
    a max or min is piecewise in which entry is largest.  One argument, one family of pieces."""
    arguments = sorted({to_text(n.a) for n in kinked})
    extremes = sorted({f"{n.which}({to_text(n.a)})" for e in (lhs, rhs) for n in E.walk(e)
                       if isinstance(n, (E.Extreme, E.ExtremeMask)) and not settled(n.a)})
    if len(arguments) <= 1 and not extremes:
        return []
    where = "; ".join([f"kinks of {a}" for a in arguments] + [f"where {x} switches entry" for x in extremes])
    return [f"piecewise ({where}): random points decide only the pieces they visit"]


def _failure(lhs, rhs, d: Decision, env, sizes, seed, used, count, explain, what, backend) -> Stage:
    lv, rv, entry, shown, names = d.lhs, d.rhs, d.entry, what, None
    with mpmath.workdps(d.digits):
        if explain is not None:  # show the claim entry by entry; the direction is then irrelevant
            menv = to_mp(env)
            lv, rv = evaluate(explain[0], menv, backend), evaluate(explain[1], menv, backend)
            gaps = np.vectorize(lambda a, b: abs(a - b), otypes=[object])(lv, rv).reshape(lv.shape)
            entry = _largest(gaps)
            shown, names = "", set(E.symbols_of(*explain))
        claimed, true = float(mpmath.re(lv[entry])), float(mpmath.re(rv[entry]))
        gap = abs(lv[entry] - rv[entry])
        gap = f"{float(gap):.3g}" if gap > mpmath.mpf(10) ** -300 else mpmath.nstr(gap, 3)  # below float64's range
    if claimed == true:  # a difference below float64's resolution: say how big it is
        shown = (shown + "; " if shown else "") + f"they differ by {gap}"
    cx = Counterexample("exact", seed, named_sizes(sizes), as_lists(env, names), entry, claimed, true,
                        params={k: list(v) for k, v in env.params.items()}, what=shown)
    return Stage("exact", "fails", used, count, d.digits, d.error,
                 f"differs at {fmt_sizes(sizes)} (decided at {d.digits} digits)", counterexample=cx)
