"""Finite-difference convergence pictures (inline SVG) for the HTML report.

One small log-log plot per derivative claim: relative discrepancy between the
claimed derivative and a central difference, against the step h.  A true
claim falls as h² until round-off (~eps/h) takes over; a false one levels off
at the size of its error.  matplotlib draws them; the output is deterministic
(fixed hash salt, no date, text kept as text).
"""
from __future__ import annotations

import io
import multiprocessing

__all__ = ["convergence_svgs"]

_FLOOR = 1e-17  # log axes: a zero discrepancy is drawn at the bottom


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "derivcheck", "font.size": 8})
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    fig, ax = plt.subplots(figsize=(3.0, 2.0))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(3e-13, 0.3)
    ax.set_ylim(3e-18, 30)
    xt, yt = [1e-12, 1e-8, 1e-4, 1], [1e-16, 1e-12, 1e-8, 1e-4, 1]
    for axis, ticks in ((ax.xaxis, xt), (ax.yaxis, yt)):
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_minor_locator(NullLocator())
        axis.set_major_formatter(FixedFormatter([f"{t:.0e}".replace("e+00", "").replace("1e-0", "1e-") for t in ticks]))
    ax.set_xlabel("finite-difference step h")
    ax.set_ylabel("relative discrepancy")
    ax.grid(True, linewidth=0.3, alpha=0.5)
    (line,) = ax.plot([1e-3], [1e-3], marker="o", markersize=2.5, linewidth=1.0)
    fig.tight_layout(pad=0.3)
    return fig, line


def _render(items) -> list[str]:
    fig, line = _figure()
    out = []
    for curve, holds in items:
        hs = [h for h, _ in curve]
        es = [max(e, _FLOOR) for _, e in curve]
        line.set_data(hs, es)
        line.set_color("#1a7f37" if holds else "#cf222e")
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        svg = buf.getvalue()
        out.append(svg[svg.index("<svg"):])  # inline: no XML declaration or doctype
    return out


def convergence_svgs(items: list[tuple[list, bool]], jobs: int = 2) -> list[str]:
    """SVG text for each (curve, holds) pair, in order; drawn in ``jobs`` processes."""
    if not items:
        return []
    if jobs <= 1 or len(items) < 8 or "fork" not in multiprocessing.get_all_start_methods():
        return _render(items)
    chunks = [items[k::jobs] for k in range(jobs)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        drawn = pool.map(_render, chunks)
    out = [None] * len(items)
    for k, svgs in enumerate(drawn):
        out[k::jobs] = svgs
    return out
