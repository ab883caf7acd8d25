"""The report as text: one row per variable, then what is wrong and where."""
from __future__ import annotations

from .result import Report

__all__ = ["format_report"]

LABELS = {"ok": "ok", "wrong": "WRONG", "kink": "kink", "undecided": "undecided"}


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _number(x: float, probes: int) -> str:
    return f"{x:.1e}" if probes else "-"


def format_report(report: Report) -> str:
    head = f"derivcheck gradcheck: {report.code}, {report.mode} in {report.dtype}, seed {report.seed}"
    cols = ("variable", "shape", "verdict", "error", "tolerance", "evidence")
    body = [(r.name, _shape(r.shape), LABELS[r.status], _number(r.error, r.probes), _number(r.tolerance, r.probes),
             r.evidence) for r in report.rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [head, line(cols)]
    for r, cells in zip(report.rows, body):
        out.append(line(cells))
        if r.where:
            out.append(f"    where: {r.where}")
        if r.diagnosis:
            out.append(f"    diagnosis: {r.diagnosis}")
        for e in r.entries:
            index = e.index if len(e.index) > 1 else e.index[0]
            out.append(f"      entry {index}: code {e.claimed:.6g}, true {e.true:.6g}")
    for note in report.notes:
        out.append(f"note: {note}")
    verdict = ("all gradients agree" if report.ok else
               f"{len(report.failed)} wrong, {len(report.undecided)} undecided")
    out.append(f"{verdict}; {report.evaluations} evaluations in {report.seconds:.2f} s; "
               f"seed={report.seed} reproduces every probe")
    return "\n".join(out)
