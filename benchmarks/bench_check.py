"""Whole-catalog check time against the issue-12 targets, per-claim seconds, and the exact stage's two methods.

    python benchmarks/bench_check.py [--repeat 3]

Prints, in one run:
1. the cold wall time (a fresh interpreter, imports included, no result cache) of
   `python -m derivcheck all` with and without reports, with --jobs 2 and --jobs 1, as medians of
   ``repeat`` runs, each beside its target and the ratio (<= 1 meets it); the peak resident memory of
   the main process and of the largest worker; how many claims are proved for all dimensions and the
   same run with --no-proof;
2. the seconds of every claim, slowest first;
3. for the catalog's gradient claims, the exact stage by forward-mode
   differentiation against the same stage by sympy.diff, at the same sizes and
   points, and the ratio (why forward mode is the default).
The machine is shared: the spread of the runs is printed beside each median.
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
from derivcheck.check import _comparisons  # noqa: E402
from derivcheck.claims import PROVABLE_KINDS  # noqa: E402
from derivcheck.exact import exact_stage  # noqa: E402
from derivcheck.instances import claim_rng  # noqa: E402

TARGETS = {  # (options, seconds): issue 12, target 1
    "all --no-report --jobs 2": 4.0,
    "all --jobs 2 (reports)": 6.0,
    "all --jobs 1 (reports)": 10.0,
    "all --no-report --jobs 1": None,
}
MEMORY_TARGET_MIB = 150

# Runs the CLI and then prints the peak memory of this process and of its largest child (the workers).
_MEASURED = (
    "import resource, sys, runpy\n"
    "sys.argv = ['derivcheck'] + sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('derivcheck', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'@@memory {me} {kids}', file=sys.stderr)\n"
)


def _cache_options() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "derivcheck", "all", "--help"], cwd=ROOT, capture_output=True,
                         text=True).stdout
    return ["--no-cache"] if "--no-cache" in out else []


def cold_run(*extra):
    """(wall seconds, JSON document, main process MiB, largest child MiB) of one fresh run."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, "all", "--json", *_cache_options(), *extra], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("@@memory"))
    me, kids = (int(x) / 1024 for x in line.split()[1:])
    return wall, json.loads(proc.stdout), me, kids


def methods_side_by_side(claims, limit: int = 8):
    rows = []
    for claim in claims:
        if claim.kind != "gradient" or claim.expect != "holds" or len(rows) >= limit:
            continue
        (c,) = _comparisons(claim)
        times = {}
        for method in ("forward", "sympy"):
            start = time.perf_counter()
            stage = exact_stage(*c.exact, claim.relations, claim_rng(0, claim.id, 1), 0, method=method)
            times[method] = time.perf_counter() - start
            assert stage.status == "holds", (claim.id, method, stage.detail)
        rows.append((claim.id, times["forward"], times["sympy"]))
    return rows


def main():
    import argparse
    import statistics

    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    runs = {name: [] for name in TARGETS}
    memory = []
    doc = None
    with tempfile.TemporaryDirectory() as out:
        options = {"all --no-report --jobs 2": ["--no-report", "--jobs", "2"],
                   "all --jobs 2 (reports)": ["--report", out, "--jobs", "2"],
                   "all --jobs 1 (reports)": ["--report", out, "--jobs", "1"],
                   "all --no-report --jobs 1": ["--no-report", "--jobs", "1"]}
        for _ in range(args.repeat):  # interleaved, so that a noisy minute spreads over every figure
            for name, extra in options.items():
                wall, d, me, kids = cold_run(*extra)
                runs[name].append(wall)
                memory.append((me, kids))
                doc = doc or d
    wall_concrete, _, _, _ = cold_run("--no-report", "--no-proof")
    claims = doc["claims"]
    total = sum(c["seconds"] for c in claims)
    print(f"catalog: {len(claims)} claims; cold runs (fresh interpreter, no result cache), median of {args.repeat}:")
    for name, walls in runs.items():
        median = statistics.median(walls)
        target = TARGETS[name]
        versus = f"target {target:4.1f} s, ratio {median / target:4.2f}" if target else "(no target)"
        print(f"  {name:<28} {median:6.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls)})  {versus}")
    peak_main, peak_worker = max(m for m, _ in memory), max(k for _, k in memory)
    print(f"peak resident memory: main process {peak_main:.0f} MiB, largest worker {peak_worker:.0f} MiB "
          f"(target {MEMORY_TARGET_MIB} MiB, ratio {max(peak_main, peak_worker) / MEMORY_TARGET_MIB:.2f})")
    holding = [c for c in claims if c["kind"] in PROVABLE_KINDS
               and c["verdict"] in ("proved", "proved_at_shapes", "confirmed")]
    proved = len([c for c in holding if c["verdict"] == "proved"])
    print(f"proved for all dimensions: {proved} of {len(holding)} identity/derivative/derivation claims that hold "
          f"({proved / max(len(holding), 1):.0%}); --no-proof --jobs 2: {wall_concrete:.2f} s")
    print(f"sum of per-claim seconds: {total:.2f} s")
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
