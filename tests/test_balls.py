"""Rigorous float64 error bounds (balls.py): every enclosure contains the exact value, and a large
wrong claim is refuted in about a second instead of timing out at 50 digits (issue 12)."""
import time

import mpmath
import numpy as np
import pytest

from derivcheck import dims, exp, gradient, identity, inner, log, matrix, relu, sigmoid, softmax, sqrt, sum, tanh
from derivcheck import expr as E
from derivcheck.balls import evaluate_balls, separated
from derivcheck.check import Limits, check
from derivcheck.evaluate import evaluate
from derivcheck.forward import forward_backend
from derivcheck.instances import draw, to_mp

m, n, k = dims("m n k")
X, W, B = matrix("X", m, n), matrix("W", n, k), matrix("B", m, k)
P = matrix("P", m, n, assume="positive")
V = E.Symbol("direction(W)", n, k)

EXPRESSIONS = [
    X @ W + B * 0.1,
    tanh(X @ W) * sigmoid(B) - 1 / (1 + exp(-B)),
    softmax(X @ W),
    log(P) + sqrt(P) * 3,
    sum(relu(X @ W) ** 3, 1),
    (X @ W).T @ B / m,
    E.Directional(sum(tanh(X @ W) * B), W, V),
    E.Directional(sum(softmax(X @ W) * B), W, V),
    inner(X.T @ B, W) * (1e-30 + 1e20),
]


@pytest.mark.parametrize("e", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
def test_every_enclosure_contains_the_exact_value(e):
    rng = np.random.default_rng(3)
    for sizes in ({m: 3, n: 4, k: 2}, {m: 5, n: 2, k: 3}):
        env = draw([e], sizes, rng)
        ball = evaluate_balls(e, env)
        ball = getattr(ball, "v", ball)
        with mpmath.workdps(60):
            exact = evaluate(e, to_mp(env), forward_backend())
            for idx in np.ndindex(*exact.shape):
                assert abs(exact[idx] - mpmath.mpf(ball.mid[idx])) <= mpmath.mpf(ball.rad[idx]), (idx, e)
        assert np.all(ball.rad <= 1e-8 * (1 + np.abs(ball.mid)))  # and tight enough to be useful


def test_true_claims_are_never_separated_and_wrong_ones_are():
    f = sum(tanh(X @ W) * B)
    right = inner(X.T @ ((1 - tanh(X @ W) ** 2) * B), V)
    wrong = inner(X.T @ ((1 - tanh(X @ W)) * B), V)
    truth = E.Directional(f, W, V)
    rng = np.random.default_rng(0)
    for _ in range(20):
        env = draw([right, truth], {m: 6, n: 5, k: 4}, rng)
        assert separated(right, truth, env) is None
        assert separated(wrong, truth, env) is not None


def test_a_large_wrong_gradient_is_refuted_quickly_and_a_right_one_confirmed():
    """At 1000x1000 the 50-digit re-check of a float64 suspicion ran past the time limit."""
    size = 400
    Xb, Wb = matrix("X", size, size), matrix("W", size, size)
    f = sum(tanh(Xb @ Wb))
    limits = Limits(exact=20.0, numeric=20.0)
    start = time.process_time()
    v = check(gradient("big.wrong", f, Wb, Xb @ (1 - tanh(Xb @ Wb) ** 2)), limits=limits).verdict
    assert v.status == "refuted" and "rigorous error bounds" in v.reason
    assert time.process_time() - start < 10
    v = check(gradient("big.right", f, Wb, Xb.T @ (1 - tanh(Xb @ Wb) ** 2)), limits=limits).verdict
    assert v.status == "proved" and "beyond the exact stage" in v.reason  # the bounds cross-check the proof
    v = check(identity("big.transpose", (Xb @ Wb).T, Xb.T @ Wb.T), limits=limits).verdict
    assert v.status == "refuted"
