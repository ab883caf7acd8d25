"""Whole-catalog check time, per-claim seconds, and the exact stage's two methods side by side.

    python benchmarks/bench_check.py

Prints, in one run:
1. the cold wall time of `python -m derivcheck all --no-report` (a fresh
   interpreter, imports included) and its ratio to the 10 s target; how many
   claims are proved for all dimensions and what the proofs cost (the same run
   with --no-proof); the same run writing the reports, and the ratio;
2. the seconds of every claim, slowest first;
3. for the catalog's gradient claims, the exact stage by forward-mode
   differentiation against the same stage by sympy.diff, at the same sizes and
   points, and the ratio (why forward mode is the default).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derivcheck.catalog import load_paths  # noqa: E402
from derivcheck.check import _COMPARISONS  # noqa: E402
from derivcheck.claims import PROVABLE_KINDS  # noqa: E402
from derivcheck.exact import exact_stage  # noqa: E402
from derivcheck.instances import claim_rng  # noqa: E402

TARGET_SECONDS = 10.0


def cold_run(*extra):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "derivcheck", "all", "--json", *extra], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, json.loads(proc.stdout)


def methods_side_by_side(claims, limit: int = 8):
    rows = []
    for claim in claims:
        if claim.kind != "gradient" or claim.expect != "holds" or len(rows) >= limit:
            continue
        (c,) = _COMPARISONS["gradient"](claim)
        times = {}
        for method in ("forward", "sympy"):
            start = time.perf_counter()
            stage = exact_stage(*c.exact, claim.relations, claim_rng(0, claim.id, 1), 0, method=method)
            times[method] = time.perf_counter() - start
            assert stage.status == "holds", (claim.id, method, stage.detail)
        rows.append((claim.id, times["forward"], times["sympy"]))
    return rows


def main():
    wall, doc = cold_run("--no-report")
    wall_concrete, _ = cold_run("--no-report", "--no-proof")
    with tempfile.TemporaryDirectory() as out:
        wall_reports, _ = cold_run("--report", out)
    claims = doc["claims"]
    total = sum(c["seconds"] for c in claims)
    print(f"catalog: {len(claims)} claims")
    print(f"cold wall time of `python -m derivcheck all --no-report`: {wall:.2f} s "
          f"(target {TARGET_SECONDS:.0f} s, ratio {wall / TARGET_SECONDS:.2f})")
    holding = [c for c in claims if c["kind"] in PROVABLE_KINDS
               and c["verdict"] in ("proved", "proved_at_shapes", "confirmed")]
    proved = len([c for c in holding if c["verdict"] == "proved"])
    print(f"proved for all dimensions: {proved} of {len(holding)} identity/derivative/derivation claims that hold "
          f"({proved / max(len(holding), 1):.0%}); without the proof stage (--no-proof): {wall_concrete:.2f} s, "
          f"so the proofs cost a ratio of {wall / wall_concrete:.2f} (proved claims skip the float64 stage)")
    print(f"with the reports (HTML with plots, LaTeX{' and PDF' if shutil.which('latexmk') or shutil.which('pdflatex') else ''}"
          f", JSON): {wall_reports:.2f} s, ratio to checking alone {wall_reports / wall:.2f}")
    print(f"sum of per-claim seconds: {total:.2f} s (claims run in 2 worker processes)")
    print()
    print("per-claim seconds, slowest first:")
    for c in sorted(claims, key=lambda c: -c["seconds"]):
        print(f"  {c['seconds']:7.3f}  {c['verdict']:<17} {c['id']}")
    print()
    print("exact stage, forward mode vs sympy.diff (same sizes, same points):")
    rows = methods_side_by_side(load_paths([ROOT / "identities"]))
    for cid, fwd, sym in rows:
        print(f"  {cid:<40} forward {fwd:6.3f} s   sympy.diff {sym:7.3f} s   ratio {sym / fwd:6.1f}x")
    if rows:
        f, s = sum(r[1] for r in rows), sum(r[2] for r in rows)
        print(f"  {'total':<40} forward {f:6.3f} s   sympy.diff {s:7.3f} s   ratio {s / f:6.1f}x")


if __name__ == "__main__":
    main()
