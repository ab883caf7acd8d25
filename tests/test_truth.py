"""The ground truth itself: forward mode, sympy.diff and finite differences agree,
and samplers produce exactly what their assumptions promise."""
import mpmath
import numpy as np
import pytest

from derivcheck import abs as abs_, cos, dims, elementwise, exp, log, matrix, relu, sigmoid, sin, softmax, sqrt
from derivcheck import sum, tanh
from derivcheck import expr as E
from derivcheck.evaluate import FLOAT, evaluate
from derivcheck.forward import forward_backend
from derivcheck.instances import draw, to_mp
from derivcheck.truth import fd_backend, symbolic_backend

m, n, k = dims("m n k")
X = matrix("X", m, n)
W = matrix("W", n, k)
P = matrix("P", m, k, assume="positive")
g, g_prime = elementwise("g")

FUNCTIONS = {
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "exp": exp, "sin": sin, "cos": cos, "abs": abs_,
    "g": g, "g_prime": g_prime,
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_three_methods_agree_on_each_function(name):
    fn = FUNCTIONS[name]
    f = sum(fn(X @ W) * P) + sum(log(P) * sqrt(P))
    node = E.Grad(f, W)
    env = draw([node], {m: 3, n: 2, k: 4}, np.random.default_rng(1))
    with mpmath.workdps(50):
        menv = to_mp(env)
        forward = evaluate(node, menv, forward_backend())
        symbolic = evaluate(node, menv, symbolic_backend({}))
        fd_mp = evaluate(node, menv, fd_backend(evaluate.__globals__["MP"]))
        assert np.max(np.abs((forward - symbolic).astype(complex))) < 1e-40
        assert np.max(np.abs((forward - fd_mp).astype(complex))) < 1e-25
    fd = evaluate(node, env, fd_backend(FLOAT))
    assert np.allclose(fd, forward.astype(float), rtol=1e-6, atol=1e-8)


def test_softmax_and_intermediates_agree():
    Y = matrix("Y", m, k, assume="one_hot_rows")
    Z = E.define("Z", X @ W)
    L = -sum(Y * log(softmax(Z))) / m
    x = matrix("x", n, 1)
    for node in (E.Grad(L, Z), E.Grad(L, W), E.Grad(L, X), E.Jacobian(softmax((W.T @ x).T).T, x)):
        env = draw([node], {m: 4, n: 3, k: 2}, np.random.default_rng(2))
        with mpmath.workdps(50):
            menv = to_mp(env)
            a = evaluate(node, menv, forward_backend())
            b = evaluate(node, menv, symbolic_backend({}))
            assert np.max(np.abs((a - b).astype(float))) < 1e-40


def test_determinant_and_inverse_in_forward_mode_match_sympy():
    from derivcheck import det, inv
    S = matrix("S", n, n, assume="invertible")
    for node in (E.Grad(det(S), S), E.Grad(sum(inv(S) * S.T), S)):
        env = draw([node], {n: 3}, np.random.default_rng(4))
        with mpmath.workdps(50):
            menv = to_mp(env)
            a = evaluate(node, menv, forward_backend())
            b = evaluate(node, menv, symbolic_backend({}))
            assert np.max(np.abs((a - b).astype(float))) < 1e-35


@pytest.mark.parametrize("name", sorted(__import__("derivcheck.functions", fromlist=["PRIMES"]).PRIMES))
def test_every_written_derivative_rule_agrees_with_sympy_diff(name):
    """functions.PRIMES feeds the proof engine, the gradient writer and the kernels: check it against
    the ground truth, the derivative of the exact definition, at points away from kinks."""
    import sympy
    from derivcheck.functions import FUNCTIONS, PRIMES

    x = sympy.Symbol("x", real=True)
    exact = FUNCTIONS[name].exact
    rule = PRIMES[name](x, exact(x), lambda other, a: FUNCTIONS[other].exact(a))
    truth = sympy.diff(exact(x), x)
    for point in (sympy.Rational(3, 7), sympy.Rational(11, 5), sympy.Rational(5, 3)):
        assert abs(sympy.N((rule - truth).subs(x, point), 40)) < 1e-35, (name, point)
