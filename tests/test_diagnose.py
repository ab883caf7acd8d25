"""Diagnoses of failing claims and the anatomy of a broken derivation."""
from pathlib import Path

import pytest

from derivcheck import define, derivation, dims, gradient, grad, identity, inner, jacobian, log, matrix, sigmoid, softmax, sum, tanh
from derivcheck.catalog import load_paths
from derivcheck.check import check, check_all

ROOT = Path(__file__).resolve().parent.parent
m, n, k = dims("m n k")
X, W = matrix("X", m, n), matrix("W", n, k)
F = sum(tanh(X @ W))
TRUE = X.T @ (1 - tanh(X @ W) ** 2)


def diagnosis(claim):
    r = check(claim)
    assert r.verdict.status in ("refuted", "ill_formed"), r.verdict.reason
    return r.verdict.diagnosis


def test_sign_flip_with_the_corrected_formula():
    d = diagnosis(gradient("d.sign", F, W, -(X.T @ (1 - tanh(X @ W) ** 2))))
    assert d.kind == "sign" and d.corrected == "X.T @ (1 - tanh(X @ W)**2)"


@pytest.mark.parametrize("factor, named", [(2, "2"), (m, "m"), (1 / m, "1/m")])
def test_scalar_factor_is_named_with_the_dimension(factor, named):
    d = diagnosis(gradient("d.factor", F, W, factor * TRUE))
    assert d.kind == "factor" and f"is {named} times" in d.text


def test_transposed_gradient_of_the_wrong_shape():
    d = diagnosis(gradient("d.T", F, W, TRUE.T))
    assert d.kind == "transpose"


def test_swapped_operands_of_a_product():
    A, B, C = (matrix(s, n, n) for s in "ABC")
    d = diagnosis(identity("d.swap", inner(A, B @ C), inner(C.T @ A, B)))
    assert d.kind == "swapped" and "A @ C.T" in d.corrected


def test_transposed_factor_extra_term_term_sign_diagonal_and_shape():
    S, Q, T = (matrix(s, n, n) for s in "SQT")
    v = matrix("v", n, 1)
    d = diagnosis(gradient("d.tf", inner(S, Q @ T), T, Q @ S))  # the gradient is Qᵀ S
    assert d.kind == "transposed factor" and d.corrected == "Q.T @ S"
    assert diagnosis(gradient("d.extra", F, W, TRUE + X.T @ (X @ W))).kind == "extra term"
    assert diagnosis(gradient("d.tsign", F, W, X.T @ (1 + tanh(X @ W) ** 2))).kind == "term sign"
    assert diagnosis(jacobian("d.diag", tanh(v), v, 1 - tanh(v) ** 2)).kind == "diagonal"
    d = diagnosis(gradient("d.shape", F, W, X @ W))
    assert d.kind == "shape" and "(m, k)" in d.text and "(n, k)" in d.text


def test_missing_term():
    b = matrix("b", 1, k)
    Z = X @ W + b
    d = diagnosis(identity("d.term", Z, X @ W))
    assert d.kind == "missing term" and d.corrected == "X @ W + b"


def test_missing_assumption_names_the_weakest_one():
    N, C = dims("N C")
    Z, Y = matrix("Z", N, C), matrix("Y", N, C)
    L = -sum(Y * log(softmax(Z))) / N
    d = diagnosis(gradient("d.assume", L, Z, (softmax(Z) - Y) / N))
    assert d.kind == "assumption" and "Y is rows_sum_to_one" in d.text


def test_derivation_names_its_first_broken_step_and_the_valid_algebra_after_it():
    ones = matrix("ones_mk", m, k) * 0 + 1  # an m × k matrix of ones, written with a symbol
    steps = [grad(F, W), -(X.T @ (1 - tanh(X @ W) ** 2)), -(X.T @ (1 - tanh(X @ W) * tanh(X @ W))),
             -(X.T @ ones) + X.T @ (tanh(X @ W) * tanh(X @ W))]
    r = check(derivation("d.derivation", steps))
    assert r.verdict.status == "refuted"
    assert [s.verdict.status for s in r.verdict.steps] == ["refuted", "proved", "proved"]
    assert "step 1 (refuted)" in r.verdict.reason
    assert "steps 2–3 are valid algebra from step 1" in r.verdict.reason
    assert "the conclusion (last line = first line) is false" in r.verdict.reason
    assert r.verdict.diagnosis.kind == "sign" and r.verdict.diagnosis.step == 1


def test_a_refuted_step_after_an_open_one_still_refutes_the_derivation():
    from derivcheck import inv, zeros
    S = matrix("S", n, n)
    odd = S + inv(zeros(n, n)) @ zeros(n, n)  # a line that cannot be evaluated (singular matrix)
    r = check(derivation("d.open_then_false", [S, odd, S, -S]))
    assert [s.verdict.status for s in r.verdict.steps] == ["inconclusive", "inconclusive", "refuted"]
    assert r.verdict.status == "refuted" and r.verdict.counterexample is not None
    assert "step 1 (inconclusive)" in r.verdict.reason and "step 3 (refuted)" in r.verdict.reason


def test_a_diagnosis_never_changes_a_verdict_and_true_claims_get_none():
    r = check(gradient("d.true", F, W, TRUE))
    assert r.verdict.status == "proved" and r.verdict.diagnosis is None


CATALOG = {
    "ng.grad_W1": "sign", "ffnn.s2_3.dW2.transposed": "term sign", "mdl.s6_3_2.z2_without_bias": "missing term",
    "ng.backprop.W2.transposed": "transpose", "mdl.s5_3_1.da3_dz3": "diagonal",
    "sg.softmax_ce.dZ.soft_labels": "assumption", "ng.inner.move_right_wrong_transpose": "swapped",
    "ng.dL_dZ2.derivation": "sign",
    "mdl.s5_3_1.dz3_dz2": "diagonal",  # W3 · σ′(z2): the diag repair on one factor, W3 diag(σ′(z2))
    "mdl.s7_1_1.dp_dz.literal": "index",  # ∂p_i/∂z_i against p_i(δ_ij − p_j): the diagonal j = i
    "mdl.s5_3_1.delta2.chain": "layout",  # the column δ3 times a Jacobian
    "mdl.s5_3_1.dz3_dW3": "transposed factor",  # δ3 · a2 for δ3 · a2ᵀ
    "mdl.s8.eq3": "product",  # NumPy's * where a matrix product is meant
}


def test_catalog_diagnoses():
    claims = [c for c in load_paths([ROOT / "identities"]) if c.id in CATALOG]
    got = {r.id: r.verdict.diagnosis.kind if r.verdict.diagnosis else None for r in check_all(claims, jobs=2)}
    assert got == CATALOG


def test_true_gradient_is_read_back_from_the_normal_form():
    a, b, M = matrix("a", m, 1), matrix("b", n, 1), matrix("M", m, n)
    d = diagnosis(gradient("d.truth", inner(M, a @ b.T), a, M.T @ a))
    assert d.kind == "shape" and d.truth == "M @ b"
    y = matrix("y", m, 1)
    d = diagnosis(gradient("d.truth2", sum((tanh(a) - y) ** 2), a, tanh(a) - y))
    assert d.kind in ("factor", "true formula")
    from derivcheck.derivative import gradient as true_gradient, readable
    assert readable(true_gradient(sum((tanh(a) - y) ** 2), a)) == "2*(1 - tanh(a)**2)*(tanh(a) - y)"
    X, W1, W2, b2 = matrix("X", m, n), matrix("W1", n, k), matrix("W2", k, 1), matrix("b2", 1, 1)
    A1 = define("A1", tanh(X @ W1))
    A2 = define("A2", sigmoid(A1 @ W2 + b2))
    L = -(1 / m) * (y.T @ log(A2) + (1 - y).T @ log(1 - A2))  # the document's style comes back out
    assert readable(true_gradient(L, W1)) == "X.T @ ((((A2 - y)/m) @ W2.T)*(1 - A1**2))"
    C = sum((y - A2) ** 2) / 2  # a leading minus goes into a sum, terms without a minus come first
    assert readable(true_gradient(C, W2)) == "A1.T @ (A2*(1 - A2)*(A2 - y))"
    lam = matrix("lam", 1, 1)  # a matrix product is bracketed in a product, not in a sum
    assert readable(true_gradient(sum((X @ W1 - y) ** 2) / m + lam * sum(W1 ** 2), W1)) == \
        "X.T @ (2*(X @ W1 - y)/m) + 2*W1*lam"


def test_derivation_anatomy_names_the_line_the_valid_algebra_follows_from():
    """Two broken lines in a row: the algebra after them follows from the second, not from 'the broken line'."""
    S = matrix("S", n, n)
    r = check(derivation("d.two_broken", [S + S, 2 * S, 3 * S, S.T, 3 * S, 6 * S / 2]))
    assert [s.verdict.status for s in r.verdict.steps] == ["proved", "refuted", "refuted", "refuted", "proved"]
    assert "step 2 (refuted)" in r.verdict.reason and "also broken: step 3 (refuted), step 4 (refuted)" in r.verdict.reason
    assert "step 5 is valid algebra from step 4" in r.verdict.reason


def test_true_gradient_has_the_variables_shape():
    """f = sum(X)**2: the gradient is 2 sum(X) in every entry, an m × n matrix, not the 1 × 1 2*sum(X)."""
    d = diagnosis(gradient("d.sumsq", sum(X) ** 2, X, 2 * sum(X)))
    assert d.truth == "2*ones(m, n)*sum(X)"


def test_true_gradient_drops_identity_factors():
    s_ = dims("s")[0]
    A, B = matrix("A", s_, m), matrix("B", n, s_)
    from derivcheck import trace
    d = diagnosis(gradient("d.trace", trace(A @ X @ B), X, A @ B))
    assert d.truth == "A.T @ B.T"


def test_true_gradient_uses_the_claims_assumptions():
    """Softmax + cross-entropy with one-hot rows: the rows of Y sum to one, so the truth reads (P - Y)/N."""
    N, C = dims("N C")
    Z, Y = matrix("Z", N, C), matrix("Y", N, C, assume="one_hot_rows")
    P = define("P", softmax(Z))
    d = diagnosis(gradient("d.sce", -sum(Y * log(P)) / N, Z, (Y - P) / N))
    assert d.truth == "(P - Y)/N"
    Yp = matrix("Yp", N, C, assume="probability")  # no such fact: the row sums stay
    d = diagnosis(gradient("d.sce_p", -sum(Yp * log(P)) / N, Z, (Yp - P) / N))
    assert d.truth == "(P*sum(Yp, 1) - Yp)/N"


def test_a_1x1_value_is_never_diagnosed_as_transposed():
    from derivcheck.diagnose import _transpose, _transposed_factor
    c = 2 * sum(X)
    assert list(_transpose(c, c)) == []
    z = matrix("z", 1, 1)
    assert not [text for _, text, _ in _transposed_factor(z * c, c) if "z should be" in text]


def test_scale_of_one_term():
    lam, y = matrix("lam", 1, 1), matrix("y", m, k)
    L = sum((X @ W - y) ** 2) / m + lam * sum(W ** 2)
    d = diagnosis(gradient("d.term_m", L, W, 2 * X.T @ (X @ W - y) + 2 * lam * W))  # the /m is missing
    assert d.kind == "term factor" and d.corrected == "2/m * X.T @ (X @ W - y) + 2 * lam * W"
    d = diagnosis(gradient("d.term_lam", L, W, 2 * X.T @ (X @ W - y) / m + 4 * lam * W))  # 2λ for λ
    assert d.kind == "term factor" and d.corrected == "2 * X.T @ (X @ W - y) / m + 2 * lam * W"


def test_diag_on_one_factor_and_index_slips():
    from derivcheck import diag, jacobian_of
    v, u = matrix("v", n, 1), matrix("u", k, 1)
    Wv = matrix("Wv", k, n)
    d = diagnosis(jacobian("d.diagf", Wv @ tanh(v), v, Wv @ (1 - tanh(v) ** 2)))
    assert d.kind == "diagonal" and d.corrected == "Wv @ diag(1 - tanh(v)**2)"
    p = softmax(v.T).T
    d = diagnosis(identity("d.index", diag(jacobian_of(p, v)), diag(p) - p @ p.T))  # ∂p_i/∂z_i = p_i(δ_ij − p_j)
    assert d.kind == "index" and d.corrected == "diag(diag(softmax(v.T).T) - softmax(v.T).T @ softmax(v.T).T.T)"
    d = diagnosis(identity("d.sum", Wv @ v, Wv * v.T))  # Σ_j W_ij v_j written without its sum
    assert d.kind == "index" and d.corrected == "sum(Wv * v.T, 1)"


def test_gradient_column_used_as_a_row_and_elementwise_for_matrix_product():
    from derivcheck import jacobian_of
    v = matrix("v", n, 1)
    Wv = matrix("Wv", k, n)
    h = define("h", Wv @ tanh(v))
    f = sum(h ** 2)
    d = diagnosis(identity("d.layout", grad(f, v), grad(f, h) @ jacobian_of(h, v)))
    assert d.kind == "layout" and d.corrected == "(grad(sum(h**2), h).T @ jacobian(h, v)).T"
    G = matrix("G", m, k)
    d = diagnosis(gradient("d.product", sum(G * (X @ W)), W, G * X.T))
    assert d.kind == "product" and d.corrected == "X.T @ G"
