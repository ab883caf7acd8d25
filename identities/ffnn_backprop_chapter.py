"""ffnn_backprop_chapter: feed-forward networks, one observation at a time and batched.

Conventions of the document: column vectors; a layer is h = W z + c with W of
shape (D_out, D_in) and c a column, z = f(h) elementwise; derivatives are in
numerator layout (∂y/∂x is m × n for y in R^m, x in R^n), so the derivative
of a scalar loss w.r.t. a vector is a row (``jacobian`` claims); a derivative
w.r.t. a matrix W is stated in W's shape (``gradient`` claims).  The loss of
a vector output is a vector of per-output losses; its derivative written as a
row is the derivative of their sum, which is how the claims read it (the
literal Jacobian of the loss vector is encoded too).  §3 feeds all N
observations at once as columns: Xᵀ is (D_x, N), H = W Z + c adds the column
c to every column (NumPy broadcasting), and the loss is summed over outputs
and observations.

The network of §1.2 / §2.3 has one hidden ReLU layer and a sigmoid output
with log loss: x → h1 = W1 x + c1 → z1 = ReLU(h1) → h2 = W2 z1 + c2 → ŷ = σ(h2).
"derivcheck" in a source marks a claim the document does not state.
"""
from derivcheck import (Kernel, define, derivation, diag, dims, directional, exp, eye, grad, gradient, identity, jacobian,
                        jacobian_of, log, matrix, relu, sigmoid, step, sum, value)

DOC = "ffnn_backprop_chapter"

Dx, D1, Dy, Da, Db, N = dims("Dx D1 Dy Da Db N")

# ---------------------------------------------------------------- §1.3 activation functions
t = matrix("t", 1, 1)  # a scalar argument
Wx1, Wx2, xs = matrix("W1", 2, 1), matrix("W2", 1, 2), matrix("x", 1, 1)
example = relu(Wx1 @ xs)
activation = [
    value("ffnn.relu_example.z1_positive", example, {"W1": [[1], [-1]], "x": [[2.5]]}, [[2.5], [0]],
          source=f"{DOC} §1.3 (x_n = c > 0 gives z1 = (c, 0), c = 2.5)", expect="holds"),
    value("ffnn.relu_example.y_positive", Wx2 @ example, {"W1": [[1], [-1]], "W2": [[1, 1]], "x": [[2.5]]},
          2.5, source=f"{DOC} §1.3 (y = c = |x_n|, c = 2.5)", expect="holds"),
    value("ffnn.relu_example.y_negative", Wx2 @ example, {"W1": [[1], [-1]], "W2": [[1, 1]], "x": [[-2.5]]},
          2.5, source=f"{DOC} §1.3 (x_n = −c gives y = c = |x_n|)", expect="holds"),
    gradient("ffnn.relu_prime", relu(t), t, step(t), source=f"{DOC} §1.3 (ReLU′ is 1 for x > 0, 0 for x ≤ 0)",
             expect="holds"),
    derivation("ffnn.sigmoid_prime", [
        grad(sigmoid(t), t),
        exp(-t) / (1 + exp(-t)) ** 2,
        1 / (1 + exp(-t)) * (exp(-t) / (1 + exp(-t))),
        sigmoid(t) * (1 - sigmoid(t)),
    ], source=f"{DOC} §1.3 (the sigmoid derivative in terms of itself)", expect="holds"),
    gradient("ffnn.linear_prime", t, t, 1, source=f"{DOC} §1.3 (the linear activation f(x) = x has derivative 1)",
             expect="holds"),
]

# ---------------------------------------------------------------- §2.2 one observation
y = matrix("y", Dy, 1, assume="binary")
yhat = matrix("yhat", Dy, 1, assume="probability")  # the prediction as a free variable (§2.2.1)
L_rss = (y - yhat) ** 2  # a vector of losses, one per output
L_log = -(y * log(yhat) + (1 - y) * log(1 - yhat))

losses = [
    jacobian("ffnn.rss_prime", sum(L_rss), yhat, -2 * (y - yhat).T,
             source=f"derivcheck reading of {DOC} §2.2.1 (∂L_RSS/∂ŷ = −2(y − ŷ)ᵀ as the derivative of the summed "
                    "loss)", expect="holds"),
    jacobian("ffnn.rss_prime.loss_vector", L_rss, yhat, -2 * (y - yhat).T,
             source=f"{DOC} §2.2.1 (literal: the Jacobian of the vector of losses)", expect="fails",
             note="Read literally, the loss is a vector of D_y losses and its derivative in numerator layout is "
                  "the D_y × D_y matrix diag(−2(y − ŷ)), not a row. The row −2(y − ŷ)ᵀ is the derivative of "
                  "the summed loss (claim ffnn.rss_prime)."),
    jacobian("ffnn.log_prime", sum(L_log), yhat, (-y / yhat + (1 - y) / (1 - yhat)).T,
             source=f"derivcheck reading of {DOC} §2.2.1 (∂L_Log/∂ŷ as the derivative of the summed loss)",
             expect="holds"),
    jacobian("ffnn.log_prime.loss_vector", L_log, yhat, (-y / yhat + (1 - y) / (1 - yhat)).T,
             source=f"{DOC} §2.2.1 (literal: the Jacobian of the vector of losses)", expect="fails",
             note="As for RSS: the Jacobian of the loss vector is a diagonal D_y × D_y matrix; the row is the "
                  "derivative of the summed loss (claim ffnn.log_prime)."),
]

h = matrix("h", D1, 1)
Wl, zl, cl = matrix("W", Db, Da), matrix("z", Da, 1), matrix("c", Db, 1)
dWl = matrix("dW", Db, Da)
hl = define("h", Wl @ zl + cl)
layer = [
    jacobian("ffnn.dz_dh.relu", relu(h), h, diag(step(h)), source=f"{DOC} §2.2.2 (diag(h > 0))", expect="holds"),
    jacobian("ffnn.dz_dh.sigmoid", sigmoid(h), h, diag(sigmoid(h) * (1 - sigmoid(h))),
             source=f"{DOC} §2.2.2 (diag(σ(h)(1 − σ(h))))", expect="holds"),
    jacobian("ffnn.dz_dh.linear", h, h, eye(D1), source=f"{DOC} §2.2.2 (I for the linear activation)",
             expect="holds"),
    jacobian("ffnn.dh_dc", hl, cl, eye(Db), source=f"{DOC} §2.2.3 (∂h/∂c = I)", expect="holds"),
    directional("ffnn.dh_dW", hl, Wl, dWl, dWl @ zl,
                source=f"{DOC} §2.2.3 (∂h_i/∂W has zᵀ in row i and zeros elsewhere)", expect="holds"),
    jacobian("ffnn.dh_dz", hl, zl, Wl, source=f"{DOC} §2.2.4 (∂h/∂z = W)", expect="holds"),
]

# the network of §1.2 and §2.3
x = matrix("x", Dx, 1)
W1, c1 = matrix("W1", D1, Dx), matrix("c1", D1, 1)
W2, c2 = matrix("W2", Dy, D1), matrix("c2", Dy, 1)
h1 = define("h1", W1 @ x + c1)
z1 = define("z1", relu(h1))
h2 = define("h2", W2 @ z1 + c2)
yh = define("yhat", sigmoid(h2))
Lnet = define("L", sum(-(y * log(yh) + (1 - y) * log(1 - yh))))
sig_prime_h2 = sigmoid(h2) * (1 - sigmoid(h2))
doc_factor = y / yh + (1 - y) / (1 - yh)  # §2.3 writes −(y/ŷ + (1 − y)/(1 − ŷ)); §2.2.1 had −y/ŷ + (1 − y)/(1 − ŷ)
true_factor = -y / yh + (1 - y) / (1 - yh)

chain = [
    identity("ffnn.chain.c_L", jacobian_of(Lnet, c2),
             jacobian_of(Lnet, yh) @ jacobian_of(yh, h2) @ jacobian_of(h2, c2),
             source=f"{DOC} §2.1 (∂L/∂c^L by the chain rule: 'the gradient of c^L is equivalent')", expect="holds"),
    identity("ffnn.chain.c_L-1", jacobian_of(Lnet, c1),
             jacobian_of(Lnet, yh) @ jacobian_of(yh, h2) @ jacobian_of(h2, z1) @ jacobian_of(z1, h1)
             @ jacobian_of(h1, c1),
             source=f"derivcheck reading of {DOC} §2.1 (the five-factor chain for W^(L-1), with c^(L-1) in place of "
                    "W^(L-1): ∂h/∂W is a three-index tensor)", expect="holds"),
    identity("ffnn.chain.nabla_h", jacobian_of(Lnet, c1),
             jacobian_of(Lnet, h2) @ jacobian_of(h2, z1) @ jacobian_of(z1, h1) @ jacobian_of(h1, c1),
             source=f"derivcheck reading of {DOC} §2.1 (a recorded ∇h reused one layer down, as the document does "
                    "for W^(L-2); with c for W on the two-layer network)", expect="holds"),
]

sign_note = ("Sign error inside the bracket: §2.2.1 has ∂L/∂ŷ = (−y/ŷ + (1 − y)/(1 − ŷ))ᵀ, but §2.3 writes "
             "−(y/ŷ + (1 − y)/(1 − ŷ))ᵀ.")
combining = [
    gradient("ffnn.s2_3.dW2", Lnet, W2, -(doc_factor * sig_prime_h2) @ z1,
             source=f"{DOC} §2.3 (∂L/∂W^(2), last line: row i is −(y_i/ŷ_i + (1 − y_i)/(1 − ŷ_i)) σ′(h_i) · z^(1), "
                    "in R^(n2 × n1))", expect="fails",
             note="As written each row is a number times z^(1), a column, so the rows are columns and the product "
                  "of the column of numbers with z^(1) is not defined; R^(n2 × n1) needs z^(1)ᵀ (claim "
                  "ffnn.s2_3.dW2.transposed, which still has the sign error). Correct: ((−y/ŷ + (1 − y)/(1 − ŷ)) "
                  "⊙ σ′(h^(2))) z^(1)ᵀ = (ŷ − y) z^(1)ᵀ (claim ffnn.s2_3.dW2.corrected)."),
    gradient("ffnn.s2_3.dW2.transposed", Lnet, W2, -(doc_factor * sig_prime_h2) @ z1.T,
             source=f"derivcheck reading of {DOC} §2.3 (the last line of ∂L/∂W^(2) with z^(1)ᵀ in each row, as its "
                    "shape R^(n2 × n1) says)", expect="fails", note=sign_note + " Correct: claim "
                                                                            "ffnn.s2_3.dW2.corrected."),
    gradient("ffnn.s2_3.dW2.corrected", Lnet, W2, (true_factor * sig_prime_h2) @ z1.T,
             source=f"derivcheck correction of {DOC} §2.3", expect="holds"),
    jacobian("ffnn.s2_3.dc2.middle", Lnet, c2, -doc_factor.T @ diag(sig_prime_h2) @ eye(Dy),
             source=f"{DOC} §2.3 (∂L/∂c^(2), second line)", expect="fails",
             note="The same sign error as in ∂L/∂W^(2): the bracket should be (−y/ŷ + (1 − y)/(1 − ŷ))ᵀ."),
    jacobian("ffnn.s2_3.dc2", Lnet, c2, -(doc_factor * sig_prime_h2),
             source=f"{DOC} §2.3 (∂L/∂c^(2), last line: a column in R^(n2), in the chapter's numerator layout)",
             expect="fails",
             note="In the numerator layout the chapter declares (and its own second line uses), ∂L/∂c^(2) is a "
                  "1 × n2 row; the last line stacks the entries as a column in R^(n2). It also carries the sign "
                  "error: read as a column (claim ffnn.s2_3.dc2.as_column) it is still wrong. Correct: "
                  "(ŷ − y)ᵀ (claim ffnn.s2_3.dc2.corrected)."),
    gradient("ffnn.s2_3.dc2.as_column", Lnet, c2, -(doc_factor * sig_prime_h2),
             source=f"derivcheck reading of {DOC} §2.3 (the last line of ∂L/∂c^(2) as a column gradient)",
             expect="fails", note=sign_note + " Correct: (−y/ŷ + (1 − y)/(1 − ŷ)) ⊙ σ′(h^(2)) = ŷ − y."),
    jacobian("ffnn.s2_3.dc2.corrected", Lnet, c2, (yh - y).T, source=f"derivcheck correction of {DOC} §2.3",
             expect="holds"),
]

# ---------------------------------------------------------------- §3 combining observations
xa, xb = matrix("xa", Dx, 1), matrix("xb", Dx, 1)
ya, yb = matrix("ya", Dy, 1, assume="binary"), matrix("yb", Dy, 1, assume="binary")


def net_loss(xv, yv, tag):
    p = define(f"yhat_{tag}", sigmoid(W2 @ relu(W1 @ xv + c1) + c2))
    return define(f"L_{tag}", sum(-(yv * log(p) + (1 - yv) * log(1 - p))))


La, Lb = net_loss(xa, ya, "a"), net_loss(xb, yb, "b")

XT = matrix("XT", Dx, N)  # Xᵀ: one observation per column
YT = matrix("YT", Dy, N, assume="binary")
H1 = define("H1", W1 @ XT + c1)
Z1 = define("Z1", relu(H1))
H2 = define("H2", W2 @ Z1 + c2)
YhT = define("YhatT", sigmoid(H2))
Lvec = define("Lvec", sum(-(YT * log(YhT) + (1 - YT) * log(1 - YhT)), 1))  # one loss per output, summed over n
Ltot = define("L", sum(Lvec))

e_j = matrix("e_j", D1, 1, assume="one_hot_columns")  # picks one index j of the hidden layer

batched = [
    identity("ffnn.s3.H_L_without_c", H2, W2 @ Z1,
             source=f"{DOC} §3.2 (\"Since H^L = W^L Z^(L-1)\")", expect="fails",
             note="The intercept is dropped: §3.1 adds c^L to every column (H^L = W^L Z^(L-1) + c^L). Harmless for "
                  "∂L/∂W^L, which does not depend on c^L (claim ffnn.s3.dW_L)."),
    identity("ffnn.s3.H_L_entry", W2 @ Z1, (W2 @ e_j) @ (e_j.T @ Z1),
             source=f"{DOC} §3.2 (H^L_in = W^L_ij Z^(L-1)_jn for all n, j one hidden index)", expect="fails",
             note="The sum over j is missing: (W Z)_in = Σ_j W_ij Z_jn, not one term W_ij Z_jn. The derivative the "
                  "document takes from it, ∂H_in/∂W_ij = Z_jn, is right either way (claim ffnn.s3.dW_L)."),
    identity("ffnn.s3.sum_of_observations", grad(La + Lb, W2), grad(La, W2) + grad(Lb, W2),
             source=f"{DOC} §3 (the derivative of a sum of losses is the sum of their derivatives)", expect="holds"),
    identity("ffnn.s3.dH_L", grad(Ltot, H2), grad(Ltot, YhT) * (YhT * (1 - YhT)),
             source=f"{DOC} §3.2 (∂L/∂H^L = ∂L/∂Ŷᵀ ∘ ∂Ŷᵀ/∂H^L)", expect="holds"),
    identity("ffnn.s3.dc_L", grad(Ltot, c2), sum(grad(Ltot, H2), 1),
             source=f"{DOC} §3.2 (∂L/∂c^L_i = Σ_n (∇H^L)_in)", expect="holds"),
    identity("ffnn.s3.dc.literal_c1", grad(Ltot, c1), sum(grad(Ltot, H2), 1),
             source=f"{DOC} §3.2 ('the derivative … with respect to c^(1) is just the row sum of ∂L/∂H^L')",
             expect="fails",
             note="Read literally this is about c^(1), the first layer's intercept, and does not even typecheck "
                  "(D1 against Dy rows). The surrounding text is about c^(L): the row sum of ∂L/∂H^L is "
                  "∂L/∂c^(L) (claim ffnn.s3.dc_L)."),
    identity("ffnn.s3.dW_L", grad(Ltot, W2), grad(Ltot, H2) @ Z1.T,
             source=f"{DOC} §3.2 (∂L/∂W^L_ij = Σ_n (∇H^L)_in Z^(L-1)_jn)", expect="holds"),
    identity("ffnn.s3.dZ_L-1", grad(Ltot, Z1), W2.T @ grad(Ltot, H2),
             source=f"{DOC} §3.2 (∂L/∂Z^(L-1)_in = Σ_r (∇H^L)_rn W^L_ri)", expect="holds"),
]

# The complete batched gradients of the §3 network (what a kernel computes), derived by derivcheck:
# log loss with a sigmoid output, and RSS with a linear output.
dH2 = define("dH2", YhT - YT)
dH1 = define("dH1", (W2.T @ dH2) * step(H1))
Lrss = define("L_rss", sum((YT - H2) ** 2))
dH2r = define("dH2_rss", -2 * (YT - H2))
dH1r = define("dH1_rss", (W2.T @ dH2r) * step(H1))
src = f"derivcheck: {DOC} §3 network"
kernels = [
    gradient("ffnn.batch.log.W2", Ltot, W2, dH2 @ Z1.T, source=src, expect="holds"),
    gradient("ffnn.batch.log.c2", Ltot, c2, sum(dH2, 1), source=src, expect="holds"),
    gradient("ffnn.batch.log.W1", Ltot, W1, dH1 @ XT.T, source=src, expect="holds"),
    gradient("ffnn.batch.log.c1", Ltot, c1, sum(dH1, 1), source=src, expect="holds"),
    gradient("ffnn.batch.rss.W2", Lrss, W2, dH2r @ Z1.T, source=src, expect="holds"),
    gradient("ffnn.batch.rss.c2", Lrss, c2, sum(dH2r, 1), source=src, expect="holds"),
    gradient("ffnn.batch.rss.W1", Lrss, W1, dH1r @ XT.T, source=src, expect="holds"),
    gradient("ffnn.batch.rss.c1", Lrss, c1, sum(dH1r, 1), source=src, expect="holds"),
]

CLAIMS = activation + losses + layer + chain + combining + batched + kernels

KERNELS = [
    Kernel("ffnn_log_loss", "Batched network, one observation per column: ReLU hidden layer, sigmoid output, log "
           "loss summed over outputs and observations.", inputs=(XT, YT), params=(W1, c1, W2, c2), loss=Ltot,
           gradients={"W1": "ffnn.batch.log.W1", "c1": "ffnn.batch.log.c1", "W2": "ffnn.batch.log.W2",
                      "c2": "ffnn.batch.log.c2"}, source=f"{DOC} §3", replaces={"W2": "ffnn.s2_3.dW2"}),
    Kernel("ffnn_rss", "Batched network, one observation per column: ReLU hidden layer, linear output, residual "
           "sum of squares.", inputs=(XT, YT), params=(W1, c1, W2, c2), loss=Lrss,
           gradients={"W1": "ffnn.batch.rss.W1", "c1": "ffnn.batch.rss.c1", "W2": "ffnn.batch.rss.W2",
                      "c2": "ffnn.batch.rss.c2"}, source=f"{DOC} §3"),
]
