"""Every kind and every verdict, on small claims whose truth is known by hand."""
import numpy as np
import pytest

from derivcheck import (derivation, dims, directional, elementwise, grad, gradient, identity, inner, inv,
                        jacobian, log, matrix, relu, sigmoid, softmax, sum, tanh, value, zeros, eye)
from derivcheck.check import Limits, check

m, n, q = dims("m n q")
A, B, C = matrix("A", m, n), matrix("B", m, q), matrix("C", q, n)
S = matrix("S", n, n)


CONCRETE = Limits(symbolic=False)  # these tests are about the exact and numeric stages; test_symbolic covers proofs


def verdict(claim, **kw):
    kw.setdefault("limits", CONCRETE)
    return check(claim, **kw).verdict


# ---------------------------------------------------------------- identity
def test_true_identity_is_proved_at_shapes_with_distinct_sizes():
    v = verdict(identity("laws", inner(A, B @ C), inner(A @ C.T, B)))
    assert v.status == "proved_at_shapes"
    stages = {st.method: st for st in v.stages}
    exact, numeric = stages["exact"], stages["numeric"]
    assert stages["symbolic"].status == "skipped"
    assert exact.status == "holds" and exact.digits == 50 and len(exact.sizes) >= 2
    for sizes in exact.sizes + numeric.sizes:
        assert len(set(sizes.values())) == len(sizes)  # a transpose cannot hide behind a square
    assert numeric.status == "holds" and numeric.points >= 3


def test_transpose_hidden_by_square_shapes_is_refuted():
    As, Bs, Cs = (matrix(k, n, n) for k in "DEF")
    v = verdict(identity("wrong", inner(As, Bs @ Cs), inner(Cs.T @ As, Bs)))
    assert v.status == "refuted"
    cx = v.counterexample
    assert cx.stage == "exact" and set(cx.values) == {"D", "E", "F"} and cx.claimed != pytest.approx(cx.true)


def test_shape_mismatch_is_ill_formed_naming_both_shapes():
    v = verdict(identity("shapes", A @ C.T, B.T))
    assert v.status == "ill_formed"
    assert "(m, q)" in v.reason and "(q, m)" in v.reason


# ---------------------------------------------------------------- gradient
def test_sigmoid_bce_collapse_and_its_wrong_sign(net):
    good = verdict(gradient("g", net.L, net.Z2, (net.A2 - net.y) / net.m))
    bad = verdict(gradient("b", net.L, net.Z2, (net.y - net.A2) / net.m))
    assert good.status == "proved_at_shapes"
    assert bad.status == "refuted"
    cx = bad.counterexample
    assert cx.claimed == pytest.approx(-cx.true)  # exactly a sign flip, entry by entry
    assert cx.entry[1] == 0 and cx.what == ""  # an entry of the (m, 1) gradient


def test_gradient_through_two_layers(net):
    claimed = (1 / net.m) * net.X.T @ ((1 - net.A1 ** 2) * ((net.A2 - net.y) @ net.W2.T))
    assert verdict(gradient("w1", net.L, net.W1, claimed)).status == "proved_at_shapes"
    assert verdict(gradient("w1t", net.L, net.W1, claimed.T)).status == "ill_formed"
    assert verdict(gradient("w1x2", net.L, net.W1, 2 * claimed)).status == "refuted"


def test_softmax_cross_entropy_needs_rows_that_sum_to_one():
    N, K, Dd = dims("N K Dd")
    X, W = matrix("X", N, Dd), matrix("W", Dd, K)
    P = softmax(X @ W)
    for assume, expected in [("one_hot_rows", "proved_at_shapes"), ("rows_sum_to_one", "proved_at_shapes"),
                             ("probability", "refuted"), ((), "refuted")]:
        Y = matrix("Y", N, K, assume=assume)
        L = -(1 / N) * sum(Y * log(P))
        assert verdict(gradient("sm", L, W, X.T @ (P - Y) / N)).status == expected, assume


def test_generic_activation_is_checked_for_any_g():
    g, g_prime = elementwise("g")
    X, W = matrix("X", m, n), matrix("W", n, q)
    L = sum(g(X @ W))
    assert verdict(gradient("g", L, W, X.T @ g_prime(X @ W))).status == "proved_at_shapes"
    # true for g = identity-like functions only: must fail for a generic g
    assert verdict(gradient("g2", L, W, X.T @ (0 * (X @ W) + 1))).status == "refuted"


def test_relu_is_checked_away_from_its_kink():
    X, W = matrix("X", m, n), matrix("W", n, q)
    from derivcheck import step
    L = sum(relu(X @ W))
    assert verdict(gradient("r", L, W, X.T @ step(X @ W))).status == "proved_at_shapes"


def test_gradient_needs_a_scalar_function():
    v = verdict(gradient("vec", sum(A, 0), A, A))
    assert v.status == "ill_formed" and "scalar" in v.reason


# ---------------------------------------------------------------- jacobian / directional
def test_jacobian_numerator_layout():
    x = matrix("x", n, 1)
    W = matrix("W", m, n)
    assert verdict(jacobian("j", W @ x, x, W)).status == "proved_at_shapes"
    assert verdict(jacobian("jt", tanh(W @ x), x, W.T)).status == "ill_formed"  # denominator layout
    v = verdict(jacobian("jd", tanh(W @ x), x, W))
    assert v.status == "refuted" and v.counterexample.what == ""


def test_directional_differential(net):
    dW = matrix("dW", net.n, net.h)
    true = (1 / net.m) * (net.A2 - net.y).T @ (((1 - net.A1 ** 2) * (net.X @ dW)) @ net.W2)
    assert verdict(directional("d", net.L, net.W1, dW, true)).status == "proved_at_shapes"
    assert verdict(directional("d-", net.L, net.W1, dW, -true)).status == "refuted"


# ---------------------------------------------------------------- value
def test_value_claims():
    x = matrix("x", 1, 1)
    assert verdict(value("v", sigmoid(x), {"x": 0.0}, 0.5)).status == "confirmed"
    v = verdict(value("v2", sigmoid(x), {"x": 1.0}, 0.75, tolerance=1e-3))
    assert v.status == "refuted" and "0.731058578" in v.reason
    M = matrix("M", 2, 2)
    assert verdict(value("vm", M @ M, {"M": [[1, 2], [3, 4]]}, [[7, 10], [15, 22]])).status == "confirmed"
    assert verdict(value("vmiss", M @ M, {}, 1)).status == "ill_formed"


def test_value_claims_differentiate_inside_the_expression():
    # a worked example that quotes a derivative's value: d/dw (x w + b)^2 = 2 x (x w + b)
    x, w, b = matrix("x", 1, 1), matrix("w", 1, 1), matrix("b", 1, 1)
    at = {"x": 2.0, "w": 0.5, "b": 1.0}
    assert verdict(value("vg", grad((x * w + b) ** 2, w), at, 8.0)).status == "confirmed"
    assert verdict(value("vg2", w - 0.1 * grad((x * w + b) ** 2, w), at, 0.5 - 0.8)).status == "confirmed"
    assert verdict(value("vg3", grad((x * w + b) ** 2, w), at, 4.0)).status == "refuted"


# ---------------------------------------------------------------- derivation
def test_derivation_reports_the_first_broken_step_and_checks_the_rest(net):
    dZ = matrix("dZ", net.m, 1)
    steps = [inner(grad(net.L, net.Z2), dZ),
             (1 / net.m) * (net.y - net.A2).T @ dZ,  # wrong sign
             (1 / net.m) * net.y.T @ dZ - (1 / net.m) * net.A2.T @ dZ,  # valid algebra from step 1
             -(1 / net.m) * (net.A2 - net.y).T @ dZ]
    v = verdict(derivation("der", steps))
    assert v.status == "refuted"
    assert [s.verdict.status for s in v.steps] == ["refuted", "proved_at_shapes", "proved_at_shapes"]
    assert v.reason.startswith("step 1")


# ---------------------------------------------------------------- confirmed / inconclusive
def test_exact_stage_time_out_leaves_a_numeric_confirmation(net):
    claimed = (net.A2 - net.y) / net.m
    v = verdict(gradient("t", net.L, net.Z2, claimed), limits=Limits(exact=1e-6, numeric=60))
    assert v.status == "confirmed"
    assert v.stages[0].status == "timeout" and "max relative error" in v.reason


def test_both_stages_timing_out_is_inconclusive(net):
    v = verdict(gradient("t", net.L, net.Z2, (net.A2 - net.y) / net.m), limits=Limits(exact=1e-6, numeric=1e-6))
    assert v.status == "inconclusive" and "time limit" in v.reason


def test_a_claim_that_cannot_be_evaluated_is_inconclusive_not_a_crash():
    v = verdict(identity("sing", inv(zeros(n, n)) @ S, S))
    assert v.status == "inconclusive"


def test_log_of_a_possibly_negative_argument_is_sampled_inside_its_domain():
    P = matrix("P", m, n, assume="positive")
    assert verdict(gradient("lg", sum(log(P)), P, 1 / P)).status == "proved_at_shapes"


def test_assumption_needing_a_square_matrix_on_a_rectangle_is_ill_formed():
    R = matrix("R", m, n, assume="spd")
    assert verdict(identity("r", R, R)).status == "ill_formed"


def test_relations_between_dimensions_are_respected():
    T = matrix("T", m, n)
    v = verdict(identity("tall", T.T @ T, (T.T @ T).T, relations=[m > n]))
    assert v.status == "proved_at_shapes"
    for sizes in v.stages[0].sizes + v.stages[1].sizes:
        assert sizes["m"] > sizes["n"]


def test_inverse_and_determinant():
    X = matrix("X", n, n, assume="invertible")
    from derivcheck import det
    assert verdict(gradient("logdet", log(det(X) ** 2) / 2, X, inv(X).T)).status == "proved_at_shapes"
    assert verdict(gradient("logdet.t", log(det(X) ** 2) / 2, X, inv(X))).status == "refuted"
    assert verdict(identity("inv", inv(X) @ X, eye(n))).status == "proved_at_shapes"


def test_float_round_off_is_rechecked_not_reported():
    # (A + 1e8) - 1e8 == A: float64 loses ~1e-8 relative, 50 digits do not
    v = verdict(identity("cancel", (A + 1e8) - 1e8, A))
    assert v.status == "proved_at_shapes"
    assert next(st for st in v.stages if st.method == "numeric").rechecked > 0


def test_same_seed_same_counterexample_different_seed_different_instance(net):
    claim = gradient("repro", net.L, net.W2, net.A1.T @ (net.y - net.A2) / net.m)
    a, b, c = (check(claim, seed=s).verdict.counterexample for s in (7, 7, 8))
    assert a == b
    assert a.values != c.values


def test_counterexample_values_reproduce_the_discrepancy(net):
    from derivcheck.evaluate import Env, FLOAT, evaluate
    from derivcheck.truth import fd_backend
    from derivcheck import expr as E
    claimed = net.A1.T @ (net.y - net.A2) / net.m
    cx = check(gradient("repro", net.L, net.W2, claimed), seed=3).verdict.counterexample
    sizes = {d: cx.sizes[d.name] for d in (net.m, net.n, net.h)}
    env = Env(sizes, {k: np.array(v) for k, v in cx.values.items()})
    got = evaluate(claimed, env, FLOAT)[cx.entry]
    true = evaluate(E.Grad(net.L, net.W2), env, fd_backend(FLOAT))[cx.entry]
    assert got == pytest.approx(cx.claimed, rel=1e-9)
    assert true == pytest.approx(cx.true, rel=1e-6)


def test_tiny_values_do_not_hide_a_wrong_claim():
    # both sides are ~1e-35: an absolute comparison at 1e-30 would call this equal
    assert verdict(identity("tiny", 1e-35 * A, 2e-35 * A)).status == "refuted"
    assert verdict(identity("tiny.ok", 1e-35 * A + 1e-35 * A, 2e-35 * A)).status == "proved_at_shapes"
