"""Start-up and result-cache times (issue 12 targets 5 and 2), side by side in one run.

    python benchmarks/bench_startup.py [--repeat N]

Prints the median wall time (and the spread) of fresh interpreters running:
1. `python -c pass` and `python -c "import sympy"` (the floor, and what start-up must not pay);
2. `derivcheck --help` and `derivcheck list` from the listing cache (target 0.5 s each), and
   `derivcheck list --no-cache` (the catalog loaded: SymPy imported, every module run);
3. `derivcheck all --no-report` once with an empty result cache (every claim checked) and again
   when nothing changed (target 1.5 s), then with one claim changed (a copy of the catalog with one
   claim's formula edited: that claim alone is checked again), and `all` with reports, cached.

Runs are interleaved so that a busy machine slows each kind alike; each figure is also given as a
ratio to its target and to a bare interpreter.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX, RHS = 'identity("ng.inner.move_right", inner(A, B @ C), ', "inner(A @ C.T, B)"  # the right side is rewritten
EDITED = PREFIX + RHS


def timed(args, env, cwd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def line(name, times, target=None, floor=None, sympy_import=None):
    med = statistics.median(times)
    spread = f"{min(times):.2f}–{max(times):.2f}" if len(times) > 1 else "one run"
    extra = []
    if target:
        extra.append(f"target {target:g} s, ratio {med / target:.2f}")
    if floor:
        extra.append(f"{med / floor:.1f}× a bare interpreter")
    if sympy_import:  # on a busy machine the absolute figures scale; this ratio much less
        extra.append(f"{med / sympy_import:.1f}× `import sympy`")
    print(f"  {name:<48} {med:6.2f} s  ({spread}; n={len(times)})" + (f"  {'; '.join(extra)}" if extra else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    n = ap.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    dc = [sys.executable, "-m", "derivcheck"]
    cache = ["--cache", str(work / "cache")]
    try:
        quick = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
            "derivcheck --help": [*dc, "--help"],
            "derivcheck list (listing cached)": [*dc, "list", *cache],
            "derivcheck list --no-cache": [*dc, "list", "--no-cache"],
        }
        timed([*dc, "list", *cache], env, work)  # fills the listing cache
        times = {k: [] for k in quick}
        for _ in range(n):
            for k, args in quick.items():
                times[k].append(timed(args, env, work))
        floor = statistics.median(times["python -c pass"])
        sympy_import = statistics.median(times["python -c 'import sympy'"])
        print(f"start-up (median of {n} interleaved runs, fresh interpreters):")
        for k in quick:
            line(k, times[k], 0.5 if k in ("derivcheck --help", "derivcheck list (listing cached)") else None,
                 floor if k != "python -c pass" else None)

        catalog = work / "catalog"
        shutil.copytree(ROOT / "identities", catalog, ignore=shutil.ignore_patterns("__pycache__"))
        run_all = [*dc, "all", "--catalog", str(catalog), *cache]
        cold = [timed([*run_all, "--no-report"], env, work)]
        warm, changed, reports = [], [], []
        target = catalog / "ng_two_layer_differentials.py"
        text = target.read_text(encoding="utf-8")
        timed([*run_all, "--report", str(work / "reports")], env, work)  # the curves, for the cached report runs
        for i in range(n):
            warm.append(timed([*run_all, "--no-report"], env, work))
            reports.append(timed([*run_all, "--report", str(work / "reports")], env, work))
            # one claim's formula edited (a new constant each time, so it is never in the cache)
            target.write_text(text.replace(EDITED, f"{PREFIX}{i + 2} * {RHS} - {i + 1} * {RHS}"), encoding="utf-8")
            changed.append(timed([*run_all, "--no-report"], env, work))
            target.write_text(text, encoding="utf-8")
        print(f"\nresult cache (`all` on a copy of the catalog, a private cache folder):")
        line("all --no-report, empty cache (every claim checked)", cold)
        line("all --no-report, nothing changed", warm, 1.5, floor, sympy_import)
        line("all --no-report, one claim changed", changed, None, floor, sympy_import)
        line("all with reports, nothing changed", reports, None, floor, sympy_import)
        if EDITED not in text:
            print("  (the edited claim was not found: the 'one claim changed' runs changed nothing)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
