"""Checking a claim: well-formedness, then the exact and numeric stages, then a verdict.

Each claim kind becomes one or more comparisons of two expressions (the claim
and the ground truth), as its kind's row in claims.CLAIM_KINDS says; ``_CHECKS`` runs each way of
comparing.  Every stage
runs under a time limit; whatever goes wrong inside one claim (a bad
expression, a time-out, a crash inside SymPy) becomes that claim's verdict.
"""
from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np

from . import expr as E
from .assumptions import UnsatisfiableError, sampler_for, size_assignments
from .claims import CLAIM_KINDS, Claim
from .conventions import check_convention
from .evaluate import Env, EvaluationError, evaluate
from .diagnose import diagnose
from .exact import SIZE_POOL, exact_stage
from .forward import forward_backend
from .gradcheck.claim import check_code
from .instances import claim_rng, concrete_shape, fmt_sizes, sizes_rng
from .numeric import convergence, numeric_stage
from .symbolic import Unsupported, prove_equal
from .timelimit import StageTimeout, time_limit
from .verdict import HOLDS, Counterexample, Result, Stage, StepResult, Verdict

__all__ = ["Limits", "check", "check_all"]


@dataclass(frozen=True)
class Limits:
    """Seconds allowed per stage of one comparison, and the compiled-derivative
    cache shared by the claims of one run."""

    exact: float = 30.0
    numeric: float = 30.0
    cache: dict = field(default_factory=dict, compare=False, repr=False)
    symbolic: bool = True  # try the proof for all dimensions first (tests of the concrete stages turn it off)
    convergence: bool = False  # the finite-difference curves of derivative claims: only a report draws them


# ---------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Comparison:
    """Two expressions that must be equal: exactly (exact pair) and numerically (numeric pair)."""

    exact: tuple
    numeric: tuple
    what: str = ""  # what the pairs' sides mean when they are not the claim itself
    explain: tuple | None = None  # entrywise pair evaluated only to show a counterexample


def _direction_for(wrt: E.Expr) -> E.Symbol:
    rows, cols = E.shape(wrt)
    return E.Symbol(f"direction({wrt.name})", rows, cols)  # not a valid identifier: no clash


def _column(e: E.Expr) -> E.Expr:
    return e if E.shape(e)[1] == 1 else E.Transpose(e)


def _entrywise(claim: Claim, claimed, truth) -> list[Comparison]:
    return [Comparison((claimed, truth), (claimed, truth))]


def _projection(claim: Claim, claimed, truth) -> list[Comparison]:
    # Both stages compare along random directions V: <claimed, V> against d/dt f(wrt + tV), one scalar
    # derivative instead of one per entry of wrt.  Equal for random V (at 50 digits) iff equal as
    # matrices; a failure is then shown entry by entry with the full gradient (in the claim's
    # convention for a symmetric wrt: conventions.py).
    convention = check_convention(claim.convention, claim.wrt)
    v = _direction_for(claim.wrt)
    pair = (E.Inner(claimed, v), E.Directional(claim.f, claim.wrt, convention.direction(v)))
    return [Comparison(pair, pair, CLAIM_KINDS[claim.kind].compared, explain=(claimed, truth))]


def _vector(claim: Claim, claimed, truth) -> list[Comparison]:
    # the truth is a Jacobian (of f, or of f's gradient for a Hessian): J v against d/dt g(x + tv)
    v = _direction_for(truth.wrt)
    pair = (E.MatMul(claimed, _column(v)), _column(E.Directional(truth.f, truth.wrt, v)))
    return [Comparison(pair, pair, CLAIM_KINDS[claim.kind].compared, explain=(claimed, truth))]


#: how a claim kind with two sides is compared (claims.CLAIM_KINDS names one per kind)
_COMPARE = {"entrywise": _entrywise, "projection": _projection, "vector": _vector}


def _comparisons(claim: Claim) -> list[Comparison]:
    """The claim's two sides (its kind's row), checked for shape, as the comparisons the stages run."""
    row = CLAIM_KINDS[claim.kind]
    row.validate(claim)
    claimed, truth = row.sides(claim)
    sc, st = E.shape(claimed), E.shape(truth)
    if sc != st:
        raise E.ShapeError(row.mismatch(claim, sc, st))
    return _COMPARE[row.compare](claim, claimed, truth)


# ---------------------------------------------------------------- stages -> verdict


def _run_stage(stage_fn, name: str, seconds: float, *args, **kw) -> Stage:
    try:
        with time_limit(seconds):
            return stage_fn(*args, **kw)
    except StageTimeout:
        return Stage(name, "timeout", detail=f"time limit of {seconds:g} s reached")
    except EvaluationError as exc:
        return Stage(name, "error", detail=str(exc))
    except (NotImplementedError, TypeError) as exc:
        return Stage(name, "unsupported", detail=f"{type(exc).__name__}: {exc}")
    except RecursionError:
        return Stage(name, "unsupported", detail="expression too deep")
    except Exception as exc:  # a crash inside SymPy or NumPy must not end the run
        return Stage(name, "error", detail=f"{type(exc).__name__}: {exc}")


def _describe(cx: Counterexample) -> str:
    where = fmt_sizes(cx.sizes)
    return (f"at {where}, entry {cx.entry}: claimed {cx.claimed:.10g}, true {cx.true:.10g}"
            + (f" ({cx.what})" if cx.what else ""))


def _combine(exact: Stage, numeric: Stage) -> Verdict:
    stages = [exact, numeric]
    if exact.status == "fails":
        return Verdict("refuted", "fails " + _describe(exact.counterexample), stages, exact.counterexample)
    if numeric.status == "fails":
        prefix = "holds at the small sizes but fails " if exact.status == "holds" else "fails "
        return Verdict("refuted", prefix + _describe(numeric.counterexample) + f"; {numeric.detail}", stages,
                       numeric.counterexample)
    if exact.status == "holds":
        extra = f"; {numeric.detail}" if numeric.status == "holds" else f"; numeric check: {numeric.status} ({numeric.detail})"
        if exact.partial:  # sampled configurations or unvisited pieces: evidence, not a decision
            what = (f"confirmed on {exact.configurations[0]} of {exact.configurations[1]} configurations of the "
                    "discrete symbols" if exact.configurations and exact.configurations[0] < exact.configurations[1]
                    else "confirmed where the points went")
            return Verdict("confirmed", f"{what}: {exact.detail} ({exact.points} points, {exact.digits} digits)"
                           + extra, stages)
        return Verdict("proved_at_shapes", f"{exact.detail} ({exact.points} points, {exact.digits} digits)" + extra,
                       stages)
    if numeric.status == "holds":
        return Verdict("confirmed", f"{numeric.detail}, max relative error {numeric.max_error:.1e}; "
                                    f"exact check {exact.status}: {exact.detail}", stages)
    return Verdict("inconclusive", f"exact check {exact.status}: {exact.detail}; "
                                   f"numeric check {numeric.status}: {numeric.detail}", stages)


PROOF_SECONDS = 10.0  # the normal form is fast when it applies; past this it is left to the other stages


def _prove(c: Comparison, seconds: float) -> Stage:
    """The symbolic stage: equal for all sizes by the index-notation normal form, or not shown."""
    try:
        with time_limit(min(seconds, PROOF_SECONDS)):
            equal = prove_equal(*c.exact)
    except StageTimeout:
        return Stage("symbolic", "timeout", detail=f"normal form not reached in {min(seconds, PROOF_SECONDS):g} s")
    except Unsupported as exc:
        return Stage("symbolic", "unsupported", detail=f"outside the normal form: {exc}")
    except Exception as exc:  # the engine must never decide a verdict by crashing
        return Stage("symbolic", "error", detail=f"{type(exc).__name__}: {exc}")
    if equal:
        return Stage("symbolic", "holds", detail="equal for all dimensions: both sides have the same "
                                                 "index-notation normal form")
    return Stage("symbolic", "not shown", detail="the normal forms differ (not a disproof)")


def _against_proof(verdict: Verdict, proof: Stage, stage: str) -> Verdict:
    """A refuted verdict against an unwithdrawn proof: the engine and a concrete check disagree, a bug
    said loudly."""
    if proof.status == "holds" and verdict.status == "refuted":
        verdict.alarm = ("INTERNAL ERROR: the symbolic normal form says equal for all dimensions, but the "
                         f"{stage} check found a counterexample; please report this claim")
        verdict.reason = f"{verdict.alarm}. {verdict.reason}"
    return verdict


def _compare(c: Comparison, relations, seed: int, claim_id: str, path: tuple, limits: Limits) -> Verdict:
    proof = _prove(c, limits.exact) if limits.symbolic else Stage("symbolic", "skipped", detail="turned off")

    def exact_stage_(cross_check: bool) -> Stage:
        # after a proof the exact stage is a cross-check: one random point per size assignment decided
        # exactly and the extreme configurations of the discrete symbols screened in float64; without a
        # proof it is the decision, at three points and every configuration
        return _run_stage(exact_stage, "exact", limits.exact, *c.exact, relations,
                          claim_rng(seed, claim_id, *path, 1), seed, cache=limits.cache, explain=c.explain,
                          what=c.what, points=1 if cross_check else 3, cross_check=cross_check)

    exact = exact_stage_(cross_check=proof.status == "holds")
    if proof.status == "holds" and exact.status in ("holds", "unresolved") and (exact.points == 0 or exact.unvisited):
        # the cross-check decided no point, or only points off exact ties and kinks, which the proof's
        # rules assume away: the exact stage decides (and says what it covered)
        proof = Stage("symbolic", "not shown", detail=f"{proof.detail}, but the cross-check decided no point or "
                                                      "met ties or kinks with positive probability")
        exact = exact_stage_(cross_check=False)
    elif proof.status == "holds" and exact.status in ("holds", "unresolved"):  # no contradiction
        return Verdict("proved", f"{proof.detail}; cross-check: {exact.detail} ({exact.points} points, "
                                 f"{exact.digits} digits)", [proof, exact])
    if exact.status == "fails":
        verdict = _combine(exact, Stage("numeric", "skipped", detail="the exact check already failed"))
        verdict.stages.insert(0, proof)
        return _against_proof(verdict, proof, "exact")
    numeric = _run_stage(numeric_stage, "numeric", limits.numeric, *c.numeric, relations,
                         claim_rng(seed, claim_id, *path, 2), seed, what=c.what)
    if proof.status == "holds" and exact.status == "skipped" and numeric.status == "holds":
        # sizes beyond the exact stage: the float64 stage, with its rigorous bounds, is the cross-check
        return Verdict("proved", f"{proof.detail}; cross-check: {numeric.detail} (exact stage skipped: "
                                 f"{exact.detail})", [proof, exact, numeric])
    verdict = _combine(exact, numeric)
    verdict.stages.insert(0, proof)
    return _against_proof(verdict, proof, "float64")


def _well_formed(*exprs, relations=()) -> None:
    """Raise ShapeError (or UnsatisfiableError) for anything that cannot be checked: shapes,
    assumptions no sampler draws from, relations between sizes that no sizes satisfy."""
    for e in exprs:
        E.shape(e)
    dims = E.dims_of(*exprs)
    size_assignments(dims, relations, SIZE_POOL, 1, sizes_rng(0, dims))
    for name, s in E.symbols_of(*exprs).items():
        sampler = sampler_for(name, s.assume)
        if sampler.square and s.rows != s.cols:
            raise E.ShapeError(f"{name} is assumed {', '.join(sorted(s.assume))} but has shape "
                               f"{E.fmt_shape((s.rows, s.cols))}, which is not square")


def _check_comparisons(claim: Claim, seed: int, limits: Limits, path=()) -> Verdict:
    comparisons = _comparisons(claim)
    for c in comparisons:
        _well_formed(*c.exact, *c.numeric, relations=claim.relations)
    verdicts = [_compare(c, claim.relations, seed, claim.id, path, limits) for c in comparisons]
    verdict = verdicts[0] if len(verdicts) == 1 else _weakest(verdicts)
    if limits.convergence and verdict.status in ("proved", "proved_at_shapes", "confirmed", "refuted"):
        verdict.convergence = _convergence(comparisons[0], claim, seed, path, limits)
    return verdict


def _convergence(c: Comparison, claim: Claim, seed: int, path: tuple, limits: Limits) -> list:
    """The finite-difference picture for a derivative claim; empty if it cannot be drawn."""
    try:
        with time_limit(limits.numeric):
            return convergence(*c.numeric, claim.relations, claim_rng(seed, claim.id, *path, 3), seed)
    except (Exception, StageTimeout):  # evidence for the eye only: never a reason to change the verdict
        return []


_ORDER = {"ill_formed": 0, "refuted": 1, "inconclusive": 2, "confirmed": 3, "proved_at_shapes": 4, "proved": 5}


def _weakest(verdicts: list[Verdict]) -> Verdict:
    return min(verdicts, key=lambda v: _ORDER[v.status])


def _check_derivation(claim: Claim, seed: int, limits: Limits) -> Verdict:
    if len(claim.steps) < 2:
        raise E.ShapeError("a derivation needs at least two steps")
    steps = []
    for i in range(1, len(claim.steps)):
        step_claim = Claim(f"{claim.id}#{i}", "identity", lhs=claim.steps[i - 1], rhs=claim.steps[i],
                           relations=claim.relations)
        steps.append(StepResult(i, _guard(lambda: _check_comparisons(step_claim, seed, limits, path=(i,)))))
    worst = _weakest([s.verdict for s in steps])
    if worst.status in HOLDS:
        reason = f"all {len(steps)} steps hold ({worst.status})"
        return Verdict(worst.status, reason, steps=steps)
    first = next(s for s in steps if s.verdict.status not in HOLDS)
    decisive = next(s for s in steps if s.verdict.status == worst.status)  # a refuted step outranks an open one
    reason = f"step {first.index} ({first.verdict.status}): {first.verdict.reason}"
    if decisive is not first:
        reason += f"; step {decisive.index} ({decisive.verdict.status}): {decisive.verdict.reason}"
    tail = []  # the last lines that each follow from the one before: the error propagates, it is not repeated
    for s in reversed(steps):
        if s.verdict.status not in HOLDS:
            break
        tail.insert(0, s)
    others = [s for s in steps if s.verdict.status not in HOLDS and s is not first and s is not decisive]
    if others:
        reason += "; also broken: " + ", ".join(f"step {s.index} ({s.verdict.status})" for s in others)
    if tail and tail[0].index > first.index:  # they follow from the line just before them, itself broken
        span = f"steps {tail[0].index}–{tail[-1].index} are" if len(tail) > 1 else f"step {tail[0].index} is"
        reason += f"; {span} valid algebra from step {tail[0].index - 1}"
    conclusion = Claim(f"{claim.id}#conclusion", "identity", lhs=claim.steps[0], rhs=claim.steps[-1],
                       relations=claim.relations)
    end = _guard(lambda: _check_comparisons(conclusion, seed, limits, path=(len(claim.steps),)))
    if end.status in HOLDS:
        reason += "; the last line nevertheless equals the first (the conclusion is right, the derivation is not)"
    elif end.status == "refuted":
        reason += "; the conclusion (last line = first line) is false"
    verdict = Verdict(worst.status, reason, counterexample=decisive.verdict.counterexample, steps=steps)
    verdict.alarm = next((s.verdict.alarm for s in steps if s.verdict.alarm), "")  # a step's internal error is the claim's
    return verdict


def _to_mp_value(v):
    arr = np.array(v, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    return np.vectorize(lambda x: mpmath.mpf(repr(float(x))) if isinstance(x, float) else mpmath.mpf(x),
                        otypes=[object])(arr)


def _check_value(claim: Claim, seed: int, limits: Limits) -> Verdict:
    symbols = E.symbols_of(claim.expr)
    dims = {d.name: d for d in E.dims_of(claim.expr)}
    missing = sorted(set(symbols) - set(claim.at))
    if missing:
        raise E.ShapeError(f"no value given for {', '.join(missing)}")
    unsized = sorted(set(dims) - set(claim.at))
    if unsized:
        raise E.ShapeError(f"no size given for dimension {', '.join(unsized)}")
    sizes = {dims[k]: int(claim.at[k]) for k in dims}
    E.shape(claim.expr)
    try:
        with time_limit(limits.exact):
            return _evaluate_value(claim, seed, symbols, sizes)
    except StageTimeout:
        return Verdict("inconclusive", f"time limit of {limits.exact:g} s reached evaluating the worked example")


def _evaluate_value(claim: Claim, seed: int, symbols: dict, sizes: dict) -> Verdict:
    with mpmath.workdps(50):
        values = {k: _to_mp_value(claim.at[k]) for k in symbols}
        for k, s in symbols.items():
            if values[k].shape != concrete_shape(s, sizes):
                raise E.ShapeError(f"the value given for {k} has shape {values[k].shape}, "
                                   f"but {k} is {E.fmt_shape((s.rows, s.cols))}")
        # forward mode so that grad(...) inside a worked example is differentiated, not refused
        got = evaluate(claim.expr, Env(sizes, values), forward_backend())
        want = _to_mp_value(claim.equals)
        if want.shape != got.shape:
            raise E.ShapeError(f"the stated value has shape {want.shape}, the expression {got.shape}")
        diff = np.vectorize(lambda a: float(abs(a)))(got - want)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    err = float(diff[idx])
    got_f = [[float(mpmath.re(x)) for x in row] for row in got]
    stage = Stage("value", "holds" if err <= claim.tolerance else "fails", [], 1, 50, err,
                  f"computed {got_f} at 50 digits; stated {claim.equals}; tolerance {claim.tolerance:g}")
    if err <= claim.tolerance:
        return Verdict("confirmed", f"evaluates to {_short(got_f)} (within {claim.tolerance:g} of the stated value)",
                       [stage])
    cx = Counterexample("value", seed, {str(k): int(v) for k, v in sizes.items()},
                        {k: np.asarray(values[k], dtype=float).tolist() for k in values}, idx,
                        float(mpmath.re(want[idx])), float(mpmath.re(got[idx])), what="stated value against computed value")
    stage.counterexample = cx
    return Verdict("refuted", f"evaluates to {_short(got_f)}, not {claim.equals} (off by {err:.3g})", [stage], cx)


def _short(matrix) -> str:
    if len(matrix) == 1 and len(matrix[0]) == 1:
        return f"{matrix[0][0]:.12g}"
    return str([[float(f"{x:.6g}") for x in row] for row in matrix])


#: how each way of comparing is checked (claims.CLAIM_KINDS names one per kind)
_CHECKS = {
    **dict.fromkeys(_COMPARE, _check_comparisons),
    "derivation": _check_derivation,
    "value": _check_value,
    "code": check_code,  # a program's gradients, by gradcheck in spec mode
}


def _guard(run) -> Verdict:
    """Turn input problems into verdicts: ill_formed for shapes, inconclusive for the rest."""
    try:
        return run()
    except (E.ShapeError, UnsatisfiableError) as exc:
        return Verdict("ill_formed", str(exc))
    except StageTimeout:
        return Verdict("inconclusive", "time limit reached")
    except Exception as exc:  # one broken claim must not stop the others
        return Verdict("inconclusive", f"internal error: {type(exc).__name__}: {exc}")


def _diagnosis(claim: Claim, verdict: Verdict, seed: int, limits: Limits):
    """Why a claim fails, when a simple repair explains it; never changes the verdict."""
    broken = next((s.index for s in verdict.steps if s.verdict.status in ("refuted", "ill_formed")), None)
    if any(s.method == "exact" and s.status == "skipped" for s in verdict.stages):
        return None  # sizes beyond the exact stage: every repair would be decided by it
    try:
        with time_limit(limits.exact):
            return diagnose(claim, seed, broken)
    except (Exception, StageTimeout):  # no diagnosis is better than a wrong one, a crash or a long wait
        return None


def claim_seconds(limits: Limits) -> float:
    """The most one claim may take, whatever it contains: the proof, the exact and numeric stages,
    the convergence picture and the diagnosis, each within its own limit, plus a second."""
    return min(limits.exact, PROOF_SECONDS) + 2 * limits.exact + 2 * limits.numeric + 1.0


def check(claim: Claim, seed: int = 0, limits: Limits | None = None) -> Result:
    """Check one claim within claim_seconds(limits); never raises for a problem with the claim itself."""
    limits = Limits() if limits is None else limits
    start = time.perf_counter()
    if claim.error:
        verdict = Verdict("ill_formed", claim.error)
    else:
        try:
            with time_limit(claim_seconds(limits)):
                verdict = _guard(lambda: _CHECKS[CLAIM_KINDS[claim.kind].compare](claim, seed, limits))
                if verdict.status in ("refuted", "ill_formed"):
                    verdict.diagnosis = verdict.diagnosis or _diagnosis(claim, verdict, seed, limits)
        except StageTimeout:  # the claim's own budget ran out between two guarded steps
            verdict = Verdict("inconclusive", f"the claim's time limit of {claim_seconds(limits):g} s was reached")
    return Result(claim.id, claim.source, claim.kind, verdict, claim.expect,
                  time.perf_counter() - start, claim.note, claim.origin, claim.document)


def check_all(claims, seed: int = 0, limits: Limits | None = None, progress=None, jobs: int = 1) -> list[Result]:
    """Check claims; results come back in the claims' order.

    ``progress(done, total, result)`` is called as each claim finishes.  With
    ``jobs`` > 1, that many forked worker processes take the next claim from a
    shared queue as they finish one (claims' costs differ by 100×, so a fixed
    split leaves one worker idle)."""
    limits = Limits() if limits is None else limits
    claims = list(claims)
    if jobs <= 1 or len(claims) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for i, claim in enumerate(claims, 1):
            results.append(check(claim, seed, limits))
            if progress:
                progress(i, len(claims), results[-1])
        return results
    return _check_parallel(claims, seed, limits, progress, jobs)


def _worker(claims, tasks, seed, limits, queue):
    while (i := tasks.get()) is not None:
        queue.put((i, check(claims[i], seed, limits)))


def _check_parallel(claims, seed, limits, progress, jobs) -> list[Result]:
    ctx = multiprocessing.get_context("fork")  # workers inherit the loaded claims: nothing is pickled but results
    results_q, tasks = ctx.Queue(), ctx.Queue()
    for i in range(len(claims)):
        tasks.put(i)
    for _ in range(jobs):
        tasks.put(None)
    procs = [ctx.Process(target=_worker, args=(claims, tasks, seed, limits, results_q),
                         daemon=True) for _ in range(jobs)]
    results: list[Result | None] = [None] * len(claims)
    done = 0
    try:
        for p in procs:
            p.start()
        while done < len(claims):
            try:
                i, result = results_q.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results_q.empty():
                    break
                continue
            results[i] = result
            done += 1
            if progress:
                progress(done, len(claims), result)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    for i, r in enumerate(results):
        if r is None:  # its worker died (killed, out of memory)
            c = claims[i]
            results[i] = Result(c.id, c.source, c.kind, Verdict("inconclusive", "the worker process checking "
                                "this claim stopped unexpectedly"), c.expect, 0.0, c.note, c.origin, c.document)
    return results
