"""gradcheck, shape 1: a loss and its hand-written gradients (a two-layer network).

    python examples/gradcheck_loss.py
"""
import numpy as np

from derivcheck.gradcheck import check_gradients


def loss(p, X, y):
    """Mean squared error of a tanh hidden layer and a linear output."""
    A = np.tanh(X @ p["W1"] + p["b1"])
    return 0.5 * np.mean(np.sum((A @ p["W2"] + p["b2"] - y) ** 2, axis=1))


def grads(p, X, y):
    A = np.tanh(X @ p["W1"] + p["b1"])
    d = (A @ p["W2"] + p["b2"] - y) / X.shape[0]
    dZ = (d @ p["W2"].T) * (1 - A ** 2)
    return {"W1": X.T @ dZ, "b1": dZ.sum(axis=0), "W2": A.T @ d, "b2": d.sum(axis=0)}


def grads_wrong(p, X, y):
    """Two classic slips: b1's gradient not summed over the batch, and W2's with the wrong sign."""
    A = np.tanh(X @ p["W1"] + p["b1"])
    d = (A @ p["W2"] + p["b2"] - y) / X.shape[0]
    dZ = (d @ p["W2"].T) * (1 - A ** 2)
    return {"W1": X.T @ dZ, "b1": dZ, "W2": A.T @ (-d), "b2": d.sum(axis=0)}


def main():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 10)), rng.standard_normal((32, 3))
    params = {"W1": 0.3 * rng.standard_normal((10, 16)), "b1": np.zeros(16),
              "W2": 0.3 * rng.standard_normal((16, 3)), "b2": np.zeros(3)}
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    print(check_gradients(loss, grads, params=params32, args=(X.astype(np.float32), y.astype(np.float32))))
    print()
    print(check_gradients(loss, grads_wrong, params=params, args=(X, y)))


if __name__ == "__main__":
    main()
