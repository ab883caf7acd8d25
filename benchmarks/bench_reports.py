"""What the reports add to `derivcheck all`, and what one convergence picture costs.

    python benchmarks/bench_reports.py [--rounds N]

Runs `python -m derivcheck all --no-report` and `all --report DIR` in fresh
interpreters, interleaved (the machine is shared: a slow moment hits both
alike), N rounds each (default 5), and prints the medians and their
difference (target: reports add at most 1.5 s).  TeX is hidden from the runs
(PATH without pdflatex/latexmk) unless --with-tex is given, when report.pdf is
built too.  Then the cost of one convergence SVG, drawn from its template.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derivcheck.plots import convergence_svg  # noqa: E402

TARGET = 1.5


def wall(args, env) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "derivcheck", "all", *args], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"derivcheck all {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def main():
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if "--with-tex" not in sys.argv:
        env["PATH"] = os.path.dirname(sys.executable)  # no pdflatex, no latexmk: as in CI
    plain, reports = [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(rounds):
            plain.append(wall(["--no-report"], env))
            reports.append(wall(["--report", out], env))
    a, b = statistics.median(plain), statistics.median(reports)
    print(f"`all --no-report`: median {a:.2f} s  {[round(t, 2) for t in plain]}")
    print(f"`all` with reports{' and PDF' if '--with-tex' in sys.argv else ' (no TeX)'}: median {b:.2f} s  "
          f"{[round(t, 2) for t in reports]}")
    print(f"reports add {b - a:.2f} s (target {TARGET} s; paired differences "
          f"{[round(y - x, 2) for x, y in zip(plain, reports)]})")
    curve = [(10.0 ** -(1 + 1.5 * k), 10.0 ** -(2 + 2 * k)) for k in range(8)]
    n = 2000
    per = timeit.timeit(lambda: convergence_svg(curve, True), number=n) / n
    print(f"one convergence picture: {per * 1e3:.3f} ms (the catalog draws ~133)")


if __name__ == "__main__":
    main()
