"""matrix_calculus_survival_guide: softmax + cross-entropy, and a two-layer ReLU + softmax network.

Conventions of the document: X is (N, D), rows are samples; Y is (N, C) with
one-hot rows; W is (D, C); biases are rows added through the ones vector
1_N (written ``ones(N, 1) @ b``); softmax is row-wise; gradients have the
shape of the variable (denominator layout).

§1–2 recall definitions and notation (no claims beyond the chain rule, which
§3 uses).  §3 derives ∂Z/∂X, ∂Z/∂Y for Z = XY + 1_n b and the formulas
∂L/∂X = ∂L/∂Z Yᵀ, ∂L/∂Y = Xᵀ ∂L/∂Z for any scalar L = f(Z); "any f" is
f(Z) = sum(h(Z) ⊙ C) with a generic elementwise h and a constant C.  §4
softmax + cross-entropy gives (P − Y)/N, and the assumption it needs; §5.3
the two-layer gradient, with the bracket-free ⊙ encoded in both readings.
Claims whose source says "derivcheck" are added by derivcheck, not written
in the document.
"""
from derivcheck import (Kernel, define, derivation, dims, directional, elementwise, exp, grad, gradient, identity, log, matrix,
                        ones, relu,
                        softmax, step, sum)

DOC = "matrix_calculus_survival_guide"

N, D, C, M = dims("N D C M")

# ---------------------------------------------------------------- §3 Z = XY + 1_n b
n, m, k = dims("n m k")
X3 = matrix("X", n, m)
Y3 = matrix("Y", m, k)
b3 = matrix("b", 1, k)
dX3, dY3 = matrix("dX", n, m), matrix("dY", m, k)
h, h_prime = elementwise("h")
C3 = matrix("C", n, k)
Z3 = define("Z", X3 @ Y3 + ones(n, 1) @ b3)
L3 = define("L", sum(h(Z3) * C3))  # any scalar function of Z

section3 = [
    directional("sg.s3.dZ_dX", Z3, X3, dX3, dX3 @ Y3, source=f"{DOC} §3 Example 3.1 (∂Z_i1i2/∂X_j1j2 = Y_j2i2 if i1 = j1)",
                expect="holds"),
    directional("sg.s3.dZ_dY", Z3, Y3, dY3, X3 @ dY3, source=f"{DOC} §3 Example 3.1 (∂Z_i1i2/∂Y_j1j2 = X_i1j1 if i2 = j2)",
                expect="holds"),
    identity("sg.s3.dL_dX", grad(L3, X3), grad(L3, Z3) @ Y3.T, source=f"{DOC} §3 Example 3.1", expect="holds"),
    identity("sg.s3.dL_dY", grad(L3, Y3), X3.T @ grad(L3, Z3), source=f"{DOC} §3 Example 3.1", expect="holds"),
    identity("sg.s3.dL_db", grad(L3, b3), ones(n, 1).T @ grad(L3, Z3),
             source=f"derivcheck: {DOC} §3 Example 3.1 (the bias, used in §5.3)", expect="holds"),
]

X = matrix("X", N, D)
W = matrix("W", D, C)
Y = matrix("Y", N, C, assume="one_hot_rows")

Z = define("Z", X @ W)
P = define("P", softmax(Z))
L = define("L", -(1 / N) * sum(Y * log(P)))  # the sum over rows of Y_i ⊙ log P_i, summed over classes

# the same loss with labels that are only known to lie in (0, 1), or to sum to one per row
Yp = matrix("Yp", N, C, assume="probability")
Ys = matrix("Ys", N, C, assume="rows_sum_to_one")
Lp = define("L", -(1 / N) * sum(Yp * log(P)))
Ls = define("L", -(1 / N) * sum(Ys * log(P)))

# §4.3's two cases, for one row k = i of Z: the correct class c_k is a one-hot column, and the entries j ≠ c_k
# (or j = c_k) are picked out of the row of derivatives ∂/∂Z_ij by a mask
zk = matrix("Z_k", 1, C)  # row k of Z
ck = matrix("c_k", C, 1, assume="one_hot_columns")
P_k = softmax(zk)
Pc = P_k @ ck  # P_kc_k
S_row = sum(exp(zk))  # Σ_l e^(Z_kl)
others, same = 1 - ck.T, ck.T  # the masks j ≠ c_k and j = c_k
case_note = ("The middle expressions are ∂P_kc_k/∂Z_ij (and ∂e^(Z_kc_k)/∂Z_ij, which is 0 for j ≠ c_k), not "
             "∂ log P_kc_k/∂Z_ij = (∂P_kc_k/∂Z_ij)/P_kc_k: the chain is wrong in the middle and right at both ends.")

softmax_ce = [
    derivation("sg.softmax_ce.dZ_case.j_ne_ck", [
        grad(log(Pc), zk) * others,
        grad(exp(zk @ ck), zk) / Pc * others,
        -exp(zk @ ck) * exp(zk) / S_row ** 2 * others,
        -(Pc * P_k) / Pc * others,
        -P_k * others,
    ], source=f"{DOC} §4.3 (i = k, j ≠ c_k: ∂ log P_kc_k/∂Z_ij = (∂e^(Z_kc_k)/∂Z_ij)/P_kc_k = "
              "−e^(Z_kc_k)e^(Z_ij)/(Σ_l e^(Z_kl))² = −P_kc_k P_kj/P_kc_k = −P_kj)", expect="fails",
        note=case_note + " Here the second line is 0, the third is −P_kc_k P_kj, and only the last two lines agree "
                         "with the first."),
    derivation("sg.softmax_ce.dZ_case.j_eq_ck", [
        grad(log(Pc), zk) * same,
        (exp(zk @ ck) * S_row - exp(zk @ ck) * exp(zk)) / S_row ** 2 * same,
        (1 - P_k) * same,
    ], source=f"{DOC} §4.3 (j = c_k: ∂ log P_kc_k/∂Z_ij = (e^(Z_kc_k)(Σ_l e^(Z_kl)) − e^(Z_kc_k)e^(Z_ij))/"
              "(Σ_l e^(Z_kl))² = 1 − P_kj)", expect="fails",
        note=case_note + " Here the middle line is P_kc_k(1 − P_kc_k), and the last, 1 − P_kj, is right."),
    identity("sg.softmax_ce.loss_forms", -(1 / N) * sum(Y * log(P)), -(1 / N) * sum(log(sum(Y * P, 1))),
             source=f"derivcheck reading of {DOC} §4.2 (−(1/N) Σ_i Y_i ⊙ log P_i, summed over the classes too, "
                    "= −(1/N) Σ_i log P_ic_i)", expect="holds",
             note="With one-hot rows, Σ_j Y_ij P_ij = P_ic_i picks the probability of the correct class. The first "
                  "form as written is a row vector (claim sg.softmax_ce.dZ.literal_loss)."),
    identity("sg.softmax_ce.loss_forms.soft_labels", -(1 / N) * sum(Yp * log(P)), -(1 / N) * sum(log(sum(Yp * P, 1))),
             source=f"derivcheck variant of {DOC} §4.2", expect="fails",
             note="The two forms of the loss agree only because Y has one-hot rows."),
    identity("sg.softmax_ce.dW_chain", grad(L, W), X.T @ grad(L, Z), source=f"{DOC} §4.3", expect="holds"),
    identity("sg.softmax_ce.dZ_cases", grad(sum(Y * log(P)), Z), Y - P,
             source=f"{DOC} §4.3 (∂ log P_kc_k/∂Z_ij is −P_kj for j ≠ c_k and 1 − P_kj for j = c_k, i = k)",
             expect="holds"),
    gradient("sg.softmax_ce.dZ", L, Z, (P - Y) / N, source=f"{DOC} §4.3", expect="holds"),
    gradient("sg.softmax_ce.dW", L, W, (1 / N) * X.T @ (P - Y), source=f"{DOC} §4.3", expect="holds"),
    gradient("sg.softmax_ce.dZ.literal_loss", -(1 / N) * sum(Y * log(P), 0), Z, (P - Y) / N,
             source=f"{DOC} §4.2 (literal reading of L)", expect="fails",
             note="Read literally, L = −(1/N) Σ_i Y_i ⊙ log P_i sums row vectors and is a 1×C vector, "
                  "not a scalar, so it has no gradient. The document means the sum over classes too: "
                  "L = −(1/N) Σ_ij Y_ij log P_ij (claim sg.softmax_ce.dZ)."),
    gradient("sg.softmax_ce.dZ.soft_labels", Lp, Z, (P - Yp) / N,
             source=f"derivcheck variant of {DOC} §4.3", expect="fails",
             note="(P − Y)/N needs every row of Y to sum to one: in general ∂L/∂Z = (P ⊙ (row sums of Y) − Y)/N. "
                  "Labels that are merely in (0, 1) break it."),
    gradient("sg.softmax_ce.dZ.rows_sum_to_one", Ls, Z, (P - Ys) / N,
             source=f"derivcheck: {DOC} §4.3 for soft labels whose rows sum to one", expect="holds",
             note="Holds for soft labels too, as long as each row of Y sums to one."),
]

# ---------------------------------------------------------------- §5 two-layer network
W1 = matrix("W1", D, M)
b1 = matrix("b1", 1, M)
W2 = matrix("W2", M, C)
b2 = matrix("b2", 1, C)
A1 = define("A1", X @ W1 + ones(N, 1) @ b1)
H1 = define("H1", relu(A1))
A2 = define("A2", H1 @ W2 + ones(N, 1) @ b2)
P2 = define("P", softmax(A2))
L2 = define("L_ce", -(1 / N) * sum(Y * log(P2)))

dA1 = matrix("dA", N, M)
two_layer = [
    identity("sg.two_layer.dW1_chain", grad(L2, W1), X.T @ grad(L2, A1),
             source=f"{DOC} §5.3 (the formula of §3 with the bias term)", expect="holds"),
    directional("sg.two_layer.dH1_dA1", H1, A1, dA1, step(A1) * dA1,
                source=f"{DOC} §5.3 (∂H_ij/∂A_kl is 1 when i = k, j = l and A_kl > 0, else 0)", expect="holds"),
    identity("sg.two_layer.dA1", grad(L2, A1), step(A1) * grad(L2, H1), source=f"{DOC} §5.3", expect="holds"),
    identity("sg.two_layer.dH1_chain", grad(L2, H1), grad(L2, A2) @ W2.T, source=f"{DOC} §5.3", expect="holds"),
    gradient("sg.two_layer.dA2", L2, A2, (1 / N) * (P2 - Y), source=f"{DOC} §5.3", expect="holds"),
    gradient("sg.two_layer.dA2.literal_loss", -(1 / N) * sum(Y * log(P2), 0), A2, (1 / N) * (P2 - Y),
             source=f"{DOC} §5.2–5.3 (L_ce = −(1/N) Σ_i Y_i ⊙ log P_i read literally, and ∂L_ce/∂A^(2) = (1/N)(P − Y))",
             expect="fails",
             note="As in §4.2 (claim sg.softmax_ce.dZ.literal_loss): Σ_i Y_i ⊙ log P_i sums row vectors and is a "
                  "1 × C vector, which has no gradient. With the sum over classes too, ∂L_ce/∂A^(2) = (1/N)(P − Y) "
                  "holds (claim sg.two_layer.dA2)."),
    gradient("sg.two_layer.dH1", L2, H1, (1 / N) * (P2 - Y) @ W2.T, source=f"{DOC} §5.3", expect="holds"),
    gradient("sg.two_layer.dW1.literal", L2, W1, X.T @ ((step(A1) * ((1 / N) * (P2 - Y))) @ W2.T),
             source=f"{DOC} §5.3 (first line, literal reading)", expect="fails",
             note="Without brackets, (A1 > 0) ⊙ (1/N)(P − Y) (W2)ᵀ reads as ((A1 > 0) ⊙ (1/N)(P − Y)) W2ᵀ, "
                  "a Hadamard product of an N×M and an N×C matrix. The intended reading is "
                  "(A1 > 0) ⊙ ((1/N)(P − Y) W2ᵀ) (claim sg.two_layer.dW1.intended)."),
    gradient("sg.two_layer.dW1.intended", L2, W1, X.T @ (step(A1) * ((1 / N) * (P2 - Y) @ W2.T)),
             source=f"derivcheck reading of {DOC} §5.3 (first line, bracketed as (A1 > 0) ⊙ ((1/N)(P − Y) W2ᵀ))",
             expect="holds"),
    gradient("sg.two_layer.dW1", L2, W1, (1 / N) * X.T @ (step(A1) * ((P2 - Y) @ W2.T)),
             source=f"{DOC} §5.3 (second line)", expect="holds"),
    gradient("sg.two_layer.dW2", L2, W2, H1.T @ ((1 / N) * (P2 - Y)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
    gradient("sg.two_layer.db2", L2, b2, ones(N, 1).T @ ((1 / N) * (P2 - Y)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
    gradient("sg.two_layer.db1", L2, b1, ones(N, 1).T @ (step(A1) * ((1 / N) * (P2 - Y) @ W2.T)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
]

CLAIMS = section3 + softmax_ce + two_layer

KERNELS = [
    Kernel("sg_softmax_regression", "Softmax regression with cross-entropy averaged over the N rows (one-hot Y).",
           inputs=(X, Y), params=(W,), loss=L, gradients={"W": "sg.softmax_ce.dW"}, source=f"{DOC} §4.3"),
    Kernel("sg_two_layer", "Two-layer network: ReLU hidden layer, softmax output, cross-entropy, biases broadcast "
           "by a ones vector.", inputs=(X, Y), params=(W1, b1, W2, b2), loss=L2,
           gradients={"W1": "sg.two_layer.dW1", "b1": "sg.two_layer.db1", "W2": "sg.two_layer.dW2",
                      "b2": "sg.two_layer.db2"}, source=f"{DOC} §5"),
]
