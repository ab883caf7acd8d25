"""Second derivatives: nested forward mode (dual numbers of dual numbers, each pass with its own tag),
the differentials the prover builds on (differential.py), and the hessian and second_differential
claim kinds."""
import mpmath
import numpy as np
import pytest
import sympy

from derivcheck import (det, diag, dims, exp, expr as E, inner, inv, kron, log, matrix, matrix_power, max as max_,
                        max_mask, outer_sum, sigmoid, softmax, softplus, sum, tanh, trace, vec)
from derivcheck.check import check
from derivcheck.claims import hessian, second_differential
from derivcheck.differential import NoRule, differential
from derivcheck.evaluate import SYM, Env, entry_symbols, evaluate
from derivcheck.forward import directional_forward, forward_backend
from derivcheck.instances import draw, to_mp
from derivcheck.verdict import HOLDS

m, n = dims("m n")
X = matrix("X", m, n)
x = matrix("x", n, 1)
u = matrix("u", n, 1)
v = matrix("v", n, 1)


def _exact(node, sizes, seed=0):
    env = draw([node], sizes, np.random.default_rng(seed))
    with mpmath.workdps(50):
        menv = to_mp(env)
        return evaluate(node, menv, forward_backend()), menv


def test_hessian_by_nested_forward_mode_equals_sympy_hessian_of_the_explicit_entries():
    f = sum(softplus(X @ x)) + sum(tanh(x) ** 3) + sum(log(1 + exp(x)) * x)
    got, menv = _exact(E.Jacobian(E.Grad(f, x), x), {m: 4, n: 3})
    # the same f as explicit SymPy entries, differentiated twice by sympy.hessian
    senv = Env({m: 4, n: 3}, {"X": entry_symbols("X", 4, 3), "x": entry_symbols("x", 3, 1)})
    fx = evaluate(f, senv, SYM)[0, 0]
    xs = list(senv.values["x"].reshape(-1))
    subs = {s: sympy.Rational(float(val)) for name in ("X", "x")  # the instance's floats, exactly
            for s, val in zip(senv.values[name].reshape(-1), menv.values[name].reshape(-1))}
    want = sympy.hessian(fx, xs).xreplace(subs).evalf(60)
    with mpmath.workdps(50):
        assert max(abs(got[i, j] - mpmath.mpf(str(want[i, j]))) for i in range(3) for j in range(3)) < 1e-40


def test_an_outer_variable_inside_an_inner_pass_is_not_mistaken_for_the_inner_one():
    """D_v (∂f/∂x) with f = Σ x² y: ∂f/∂x = 2 x y and its derivative along v in y is 2 x v.  Without
    tags the inner pass would read y's outer derivative as its own (perturbation confusion)."""
    y = matrix("y", n, 1)
    node = E.Directional(E.Grad(sum(x * x * y), x), y, v)
    got, menv = _exact(node, {n: 3})
    with mpmath.workdps(50):
        want = 2 * menv.values["x"] * menv.values["v"]
        assert np.max(np.abs((got - want).astype(float))) < 1e-45
    # and the mixed derivative the other way round: D_v in x of ∂f/∂y = x², which is 2 x v
    got2, menv = _exact(E.Directional(E.Grad(sum(x * x * y), y), x, v), {n: 3})
    with mpmath.workdps(50):
        assert np.max(np.abs((got2 - 2 * menv.values["x"] * menv.values["v"]).astype(float))) < 1e-45


def test_second_differential_of_a_matrix_function_by_nested_forward_mode():
    """d²(ln det S)[U, V] = −tr(S⁻¹ U S⁻¹ V): det and inv by elimination in nested dual arithmetic."""
    S = matrix("S", n, n, assume="spd")
    U, V = matrix("U", n, n), matrix("V", n, n)
    got, menv = _exact(E.Directional(E.Directional(log(det(S)), S, U), S, V), {n: 3})
    with mpmath.workdps(50):
        s_inv = np.array(mpmath.inverse(mpmath.matrix(menv.values["S"].tolist())).tolist(), dtype=object)
        want = -np.trace(s_inv @ menv.values["U"] @ s_inv @ menv.values["V"])
        assert abs(got[0, 0] - want) < 1e-45


W = matrix("W", n, n, assume="spd")
EXPRESSIONS = [  # every node type differential.py has a rule for
    X @ x, tanh(X @ x) * 2 + 1, softmax(X.T), sigmoid(X) ** 3, sum(X, 0) @ x, trace(W @ W), inner(W, W.T),
    diag(x), diag(W), inv(W), det(W), max_(X @ x, 0), max_mask(X, 1) * X, outer_sum(x, x.T),
    kron(W, x), vec(W @ W), matrix_power(W, 3), matrix_power(W, 0), X @ x + matrix("b", 1, 1),
]


@pytest.mark.parametrize("i", range(len(EXPRESSIONS)))
def test_differential_expressions_agree_with_forward_mode(i):
    e = EXPRESSIONS[i]
    wrt = next(s for s in (W, x, X) if s.name in E.symbols_of(e))
    direction = matrix("V", *E.shape(wrt))
    d = differential(e, wrt, direction)
    env = draw([e, direction, wrt], {m: 4, n: 3}, np.random.default_rng(i))
    with mpmath.workdps(50):
        menv = to_mp(env)
        truth = directional_forward(e, wrt, menv.values["V"], menv, forward_backend())
        got = evaluate(d, menv, forward_backend()) if d is not None else truth * 0
        assert got.shape == truth.shape
        assert np.max(np.abs((got - truth).astype(float)), initial=0.0) < 1e-40


def test_differential_refuses_what_it_has_no_rule_for():
    from derivcheck import expm

    with pytest.raises(NoRule):
        differential(trace(expm(W)), W, matrix("V", n, n))
    Z = E.define("Z", X @ x)
    with pytest.raises(NoRule):  # ∂/∂Z holds X fixed: moving X does not commute with it
        differential(E.Grad(sum(tanh(Z)), Z), X, matrix("V", m, n))


# ---------------------------------------------------------------- claim kinds

L = E.define("L", -sum(matrix("y", m, 1, assume="binary") * log(sigmoid(X @ x))
                       + (1 - matrix("y", m, 1, assume="binary")) * log(1 - sigmoid(X @ x))))
P = sigmoid(X @ x)


def test_hessian_claims_are_proved_and_slips_refuted():
    true = check(hessian("h", L, x, X.T @ diag(P * (1 - P)) @ X))
    assert true.verdict.status == "proved", true.verdict.reason
    slip = check(hessian("h.slip", L, x, X.T @ diag(P) @ X))
    assert slip.verdict.status == "refuted"


def test_a_hessian_of_a_row_vector_and_of_a_defined_name():
    r = matrix("r", 1, n)
    assert check(hessian("row", sum(exp(r)), r, diag(exp(r)))).verdict.status in HOLDS
    Z = E.define("Z", X @ x)
    res = check(hessian("defined", sum(tanh(Z)), Z, diag(-2 * tanh(Z) * (1 - tanh(Z) ** 2))))
    assert res.verdict.status in HOLDS, res.verdict.reason


def test_second_differential_claims():
    S = matrix("S", n, n, assume="spd")
    U, V = matrix("U", n, n), matrix("V", n, n)
    true = check(second_differential("d2", log(det(S)), S, (U, V), -trace(inv(S) @ U @ inv(S) @ V)))
    assert true.verdict.status in HOLDS, true.verdict.reason
    slip = check(second_differential("d2.sign", log(det(S)), S, (U, V), trace(inv(S) @ U @ inv(S) @ V)))
    assert slip.verdict.status == "refuted"


@pytest.mark.parametrize("claim, message", [
    (lambda: hessian("h", sum(exp(X)), X, matrix("H", n, n)), "second_differential"),
    (lambda: hessian("h", L, x, matrix("H", n, m)), "claimed Hessian has shape"),
    (lambda: second_differential("d", sum(X), X, (matrix("U", m, n),), sum(X)), "two directions"),
    (lambda: second_differential("d", sum(X), X, (X, matrix("U", m, n)), sum(X)), "occurs in f"),
    (lambda: second_differential("d", sum(X), X, (matrix("U", n, m), matrix("U2", m, n)), sum(X)), "shape"),
])
def test_malformed_second_order_claims_say_what_is_wrong(claim, message):
    res = check(claim())
    assert res.verdict.status == "ill_formed" and message in res.verdict.reason, res.verdict.reason
