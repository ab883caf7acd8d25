"""Proofs for all dimensions (symbolic.py), and the alarm when a proof and a counterexample disagree."""
from pathlib import Path

import pytest

from derivcheck import (define, derivation, dims, elementwise, gradient, grad, identity, inner, log, matrix, ones,
                        sigmoid, softmax, sum, tanh, trace)
from derivcheck import check as check_module
from derivcheck import expr as E
from derivcheck.catalog import load_paths
from derivcheck.claims import PROVABLE_KINDS
from derivcheck.check import check, check_all
from derivcheck.symbolic import prove_equal

ROOT = Path(__file__).resolve().parent.parent
m, n, q, h = dims("m n q h")
A, B, C = matrix("A", m, n), matrix("B", m, q), matrix("C", q, n)


def status(claim):
    return check(claim).verdict.status


@pytest.mark.parametrize("lhs, rhs", [
    (inner(A, B @ C), inner(B.T @ A, C)),  # A•(BC) = (BᵀA)•C
    (inner(A, B @ C), inner(A @ C.T, B)),  # A•(BC) = (ACᵀ)•B
    (trace(A.T @ B @ C), inner(A, B @ C)),  # trace form of the inner product
    ((B @ C).T, C.T @ B.T),
    (sum(A), (ones(m, 1).T @ A @ ones(n, 1))),
])
def test_linear_identities_are_proved_for_all_dimensions(lhs, rhs):
    assert prove_equal(lhs, rhs) is True
    assert status(identity("law", lhs, rhs)) == "proved"


@pytest.mark.parametrize("lhs, rhs", [
    (inner(A, B @ C), inner(B.T @ A, C) + inner(A, A)),  # a term too many
    (inner(A, B @ C), inner(B.T @ A @ C.T @ C, C)),  # well-shaped, wrong
    ((B @ C).T, C.T @ B.T + A.T),
    (sum(A) ** 2, sum(A * A)),  # a power does not move inside a sum
])
def test_false_identities_are_not_shown_equal(lhs, rhs):
    assert prove_equal(lhs, rhs) is False


def test_an_ill_shaped_side_is_a_shape_error_not_a_proof():
    with pytest.raises(E.ShapeError):
        prove_equal((B @ C).T, B.T @ C.T.T.T)


def test_sigmoid_bce_collapse_is_proved():
    X, W1, b1 = matrix("X", m, n), matrix("W1", n, h), matrix("b1", 1, h)
    W2, b2, y = matrix("W2", h, 1), matrix("b2", 1, 1), matrix("y", m, 1, assume="binary")
    Z2 = define("Z2", tanh(X @ W1 + b1) @ W2 + b2)
    A2 = define("A2", sigmoid(Z2))
    L = define("L", -(1 / m) * (y.T @ log(A2) + (1 - y).T @ log(1 - A2)))
    assert status(gradient("bce", L, Z2, (A2 - y) / m)) == "proved"
    assert status(gradient("bce.sign", L, Z2, (y - A2) / m)) == "refuted"


def test_softmax_cross_entropy_is_proved_under_one_hot_rows_only():
    N, K = dims("N K")
    Z = matrix("Z", N, K)
    Y = matrix("Y", N, K, assume="one_hot_rows")
    P = define("P", softmax(Z))
    assert status(gradient("ce", -(1 / N) * sum(Y * log(P)), Z, (P - Y) / N)) == "proved"
    Yfree = matrix("Y", N, K)
    r = check(gradient("ce.any", -(1 / N) * sum(Yfree * log(P)), Z, (P - Yfree) / N))
    assert r.verdict.status == "refuted" and r.verdict.diagnosis.kind == "assumption"


def test_layer_recurrence_is_proved_once_for_symbolic_sizes():
    # δ^l = (δ^(l+1) W^(l+1)ᵀ) ⊙ g′(Z^l) for any activation g and any sizes
    g, g_prime = elementwise("g")
    X, W1, W2 = matrix("X", m, n), matrix("W1", n, h), matrix("W2", h, q)
    Y = matrix("Y", m, q)
    Z1 = define("Z1", X @ W1)
    Z2 = define("Z2", g(Z1) @ W2)
    f = define("f", sum((g(Z2) - Y) ** 2) / m)
    step = gradient("rec", f, Z1, (grad(f, Z2) @ W2.T) * g_prime(Z1))
    assert status(step) == "proved"


def test_catalog_proves_most_claims_for_all_dimensions():
    claims = [c for c in load_paths([ROOT / "identities"])
              if c.kind in PROVABLE_KINDS and c.expect == "holds"]
    results = check_all(claims, jobs=2)
    proved = len([r for r in results if r.verdict.status == "proved"])
    assert proved >= 0.8 * len(results)
    by_id = {r.id: r.verdict.status for r in results}
    for cid in ("ng.inner.move_right", "ng.grad_Z2", "sg.softmax_ce.dZ", "fw.backprop.W1",
                "mdl.s6_4_1.recurrence.l1", "mdl.s7_1_1.dL_dz.from_renamed", "ffnn.batch.log.W1"):
        assert by_id[cid] == "proved", cid


def test_a_proof_contradicted_by_a_counterexample_is_an_internal_error(monkeypatch):
    monkeypatch.setattr(check_module, "prove_equal", lambda lhs, rhs: True)  # a broken engine
    S, T, U = (matrix(x, n, n) for x in "STU")
    r = check(identity("bad", inner(S, T @ U), inner(U.T @ S, T), expect="fails"))
    assert r.verdict.status == "refuted"  # the counterexample decides
    assert "INTERNAL ERROR" in r.verdict.alarm and "INTERNAL ERROR" in r.verdict.reason
    assert r.ok is False  # even though the claim was expected to fail, the run is not clean
    d = check(derivation("bad.d", [inner(S, T @ U), inner(U.T @ S, T)]))
    assert d.ok is False and d.verdict.steps[0].verdict.alarm and d.verdict.alarm
