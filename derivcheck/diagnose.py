"""Diagnoses: for a claim that does not hold, name how it relates to the truth.

The claimed side C is compared with the true side T (the derivative of f for
gradient, jacobian and directional claims; the left side of an identity) by
trying, in order, the repairs in ``_REPAIRS``: each proposes corrected
versions of C (−C, Cᵀ, C with the operands of one product swapped, C with
one factor transposed, C with an assumption added to one symbol), and the
first that the exact stage proves equal to T at concrete shapes is the
diagnosis, with the corrected formula in the claim's own names.  A constant
or size-dependent scalar factor (2, 1/m, …) is found by fitting C = k T at
two size assignments.  Nothing here changes a verdict: a diagnosis only
explains one.
"""
from __future__ import annotations

import dataclasses
import fractions

import mpmath
import sympy

from . import expr as E
from .assumptions import UnsatisfiableError, by_strength, closure, sampler_for, size_assignments
from .evaluate import evaluate
from .exact import DIGITS, SIZE_POOL, exact_stage
from .forward import forward_backend
from .instances import claim_rng, draw, sizes_rng, to_mp
from .printing import to_text
from .derivative import gradient, readable
from .symbolic import prove_equal
from .verdict import Diagnosis

__all__ = ["Diagnosis", "diagnose", "sides"]

def sides(claim, broken_step: int | None = None):
    """(claimed side, true side) of a claim, or None when there is nothing to compare.
    For a derivation: the first broken step against the line before it."""
    if claim.kind == "derivation" and broken_step is not None:
        return claim.steps[broken_step], claim.steps[broken_step - 1]
    if claim.kind == "gradient":
        return claim.claimed, E.Grad(claim.f, claim.wrt)
    if claim.kind == "jacobian":
        return claim.claimed, E.Jacobian(claim.f, claim.wrt)
    if claim.kind == "directional":
        return claim.claimed, E.Directional(claim.f, claim.wrt, claim.direction)
    if claim.kind == "identity":
        return claim.rhs, claim.lhs
    return None


_shape = E.shape_or_none


def _equal(a, b, relations, seed: int, label: str) -> bool:
    if _shape(a) is None or _shape(a) != _shape(b):
        return False
    try:
        stage = exact_stage(a, b, relations, claim_rng(seed, f"diagnosis: {label}"), seed, points=2)
    except Exception:  # a repair that cannot be evaluated is simply not the diagnosis
        return False
    return stage.status == "holds"


# ---------------------------------------------------------------- rebuilding expressions


def _rebuild(e: E.Expr, change, memo: dict, into_defined: bool) -> E.Expr:
    """``e`` with ``change(node)`` applied bottom-up (None keeps a node); shared nodes stay shared."""
    if id(e) in memo:
        return memo[id(e)]
    out = change(e)
    if out is None:
        if isinstance(e, E.Defined) and not into_defined:
            out = e
        else:
            fields = {}
            for f in dataclasses.fields(e):
                v = getattr(e, f.name)
                if isinstance(v, E.Expr):
                    fields[f.name] = _rebuild(v, change, memo, into_defined)
            out = dataclasses.replace(e, **fields) if any(fields[k] is not getattr(e, k) for k in fields) else e
    memo[id(e)] = out
    return out


def _replace_node(e: E.Expr, target: E.Expr, new: E.Expr) -> E.Expr:
    return _rebuild(e, lambda n: new if n is target else None, {}, into_defined=False)


def _top_nodes(e: E.Expr):
    """The nodes of the claimed side itself (not inside named definitions)."""
    return E.walk(e, into_defined=False)


# ---------------------------------------------------------------- repairs


def _sign(c, t):
    negated = c.b if isinstance(c, E.Mul) and isinstance(c.a, E.Scalar) and c.a.value == -1 else -c
    yield "sign", "sign flip: the claimed side is the negative of the true one", negated


def _transpose(c, t):
    yield ("transpose", "transpose: the claimed side is the transpose of the true one",
           c.a if isinstance(c, E.Transpose) else E.Transpose(c))


def _diagonal(c, t):
    shape = _shape(c)
    if shape and 1 in shape and shape != (1, 1):
        yield ("diagonal", "a vector where a diagonal matrix is meant: the true side is diag of the claimed one",
               E.Diag(c))


def _swapped(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.MatMul):
            for new in (E.MatMul(n.b, n.a), E.Transpose(E.MatMul(E.Transpose(n.a), E.Transpose(n.b)))):
                yield ("swapped", f"swapped operands: {to_text(n)} should be {to_text(E.MatMul(n.b, n.a))}",
                       _replace_node(c, n, new))


def _transposed_factor(c, t):
    for n in _top_nodes(c):
        if isinstance(n, (E.Symbol, E.Defined)) and _shape(n) and _shape(n)[0] != _shape(n)[1]:
            continue
        if isinstance(n, (E.Symbol, E.Defined)):
            yield ("transposed factor", f"a factor should be transposed: {to_text(n)} should be {to_text(n)}.T",
                   _replace_node(c, n, E.Transpose(n)))
        if isinstance(n, E.Transpose) and isinstance(n.a, (E.Symbol, E.Defined)):
            yield ("transposed factor", f"a transpose too many: {to_text(n)} should be {to_text(n.a)}",
                   _replace_node(c, n, n.a))


def _term_sign(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.Add):
            for flipped, keep, other in ((E.Add(n.a, -n.b), n.a, n.b), (E.Add(-n.a, n.b), n.b, n.a)):
                yield ("term sign", f"the sign of one term is wrong: in {to_text(n)}, {to_text(other)} "
                                    f"should have the opposite sign", _replace_node(c, n, flipped))


def _extra_term(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.Add):
            for keep, dropped in ((n.a, n.b), (n.b, n.a)):
                yield ("extra term", f"a term too many: {to_text(dropped)} in {to_text(n)}", _replace_node(c, n, keep))


def _missing_term(c, t):
    names = {}
    for n in E.walk(t):
        if isinstance(n, (E.Symbol, E.Defined)) and n.name not in names:
            names[n.name] = n
    for name, n in names.items():
        for candidate, how in ((E.Add(c, n), "+"), (E.Add(c, -n), "-")):
            yield "missing term", f"a term is missing: {how} {name}", candidate


_REPAIRS = (_sign, _transpose, _diagonal, _swapped, _transposed_factor, _term_sign, _extra_term, _missing_term)


def _with_assumption(exprs, name: str, assumption: str):
    memo: dict = {}

    def change(n):
        if isinstance(n, E.Symbol) and n.name == name:
            return dataclasses.replace(n, assume=frozenset(n.assume | {assumption}))
        return None

    return [_rebuild(e, change, memo, into_defined=True) for e in exprs]


def _assumption(c, t, relations, seed):
    """One more assumption on one symbol, weakest first (the diagnosis names the least it needs)."""
    symbols = E.symbols_of(c, t)
    for name, s in sorted(symbols.items()):
        for a in by_strength():
            if a in closure(s.assume):
                continue
            try:
                domain = sampler_for(name, s.assume | {a})
            except UnsatisfiableError:
                continue
            if domain.square and s.rows != s.cols:
                continue
            if (a in ("one_hot_rows", "rows_sum_to_one") and s.cols == 1) or (a == "one_hot_columns" and s.rows == 1):
                continue  # on a single column (row) these would make every entry 1: no longer the claim
            c2, t2 = _with_assumption([c, t], name, a)
            if _equal(c2, t2, relations, seed, f"{name}:{a}"):
                return Diagnosis("assumption", f"an assumption is missing: the claim holds when {name} is {a}")
    return None


# ---------------------------------------------------------------- scalar factor


def _ratio(c, t, relations, seed):
    """k with C = k T at each of three size assignments (None if C is not a multiple of T)."""
    dims = E.dims_of(c, t)
    out = []
    backend = forward_backend()
    rng = claim_rng(seed, "diagnosis", 7)
    with mpmath.workdps(DIGITS):
        for sizes in size_assignments(dims, relations, SIZE_POOL, 3, sizes_rng(seed, dims)):
            env = to_mp(draw([c, t], sizes, rng))
            cv, tv = evaluate(c, env, backend), evaluate(t, env, backend)
            denom = sum(x * x for x in tv.reshape(-1))
            if denom == 0:
                return None
            k = sum(x * y for x, y in zip(cv.reshape(-1), tv.reshape(-1))) / denom
            resid = max(abs(x - k * y) for x, y in zip(cv.reshape(-1), tv.reshape(-1)))
            if resid > mpmath.mpf(10) ** -30 * max(1, max(abs(x) for x in cv.reshape(-1))):
                return None
            out.append((sizes, k))
    return out


def _name_factor(ratios):
    """The factor as a constant or a constant times a power of one dimension, e.g. 2, 1/m, 2*n."""
    candidates = [sympy.Integer(1)]
    dims = sorted({d for sizes, _ in ratios for d in sizes}, key=str)
    candidates += [d ** p for d in dims for p in (1, -1, 2, -2)]
    for form in candidates:
        values = [sympy.Rational(form.subs(sizes)) for sizes, _ in ratios]
        coefficients = [k * v.q / v.p for (_, k), v in zip(ratios, values)]
        if all(abs(x - coefficients[0]) < mpmath.mpf(10) ** -25 for x in coefficients):
            q = fractions.Fraction(float(coefficients[0])).limit_denominator(1000)
            if abs(float(coefficients[0]) - q.numerator / q.denominator) < 1e-12 and (q != 1 or form != 1):
                return sympy.Rational(q.numerator, q.denominator) * form
    return None


def _factor(c, t, relations, seed):
    ratios = _ratio(c, t, relations, seed)
    if not ratios:
        return None
    k = _name_factor(ratios)
    if k is None:
        return None
    corrected = E.Mul(E.Scalar(1 / k), c)
    return Diagnosis("factor", f"scalar factor: the claimed side is {sympy.sstr(k)} times the true one",
                     to_text(corrected))


def _true_gradient(claim, seed: int) -> str:
    """The true gradient in the claim's names (derivative.py), shown only once it is itself
    shown equal to the truth — by the normal form, or else by the exact stage — or ''."""
    try:
        g = gradient(claim.f, claim.wrt)
        truth = E.Grad(claim.f, claim.wrt)
        try:
            shown = prove_equal(truth, g)
        except Exception:
            shown = False
        if not shown and not _equal(g, truth, claim.relations, seed, "true gradient"):
            return ""
        return readable(g)
    except Exception:  # no rule for an operation: nothing to show rather than something unchecked
        return ""


# ---------------------------------------------------------------- entry point


def diagnose(claim, seed: int = 0, broken_step: int | None = None) -> Diagnosis | None:
    """How a failing claim's claimed side relates to the truth, or None if no repair explains it."""
    pair = sides(claim, broken_step)
    if pair is None:
        return None
    c, t = pair
    if _shape(t) is None:
        return None
    found = None
    for repair in _REPAIRS:
        for kind, text, candidate in repair(c, t):
            if _equal(candidate, t, claim.relations, seed, text):
                found = Diagnosis(kind, text, to_text(candidate))
                break
        if found:
            break
    if found is None and _shape(c) == _shape(t):
        found = _factor(c, t, claim.relations, seed) or _assumption(c, t, claim.relations, seed)
    if found is None and _shape(c) is not None and _shape(c) != _shape(t):
        found = Diagnosis("shape", f"wrong shape: the claimed side is {E.fmt_shape(_shape(c))}, the true one "
                                   f"{E.fmt_shape(_shape(t))}, and no transpose or diag repairs it")
    if claim.kind == "gradient" and broken_step is None:
        truth = _true_gradient(claim, seed)
        if truth:
            if found is None:
                found = Diagnosis("true formula", "no simple repair explains it; the true gradient is given")
            found.truth = truth
    if found is not None:
        found.step = broken_step
    return found
