"""Directional probes: the loss's derivative along a random direction V, against ⟨G, V⟩.

One probe costs a handful of loss evaluations whatever the size of the variable.
Central differences D(h) are taken at steps h0, h0/2, h0/4, … and combined by
Richardson extrapolation, R = (4 D(h/2) − D(h)) / 3; the difference between
successive R estimates is the truncation error, ε·|f|/h the round-off, and the
step is the one where their sum is smallest: step and tolerance both come from
this error estimate, not from a fixed eps.

The perturbed variable is rounded to the working dtype before the code sees it,
so the claimed side is ⟨G, Δ⟩ with Δ the perturbation actually applied (in
float32 it differs from h·V by the rounding): both sides then describe the
same move.

Kinks: (f(h) − 2 f(0) + f(−h)) / h is the forward minus the backward
difference.  Along a smooth path it halves with h; at a kink (ReLU at 0, a tie
in a max) it stays at the jump in slope.  A probe says so, and the caller draws
another point rather than calling the disagreement a bug.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "EPS", "fd_probe", "step_scale"]

EPS = {np.dtype(np.float64): 2.0 ** -52, np.dtype(np.float32): 2.0 ** -23, np.dtype(np.float16): 2.0 ** -10}
MAX_LEVELS = 10  # steps h0 … h0/512
ROUNDOFF_FACTOR = 4.0  # round-off of one loss evaluation, in units of eps·|f|
KINK_RATIO = 0.7  # a smooth path halves the one-sided disagreement per level; a kink keeps it


@dataclass
class Estimate:
    """One probe along V: the loss's derivative, the claimed ⟨G, Δ⟩/h, and how sure we are."""

    derivative: float  # D_V f, Richardson-extrapolated
    claimed: float  # ⟨G, V⟩ along the same (rounded) moves
    error: float  # error estimate of derivative − claimed (truncation + round-off)
    step: float  # the chosen h (in units of V)
    kink: bool = False  # one-sided differences disagree at the point
    evaluations: int = 0
    exact: bool = False  # the derivative is a 50-digit truth, not a difference

    @property
    def mismatch(self) -> float:
        return self.derivative - self.claimed


def step_scale(value: np.ndarray) -> float:
    """The unit of the steps for a variable: its root-mean-square size, at least 1e-2."""
    v = np.asarray(value, dtype=np.float64)
    rms = float(np.sqrt(np.mean(v * v))) if v.size else 0.0
    return max(rms, 1e-2) if np.isfinite(rms) else 1.0


def initial_step(dtype) -> float:
    """h0 ≈ 4·eps^(1/5): the step where Richardson's h⁴ error meets round-off for a smooth f."""
    return 4.0 * EPS[np.dtype(dtype)] ** 0.2


def fd_probe(line, claimed_along, f0: float, dtype, h0: float) -> Estimate:
    """Probe along one direction.

    ``line(t)`` returns (f at the point moved by t·V, the move actually applied);
    ``claimed_along(move)`` returns ⟨G, move⟩; ``f0`` is f at the point."""
    eps = EPS[np.dtype(dtype)]
    deltas, ders, claims, second, rich, errs = [], [], [], [], [], []
    scale_f = abs(f0)
    evaluations = 0
    h = h0
    for level in range(MAX_LEVELS):
        fp, mp = line(h)
        fm, mm = line(-h)
        evaluations += 2
        if not (np.isfinite(fp) and np.isfinite(fm)):
            h /= 2
            continue
        scale_f = max(scale_f, abs(fp), abs(fm))
        d = (fp - fm) / (2 * h)
        g = (claimed_along(mp) - claimed_along(mm)) / (2 * h)
        ders.append((h, d))
        claims.append(g)
        deltas.append(d - g)
        second.append((fp - 2 * f0 + fm) / h)
        if len(deltas) >= 2:
            hs = ders[-1][0]
            rich.append(((4 * deltas[-1] - deltas[-2]) / 3, (4 * d - ders[-2][1]) / 3, hs))
        if len(rich) >= 2:
            roundoff = ROUNDOFF_FACTOR * eps * scale_f / rich[-1][2]
            errs.append(abs(rich[-1][0] - rich[-2][0]) + roundoff)
            # past the best step round-off only grows: stop when it dominates the truncation estimate
            if abs(rich[-1][0] - rich[-2][0]) < roundoff or (len(errs) >= 3 and errs[-1] > errs[-2] > errs[-3]):
                break
        h /= 2
    if len(errs) == 0:
        return Estimate(float("nan"), float("nan"), float("inf"), h0, False, evaluations)
    best = int(np.argmin(errs))
    # the error of the chosen level is the larger of its two neighbouring differences (robust to a coincidence)
    error = max(errs[best], errs[best + 1] if best + 1 < len(errs) else 0.0)
    mismatch, derivative, step = rich[best + 1]
    claimed = derivative - mismatch
    kink = _kink(second, [h for h, _ in ders], eps * scale_f)
    return Estimate(derivative, claimed, error, step, kink, evaluations)


def _kink(second: list, steps: list, noise: float) -> bool:
    """The one-sided differences keep disagreeing as the step shrinks, beyond round-off."""
    if len(second) < 2:
        return False
    last, before = abs(second[-1]), abs(second[-2])
    beyond_noise = last > 8 * ROUNDOFF_FACTOR * noise / steps[-1]  # four noisy values, with a margin of two
    return beyond_noise and last > KINK_RATIO * before
