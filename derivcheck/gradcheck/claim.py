"""The ``code`` claim kind: a program computes the gradients of a loss.

A catalog module transcribes a document's backward code as a Python function
and states which loss (a derivcheck expression) it differentiates.  Checking
the claim runs gradcheck in spec mode: at the document's own data and at
random instances whose dimensions all differ (so a transpose cannot hide
behind a square shape), the code's float64 gradients are compared with
derivcheck's 50-digit forward-mode derivative of the loss.  The evidence level
is ``confirmed``: float code can only agree within round-off, at the points
tried.  Code that raises, or returns a gradient of the wrong shape, is
``ill_formed``, as a claim whose shapes do not line up is.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass

import mpmath
import numpy as np

from .. import expr as E
from ..assumptions import size_assignments
from ..claims import Claim
from ..evaluate import FLOAT, Env, evaluate
from ..forward import forward_backend
from ..instances import claim_rng, draw, fmt_sizes, named_sizes, sizes_rng
from ..verdict import Counterexample, Diagnosis, Stage, Verdict
from .api import check_gradients
from .spec import Spec

__all__ = ["CodeCheck", "code_gradients", "check_code"]

RANDOM_POINTS = 2
SIZE_POOL = (2, 3, 4, 5, 6, 7)


@dataclass(frozen=True)
class CodeCheck:
    """What a ``code`` claim runs: ``program(**values)`` returns {parameter: gradient}."""

    program: object
    params: tuple
    points: tuple = ()  # the document's own data: dicts of values by symbol name (sizes follow from them)
    random_points: int = RANDOM_POINTS


def code_gradients(id: str, f, params, program, points=(), **kw) -> Claim:
    """``program`` computes the gradients of the loss ``f`` w.r.t. ``params`` (symbols)."""
    if "origin" not in kw:
        caller = sys._getframe(1)
        kw["origin"] = f"{caller.f_code.co_filename}:{caller.f_lineno}"
    kw["relations"] = tuple(kw.get("relations", ()))
    names = tuple(p.name for p in params)
    return Claim(id, "code", f=E.as_expr(f), code=CodeCheck(program, names, tuple(points)), **kw)


def _points(claim: Claim, seed: int) -> list:
    """(label, sizes, values) for the document's data, then random instances at distinct sizes."""
    symbols = E.symbols_of(claim.f)
    out = []
    for i, values in enumerate(claim.code.points):
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items() if k in symbols}
        out.append((f"the document's data ({i + 1})", _sizes_of(symbols, arrays), arrays))
    dims = E.dims_of(claim.f)
    rng = claim_rng(seed, claim.id, 4)
    for sizes in size_assignments(dims, claim.relations, SIZE_POOL, claim.code.random_points, sizes_rng(seed, dims)):
        env = draw([claim.f], sizes, rng)
        out.append((f"a random instance at {fmt_sizes(sizes)}", sizes, {k: env.values[k] for k in symbols}))
    return out


def _sizes_of(symbols, arrays) -> dict:
    sizes = {}
    for name, s in symbols.items():
        for d, n in zip((s.rows, s.cols), arrays[name].shape):
            if not getattr(d, "is_Integer", False) and not isinstance(d, int):
                sizes[d] = n
    return sizes


class ProgramError(Exception):
    """The claim's program raised (not gradcheck): the claim is ill-formed at that point."""

    def __init__(self, exc: Exception):
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        super().__init__(f"{type(exc).__name__}: {exc} (line {frame.lineno}: {frame.line})")


def _loss(claim: Claim, sizes: dict, values: dict):
    """The loss in float64, from the claim's own expression (the program need not compute it)."""
    def loss(params, *fixed):
        return float(evaluate(claim.f, Env(sizes, {**values, **params}), FLOAT)[0, 0])
    return loss


def _run_program(claim: Claim, values: dict):
    def grads(params, *fixed):
        try:
            return claim.code.program(**{**values, **params})
        except Exception as exc:
            raise ProgramError(exc) from exc
    return grads


def _largest_difference(claim: Claim, sizes: dict, values: dict, name: str):
    """(entry, code's value, true value) where the code's gradient is furthest from the
    50-digit gradient of the loss (forward mode, every entry), or None."""
    wrt = E.symbols_of(claim.f).get(name)
    if wrt is None:
        return None
    try:
        code = np.asarray(claim.code.program(**values)[name], dtype=np.float64)
    except Exception:  # the failure is already shown; an entry is extra evidence
        return None
    with mpmath.workdps(50):
        env = Env(sizes, {k: np.vectorize(lambda x: mpmath.mpf(float(x)), otypes=[object])(np.asarray(v, dtype=float))
                          for k, v in values.items()})
        true = np.asarray(evaluate(E.Grad(claim.f, wrt), env, forward_backend()).tolist(), dtype=np.float64)
    code = code.reshape(true.shape)
    index = np.unravel_index(int(np.argmax(np.abs(code - true))), true.shape)
    return tuple(int(i) for i in index), float(code[index]), float(true[index])


def check_code(claim: Claim, seed: int, limits) -> Verdict:
    """Run the claim's program at each point; gradcheck in spec mode decides each parameter.
    (check.check holds the whole claim to its time limit.)"""
    spec = Spec(claim.f, source=f"claim {claim.id}'s loss")
    worst, checked, stage_sizes = 0.0, 0, []
    for label, sizes, values in _points(claim, seed):
        stage_sizes.append(named_sizes(sizes))
        params = {k: values[k] for k in claim.code.params}
        fixed = {k: v for k, v in values.items() if k not in params}
        try:
            report = check_gradients(_loss(claim, sizes, fixed), _run_program(claim, fixed), params=params,
                                     spec=Spec(spec.expr, tuple(fixed), spec.source), args=tuple(fixed.values()),
                                     seed=seed)
        except ProgramError as exc:  # the program itself failed: its shapes do not line up here
            return Verdict("ill_formed", f"at {label}, the code raises {exc}",
                           [Stage("gradcheck", "fails", stage_sizes, checked, 50, detail=str(exc))])
        checked += 1
        stage = Stage("gradcheck", "holds", stage_sizes, checked, 50)
        bad = [r for r in report.rows if r.status != "ok"]
        if bad:
            return _failure(claim, seed, label, sizes, values, report, bad[0], stage)
        worst = max([worst] + [r.error for r in report.rows])
    names = ", ".join(claim.code.params)
    own = len(claim.code.points)
    where = (f"the document's data ({own} point{'s' if own != 1 else ''}) and " if own else "") + \
        f"{checked - own} random instance{'s' if checked - own != 1 else ''} at distinct sizes"
    detail = (f"the code's gradients of {names} agree with derivcheck's 50-digit forward-mode derivative of the loss "
              f"at {where}, within float64 round-off; largest relative error {worst:.1e}")
    return Verdict("confirmed", detail, [Stage("gradcheck", "holds", stage_sizes, checked, 50, worst, detail)])


def _failure(claim, seed, label, sizes, values, report, row, stage) -> Verdict:
    stage.status = "fails"
    stage.detail = "; ".join(f"{r.name}: {r.status} ({r.evidence})" + (f", off at {r.where}" if r.where else "")
                             + (f", diagnosis: {r.diagnosis}" if r.diagnosis else "") for r in report.rows)
    if row.status != "wrong":
        stage.status = row.status
        return Verdict("inconclusive", f"at {label}, {row.name}: {row.status} ({row.evidence})", [stage])
    shape_wrong = "returns shape" in row.evidence or "no gradient" in row.evidence
    reason = f"at {label}, the gradient of {row.name} is wrong: {row.evidence}"
    if row.where:
        reason += f"; off at {row.where}"
    entry = None if shape_wrong else _largest_difference(claim, sizes, values, row.name)
    cx = None
    if entry is not None:
        index, claimed, true = entry
        cx = Counterexample("gradcheck", seed, named_sizes(sizes), {k: np.asarray(v).tolist() for k, v in values.items()},
                            index, claimed, true, what=f"the code's ∂/∂{row.name} against the truth")
        stage.counterexample = cx
    verdict = Verdict("ill_formed" if shape_wrong else "refuted", reason, [stage], cx)
    if row.diagnosis:
        verdict.diagnosis = Diagnosis("code", f"{row.name}: {row.diagnosis}")
    return verdict
