"""A fuzzing campaign: chunks of generated cases, statistics, and every disagreement shrunk.

Each chunk is one Hypothesis run (``@seed(chunk)``, generation only) whose
test body examines a case and records it.  The first case of a chunk that
shows a disagreement not seen before makes the body raise, so Hypothesis
shrinks it to a small claim; the last failing call is then the shrunk one,
kept as the reproducer.  Chunks run one after another, or in forked worker
processes (``jobs``), until the time is up.
"""
from __future__ import annotations

import collections
import multiprocessing
import sys
import time
import warnings
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, seed, settings

from derivcheck.timelimit import StageTimeout

from .cases import KINDS, cases
from .oracle import examine

__all__ = ["Tally", "run_chunk", "campaign"]

CHUNK = 40  # cases per Hypothesis run
SHRINK_SECONDS = 90.0  # past this a shrink stops improving and the best so far is kept
LATE_SECONDS = 3 * SHRINK_SECONDS  # past the deadline, the longest a running chunk is waited for


@dataclass
class Tally:
    """What a campaign saw; tallies add up across chunks and workers."""

    counts: collections.Counter = field(default_factory=collections.Counter)
    findings: dict = field(default_factory=dict)  # signature -> shrunk reproducer (TOML)
    seconds: collections.Counter = field(default_factory=collections.Counter)

    def add(self, other: "Tally") -> None:
        self.counts.update(other.counts)
        self.seconds.update(other.seconds)
        for sig, text in other.findings.items():
            self.findings.setdefault(sig, text)

    def record(self, out) -> None:
        c, claim = self.counts, out.case.claim
        c["claims"] += 1
        c[("kind", claim.kind)] += 1
        for label in out.case.assumptions:
            c[("assumption", label)] += 1
        c[("intended", "true" if out.case.intended else "mutated")] += 1
        truth = {True: "holds", False: "fails", None: "undecided"}[out.truth]
        c[("truth", truth)] += 1
        c[("kind x truth", f"{claim.kind} {truth}")] += 1
        if out.truth is None:
            c[("undecided", out.undecided.split(":")[0][:60])] += 1
        for config, status in out.verdicts.items():
            c[(f"verdict ({config})", status)] += 1
            c[(f"verdict ({config}) x truth", f"{status} on a claim that {truth}")] += 1
        if out.prover:
            c[("prover alone", out.prover)] += 1
        if out.writer and out.writer != "n/a":
            c[("gradient writer", out.writer)] += 1
        if out.diagnosis:
            c[("diagnosis", out.diagnosis)] += 1
        for rule in out.case.rules:
            c[("rule", rule)] += 1
        if out.case.mutation:
            c[("mutation", out.case.mutation.split(" (")[0])] += 1
        for sig in _signatures(out):
            c[("disagreement", sig)] += 1
        for k, v in out.seconds.items():
            self.seconds[k] += v


def _signatures(out) -> list[str]:
    return sorted({f.signature for f in out.findings})


def _unraisable(report, previous=sys.unraisablehook):
    # Hypothesis's garbage-collector callback drops a StageTimeout raised inside it and prints it; the
    # time limit fires again until one gets through (derivcheck.timelimit), so the print is noise
    if not isinstance(report.exc_value, StageTimeout):
        previous(report)


def run_chunk(chunk_seed: int, known: frozenset, deadline: float, depth: int = 3, examples: int = CHUNK,
              kinds=KINDS, check_seed: int = 0) -> Tally:
    """One Hypothesis run of ``examples`` cases; a new disagreement is shrunk and kept."""
    sys.unraisablehook = _unraisable
    tally = Tally()
    state = {"target": None, "shrink_until": 0.0, "last": None}

    @seed(chunk_seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False, print_blob=False)
    @given(cases(kinds=kinds, depth=depth))
    def body(case):
        if state["target"] is None:
            if time.time() > deadline:
                return
            out = examine(case, seed=check_seed)
            tally.record(out)
            new = [s for s in _signatures(out) if s not in known and s not in tally.findings]
            if new:
                state.update(target=new[0], shrink_until=time.time() + SHRINK_SECONDS, last=out)
                raise _Disagreement(new[0])
            return
        if time.time() > state["shrink_until"]:
            return  # shrinking has taken long enough: keep the smallest so far
        out = examine(case, seed=check_seed)
        if state["target"] in _signatures(out):
            state["last"] = out
            raise _Disagreement(state["target"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            body()
        except _Disagreement:
            pass
        except Exception as exc:
            if state["target"] is None:  # a crash of the harness itself is a finding too
                tally.counts[("harness error", f"{type(exc).__name__}: {exc}"[:120])] += 1
            # else: Hypothesis calls a shrink that stopped at the time limit flaky; the best so far is kept
    if state["last"] is not None:
        out = state["last"]
        for sig in _signatures(out):
            tally.findings.setdefault(sig, out.reproducer())
    return tally


class _Disagreement(Exception):
    pass


def campaign(minutes: float, first_seed: int = 0, jobs: int = 1, depth: int = 3, kinds=KINDS,
             progress=None) -> Tally:
    """Chunks until ``minutes`` have passed; ``progress(tally, elapsed)`` after each chunk.
    With ``jobs`` > 1, that many forked workers each run one chunk at a time."""
    start = time.time()
    deadline = start + minutes * 60
    total = Tally()
    chunk = iter(range(first_seed, first_seed + 10 ** 9))

    def arguments():
        return (next(chunk), frozenset(total.findings), deadline, depth, CHUNK, kinds)

    if jobs <= 1:
        while time.time() < deadline:
            total.add(run_chunk(*arguments()))
            if progress:
                progress(total, time.time() - start)
        return total
    with multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=20) as pool:
        running = []
        while True:
            while len(running) < jobs and time.time() < deadline:
                running.append(pool.apply_async(run_chunk, arguments()))
            if not running:
                break
            done = [r for r in running if r.ready()]
            if not done and time.time() > deadline + LATE_SECONDS:
                # a worker that died mid-chunk never reports, and waiting for it would hang the campaign
                # with its findings unsaved: count the lost chunks and end (the pool is terminated)
                total.counts[("harness error", "chunk lost (a worker died or hung)")] += len(running)
                break
            if not done:
                time.sleep(0.2)
                continue
            for r in done:
                running.remove(r)
                total.add(r.get())
                if progress:
                    progress(total, time.time() - start)
    return total
