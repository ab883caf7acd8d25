"""Finite-difference convergence pictures (inline SVG) for the HTML report.

One small log-log plot per derivative claim: relative discrepancy between the
claimed derivative and a central difference, against the step h.  A true
claim falls as h² until round-off (~eps/h) takes over; a false one levels off
at the size of its error.  The axes are fixed, so a picture is a polyline of
logarithms: this module maps the points to the frame and a Jinja template
(``templates/convergence.svg``) writes the SVG (about 0.1 ms a picture;
matplotlib took 40 ms).  Output is deterministic: fixed decimals, no dates.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

__all__ = ["convergence_svg", "Frame", "FRAME"]


@dataclass(frozen=True)
class Frame:
    """The fixed log-log axes: data ranges (powers of ten), ticks and the plot area in SVG units."""

    x_range: tuple = (3e-13, 0.3)
    y_range: tuple = (3e-18, 30.0)
    x_ticks: tuple = (1e-12, 1e-8, 1e-4, 1.0)
    y_ticks: tuple = (1e-16, 1e-12, 1e-8, 1e-4, 1.0)
    width: float = 300.0
    height: float = 200.0
    left: float = 46.0
    right: float = 292.0
    top: float = 8.0
    bottom: float = 168.0

    def x(self, h: float) -> float:
        return _scale(h, self.x_range, self.left, self.right)

    def y(self, e: float) -> float:
        return _scale(e, self.y_range, self.bottom, self.top)


FRAME = Frame()
COLOURS = {True: "#1a7f37", False: "#cf222e"}  # the report's colours for a claim that holds / does not


def _scale(v: float, bounds: tuple, start: float, end: float) -> float:
    """Position of v on a log axis from bounds[0] (at start) to bounds[1] (at end); clamped to the axis."""
    lo, hi = math.log10(bounds[0]), math.log10(bounds[1])
    t = (min(max(math.log10(v), lo), hi) - lo) / (hi - lo)
    return start + t * (end - start)


def _label(t: float) -> str:
    """1e-12, 1e-8, …, 1: the tick labels matplotlib's fixed formatter used to print."""
    exponent = round(math.log10(t))
    return "1" if exponent == 0 else f"1e{exponent}"


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("derivcheck", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("convergence.svg")


def _runs(curve, frame: Frame) -> list[list[tuple[str, str]]]:
    """The curve as polylines of SVG coordinates: a zero discrepancy sits on the bottom axis, a value
    above the frame on its top edge, and a NaN or infinite point breaks the line (nothing to draw)."""
    runs, current = [], []
    for h, e in curve:
        h, e = float(h), float(e)
        if not (math.isfinite(h) and h > 0 and math.isfinite(e) and e >= 0):
            if current:
                runs.append(current)
            current = []
            continue
        y = frame.bottom if e == 0 else frame.y(e)
        current.append((f"{frame.x(h):.1f}", f"{y:.1f}"))
    if current:
        runs.append(current)
    return runs


def convergence_svg(curve, holds: bool, frame: Frame = FRAME) -> Markup:
    """Inline SVG of one curve [(h, relative discrepancy)], green when the claim holds, red otherwise."""
    return Markup(_template().render(
        f=frame, runs=_runs(curve, frame), colour=COLOURS[bool(holds)],
        x_ticks=[(f"{frame.x(t):.1f}", _label(t)) for t in frame.x_ticks],
        y_ticks=[(f"{frame.y(t):.1f}", _label(t)) for t in frame.y_ticks],
        title="a correct derivative: the discrepancy falls as h² down to round-off" if holds
        else "a wrong derivative: the discrepancy levels off at the claim's own error"))
