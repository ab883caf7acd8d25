"""Deciding one variable: probes, re-checks, kinks and redrawn points, then a status.

A probe agrees when |D_V f − ⟨G, V⟩| is within TOLERANCE_FACTOR times its error
estimate plus the claimed side's own round-off.  A disagreement is only a
suspicion: fresh directions re-check it, a kink draws another point, and the
code is called wrong only when the disagreement survives (see ``_verdict``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .calling import Problem
from .probes import EPS, Estimate, fd_probe, initial_step, step_scale

__all__ = ["Checker", "Probed", "TOLERANCE_FACTOR"]

TOLERANCE_FACTOR = 8.0  # a disagreement must exceed the error estimate this many times
CLAIMED_ROUNDOFF = 64.0  # ⟨G, V⟩'s own round-off, in units of eps(G)·Σ|G_i V_i|
STRONG = 100.0  # a disagreement this many tolerances wide cannot be explained by chance
PROBES = 2  # directions per variable when they agree
RECHECKS = 2  # fresh directions after a disagreement
MAX_REDRAWS = 3  # points drawn when a kink sits at the point


@dataclass
class Probed:
    """A probe made, with the direction its claimed side was taken along."""

    direction: np.ndarray  # the claimed side is ⟨G, direction⟩ (the rounded move, per unit step)
    estimate: Estimate
    sums: dict = field(default_factory=dict, repr=False)  # id(C) -> (C, ⟨C, direction⟩, Σ|C_i direction_i|)

    def along(self, C) -> tuple[float, float]:
        """⟨C, direction⟩ and Σ|C_i direction_i|, computed once per array (one pass each over 10⁶ entries)."""
        hit = self.sums.get(id(C))
        if hit is None or hit[0] is not C:
            c = np.asarray(C, dtype=np.float64)
            hit = (C, float(np.vdot(c, self.direction)), float(np.sum(np.abs(c * self.direction))))
            self.sums[id(C)] = hit
        return hit[1], hit[2]

    @property
    def derivative(self) -> float:
        return self.estimate.derivative


@dataclass
class Outcome:
    """What the probes of one variable showed."""

    status: str  # ok | wrong | kink | undecided
    probes: list = field(default_factory=list)  # [Probed] at the final point
    point: dict | None = None
    claimed: np.ndarray | None = None
    redraws: int = 0
    detail: str = ""
    worst: float = 0.0  # largest |mismatch| / tolerance seen
    error: float = 0.0  # relative mismatch of that probe
    tolerance: float = 0.0  # its relative tolerance


class Checker:
    """Probes of a problem's variables; ``truth`` replaces finite differences (spec mode)."""

    def __init__(self, problem: Problem, rng: np.random.Generator, truth=None, probes: int = PROBES):
        self.problem, self.rng, self.truth, self.n_probes = problem, rng, truth, probes
        self._f0: dict = {}
        self.steps: dict = {}  # name -> the step the last probe chose (for later probes)

    # ------------------------------------------------------------ one probe

    def f0(self, point: dict) -> float:
        key = id(point)
        if key not in self._f0:
            self._f0[key] = (point, self.problem.value(point))
        return self._f0[key][1]

    def probe(self, point: dict, name: str, G: np.ndarray, V: np.ndarray) -> Probed:
        if self.truth is not None:
            d = self.truth.directional(point, name, V)
            return Probed(V, Estimate(d, float(np.vdot(G, V)), 0.0, 0.0, exact=True))
        base = point[name]
        unit = step_scale(base) * V
        if base.dtype == np.float64:  # base + t·unit is exact to round-off: no need to measure the move
            along = float(np.vdot(G, unit))

            def line(t):
                return self.problem.value({**point, name: base + t * unit}), t

            claimed_along = lambda t: along * t
        else:  # float32: the move actually applied is the rounded one
            base64 = base.astype(np.float64)
            moves = {}

            def line(t):
                moved = (base64 + t * unit).astype(base.dtype)
                moves[t] = moved.astype(np.float64) - base64
                return self.problem.value({**point, name: moved}), moves[t]

            claimed_along = lambda move: float(np.vdot(G, move))
        est = fd_probe(line, claimed_along, self.f0(point), self.problem.dtype,
                       self.steps.get(name, initial_step(self.problem.dtype)))
        direction = unit
        if base.dtype != np.float64 and np.isfinite(est.derivative):
            # the claimed side along the moves actually made, combined as Richardson combined the levels
            one = lambda h: (moves[h] - moves[-h]) / (2 * h)
            direction = (4 * one(est.step) - one(2 * est.step)) / 3
        if np.isfinite(est.derivative):  # later probes of this variable start near the step that worked
            self.steps[name] = min(initial_step(self.problem.dtype), 4 * est.step)
        return Probed(direction, est)

    def tolerance(self, p: Probed, C: np.ndarray) -> float:
        """How far the claimed side ⟨C, direction⟩ may be from the derivative and still agree."""
        c = np.asarray(C)
        eps_c = EPS.get(c.dtype, EPS[np.dtype(np.float64)]) if np.issubdtype(c.dtype, np.floating) else 0.0
        roundoff = CLAIMED_ROUNDOFF * eps_c * p.along(C)[1]
        if p.estimate.exact:  # spec mode: the truth has no error; the code's float round-off is the margin
            return roundoff + self.truth.rtol * abs(p.derivative)
        return TOLERANCE_FACTOR * p.estimate.error + roundoff

    def mismatch(self, p: Probed, C: np.ndarray) -> float:
        return p.derivative - p.along(C)[0]

    def agrees(self, p: Probed, C: np.ndarray) -> bool:
        return bool(abs(self.mismatch(p, C)) <= self.tolerance(p, C))

    def ratio(self, p: Probed, C: np.ndarray) -> float:
        return abs(self.mismatch(p, C)) / max(self.tolerance(p, C), 1e-300)

    def direction(self, shape, mask=None) -> np.ndarray:
        V = self.rng.standard_normal(shape)
        return V if mask is None else V * mask

    # ------------------------------------------------------------ one variable

    def moved(self, point: dict, attempt: int) -> dict:
        """Another point near this one: every checked variable nudged by ~1e-3 of its size."""
        out = dict(point)
        for name in self.problem.candidates:
            if name in point:
                v = point[name]
                nudge = 2.0 ** -10 * step_scale(v) * self.rng.standard_normal(v.shape)
                out[name] = (v.astype(np.float64) + nudge).astype(v.dtype)
        return out

    def decide(self, name: str, claimed_at) -> Outcome:
        """Probe one variable; ``claimed_at(point)`` is the code's gradient there (already shape-checked)."""
        point = self.problem.point
        redraws = 0
        while True:
            G = claimed_at(point)
            probes, kink = self._round(point, name, G)
            if not kink:
                break
            if not self.problem.movable or redraws >= MAX_REDRAWS:
                why = (f"after {redraws} other point{'s' if redraws != 1 else ''}" if redraws
                       else "and the gradients were given as arrays, so no other point can be drawn")
                return Outcome("kink", probes, point, G, redraws,
                               f"one-sided differences disagree: a kink (ReLU at 0, a tie in a max) at the point, {why}")
            redraws += 1
            point = self.moved(self.problem.point, redraws)
        return self._verdict(name, probes, point, G, redraws)

    def _round(self, point, name, G):
        """PROBES directions, and RECHECKS more after a disagreement; (probes, kink seen)."""
        probes, target = [], self.n_probes
        while len(probes) < target:
            p = self.probe(point, name, G, self.direction(G.shape))
            if not np.isfinite(p.derivative):
                probes.append(p)
                return probes, False
            good = self.agrees(p, G)
            if p.estimate.kink and not good:
                return probes, True
            probes.append(p)
            if not good and target == self.n_probes:
                target += RECHECKS
        return probes, False

    def _verdict(self, name, probes, point, G, redraws) -> Outcome:
        ratios = [self.ratio(p, G) for p in probes]
        worst = int(np.argmax(ratios))
        p = probes[worst]
        scale = max(abs(p.derivative), abs(p.derivative - self.mismatch(p, G)), 1e-300)
        out = Outcome("ok", probes, point, G, redraws, worst=ratios[worst],
                      error=abs(self.mismatch(p, G)) / scale, tolerance=self.tolerance(p, G) / scale)
        if any(not np.isfinite(q.derivative) for q in probes):
            out.status, out.detail = "undecided", "the loss is not finite near the point"
            return out
        bad = [r for r in ratios if r > 1]
        if not bad:
            return out
        if len(bad) >= 2 and (len(bad) == len(ratios) or min(bad) > STRONG):
            out.status = "wrong"
            out.detail = f"{len(bad)} of {len(ratios)} directions disagree"
            return out
        out.status = "undecided"
        out.detail = (f"{len(bad)} of {len(ratios)} directions disagree, by up to {max(bad):.3g}× the tolerance: "
                      "too close to call")
        return out
