"""The oracle: every stage of derivcheck against the reference, on one claim.

For a claim the reference decides, ``examine`` runs

- ``check()`` with the proof (``full``) and without it (``concrete``):
  a holding verdict on a false claim is a FALSE HOLD, ``refuted`` on a true
  claim a FALSE REFUTE (unless the checker's counterexample, re-evaluated by
  the reference, shows the claim false after all: then the reference's own
  points missed it, and the claim is false);
- the prover alone (``prove_equal`` on each comparison): "equal" on a false
  claim is a PROVER BUG, even when the exact cross-check catches it;
- the diagnosis's corrected formula, the added assumption it names, and the
  true gradient it shows: each must make a claim the reference finds true
  (BAD CORRECTION, BAD ASSUMPTION, BAD TRUE GRADIENT);
- the true-gradient writer ``derivative.gradient(f, wrt)`` on gradient
  claims: it must equal the reference gradient (GRADIENT WRITER).

``inconclusive`` and ``ill_formed`` are not disagreements; they are counted.
"""
from __future__ import annotations

import dataclasses
import re
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from derivcheck import expr as E
from derivcheck.check import Limits, check
from derivcheck.claims import Claim
from derivcheck.derivative import gradient as write_gradient
from derivcheck.printing import to_text
from derivcheck.symbolic import Unsupported, prove_equal
from derivcheck.timelimit import StageTimeout, time_limit
from derivcheck.verdict import HOLDS

from . import reference
from .cases import Case
from .reproduce import parse_in, to_toml

__all__ = ["Finding", "Outcome", "examine", "CONFIGS", "CHECKS", "comparisons"]

#: the checker's configurations: name -> Limits (seconds per stage)
CONFIGS = {
    "full": lambda seconds: Limits(exact=seconds, numeric=seconds),
    "concrete": lambda seconds: Limits(exact=seconds, numeric=seconds, symbolic=False),
}
PROVER_SECONDS = 10.0
#: the reference's 200-digit evaluation is bounded too: exp of a huge argument made mpmath compute e to
#: millions of bits, and one worker ran for minutes while the campaign waited
REFERENCE_SECONDS = 60.0

_STAGE_OF = {"proved": "prover (normal form) and its exact cross-check", "proved_at_shapes": "exact stage",
             "confirmed": "numeric stage"}


@dataclass
class Finding:
    kind: str  # FALSE HOLD, FALSE REFUTE, PROVER BUG, BAD CORRECTION, BAD ASSUMPTION, BAD TRUE GRADIENT, ...
    stage: str  # which stage was wrong
    detail: str
    config: str = ""  # the checker's configuration (full, concrete), when it matters

    @property
    def signature(self) -> str:
        return f"{self.kind} | {self.stage}"

    def __str__(self) -> str:
        return f"{self.kind} ({self.stage}{', ' + self.config if self.config else ''}): {self.detail}"


@dataclass
class Outcome:
    case: Case
    truth: bool | None = None  # None: the reference could not decide
    undecided: str = ""
    reference: str = ""  # the reference's counterexample, for a false claim
    verdicts: dict = field(default_factory=dict)  # configuration -> verdict status
    reasons: dict = field(default_factory=dict)
    prover: str = ""  # equal | not shown | unsupported | error | timeout
    diagnosis: str = ""  # the diagnosis kind shown, if any
    writer: str = ""  # ok | unsupported | wrong | n/a
    findings: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def reproducer(self) -> str:
        expect = None if self.truth is None else ("holds" if self.truth else "fails")
        lines = [str(f) for f in self.findings]
        lines.append(f"made by: {', '.join(self.case.rules) or 'leaves'}; mutation: {self.case.mutation}")
        lines.append("verdicts: " + ", ".join(f"{k} {v}" for k, v in self.verdicts.items())
                     + f"; prover alone: {self.prover}")
        if self.reference:
            lines.append(f"reference: {self.reference}")
        return to_toml(self.case.claim, expect=expect, comment="\n".join(lines))


def _rng(seed: int, claim: Claim, salt: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32((salt + to_toml(claim)).encode())])


def comparisons(claim: Claim) -> list[tuple[str, E.Expr, E.Expr]]:
    """(label, claimed side, true side) pairs the prover is asked about."""
    if claim.kind == "identity":
        return [("identity", claim.rhs, claim.lhs)]
    if claim.kind == "gradient":
        return [("gradient", claim.claimed, E.Grad(claim.f, claim.wrt))]
    if claim.kind == "jacobian":
        return [("jacobian", claim.claimed, E.Jacobian(claim.f, claim.wrt))]
    if claim.kind == "directional":
        return [("directional", claim.claimed, E.Directional(claim.f, claim.wrt, claim.direction))]
    return [(f"step {i}", claim.steps[i], claim.steps[i - 1]) for i in range(1, len(claim.steps))]


def _step_claim(claim: Claim, label: str) -> Claim:
    """The claim behind one comparison (a derivation step as an identity)."""
    if not label.startswith("step "):
        return claim
    i = int(label.split()[1])
    return Claim(f"{claim.id}#{i}", "identity", lhs=claim.steps[i - 1], rhs=claim.steps[i])


_DECIDED: dict = {}  # (seed, claim file text) -> truth: diagnoses repeat across configurations


def _decide(claim: Claim, seed: int, salt: str) -> bool | None:
    key = (seed, to_toml(claim))
    if key not in _DECIDED:
        if len(_DECIDED) > 10000:
            _DECIDED.clear()
        try:
            with time_limit(REFERENCE_SECONDS):
                _DECIDED[key] = reference.decide(claim, _rng(seed, claim, salt)).holds
        except (reference.Undecided, E.ShapeError, StageTimeout):
            _DECIDED[key] = None
    return _DECIDED[key]


def _point_shows_false(claim: Claim, cx, seed: int) -> bool | None:
    """Whether the checker's counterexample is one by the reference (None: outside the domain)."""
    if cx is None or cx.params:
        return None
    try:
        with time_limit(REFERENCE_SECONDS):
            return not reference.holds_at(claim, cx.sizes, cx.values, _rng(seed, claim, "cx"))
    except (reference.OutsideDomain, reference.Undecided, StageTimeout):
        return None


def _replaced(claim: Claim, corrected: E.Expr, step: int | None) -> Claim:
    if claim.kind == "derivation":
        return Claim(claim.id, "identity", lhs=claim.steps[step - 1], rhs=corrected)
    if claim.kind == "identity":
        return dataclasses.replace(claim, rhs=corrected)
    return dataclasses.replace(claim, claimed=corrected)


def _with_assumption(claim: Claim, name: str, assumption: str) -> Claim:
    memo: dict = {}

    def change(x):
        if isinstance(x, E.Symbol) and x.name == name:
            return dataclasses.replace(x, assume=frozenset(x.assume | {assumption}))
        return None

    fields = {k: E.rebuild(getattr(claim, k), change, True, memo)
              for k in ("lhs", "rhs", "f", "wrt", "claimed", "direction") if getattr(claim, k) is not None}
    if claim.kind == "derivation":
        fields["steps"] = tuple(E.rebuild(s, change, True, memo) for s in claim.steps)
    return dataclasses.replace(claim, **fields)


_ASSUMPTION_TEXT = re.compile(r"the claim holds when (\w+) is (\w+)")


def _check_diagnosis(out: Outcome, config: str, verdict, seed: int) -> None:
    d = verdict.diagnosis
    if d is None:
        return
    out.diagnosis = d.kind
    claim = out.case.claim
    if d.corrected:
        try:
            fixed = _replaced(claim, parse_in(claim, d.corrected), d.step)
        except Exception as exc:  # the corrected formula must be in the claim's own vocabulary
            out.findings.append(Finding("UNPARSEABLE CORRECTION", "diagnosis",
                                        f"{d.kind}: {d.corrected!r}: {type(exc).__name__}: {exc}", config))
        else:
            if _decide(fixed, seed, "corrected") is False:
                out.findings.append(Finding("BAD CORRECTION", "diagnosis",
                                            f"{d.kind}: {d.text}; corrected {d.corrected!r} does not hold", config))
    match = _ASSUMPTION_TEXT.search(d.text) if d.kind == "assumption" else None
    if match and _decide(_with_assumption(claim, *match.groups()), seed, "assumption") is False:
        out.findings.append(Finding("BAD ASSUMPTION", "diagnosis", f"{d.text}, but it does not", config))
    if d.truth and claim.kind == "gradient":
        try:
            shown = dataclasses.replace(claim, claimed=parse_in(claim, d.truth))
        except Exception as exc:
            out.findings.append(Finding("UNPARSEABLE TRUE GRADIENT", "diagnosis",
                                        f"{d.truth!r}: {type(exc).__name__}: {exc}", config))
        else:
            if _decide(shown, seed, "truth") is False:
                out.findings.append(Finding("BAD TRUE GRADIENT", "diagnosis",
                                            f"the true gradient shown, {d.truth!r}, is not the gradient", config))


def _counterexample(v):
    return v.counterexample or next((s.verdict.counterexample for s in v.steps if s.verdict.counterexample), None)


def _reconsider(out: Outcome, results: dict, seed: int) -> None:
    """A true claim the checker refutes: if the reference agrees at the checker's own point, the
    reference's draws missed a counterexample and the claim is false after all."""
    if out.truth is not True:
        return
    for config, result in results.items():
        v = result.verdict
        if (v.status == "refuted" or v.alarm) and _point_shows_false(out.case.claim, _counterexample(v), seed):
            out.truth = False
            out.reference = f"the checker's counterexample ({config}), confirmed by the reference: {v.reason}"
            return


def _empty_domain(out: Outcome, seed: int, seconds: float, configs) -> None:
    """Assumptions that cannot hold together: the claim is ill_formed, never checked on some other set."""
    for config in configs:
        v = check(out.case.claim, seed, CONFIGS[config](seconds)).verdict
        out.verdicts[config] = v.status
        if v.status != "ill_formed":
            out.findings.append(Finding("EMPTY DOMAIN CHECKED", "well-formedness",
                                        f"{v.status} ({v.reason}), but {out.undecided}", config))


def _check_verdict(out: Outcome, config: str, result, seed: int) -> None:
    claim, v = out.case.claim, result.verdict
    out.verdicts[config] = v.status + (" + alarm" if v.alarm else "")
    out.reasons[config] = v.reason
    if v.status in HOLDS and out.truth is False:
        out.findings.append(Finding("FALSE HOLD", _STAGE_OF[v.status],
                                    f"{v.status} but the reference refutes it: {out.reference}", config))
    if v.alarm and out.truth is False:
        out.findings.append(Finding("PROVER BUG", "prover", "proved equal; the exact stage caught it: " + v.alarm, config))
    if (v.status == "refuted" or v.alarm) and out.truth is True:
        cx = _counterexample(v)
        shown = _point_shows_false(claim, cx, seed)
        stage = f"{cx.stage if cx else 'unknown'} stage"
        where = "outside the claim's domain" if shown is None and cx is not None else "true at that point"
        out.findings.append(Finding("FALSE REFUTE", stage, f"{v.reason} — the reference: {where}", config))


def _prove(out: Outcome, seed: int) -> None:
    claim = out.case.claim
    results = []
    for label, claimed, truth in comparisons(claim):
        try:
            with time_limit(PROVER_SECONDS):
                equal = prove_equal(claimed, truth)
        except StageTimeout:
            results.append("timeout")
            continue
        except Unsupported:
            results.append("unsupported")
            continue
        except Exception as exc:
            results.append(f"error ({type(exc).__name__})")
            continue
        results.append("equal" if equal else "not shown")
        if equal and out.truth is False:
            step_truth = out.truth if label in ("identity", "gradient", "jacobian", "directional") else \
                _decide(_step_claim(claim, label), seed, label)
            if step_truth is False:
                out.findings.append(Finding("PROVER BUG", "prover",
                                            f"{label}: the normal forms are equal on a false claim"))
    out.prover = ", ".join(sorted(set(results)))


def _writer(out: Outcome, seed: int) -> None:
    claim = out.case.claim
    if claim.kind != "gradient":
        out.writer = "n/a"
        return
    try:
        with time_limit(PROVER_SECONDS):
            g = write_gradient(claim.f, claim.wrt)
    except (NotImplementedError, Unsupported):
        out.writer = "unsupported"
        return
    except StageTimeout:
        out.writer = "timeout"
        return
    except Exception as exc:
        out.writer = "error"
        out.findings.append(Finding("GRADIENT WRITER", "derivative.gradient", f"crashed: {type(exc).__name__}: {exc}"))
        return
    if _decide(dataclasses.replace(claim, claimed=g), seed, "writer") is False:
        out.writer = "wrong"
        out.findings.append(Finding("GRADIENT WRITER", "derivative.gradient",
                                    f"wrote {to_text(g)}, which is not the gradient"))
    else:
        out.writer = "ok"


CHECKS = ("prover", "diagnoses", "writer")  # besides the verdicts, which are always held against the reference


def examine(case: Case, seed: int = 0, seconds: float = 10.0, configs=tuple(CONFIGS), checks=CHECKS) -> Outcome:
    """Decide the case with the reference, then hold every stage of derivcheck against it (the
    verdicts of ``configs``, and the parts named in ``checks``)."""
    out = Outcome(case)
    claim = case.claim
    start = time.perf_counter()
    try:
        with time_limit(REFERENCE_SECONDS):
            truth = reference.decide(claim, _rng(seed, claim, "decide"))
        out.truth, out.reference = truth.holds, truth.where
    except reference.Unsatisfiable as exc:
        out.undecided = f"unsatisfiable: {exc}"
        _empty_domain(out, seed, seconds, configs)
    except reference.Undecided as exc:
        out.undecided = str(exc)
    except StageTimeout:
        out.undecided = f"the reference took more than {REFERENCE_SECONDS:g} s"
    out.seconds["reference"] = time.perf_counter() - start
    if out.truth is None:
        return out
    start = time.perf_counter()
    results = {config: check(claim, seed, CONFIGS[config](seconds)) for config in configs}
    out.seconds["check"] = time.perf_counter() - start
    _reconsider(out, results, seed)
    for config, result in results.items():
        _check_verdict(out, config, result, seed)
    start = time.perf_counter()
    if "prover" in checks:
        _prove(out, seed)
    if "diagnoses" in checks:
        for config, result in results.items():
            _check_diagnosis(out, config, result.verdict, seed)
    if "writer" in checks:
        _writer(out, seed)
    out.seconds["stages"] = time.perf_counter() - start
    return out
