"""matrix_calculus_survival_guide: softmax + cross-entropy, and a two-layer ReLU + softmax network.

Conventions of the document: X is (N, D), rows are samples; Y is (N, C) with
one-hot rows; W is (D, C); biases are rows added through the ones vector
1_N (written ``ones(N, 1) @ b``); softmax is row-wise; gradients have the
shape of the variable (denominator layout).

Starter set for the core issue: §4 (softmax + cross-entropy gives (P − Y)/N,
and the assumption it needs) and §5.3 (the two-layer gradient, with the
bracket-free ⊙ encoded in both readings).  Claims whose source says
"derivcheck" are added by derivcheck, not written in the document.
"""
from derivcheck import define, dims, gradient, log, matrix, ones, relu, softmax, step, sum

DOC = "matrix_calculus_survival_guide"

N, D, C, M = dims("N D C M")

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

softmax_ce = [
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
             source=f"derivcheck variant of {DOC} §4.3", expect="holds",
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

two_layer = [
    gradient("sg.two_layer.dA2", L2, A2, (1 / N) * (P2 - Y), source=f"{DOC} §5.3", expect="holds"),
    gradient("sg.two_layer.dH1", L2, H1, (1 / N) * (P2 - Y) @ W2.T, source=f"{DOC} §5.3", expect="holds"),
    gradient("sg.two_layer.dW1.literal", L2, W1, X.T @ ((step(A1) * ((1 / N) * (P2 - Y))) @ W2.T),
             source=f"{DOC} §5.3 (first line, literal reading)", expect="fails",
             note="Without brackets, (A1 > 0) ⊙ (1/N)(P − Y) (W2)ᵀ reads as ((A1 > 0) ⊙ (1/N)(P − Y)) W2ᵀ, "
                  "a Hadamard product of an N×M and an N×C matrix. The intended reading is "
                  "(A1 > 0) ⊙ ((1/N)(P − Y) W2ᵀ) (claim sg.two_layer.dW1.intended)."),
    gradient("sg.two_layer.dW1.intended", L2, W1, X.T @ (step(A1) * ((1 / N) * (P2 - Y) @ W2.T)),
             source=f"{DOC} §5.3 (first line, intended reading)", expect="holds"),
    gradient("sg.two_layer.dW1", L2, W1, (1 / N) * X.T @ (step(A1) * ((P2 - Y) @ W2.T)),
             source=f"{DOC} §5.3 (second line)", expect="holds"),
    gradient("sg.two_layer.dW2", L2, W2, H1.T @ ((1 / N) * (P2 - Y)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
    gradient("sg.two_layer.db2", L2, b2, ones(N, 1).T @ ((1 / N) * (P2 - Y)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
    gradient("sg.two_layer.db1", L2, b1, ones(N, 1).T @ (step(A1) * ((1 / N) * (P2 - Y) @ W2.T)),
             source=f"derivcheck: {DOC} §5 network", expect="holds"),
]

CLAIMS = softmax_ce + two_layer
