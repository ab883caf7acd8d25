"""The public entry points: check the gradients of user code, or assert them.

Three shapes of code (see calling.py) share one run: choose the dtype (a float32
call is re-run in float64 when the code is dtype-generic), check that the loss
is deterministic, then decide each variable by directional probes (engine.py)
and explain the wrong ones (repairs.py).  One seed drives every random choice.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from . import calling
from .calling import GradcheckError, Problem, runs_in_float64
from .engine import Checker, Outcome
from .repairs import explain, named_factors, repair, shape_candidates
from .result import Report, Row

__all__ = ["check_gradients", "check_layer", "check_pair", "check", "assert_gradients", "GradientCheckError",
           "GradcheckError"]


class GradientCheckError(AssertionError):
    """A gradient check that did not pass; the message is the report's table."""

    def __init__(self, report: Report):
        super().__init__("\n" + str(report))
        self.report = report


def check_gradients(loss, grads=None, *, params: dict, args=(), kwargs=None, seed: int = 0, probes: int = 2,
                    spec=None) -> Report:
    """Check ``grads`` against ``loss`` at ``params``.

    ``loss(params, *args, **kwargs)`` returns a number, or ``(number, grads)`` when
    ``grads`` is None; ``grads(params, *args, **kwargs)`` returns a dict of
    gradients by parameter name, or ``grads`` is that dict.  ``spec`` (a
    ``gradcheck.Spec``) takes the truth from derivcheck's 50-digit forward mode
    instead of finite differences."""
    build = lambda dtype: calling.loss_problem(loss, grads, params, args, kwargs, dtype)
    return _run(build, params, seed, probes, spec, _named_args(spec, args))


def check_layer(forward, backward, *, inputs: dict, params: dict | None = None, args=(), kwargs=None,
                seed: int = 0, probes: int = 2, spec=None) -> Report:
    """Check a layer: ``forward(*inputs, *params, *args, **kwargs) -> (out, cache)`` and
    ``backward(dout, cache)`` -> gradients of the inputs and parameters (a tuple in
    that order, or a dict), checked as a vector-Jacobian product through a random dout."""
    params = dict(params or {})
    build = lambda dtype: calling.layer_problem(forward, backward, inputs, params, args, kwargs, dtype,
                                                np.random.default_rng([seed, 1]))
    return _run(build, {**inputs, **params}, seed, probes, spec, {**inputs, **_named_args(spec, args)})


def check_pair(forward, backward, *, inputs: dict, params: dict, args=(), kwargs=None, seed: int = 0,
               probes: int = 2, spec=None) -> Report:
    """Check ``forward(*inputs, *params, *args, **kwargs) -> (loss, cache)`` and
    ``backward(cache) -> {parameter: gradient}`` (derivcheck's kernels have this shape)."""
    build = lambda dtype: calling.pair_problem(forward, backward, inputs, params, args, kwargs, dtype)
    return _run(build, {**inputs, **params}, seed, probes, spec, {**inputs, **_named_args(spec, args)})


def check(forward, backward=None, *, inputs: dict | None = None, params: dict, **kw) -> Report:
    """Any of the three shapes: without ``inputs`` it is a loss and its gradients;
    with them, a forward/backward pair when forward's first result is a number,
    else a layer."""
    if inputs is None:
        return check_gradients(forward, backward, params=params, **kw)
    args, kwargs = kw.get("args", ()), copy.deepcopy(kw.get("kwargs") or {})
    arrays = (calling._frozen(v) for v in (*inputs.values(), *params.values()))
    first = calling._split(forward(*arrays, *copy.deepcopy(tuple(args)), **kwargs), "forward")[0]
    if np.ndim(first) == 0:
        return check_pair(forward, backward, inputs=inputs, params=params, **kw)
    return check_layer(forward, backward, inputs=inputs, params=params, **kw)


def assert_gradients(forward, backward=None, **kw) -> Report:
    """``check(...)``, raising GradientCheckError (an AssertionError showing the table)
    unless every gradient agrees."""
    report = check(forward, backward, **kw)
    if not report.ok:
        raise GradientCheckError(report)
    return report


# ---------------------------------------------------------------- the run


def _choose_dtype(build, arrays: dict, notes: list) -> Problem:
    floats = [a.dtype for a in arrays.values() if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)]
    low = [d for d in floats if np.finfo(d).eps > np.finfo(np.float64).eps]
    if not low:
        problem = build(None)
        problem.dtype = np.dtype(np.float64)
        return problem
    candidate = build(np.float64)
    generic, why = runs_in_float64(candidate)
    if generic:
        candidate.dtype = np.dtype(np.float64)
        candidate.evaluations = 0
        notes.append(f"the code was given {', '.join(sorted({str(d) for d in low}))} arrays and is dtype-generic: "
                     "it was re-run in float64 at the same point (its float64 results are what was checked)")
        return candidate
    problem = build(None)
    problem.dtype = max(low, key=lambda d: np.finfo(d).eps)
    notes.append(f"not re-run in float64 ({why}); the checks ran in {problem.dtype} and their tolerances "
                 f"reflect its round-off")
    return problem


def _cast_like(v, problem: Problem):
    if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) and problem.dtype == np.float64:
        return v.astype(np.float64)
    return v


def _sizes(problem: Problem) -> list:
    out = []
    for name, v in problem.point.items():
        for axis, n in enumerate(v.shape):
            if n not in [s for s, _ in out]:
                out.append((int(n), f"axis {axis} of {name}"))
    return out


def _named_args(spec, args) -> dict:
    if spec is None:
        return {}
    if len(spec.args) > len(args):
        raise GradcheckError(f"the spec names {len(spec.args)} positional args, but {len(args)} were given")
    return dict(zip(spec.args, args))


def _run(build, arrays: dict, seed: int, probes: int, spec, named: dict | None = None) -> Report:
    start = time.perf_counter()
    notes: list = []
    problem = _choose_dtype(build, arrays, notes)
    rng = np.random.default_rng(seed)
    truth = spec.bind(problem, {k: _cast_like(v, problem) for k, v in (named or {}).items()}) if spec else None
    checker = Checker(problem, rng, truth, probes)
    mode = "specification (50-digit forward mode)" if truth else "finite differences"
    if truth is not None:
        notes.extend(truth.notes)
    try:
        rows = _rows(problem, checker, notes)
    except ValueError as exc:
        if "read-only" in str(exc):
            raise GradcheckError(f"the code writes into one of its arguments in place ({exc}); gradcheck passes "
                                 "read-only arrays so that the point being checked cannot move: copy before "
                                 "modifying") from None
        raise
    return Report(rows, seed, mode, str(problem.dtype), problem.evaluations, time.perf_counter() - start, notes,
                  problem.code)


def _rows(problem: Problem, checker: Checker, notes: list) -> list:
    point = problem.point
    first = problem.value(point)
    again = problem.value(point)
    if not (first == again or (np.isnan(first) and np.isnan(again))):
        notes.append(f"the loss changed between two calls at the same point ({first!r}, then {again!r}): "
                     "randomness inside the code (dropout?) must be seeded or turned off")
        return [Row(n, "undecided", evidence="the loss is not deterministic", shape=point[n].shape)
                for n in problem.candidates if n in point]
    if checker.truth is not None and checker.truth.mismatch:
        notes.append(checker.truth.mismatch)
        return [Row(n, "undecided", evidence="the spec does not describe the code (see the note)",
                    shape=point[n].shape) for n in problem.candidates if n in point]
    cache: dict = {}

    def raw_at(pt):
        key = id(pt)
        if key not in cache:
            cache[key] = (pt, problem.claimed(pt))
        return cache[key][1]

    raw = raw_at(point)
    extra = sorted(set(raw) - set(problem.candidates))
    if extra:
        notes.append(f"gradients returned for names that are not inputs or parameters: {', '.join(extra)}")
    ctx = {"factors": named_factors(problem.batch, _sizes(problem))}
    rows = []
    for name in problem.candidates:
        if name not in point:
            continue
        if name not in raw or raw[name] is None:
            if name in problem.required:
                rows.append(Row(name, "wrong", evidence="the code returns no gradient for it", shape=point[name].shape))
            continue
        before = problem.evaluations
        row = _variable(problem, checker, name, raw_at, dict(ctx, others={k: np.asarray(v) for k, v in raw.items()
                                                                           if k != name and v is not None}))
        if problem.evaluations > before:
            row.evidence += f", {problem.evaluations - before} evaluations"
        rows.append(row)
    return rows


def _as_array(g, name: str) -> np.ndarray:
    a = np.asarray(g)
    if not np.issubdtype(a.dtype, np.number):
        raise GradcheckError(f"the gradient returned for {name!r} is not numeric: {type(g).__name__}")
    return a


def _variable(problem: Problem, checker: Checker, name: str, raw_at, ctx) -> Row:
    shape = problem.point[name].shape
    G = _as_array(raw_at(problem.point)[name], name)
    if G.shape != shape and G.ndim != len(shape) and tuple(s for s in G.shape if s != 1) == \
            tuple(s for s in shape if s != 1):
        G = G.reshape(shape)  # (k,) for (1, k): the same numbers, and an update b -= lr*g broadcasts right
        # ((1, k) for (k, 1) is refused: b -= lr*g would broadcast to (k, k))
    if G.shape != shape:
        return _wrong_shape(problem, checker, name, G, shape, raw_at, ctx)
    bad = ~np.isfinite(G)
    if np.any(bad):
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)[:6]]
        return Row(name, "wrong", evidence="the gradient is not finite", where=f"entries {where}", shape=shape)
    fix = (lambda g: np.asarray(g).reshape(shape))
    outcome = checker.decide(name, lambda pt: fix(raw_at(pt)[name]).astype(np.result_type(G.dtype, np.float32), copy=False))
    row = _row(name, shape, outcome, checker)
    if outcome.status == "wrong":
        finding = explain(checker, outcome, name, outcome.claimed, ctx)
        row.diagnosis, row.where, row.entries = finding.diagnosis, finding.where, finding.entries
    return row


def _row(name, shape, outcome: Outcome, checker: Checker) -> Row:
    how = "50-digit truth" if checker.truth is not None else "finite differences"
    evidence = f"{len(outcome.probes)} direction{'s' if len(outcome.probes) != 1 else ''} ({how})"
    if outcome.redraws:
        evidence += f", {outcome.redraws} point{'s' if outcome.redraws > 1 else ''} redrawn (kink)"
    if outcome.detail:
        evidence += f"; {outcome.detail}"
    return Row(name, outcome.status, outcome.error, outcome.tolerance, len(outcome.probes), evidence, shape=shape)


def _wrong_shape(problem, checker, name, G, shape, raw_at, ctx) -> Row:
    """A gradient of the wrong shape is wrong; a shape repair (then maybe a value repair) says why."""
    row = Row(name, "wrong", evidence=f"the code returns shape {tuple(G.shape)} for a {tuple(shape)} variable",
              shape=shape)
    for text, transform in shape_candidates(G, shape):
        outcome = checker.decide(name, lambda pt, t=transform: t(_as_array(raw_at(pt)[name], name)))
        if outcome.status == "ok":
            row.diagnosis = text
            break
        if outcome.status == "wrong":
            more = repair(checker, outcome, name, outcome.claimed, dict(ctx, name=name))
            if more:
                row.diagnosis = f"{text}; and then {more}"
                break
    return row
