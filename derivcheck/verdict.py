"""Verdicts and the evidence behind them: plain dataclasses, no printing."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["VERDICTS", "HOLDS", "Counterexample", "Diagnosis", "Stage", "StepResult", "Verdict", "Result", "to_json", "summary_of"]

#: From strongest to weakest evidence that a claim holds, then the other outcomes.
VERDICTS = ("proved", "proved_at_shapes", "confirmed", "refuted", "ill_formed", "inconclusive")
HOLDS = frozenset({"proved", "proved_at_shapes", "confirmed"})


@dataclass
class Counterexample:
    """Where a claim fails, small enough to read and reproducible from its seed."""

    stage: str  # "exact" or "numeric"
    seed: int
    sizes: dict  # dimension name -> size
    values: dict  # symbol name -> nested list of floats
    entry: tuple  # (row, col) of the largest discrepancy
    claimed: float
    true: float
    params: dict = field(default_factory=dict)  # generic function coefficients
    what: str = ""  # what "claimed" and "true" are, when not plain entries


@dataclass
class Stage:
    """What one method showed."""

    method: str  # "exact" | "numeric" | "value"
    status: str  # "holds" | "fails" | "timeout" | "unsupported" | "error" | "skipped" | "unresolved"
    sizes: list = field(default_factory=list)  # size assignments used
    points: int = 0  # random instances evaluated
    digits: int = 0  # working precision (0 for float64)
    max_error: float = 0.0  # largest relative discrepancy seen
    detail: str = ""
    rechecked: int = 0  # apparent float failures dismissed at high precision
    counterexample: Counterexample | None = None
    # (checked, of): configurations of the discrete symbols (binary, one-hot) the stage covered;
    # None when there are none.  Fewer than all is evidence, not a decision.
    configurations: tuple | None = None
    # sides of kinks (relu's argument never below 0, ...) no point visited, pieces points need not
    # visit, ties met: the claim was not checked there, which is evidence, not a decision
    unvisited: list = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Whether the stage covered only part of the claim's domain (some configurations, pieces)."""
        return bool(self.unvisited) or (self.configurations is not None
                                        and self.configurations[0] < self.configurations[1])


@dataclass
class Diagnosis:
    """How a failing claim relates to the truth (diagnose.py), with the corrected formula."""

    kind: str  # "sign" | "factor" | "transpose" | "diagonal" | "swapped" | "transposed factor" | "term sign" |
    #            "extra term" | "missing term" | "assumption" | "shape" | "true formula"
    text: str  # one line for humans
    corrected: str = ""  # the corrected claimed side, in the claim's vocabulary (empty for an assumption)
    step: int | None = None  # for a derivation: the step it explains
    truth: str = ""  # for a gradient claim: the true gradient in the claim's names (derivative.py)


@dataclass
class StepResult:
    """One step of a derivation, compared with the step before it."""

    index: int
    verdict: "Verdict"


@dataclass
class Verdict:
    status: str  # one of VERDICTS
    reason: str  # one line for humans
    stages: list = field(default_factory=list)
    counterexample: Counterexample | None = None
    steps: list = field(default_factory=list)
    # [(h, relative discrepancy)] of the claimed derivative against central
    # differences of step h (numeric.convergence): the picture in the report
    convergence: list = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    alarm: str = ""  # set when two methods contradict each other: an internal error, never silent

    @property
    def holds(self) -> bool:
        return self.status in HOLDS


@dataclass
class Result:
    """A claim's verdict as the command line and reports show it."""

    id: str
    source: str
    kind: str
    verdict: Verdict
    expected: str | None
    seconds: float
    note: str = ""
    origin: str = ""
    document: str = ""

    @property
    def ok(self) -> bool:
        if self.verdict.alarm:
            return False
        if self.expected is None:
            return self.verdict.holds
        if self.expected == "holds":
            return self.verdict.holds
        return self.verdict.status in ("refuted", "ill_formed")


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) or type(obj).__name__ in ("mpf", "float64"):
        return float(obj)
    return obj


def summary_of(results, seed: int) -> dict:
    """The ``summary`` object of the --json document."""
    counts = {}
    for r in results:
        counts[r.verdict.status] = counts.get(r.verdict.status, 0) + 1
    return {"total": len(results), "ok": sum(r.ok for r in results),
            "by_verdict": {v: counts[v] for v in VERDICTS if v in counts}, "seed": seed}


def to_json(result: Result) -> dict:
    """The --json shape of one result."""
    v = result.verdict
    evidence = {
        "reason": v.reason,
        "stages": [_clean(asdict(s)) for s in v.stages],
        "counterexample": _clean(asdict(v.counterexample)) if v.counterexample else None,
    }
    if v.alarm:
        evidence["alarm"] = v.alarm
    if v.diagnosis:
        evidence["diagnosis"] = asdict(v.diagnosis)
    if v.convergence:
        evidence["convergence"] = [[float(h), float(e)] for h, e in v.convergence]
    if v.steps:
        evidence["steps"] = [{"index": s.index, "verdict": s.verdict.status, "reason": s.verdict.reason,
                              "counterexample": _clean(asdict(s.verdict.counterexample))
                              if s.verdict.counterexample else None} for s in v.steps]
    return {
        "id": result.id, "source": result.source, "document": result.document, "kind": result.kind, "verdict": v.status,
        "expected": result.expected, "ok": result.ok, "seconds": round(result.seconds, 3),
        "evidence": evidence, "note": result.note, "origin": result.origin,
    }
