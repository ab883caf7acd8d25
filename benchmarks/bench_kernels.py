"""Generated kernels against torch CPU autograd and jax.jit(jax.grad), side by side in one run.

    python benchmarks/bench_kernels.py [--quick] [--rounds N] [--threads 1,2]

For two kernels (ng_two_layer: tanh / sigmoid / binary cross-entropy, 128
inputs, 1 output; sg_two_layer: ReLU / softmax / cross-entropy, 128 inputs, 10
classes) at batch {64, 1024, 8192} x hidden {64, 512}, float64 and float32,
single-threaded and with 2 threads, prints per cell the median time of

- fwd+bwd: the generated forward + backward, torch autograd (forward, then
  autograd.grad) and a jitted jax.value_and_grad, and the ratios generated/torch
  and generated/jax (target <= 1.0 in every cell);
- bwd: the generated backward(cache) alone against the backward's matrix
  products alone (target <= 1.15 at large sizes);
- mem: the backward's peak allocation (tracemalloc, which sees NumPy's buffers)
  over batch x hidden x itemsize (target <= 1.1), and the same for the cache
  that forward returns.

Each thread count runs in its own process (BLAS, torch, XLA and numexpr read
their thread counts at start).  Within a cell the functions are timed in
interleaved rounds, so a slow moment of the shared machine hits all alike;
ratios are medians of the per-round ratios.  torch and jax columns are
skipped, and said so, when they are not installed (pip install torch==2.13.0;
pip install jax jaxlib).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_IN, N_CLASSES = 128, 10
TARGETS = {"torch": 1.0, "jax": 1.0, "matmul": 1.15, "mem": 1.1}


def _thread_env(threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "NUMEXPR_MAX_THREADS"):
        env[var] = str(threads)
    env["JAX_PLATFORMS"] = "cpu"
    env["JAX_ENABLE_X64"] = "1"
    if threads == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


# ---------------------------------------------------------------- child: one thread count


def _medians(fns: dict, rounds: int, budget: float) -> dict:
    """Per-round times of each function (seconds per call), interleaved."""
    once = {k: timeit.timeit(f, number=1) for k, f in fns.items() if f is not None}
    slowest = max(once.values())
    number = max(1, int(0.01 / max(slowest, 1e-9)))
    rounds = max(rounds, min(40, int(budget / max(slowest * number * len(once), 1e-9))))
    times = {k: [] for k in once}
    for _ in range(rounds):
        for k in once:
            times[k].append(timeit.timeit(fns[k], number=number) / number)
            time.sleep(0.001)  # let other libraries' spinning worker threads go idle
    return times


def _peak(fn) -> int:
    """Peak bytes allocated while fn runs (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak


def _case(name, m, h, dtype, rng, torch, jax):
    import numpy as np

    from derivcheck.kernels import ng_two_layer, sg_two_layer

    X = rng.standard_normal((m, N_IN)).astype(dtype)
    if name == "ng_two_layer":
        kernel, out = ng_two_layer, 1
        Y = (rng.random((m, 1)) < 0.5).astype(dtype)
    else:
        kernel, out = sg_two_layer, N_CLASSES
        Y = np.eye(N_CLASSES, dtype=dtype)[rng.integers(0, N_CLASSES, m)]
    W1 = (rng.standard_normal((N_IN, h)) / np.sqrt(N_IN)).astype(dtype)
    b1 = (0.1 * rng.standard_normal((1, h))).astype(dtype)
    W2 = (rng.standard_normal((h, out)) / np.sqrt(h)).astype(dtype)
    b2 = (0.1 * rng.standard_normal((1, out))).astype(dtype)
    args = (X, Y, W1, b1, W2, b2)
    _, cache = kernel.forward(*args)
    grads = kernel.backward(cache)
    assert all(g.dtype == dtype for g in grads.values()), f"{name}: a gradient changed dtype"

    # the backward's matrix products alone, from the true intermediates
    if name == "ng_two_layer":
        A1 = np.tanh(X @ W1 + b1)
        P = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
        d2 = (P - Y) / m
        d1 = (d2 @ W2.T) * (1 - A1 * A1)
    else:
        Z1 = X @ W1 + b1
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ W2 + b2
        P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        d2 = (P - Y) / m
        d1 = (d2 @ W2.T) * (Z1 > 0)

    def matmuls():
        return X.T @ d1, A1.T @ d2, d2 @ W2.T

    fns = {"gen": lambda: kernel.backward(kernel.forward(*args)[1]), "bwd": lambda: kernel.backward(cache),
           "matmul": matmuls, "torch": None, "jax": None}
    if torch is not None:
        t = {k: torch.from_numpy(v.copy()).requires_grad_(k in ("W1", "b1", "W2", "b2"))
             for k, v in zip(("X", "Y", "W1", "b1", "W2", "b2"), args)}
        leaves = [t[k] for k in ("W1", "b1", "W2", "b2")]

        def torch_loss():
            z2 = (torch.tanh if name == "ng_two_layer" else torch.relu)(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
            if name == "ng_two_layer":
                return torch.nn.functional.binary_cross_entropy_with_logits(z2, t["Y"])
            return -(t["Y"] * torch.log_softmax(z2, dim=1)).sum() / m

        fns["torch"] = lambda: torch.autograd.grad(torch_loss(), leaves)
        got = fns["torch"]()
        for k, g in zip(("W1", "b1", "W2", "b2"), got):
            tol = 1e-9 if dtype == np.float64 else 1e-3
            assert np.allclose(grads[k], g.numpy(), rtol=tol, atol=tol * 1e-2), (name, k)
    if jax is not None:
        jnp = jax.numpy

        def jax_loss(params, X, Y):
            W1, b1, W2, b2 = params
            z2 = (jnp.tanh if name == "ng_two_layer" else jax.nn.relu)(X @ W1 + b1) @ W2 + b2
            if name == "ng_two_layer":
                return jnp.mean(jnp.logaddexp(0, z2) - Y * z2)
            return -jnp.sum(Y * jax.nn.log_softmax(z2, axis=1)) / m

        step = jax.jit(jax.value_and_grad(jax_loss))
        jargs = ([jnp.asarray(a) for a in (W1, b1, W2, b2)], jnp.asarray(X), jnp.asarray(Y))
        fns["jax"] = lambda: jax.block_until_ready(step(*jargs))
        fns["jax"]()  # compile
    mem = {"bwd": _peak(lambda: kernel.backward(cache)) / (m * h * np.dtype(dtype).itemsize),
           "cache": sum(v.nbytes for k, v in cache.items() if k not in ("X", "Y", "W1", "b1", "W2", "b2"))
           / (m * h * np.dtype(dtype).itemsize)}
    return fns, mem


def child(threads: int, rounds: int, quick: bool):
    import numpy as np

    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    rng = np.random.default_rng(0)
    batches, hiddens = ((64, 1024), (64, 512)) if quick else ((64, 1024, 8192), (64, 512))
    for name in ("ng_two_layer", "sg_two_layer"):
        for dtype in (np.float64, np.float32):
            for m in batches:
                for h in hiddens:
                    fns, mem = _case(name, m, h, dtype, rng, torch, jax)
                    times = _medians(fns, rounds, budget=0.6 if quick else 2.0)
                    row = {"kernel": name, "dtype": np.dtype(dtype).name, "batch": m, "hidden": h,
                           "threads": threads, "mem": mem,
                           "ms": {k: statistics.median(v) * 1e3 for k, v in times.items()}}
                    ratios = {"torch": ("gen", "torch"), "jax": ("gen", "jax"), "matmul": ("bwd", "matmul")}
                    row["ratio"] = {r: statistics.median(x / y for x, y in zip(times[a], times[b]))
                                    for r, (a, b) in ratios.items() if a in times and b in times}
                    print(json.dumps(row), flush=True)


# ---------------------------------------------------------------- parent: the table


def _fmt(row) -> str:
    ms, r = row["ms"], row["ratio"]

    def cell(key):
        return f"{ms[key]:9.3f}" if key in ms else f"{'-':>9}"

    def ratio(key):
        if key not in r:
            return f"{'-':>6}"
        mark = "*" if r[key] > TARGETS[key] else " "
        return f"{r[key]:5.2f}{mark}"

    mem = row["mem"]["bwd"]
    return (f"{row['kernel']:<13}{row['dtype']:>8}{row['threads']:>3}{row['batch']:>6}{row['hidden']:>5} "
            f"{cell('gen')}{cell('torch')}{cell('jax')} {ratio('torch')} {ratio('jax')}  "
            f"{cell('bwd')}{cell('matmul')} {ratio('matmul')}  {mem:5.2f}{'*' if mem > TARGETS['mem'] else ' '}"
            f" {row['mem']['cache']:5.2f}")


def main():
    argv = sys.argv[1:]
    quick = "--quick" in argv
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 7
    if "--child" in argv:
        child(int(argv[argv.index("--threads") + 1]), rounds, quick)
        return
    threads = [int(t) for t in argv[argv.index("--threads") + 1].split(",")] if "--threads" in argv else [1, 2]
    import numpy as np

    print(f"numpy {np.__version__}; times in ms (medians); ratios are medians of per-round ratios; "
          f"* marks a ratio above its target (torch, jax {TARGETS['torch']}, matmul {TARGETS['matmul']}, "
          f"mem {TARGETS['mem']})")
    print(f"{'kernel':<13}{'dtype':>8}{'thr':>3}{'batch':>6}{'hid':>5} {'fwd+bwd':>9}{'torch':>9}{'jax':>9} "
          f"{'/torch':>6} {'/jax':>6}  {'bwd':>9}{'matmuls':>9} {'/mm':>6}  {'mem':>5}  {'cache':>5}")
    rows = []
    for t in threads:
        proc = subprocess.Popen([sys.executable, __file__, "--child", "--threads", str(t), "--rounds", str(rounds)]
                                + (["--quick"] if quick else []), env=_thread_env(t), stdout=subprocess.PIPE,
                                text=True)
        for line in proc.stdout:
            row = json.loads(line)
            rows.append(row)
            print(_fmt(row), flush=True)
        if proc.wait() != 0:
            raise SystemExit(f"the {t}-thread run failed")
    worst = {k: max((r["ratio"][k] for r in rows if k in r["ratio"]), default=float("nan"))
             for k in ("torch", "jax")}
    large = [r for r in rows if r["batch"] * r["hidden"] >= 1024 * 512]
    worst["matmul"] = max((r["ratio"]["matmul"] for r in large), default=float("nan"))
    worst["mem"] = max((r["mem"]["bwd"] for r in large), default=float("nan"))
    print("worst: " + ", ".join(f"{k} {v:.2f} (target {TARGETS[k]})" for k, v in worst.items())
          + "  [matmul and mem over batch x hidden >= 1024 x 512]")


if __name__ == "__main__":
    main()
