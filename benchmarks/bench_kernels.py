"""Generated backward passes against a hand-written NumPy backward, torch autograd, and the matrix products alone.

    python benchmarks/bench_kernels.py [--quick]

For two kernels (ng_two_layer: tanh / sigmoid / binary cross-entropy, 128 inputs,
1 output; sg_two_layer: ReLU / softmax / cross-entropy, 128 inputs, 10 classes) at
batch {64, 1024, 8192} × hidden {64, 512}, in one run, prints the best-of-N time of

- the generated ``backward(cache)``,
- a hand-written NumPy backward (what a careful engineer writes, from the same cache),
- torch autograd's backward on the same forward graph (when torch is installed),
- the backward pass's matrix products alone (the floor any implementation pays),

and the ratios generated / hand-written (target ≤ 1.05), generated / torch (target
≤ 1.0) and generated / matmul-only (target ≤ 1.3).
"""
from __future__ import annotations

import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derivcheck.kernels import ng_two_layer, sg_two_layer  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is skipped, and said so
    torch = None

N_IN, N_CLASSES = 128, 10


def best_of(fns, budget=1.5):
    """Best time of one call of each function, measured in interleaved rounds so that
    a slow moment of the machine hits all of them alike (2 shared cores are noisy)."""
    once = max(timeit.timeit(f, number=1) for f in fns)
    number = max(1, int(0.02 / max(once, 1e-9)))
    rounds = max(5, min(60, int(budget / max(once * number * len(fns), 1e-9))))
    times = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, f in enumerate(fns):
            times[i] = min(times[i], timeit.timeit(f, number=number) / number)
    return times


def _torch_backward(arrays: dict, loss_of, params=("W1", "b1", "W2", "b2")):
    """torch autograd's backward on one forward graph of ``loss_of`` (None without torch)."""
    if torch is None:
        return None
    t = {k: torch.tensor(v, requires_grad=k in params) for k, v in arrays.items()}
    loss, leaves = loss_of(t), [t[p] for p in params]
    return lambda: torch.autograd.grad(loss, leaves, retain_graph=True)


# ---------------------------------------------------------------- ng_two_layer


def ng_case(m, h, rng):
    X = rng.standard_normal((m, N_IN))
    y = (rng.random((m, 1)) < 0.5).astype(float)
    W1, b1 = rng.standard_normal((N_IN, h)) / np.sqrt(N_IN), np.zeros((1, h))
    W2, b2 = rng.standard_normal((h, 1)) / np.sqrt(h), np.zeros((1, 1))
    _, cache = ng_two_layer.forward(X, y, W1, b1, W2, b2)

    def hand():
        A1, A2 = cache["A1"], cache["A2"]
        dZ2 = (A2 - y) / m
        dZ1 = (dZ2 @ W2.T) * (1 - A1 * A1)
        return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0, keepdims=True), "W2": A1.T @ dZ2,
                "b2": dZ2.sum(axis=0, keepdims=True)}

    dZ2 = (cache["A2"] - y) / m
    dZ1 = (dZ2 @ W2.T) * (1 - cache["A1"] ** 2)

    def matmuls():
        return X.T @ dZ1, cache["A1"].T @ dZ2, dZ2 @ W2.T

    def loss(t):
        z2 = torch.tanh(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
        return torch.nn.functional.binary_cross_entropy_with_logits(z2, t["y"])

    torch_backward = _torch_backward(dict(X=X, y=y, W1=W1, b1=b1, W2=W2, b2=b2), loss)
    return (lambda: ng_two_layer.backward(cache)), hand, matmuls, torch_backward


# ---------------------------------------------------------------- sg_two_layer


def sg_case(n, h, rng):
    X = rng.standard_normal((n, N_IN))
    Y = np.eye(N_CLASSES)[rng.integers(0, N_CLASSES, n)]
    W1, b1 = rng.standard_normal((N_IN, h)) / np.sqrt(N_IN), np.zeros((1, h))
    W2, b2 = rng.standard_normal((h, N_CLASSES)) / np.sqrt(h), np.zeros((1, N_CLASSES))
    _, cache = sg_two_layer.forward(X, Y, W1, b1, W2, b2)

    def hand():
        dA2 = (cache["P"] - Y) / n
        dA1 = (dA2 @ W2.T) * (cache["A1"] > 0)
        return {"W1": X.T @ dA1, "b1": dA1.sum(axis=0, keepdims=True), "W2": cache["H1"].T @ dA2,
                "b2": dA2.sum(axis=0, keepdims=True)}

    dA2 = (cache["P"] - Y) / n
    dA1 = (dA2 @ W2.T) * (cache["A1"] > 0)

    def matmuls():
        return X.T @ dA1, cache["H1"].T @ dA2, dA2 @ W2.T

    def loss(t):
        a2 = torch.relu(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
        return -(t["Y"] * torch.log_softmax(a2, dim=1)).sum() / n

    torch_backward = _torch_backward(dict(X=X, Y=Y, W1=W1, b1=b1, W2=W2, b2=b2), loss)
    return (lambda: sg_two_layer.backward(cache)), hand, matmuls, torch_backward


def main():
    quick = "--quick" in sys.argv
    batches, hiddens = ((64, 1024), (64,)) if quick else ((64, 1024, 8192), (64, 512))
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
                                       if torch is not None else ", torch not installed: its column is skipped"))
    header = (f"{'kernel':<14}{'batch':>6}{'hidden':>7} {'generated':>10} {'hand':>10} {'torch':>10} {'matmul':>10}"
              f"   {'gen/hand':>8} {'gen/torch':>9} {'gen/matmul':>10}")
    print(header)
    worst = {"hand": 0.0, "torch": 0.0, "matmul": 0.0}
    for name, case in (("ng_two_layer", ng_case), ("sg_two_layer", sg_case)):
        for m in batches:
            for h in hiddens:
                generated, hand, matmuls, torch_backward = case(m, h, rng)
                ref = hand()
                got = generated()
                assert all(np.allclose(got[k], ref[k], rtol=1e-10, atol=1e-14) for k in ref), name
                # torch is timed on its own: its worker threads spin after each call and
                # would slow down whichever NumPy function ran next
                tg, th, tm = best_of([generated, hand, matmuls])
                tt = best_of([torch_backward])[0] if torch_backward else float("nan")
                worst["hand"] = max(worst["hand"], tg / th)
                worst["matmul"] = max(worst["matmul"], tg / tm)
                if torch_backward:
                    worst["torch"] = max(worst["torch"], tg / tt)
                print(f"{name:<14}{m:>6}{h:>7} {tg * 1e3:>8.3f}ms {th * 1e3:>8.3f}ms {tt * 1e3:>8.3f}ms "
                      f"{tm * 1e3:>8.3f}ms   {tg / th:>8.2f} {tg / tt:>9.2f} {tg / tm:>10.2f}")
    print(f"worst ratios: generated/hand {worst['hand']:.2f} (target 1.05), generated/torch "
          f"{worst['torch']:.2f} (target 1.0){'' if torch else ' [torch not installed]'}, "
          f"generated/matmul-only {worst['matmul']:.2f} (target 1.3)")


if __name__ == "__main__":
    main()
