"""Shared fixtures: a small two-layer network in the Python API."""
import pytest

from derivcheck import define, dims, log, matrix, sigmoid, tanh


class Net:
    m, n, h = dims("m n h")
    X = matrix("X", m, n)
    W1 = matrix("W1", n, h)
    b1 = matrix("b1", 1, h)
    W2 = matrix("W2", h, 1)
    b2 = matrix("b2", 1, 1)
    y = matrix("y", m, 1, assume="binary")
    Z1 = define("Z1", X @ W1 + b1)
    A1 = define("A1", tanh(Z1))
    Z2 = define("Z2", A1 @ W2 + b2)
    A2 = define("A2", sigmoid(Z2))
    L = define("L", -(1 / m) * (y.T @ log(A2) + (1 - y).T @ log(1 - A2)))


@pytest.fixture
def net():
    return Net
