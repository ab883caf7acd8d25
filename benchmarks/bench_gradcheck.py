"""gradcheck against torch.autograd.gradcheck and jax check_grads, side by side in one run.

    python benchmarks/bench_gradcheck.py [--quick]

1. Time and loss evaluations to check a W of n × n (n = 10, 100, 1000: 10² to 10⁶
   parameters) with a cheap loss, f(W) = ½‖W x − y‖²: median of 3 runs.  torch
   fast mode on the same function (a torch.autograd.Function whose forward and
   backward call the NumPy code); torch slow mode needs 2 evaluations per entry,
   so it is timed at 10⁴ parameters and its evaluations counted at 10⁶.
2. Detection: six bugs injected into the backward of a two-layer network
   (sign of one block of rows, one entry off by 5% of the gradient's RMS, a factor 2,
   a square weight's gradient transposed, two gradients swapped, a bias gradient
   not summed over the batch), at hidden sizes 8 and 128: caught and named by
   gradcheck; caught by torch (fast, slow) and jax check_grads.  When its fast mode
   fails, torch re-runs the slow mode to explain the failure: that time is shown.
3. False alarms: correct float32 code, seeded runs (1000 in the full run) —
   float32 code that is not dtype-generic (checked in float32) and ReLU code
   that is (re-run in float64, kinks possible); the peers on the first 100.

BLAS runs single-threaded for every tool: on two cores shared by several
processes, OpenBLAS threads make a 16 × 256 matrix product ~20× slower.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derivcheck.gradcheck import check_gradients  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the comparison is skipped, and said so
    torch = None
try:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = None


# ---------------------------------------------------------------- peers on NumPy code


class Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a):
        self.calls += 1
        return self.fn(*a)


def torch_check(loss, grads, params: dict, fast: bool) -> str:
    """'caught', 'missed' or 'error: …' for torch.autograd.gradcheck on the NumPy code."""
    if torch is None:
        return "n/a"
    names = list(params)

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *tensors):
            values = {n: t.detach().numpy() for n, t in zip(names, tensors)}
            ctx.values = values
            return torch.tensor(float(loss(values)), dtype=tensors[0].dtype)

        @staticmethod
        def backward(ctx, g_out):
            g = grads(ctx.values)
            return tuple(g_out * torch.as_tensor(np.asarray(g[n])).to(g_out.dtype) for n in names)

    dtype = torch.float64 if next(iter(params.values())).dtype == np.float64 else torch.float32
    tensors = tuple(torch.tensor(params[n], dtype=dtype, requires_grad=True) for n in names)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = torch.autograd.gradcheck(F.apply, tensors, fast_mode=fast, raise_exception=False)
    except Exception as exc:  # a gradient of the wrong shape
        return f"error ({type(exc).__name__})"
    return "missed" if ok else "caught"


def _numpy(names, arrays) -> dict:
    return {n: np.array(a) for n, a in zip(names, arrays)}  # writable NumPy copies of jax's arrays


def jax_check(loss, grads, params: dict) -> str:
    if jax is None:
        return "n/a"
    names = list(params)
    dtype = next(iter(params.values())).dtype
    shapes = [jax.ShapeDtypeStruct(params[n].shape, dtype) for n in names]

    @jax.custom_vjp
    def f(*ps):
        return jax.pure_callback(lambda *a: np.asarray(loss(_numpy(names, a)), dtype=dtype),
                                 jax.ShapeDtypeStruct((), dtype), *ps)

    def fwd(*ps):
        return f(*ps), ps

    def bwd(res, g):
        gs = jax.pure_callback(lambda *a: tuple(np.asarray(grads(_numpy(names, a))[n], dtype=dtype) for n in names),
                               tuple(shapes), *res)
        return tuple(g * x for x in gs)

    f.defvjp(fwd, bwd)
    try:
        check_grads(f, tuple(jnp.asarray(params[n]) for n in names), order=1, modes=("rev",))
    except AssertionError:
        return "caught"
    except Exception as exc:
        return f"error ({type(exc).__name__})"
    return "missed"


# ---------------------------------------------------------------- 1. size


def bench_size(quick: bool):
    print("1. checking W (n × n) with f(W) = ½‖W x − y‖²: time (median of 3) and loss evaluations")
    print(f"{'parameters':>10}  {'one eval':>9}  {'gradcheck':>10} {'evals':>6}  {'torch fast':>10} {'evals':>6}  "
          f"{'torch slow':>10} {'evals':>8}")
    for n in (10, 100, 1000):
        rng = np.random.default_rng(0)
        W, x, y = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), rng.standard_normal(n)
        loss = Counter(lambda p: 0.5 * float(np.sum((p["W"] @ x - y) ** 2)))
        grads = lambda p: {"W": np.outer(p["W"] @ x - y, x)}
        times, evals = [], 0
        for _ in range(3):
            loss.calls = 0
            t = time.perf_counter()
            report = check_gradients(loss, grads, params={"W": W})
            times.append(time.perf_counter() - t)
            evals = loss.calls
            assert report.ok, str(report)
        ours = f"{statistics.median(times):10.3f} {evals:6d}"
        t = time.perf_counter()
        for _ in range(10):
            loss({"W": W})
        one = (time.perf_counter() - t) / 10
        fast = slow = f"{'n/a':>10} {'':>6}"
        if torch is not None:
            tt = []
            for _ in range(3):
                loss.calls = 0
                t = time.perf_counter()
                torch_check(loss, grads, {"W": W}, fast=True)
                tt.append(time.perf_counter() - t)
            fast = f"{statistics.median(tt):10.3f} {loss.calls:6d}"
            if n <= (10 if quick else 100):
                loss.calls = 0
                t = time.perf_counter()
                torch_check(loss, grads, {"W": W}, fast=False)
                slow = f"{time.perf_counter() - t:10.3f} {loss.calls:8d}"
            else:
                slow = f"{'(not run)':>10} {2 * n * n:8d}"
        print(f"{n * n:10d}  {one:9.5f}  {ours}  {fast}  {slow}")
    print()


# ---------------------------------------------------------------- 2. detection


def network(H: int, B: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    params = {"W1": rng.standard_normal((H, H)) / np.sqrt(H), "b1": 0.1 * rng.standard_normal((1, H)),
              "W2": rng.standard_normal((H, H)) / np.sqrt(H), "b2": 0.1 * rng.standard_normal((1, H))}

    def loss(p):
        A = np.tanh(X @ p["W1"] + p["b1"])
        return 0.5 * np.sum((A @ p["W2"] + p["b2"] - Y) ** 2) / B

    def grads(p):
        A = np.tanh(X @ p["W1"] + p["b1"])
        d = (A @ p["W2"] + p["b2"] - Y) / B
        dZ = (d @ p["W2"].T) * (1 - A ** 2)
        return {"W1": X.T @ dZ, "b1": dZ.sum(0, keepdims=True), "W2": A.T @ d, "b2": d.sum(0, keepdims=True),
                "dZ": dZ}

    return params, loss, grads


def _entry(g):
    g["W2"] = g["W2"].copy()
    g["W2"][1, 2] += 0.05 * np.sqrt(np.mean(g["W2"] ** 2))


def _block(g):
    g["W1"] = g["W1"].copy()
    g["W1"][: max(1, len(g["W1"]) // 4)] *= -1


BUGS = [  # (name, where the bug is, what the diagnosis must say, how to inject it)
    ("sign of one block", "W1", "sign flipped in those entries", _block),
    ("one wrong entry", "W2", "entry (1, 2)", _entry),
    ("a factor 2", "b2", "scaled by 2", lambda g: g.update(b2=2 * g["b2"])),
    ("transposed square weight", "W2", "transposed", lambda g: g.update(W2=g["W2"].T)),
    ("swapped gradients", "W1", "swapped with W2", lambda g: g.update(W1=g["W2"], W2=g["W1"])),
    ("bias not summed over the batch", "b1", "not summed over the batch", lambda g: g.update(b1=g["dZ"])),
]


def bench_detection(quick: bool):
    print("2. injected bugs: caught / named by gradcheck; caught by the peers")
    print(f"{'bug':<32} {'H':>4}  {'gradcheck':<10} {'s':>6}  {'torch fast':<14} {'s':>6}  {'torch slow':<14} "
          f"{'jax':<14}")
    totals = {}
    for H in ((8,) if quick else (8, 128)):
        for name, where, says, inject in BUGS:
            params, loss, grads = network(H)

            def wrong(p, inject=inject):
                g = grads(p)
                inject(g)
                return {k: v for k, v in g.items() if k != "dZ"}

            t = time.perf_counter()
            report = check_gradients(lambda p: loss(p), wrong, params=params)
            seconds = time.perf_counter() - t
            row = report.row(where)
            text = f"{row.diagnosis} {row.where}"
            ours = "named" if row.status == "wrong" and says in text else ("caught" if row.status == "wrong" else "missed")
            t = time.perf_counter()
            fast = torch_check(loss, wrong, params, fast=True)
            fast_seconds = time.perf_counter() - t
            slow = torch_check(loss, wrong, params, fast=False) if H <= 8 else "(not run)"
            jx = jax_check(loss, wrong, params)
            for tool, r in (("gradcheck", ours), ("torch fast", fast), ("torch slow", slow), ("jax", jx)):
                caught = r in ("named", "caught") or r.startswith("error")
                done = r not in ("n/a", "(not run)")
                c, n = totals.get((tool, H), (0, 0))
                totals[(tool, H)] = (c + (caught and done), n + done)
            print(f"{name:<32} {H:>4}  {ours:<10} {seconds:6.2f}  {fast:<14} {fast_seconds:6.2f}  {slow:<14} {jx:<14}",
                  flush=True)
    print("catch rate: " + "; ".join(f"{tool} H={H}: {c}/{n}" for (tool, H), (c, n) in totals.items()))
    print("('error' counts as caught: the tool raised on a gradient of the wrong shape, without naming it; torch "
          "sums a gradient that broadcasts to its input's shape, so it never sees a bias gradient left unsummed)")
    print()


# ---------------------------------------------------------------- 3. false alarms


def _small(seed: int, relu: bool):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((16, 8)).astype(np.float32), rng.standard_normal((16, 4)).astype(np.float32)
    params = {"W1": (rng.standard_normal((8, 8)) / 3).astype(np.float32), "b1": np.zeros((1, 8), np.float32),
              "W2": (rng.standard_normal((8, 4)) / 3).astype(np.float32), "b2": np.zeros(4, np.float32)}
    act, dact = ((lambda z: np.maximum(z, 0), lambda z, a: (z > 0)) if relu else
                 (np.tanh, lambda z, a: 1 - a ** 2))
    cast = (lambda a: a) if relu else (lambda a: np.asarray(a, dtype=np.float32))  # tanh: float32 throughout

    def loss(p):
        A = act(cast(X) @ cast(p["W1"]) + cast(p["b1"]))
        return np.sum((A @ cast(p["W2"]) + cast(p["b2"]) - cast(Y)) ** 2) / (2 * len(X))

    def grads(p):
        Z = cast(X) @ cast(p["W1"]) + cast(p["b1"])
        A = act(Z)
        d = (A @ cast(p["W2"]) + cast(p["b2"]) - cast(Y)) / len(X)
        dZ = (d @ cast(p["W2"]).T) * dact(Z, A)
        return {"W1": cast(X).T @ dZ, "b1": dZ.sum(0, keepdims=True), "W2": A.T @ d, "b2": d.sum(0)}

    return params, loss, grads


def bench_false_alarms(quick: bool):
    runs = 100 if quick else 1000
    peer_runs = 20 if quick else 100
    print(f"3. correct float32 code, {runs} seeded runs each (peers: the first {peer_runs})")
    for label, relu in (("float32, not dtype-generic (tanh)", False), ("float32, dtype-generic (ReLU)", True)):
        wrong = undecided = kinks = 0
        t = time.perf_counter()
        for seed in range(runs):
            params, loss, grads = _small(seed, relu)
            report = check_gradients(loss, grads, params=params, seed=seed)
            wrong += bool(report.failed)
            undecided += sum(r.status == "undecided" for r in report.rows)
            kinks += sum(r.status == "kink" for r in report.rows)
        seconds = time.perf_counter() - t
        peers = []
        for tool, fn in (("torch fast", lambda p, l, g: torch_check(l, g, p, fast=True)),
                         ("torch slow", lambda p, l, g: torch_check(l, g, p, fast=False)),
                         ("jax", lambda p, l, g: jax_check(l, g, p))):
            results = [fn(*_small(seed, relu)) for seed in range(peer_runs)]
            if results[0] != "n/a":
                peers.append(f"{tool} {sum(r != 'missed' for r in results)}/{peer_runs}")
        print(f"{label:<36} gradcheck: {wrong}/{runs} false alarms, {undecided} undecided rows, {kinks} kink rows "
              f"({seconds:.1f} s); false alarms of the peers: {', '.join(peers) or 'n/a'}")
    print()


def main():
    quick = "--quick" in sys.argv
    print(f"torch {torch.__version__ if torch else 'not installed'}, jax {jax.__version__ if jax else 'not installed'}"
          f"{' (quick run)' if quick else ''}\n")
    bench_size(quick)
    bench_detection(quick)
    bench_false_alarms(quick)


if __name__ == "__main__":
    main()
