"""Proof time against depth: the first-layer gradient of an L-layer tanh MLP, proved for all dimensions.

    python benchmarks/bench_proofs.py [--depths 1 2 4 8 16] [--repeat 3]

Prints, per depth, the median proof time of ``repeat`` runs and its ratio to the previous depth (a
polynomial curve has ratios that fall towards 1 as L grows; an exponential one keeps them near a
constant > 1).  The issue-12 target: L = 16 in <= 1 s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.setrecursionlimit(20000)

from derivcheck import define, dims, matrix, sum, tanh  # noqa: E402
from derivcheck import expr as E  # noqa: E402
from derivcheck.symbolic import prove_equal  # noqa: E402


def mlp(depth: int):
    """(∂L/∂W1 as a Grad node, the backprop formula for it) for L = sum(A_depth), A_l = tanh(A_{l-1} W_l)."""
    sizes = dims(" ".join(f"n{i}" for i in range(depth + 1)) + " m")
    m = sizes[-1]
    X = matrix("X", m, sizes[0])
    Ws = [matrix(f"W{i + 1}", sizes[i], sizes[i + 1]) for i in range(depth)]
    A, As = X, [X]
    for i, W in enumerate(Ws):
        A = define(f"A{i + 1}", tanh(define(f"Z{i + 1}", A @ W)))
        As.append(A)
    loss = define("L", sum(A))
    dA = E.Fill("ones", m, sizes[depth])
    for layer in range(depth, 0, -1):
        dZ = dA * (1 - As[layer] ** 2)
        if layer > 1:
            dA = dZ @ Ws[layer - 1].T
    return E.Grad(loss, Ws[0]), X.T @ dZ


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4, 6, 8, 12, 16])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    previous = None
    print(f"{'L':>3}  {'proved':>6}  {'median s':>9}  {'ratio to previous':>17}")
    for depth in args.depths:
        times, ok = [], None
        for _ in range(args.repeat):
            truth, claimed = mlp(depth)
            start = time.perf_counter()
            ok = prove_equal(truth, claimed)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        ratio = f"{median / previous:17.2f}" if previous else f"{'':>17}"
        print(f"{depth:>3}  {str(ok):>6}  {median:9.3f}  {ratio}", flush=True)
        previous = median


if __name__ == "__main__":
    main()
