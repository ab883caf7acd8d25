"""Matrix functions (expm, logm, sqrtm), matrix powers, Kronecker products, vec, max/min and outer sums
through the concrete stages: the arithmetic-only algorithms that forward mode differentiates agree with
mpmath's own functions and with SciPy, their derivatives with high-precision differences, and the
samplers keep arguments where the functions are analytic."""
import mpmath
import numpy as np
import pytest

from derivcheck import dims, expm, expr as E, kron, logm, matrix, matrix_power, max as max_, max_mask, min as min_
from derivcheck import min_mask, outer_sum, sqrtm, sum, trace, vec
from derivcheck.evaluate import FLOAT, MP, Ties, evaluate
from derivcheck.forward import forward_backend
from derivcheck.instances import draw, to_mp
from derivcheck.matrix_functions import MATRIX_FUNCTIONS
from derivcheck.truth import fd_backend

n, m = dims("n m")
S = matrix("S", n, n, assume="spd")
A = matrix("A", n, n)
NAMES = sorted(MATRIX_FUNCTIONS)


def _argument(name):
    return A if name == "expm" else S


@pytest.mark.parametrize("name", NAMES)
def test_exact_algorithm_agrees_with_mpmath_and_scipy(name):
    fn = MATRIX_FUNCTIONS[name]
    e = E.ApplyMatrix(fn, _argument(name))
    env = draw([e], {n: 4}, np.random.default_rng(3))
    with mpmath.workdps(50):
        menv = to_mp(env)
        ours = evaluate(e, menv, forward_backend())
        theirs = evaluate(e, menv, MP)
        assert max(abs(a - b) for a, b in zip(ours.reshape(-1), theirs.reshape(-1))) < 1e-45
    assert np.allclose(evaluate(e, env, FLOAT), ours.astype(float), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_forward_mode_derivative_agrees_with_high_precision_differences_of_mpmath(name):
    """Forward mode differentiates our series and iterations; the differences differentiate mpmath's own
    functions: two independent routes to ∂ tr(f(X) B)/∂X."""
    B = matrix("B", n, n)
    node = E.Grad(trace(E.MatMul(E.ApplyMatrix(MATRIX_FUNCTIONS[name], _argument(name)), B)), _argument(name))
    env = draw([node], {n: 3}, np.random.default_rng(5))
    with mpmath.workdps(50):
        menv = to_mp(env)
        forward = evaluate(node, menv, forward_backend())
        differences = evaluate(node, menv, fd_backend(MP))
        assert np.max(np.abs((forward - differences).astype(float))) < 1e-20


def test_logm_and_sqrtm_are_sampled_off_the_negative_real_axis():
    fn = MATRIX_FUNCTIONS["logm"]
    assert fn.admits(np.diag([1.0, 2.0, 3.0]))
    assert not fn.admits(np.diag([1.0, -2.0, 3.0]))
    assert not fn.admits(np.diag([1.0, 1e-9, 3.0]))
    assert fn.admits(np.array([[0.0, -1.0], [1.0, 0.0]]))  # ±i: off the axis
    assert MATRIX_FUNCTIONS["sqrtm"].admits is fn.admits
    X = matrix("X", n, n)  # Gaussian: often a negative real eigenvalue, redrawn until there is none
    env = draw([logm(X)], {n: 3}, np.random.default_rng(0))
    assert fn.admits(env.values["X"])


def test_matrix_power_with_a_symbolic_exponent():
    (k,) = dims("k")
    node = matrix_power(A, k - 1)
    assert E.dims_of(node) == {n, k}
    env = draw([node], {n: 3, k: 4}, np.random.default_rng(1))
    a = env.values["A"]
    assert np.allclose(evaluate(node, env, FLOAT), a @ a @ a)
    assert np.allclose(evaluate(matrix_power(A, -2), env, FLOAT), np.linalg.inv(a @ a))
    with pytest.raises(E.ShapeError, match="integer"):
        E.shape(matrix_power(A, E.Scalar(1) / 2))


def test_kron_and_vec_follow_numpy():
    B = matrix("B", m, n)
    env = draw([kron(A, B), vec(B)], {n: 2, m: 3}, np.random.default_rng(2))
    a, b = env.values["A"], env.values["B"]
    assert E.shape(kron(A, B)) == (n * m, n * n)
    assert np.array_equal(evaluate(kron(A, B), env, FLOAT), np.kron(a, b))
    assert np.array_equal(evaluate(vec(B), env, FLOAT)[:, 0], b.T.reshape(-1))  # columns stacked


def test_max_min_and_their_masks_by_axis():
    X = matrix("X", m, n)
    env = draw([max_(X)], {m: 3, n: 4}, np.random.default_rng(4))
    x = env.values["X"]
    for axis in (None, 0, 1):
        keep = axis is not None
        assert np.array_equal(evaluate(max_(X, axis), env, FLOAT).reshape(-1), np.max(x, axis=axis, keepdims=keep).reshape(-1))
        assert np.array_equal(evaluate(min_(X, axis), env, FLOAT).reshape(-1), np.min(x, axis=axis, keepdims=keep).reshape(-1))
        mask = evaluate(max_mask(X, axis), env, FLOAT)
        assert np.array_equal(mask, (x == np.max(x, axis=axis, keepdims=True)).astype(float))
        assert np.array_equal(evaluate(min_mask(X, axis), env, FLOAT), (x == np.min(x, axis=axis, keepdims=True)).astype(float))
    with mpmath.workdps(50):  # the same picks in exact arithmetic, through dual numbers
        menv = to_mp(env)
        assert np.array_equal(evaluate(max_mask(X, 1), menv, forward_backend()).astype(float),
                              evaluate(max_mask(X, 1), env, FLOAT))


def test_ties_of_a_max_are_sampled_away_from():
    assert Ties("max", 1).admits(np.array([[1.0, 0.0], [0.0, 2.0]]))
    assert not Ties("max", 1).admits(np.array([[1.0, 1.0], [0.0, 2.0]]))
    assert Ties("max", 0).admits(np.array([[1.0, 1.0], [0.0, 2.0]]))
    assert not Ties("min", None).admits(np.array([[0.5, 0.0], [0.0, 2.0]]))
    assert Ties("max", 1).admits(np.array([[1.0, 1.0]]), kinks=False)  # a max's value at a tie is fine
    assert not Ties("max", 1, always=True).admits(np.array([[1.0, 1.0]]), kinks=False)  # a mask's is not
    X = matrix("X", m, n)
    tied = X * 0 + 1  # all entries equal: always a tie
    draw([max_(tied, 1)], {m: 2, n: 3}, np.random.default_rng(0))
    for e in (max_mask(tied, 1), E.Grad(sum(max_(tied, 1) * X), X)):
        with pytest.raises(Exception, match="no instance"):
            draw([e], {m: 2, n: 3}, np.random.default_rng(0))


def test_outer_sum_spells_out_the_broadcast_that_c_plus_r_would_be():
    c, r = matrix("c", m, 1), matrix("r", 1, n)
    with pytest.raises(E.ShapeError, match="ambiguous"):
        E.shape(c + r)
    assert E.shape(outer_sum(c, r)) == (m, n)
    with pytest.raises(E.ShapeError, match="a column and a row"):
        E.shape(outer_sum(r, c))
    env = draw([outer_sum(c, r)], {m: 2, n: 3}, np.random.default_rng(6))
    assert np.array_equal(evaluate(outer_sum(c, r), env, FLOAT), env.values["c"] + env.values["r"])


def test_a_symbolic_stage_has_no_max_or_matrix_function_but_says_so():
    from derivcheck.evaluate import SYM, EvaluationError, Env, entry_symbols

    env = Env({n: 2}, {"A": entry_symbols("A", 2, 2), "S": entry_symbols("S", 2, 2)})
    for e in (max_(A), expm(A), sqrtm(S)):
        with pytest.raises(EvaluationError):
            evaluate(e, env, SYM)


def test_reverse_mode_rules_of_max_and_outer_sum_write_the_true_gradient():
    """derivative.py's rows for max/min and outer sums: the gradient they write is proved equal to the
    truth (the diagnoses show it for a failing claim)."""
    from derivcheck.derivative import gradient
    from derivcheck.symbolic import prove_equal

    X, g = matrix("X", m, n), matrix("g", m, 1)
    c, r, G = matrix("c", m, 1), matrix("r", 1, n), matrix("G", m, n)
    for f, wrt in [(sum(g * max_(X, 1)), X), (min_(X @ A), X), (sum(max_(X, 0)), X),
                   (sum(G * outer_sum(c, r)), c), (sum(G * outer_sum(c, r)), r)]:
        assert prove_equal(gradient(f, wrt), E.Grad(f, wrt)), (f, wrt)
