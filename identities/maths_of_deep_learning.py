"""maths_of_deep_learning: perceptron, gradient descent, scalar and matrix backprop, softmax + CE, NumPy.

Conventions of the document, read by the policy of identities/README.md:
chapters 2–7 use column vectors, a layer is z = W a + b with W of shape
(n_out, n_in) and b a column; σ is the sigmoid (σ′(z) is written here as
σ(z)(1 − σ(z)), the document's ``derv_sigmoid``).  Chapter 4's worked examples
are scalars (1 × 1 matrices).  The derivative of the scalar cost w.r.t. a
column is the column the document writes for it (∂C/∂a = (a − y),
δ = ∂C/∂z = … ⊙ σ′(z), ∂C/∂W = δ aᵀ); the derivative of a vector w.r.t. a
vector is the Jacobian J_ij = ∂f_i/∂x_j of §6.2; a product written between
them is a matrix product, so the chains δ2 = ∂C/∂z3 · ∂z3/∂z2 of §5.3.1 and
§7.3 do not typecheck as written (a column times a matrix), and their row
(numerator-layout) reading is derivcheck's.  "∂a/∂z = σ′(z)" is encoded as
written (a Jacobian claim, ill-formed: the Jacobian is diag(σ′(z))), also
inside products.  "∂z/∂W = F" (a vector by a matrix, a tensor) is read as the
factor the document uses it as: ∂C/∂W = ∂C/∂z · F.  Unbracketed products
are read left to right.  Chapter 7's softmax acts on the column z
(``softmax(z.T).T``); the target y is one-hot, encoded as the transpose of a
one-hot row.  Chapter 8 declares the row/batch convention of NumPy code for
itself (X is (B, D), Z = X W, no biases): its displayed equations and the
§8.1 program's comments alike are read in it, for the §8.1 network.

The §8.1 program is transcribed in ``_program_8_1`` (the text conversion lost
its indentation: the loop body runs through the weight update and the
"New output" print follows the loop, the only reading that reproduces the
printed numbers); its printed outputs are value claims on the forward pass
evaluated at the weights the program reaches.
"derivcheck" in a source marks a claim the document does not state.
"""
import numpy as np

from derivcheck import (Kernel, define, derivation, diag, dims, directional, exp, eye, gradient, grad, identity, inner, jacobian,
                        jacobian_of, log, matrix, ones, sigmoid, softmax, step, sum, value)

DOC = "maths_of_deep_learning"


def dsig(z):
    """σ′(z) for the sigmoid, as the document's derv_sigmoid computes it."""
    return sigmoid(z) * (1 - sigmoid(z))


def scalar(name):
    return matrix(name, 1, 1)


# ---------------------------------------------------------------- §2 vectors and the dot product
n, = dims("n")
av, bv = matrix("a", n, 1), matrix("b", n, 1)
a3, b3 = matrix("a", 3, 1), matrix("b", 3, 1)
vectors = [
    identity("mdl.s2_1_2.column_equals_row", a3, a3.T, source=f"{DOC} §2.1.2 (a = [a1; a2; a3] = [a1 a2 a3])",
             expect="fails",
             note="As matrices a column (3 × 1) and a row (1 × 3) are not equal; the document means that a vector "
                  "can be written either way. Every later formula depends on which one is meant."),
    identity("mdl.s2_1_4.dot.index", inner(a3, b3), sum(a3 * b3),
             source=f"{DOC} §2.1.4 (a·b = a1b1 + a2b2 + a3b3 = a_i b_i)", expect="holds"),
    identity("mdl.s2_1_4.dot.matrix", inner(av, bv), av.T @ bv,
             source=f"{DOC} §2.1.4 (a·b = [a1 a2 a3][b1; b2; b3], a row times a column)", expect="holds"),
]

# ---------------------------------------------------------------- §3 perceptron
w, x = matrix("w", n, 1), matrix("x", n, 1)
eta, ytarget = scalar("eta"), scalar("y")
perceptron_rule = w + eta * (ytarget - step(w.T @ x)) * x  # §3.1.3: w = w + η·error·x, ŷ = step(w·x)
case1 = {"w": [[-1.0], [0.5]], "x": [[1.0], [0.5]], "eta": [[1.0]], "y": [[1.0]], "n": 2}  # w·x = −0.75 < 0
case2 = {"w": [[1.0], [0.5]], "x": [[1.0], [0.5]], "eta": [[1.0]], "y": [[0.0]], "n": 2}  # w·x = 1.25 > 0
case2_minus = dict(case2, y=[[-1.0]])  # Case 2's other label, y = −1
perceptron = [
    identity("mdl.s3_1_2.false_negative.rotates_towards", inner(w + x, x), inner(w, x) + inner(x, x),
             source=f"{DOC} §3.1.2 (Case 1: adding x to w increases the dot product with x, by |x|²)",
             expect="holds"),
    identity("mdl.s3_1_2.false_positive.rotates_away", inner(w - x, x), inner(w, x) - inner(x, x),
             source=f"{DOC} §3.1.2 (Case 2: subtracting x decreases the dot product with x, by |x|²)",
             expect="holds"),
    value("mdl.s3_1_3.rule.case1", perceptron_rule, case1, [[0.0], [1.0]],
          source=f"{DOC} §3.1.3 (the single update rule with η = 1 gives Case 1's w + x; w = (−1, 0.5), x = (1, 0.5))",
          expect="holds"),
    value("mdl.s3_1_3.rule.case2", perceptron_rule, case2, [[0.0], [0.0]],
          source=f"{DOC} §3.1.3 (the single update rule with η = 1, y = 0 gives Case 2's w − x; w = (1, 0.5))",
          expect="holds"),
    value("mdl.s3_1_3.rule.case2_y_minus_one", perceptron_rule, case2_minus, [[0.0], [0.0]],
          source=f"{DOC} §3.1.2–3.1.3 (Case 2 is 'y = 0 or −1'; the single rule is said to combine both cases)",
          expect="fails",
          note="With the label y = −1 that Case 2 allows, error = y − ŷ = −1 − 1 = −2 and the single rule gives "
               "w − 2ηx, not Case 2's w − x: the combined rule reproduces Case 2 only for labels in {0, 1} "
               "(claim mdl.s3_1_3.rule.case2)."),
]

# ---------------------------------------------------------------- §4.1 chain of functions
n0, n1, n2, n3 = dims("n0 n1 n2 n3")
x0 = matrix("x", n0, 1)
L1, L2, L3 = matrix("W1", n1, n0), matrix("W2", n2, n1), matrix("W3", n3, n2)
chain_of_functions = [
    identity("mdl.s4_1_1_1.linear_collapse", L3 @ (L2 @ (L1 @ x0)), (L3 @ L2 @ L1) @ x0,
             source=f"{DOC} §4.1.1.1 (without activations W_L ⋯ W_1 x collapses to W x with W = W_L ⋯ W_1; L = 3)",
             expect="holds"),
]

# ---------------------------------------------------------------- §4.3 the worked example
xs, w1, b1, w2, b2, Lt, alpha = (scalar(s) for s in ("x", "w1", "b1", "w2", "b2", "L_target", "alpha"))
z = define("z", xs * w1 + b1)
Lg = define("L", z * w2 + b2)
E_err = (Lg - Lt) ** 2 / 2
numbers = {"x": [[2.0]], "b1": [[1.0]], "b2": [[0.5]], "w1": [[0.5]], "w2": [[1.5]], "L_target": [[5.0]]}
w1_new = w1 + alpha * grad(Lg, w1)
w2_new = w2 + alpha * grad(Lg, w2)
z_new = xs * w1_new + b1
L_new = z_new * w2_new + b2


def at(**kw):
    out = dict(numbers)
    out.update({k: [[v]] for k, v in kw.items()})
    return out


def shifted(dw1=0.0, dw2=0.0):
    """L with w1, w2 moved by the given amounts (for 'if we increase w1 by 0.1 …')."""
    return (xs * (w1 + dw1) + b1) * (w2 + dw2) + b2


s43 = f"{DOC} §4.3"
worked = [
    value("mdl.s4_3_1.z", z, at(), 2.0, source=f"{s43}.1 (z = 2.0 × 0.5 + 1.0 = 2.0)", expect="holds"),
    value("mdl.s4_3_1.L", Lg, at(), 3.5, source=f"{s43}.1 (L = 2.0 × 1.5 + 0.5 = 3.5)", expect="holds"),
    value("mdl.s4_3_1.E", E_err, at(), 1.125, source=f"{s43}.1 (E = ½(3.5 − 5.0)² = ½(−1.5)² = 1.125)",
          expect="holds"),
    identity("mdl.s4_3_4.chain", grad(Lg, w1), grad(Lg, z) * grad(z, w1),
             source=f"{s43}.4 (∂L/∂w1 = ∂L/∂z · ∂z/∂w1)", expect="holds"),
    gradient("mdl.s4_3_4.dL_dz", Lg, z, w2, source=f"{s43}.4 (∂L/∂z = w2)", expect="holds"),
    value("mdl.s4_3_4.dL_dz.value", grad(Lg, z), at(), 1.5, source=f"{s43}.4 (∂L/∂z = w2 = 1.5)", expect="holds"),
    gradient("mdl.s4_3_4.dz_dw1", z, w1, xs, source=f"{s43}.4 (∂z/∂w1 = x)", expect="holds"),
    value("mdl.s4_3_4.dz_dw1.value", grad(z, w1), at(), 2.0, source=f"{s43}.4 (∂z/∂w1 = x = 2.0)", expect="holds"),
    value("mdl.s4_3_4.dL_dw1.value", grad(Lg, w1), at(), 3.0, source=f"{s43}.4 (∂L/∂w1 = 1.5 × 2.0 = 3.0)",
          expect="holds"),
    value("mdl.s4_3_4.nudge_w1", shifted(dw1=0.1) - Lg, at(), 0.3,
          source=f"{s43}.4 (increasing w1 by 0.1 increases L by about 3.0 × 0.1 = 0.3; L is linear in w1)",
          expect="holds"),
    gradient("mdl.s4_3_4.dL_dw2", Lg, w2, z, source=f"{s43}.4 (∂L/∂w2 = z)", expect="holds"),
    value("mdl.s4_3_4.dL_dw2.value", grad(Lg, w2), at(), 2.0, source=f"{s43}.4 (∂L/∂w2 = z = 2.0)",
          expect="holds"),
    value("mdl.s4_3_4.nudge_w2", shifted(dw2=0.1) - Lg, at(), 0.2,
          source=f"{s43}.4 (increasing w2 by 0.1 increases L by about 2.0 × 0.1 = 0.2; L is linear in w2)",
          expect="holds"),
    value("mdl.s4_3_5.w1_new", w1_new, at(alpha=0.2), 1.1, source=f"{s43}.5 (w1 + 0.2 × 3.0 = 1.1)",
          expect="holds"),
    value("mdl.s4_3_5.w2_new", w2_new, at(alpha=0.2), 1.9, source=f"{s43}.5 (w2 + 0.2 × 2.0 = 1.9)",
          expect="holds"),
    value("mdl.s4_3_6.z_new", z_new, at(alpha=0.2), 3.2, source=f"{s43}.6 (z_new = 2.0 × 1.1 + 1.0 = 3.2)",
          expect="holds"),
    value("mdl.s4_3_6.L_new", L_new, at(alpha=0.2), 6.58, source=f"{s43}.6 (L_new = 3.2 × 1.9 + 0.5 = 6.58)",
          expect="holds"),
    value("mdl.s4_3_6.error_before", Lt - Lg, at(), 1.5, source=f"{s43}.6 (before: error from target 1.5)",
          expect="holds"),
    value("mdl.s4_3_6.error_after", Lt - L_new, at(alpha=0.2), -1.58,
          source=f"{s43}.6 (after: error from target −1.58, an overshoot)", expect="holds"),
    value("mdl.s4_3_6.smaller_rate.w1", w1_new, at(alpha=0.1), 0.8, source=f"{s43}.6 (α = 0.1: w1_new = 0.8)",
          expect="holds"),
    value("mdl.s4_3_6.smaller_rate.w2", w2_new, at(alpha=0.1), 1.7, source=f"{s43}.6 (α = 0.1: w2_new = 1.7)",
          expect="holds"),
    value("mdl.s4_3_6.smaller_rate.z", z_new, at(alpha=0.1), 2.6, source=f"{s43}.6 (α = 0.1: z_new = 2.6)",
          expect="holds"),
    value("mdl.s4_3_6.smaller_rate.L", L_new, at(alpha=0.1), 4.92, source=f"{s43}.6 (α = 0.1: L_new = 4.92)",
          expect="holds"),
]

# ---------------------------------------------------------------- §4.4 two-layer network, scalar form
y = scalar("y")
sz1 = define("z1", w1 * xs + b1)
sa1 = define("a1", sigmoid(sz1))
sz2 = define("z2", w2 * sa1 + b2)
sa2 = define("a2", sigmoid(sz2))
Cs = define("C", (y - sa2) ** 2 / 2)
delta2_s = -(y - sa2) * dsig(sz2)
delta1_s = delta2_s * w2 * dsig(sz1)
s44 = f"{DOC} §4.4"
scalar_network = [
    identity("mdl.s4_4.chain.w2", grad(Cs, w2), grad(Cs, sa2) * grad(sa2, sz2) * grad(sz2, w2),
             source=f"{s44} (∂C/∂w2 = ∂C/∂a2 · ∂a2/∂z2 · ∂z2/∂w2)", expect="holds"),
    gradient("mdl.s4_4.dC_da2", Cs, sa2, -(y - sa2), source=f"{s44} (∂C/∂a2 = −(y − a2))", expect="holds"),
    gradient("mdl.s4_4.da2_dz2", sa2, sz2, dsig(sz2), source=f"{s44} (∂a2/∂z2 = σ′(z2))", expect="holds"),
    gradient("mdl.s4_4.dz2_dw2", sz2, w2, sa1, source=f"{s44} (∂z2/∂w2 = a1)", expect="holds"),
    gradient("mdl.s4_4.dC_dw2", Cs, w2, -(y - sa2) * dsig(sz2) * sa1,
             source=f"{s44} (∂C/∂w2 = −(y − a2)σ′(z2)a1)", expect="holds"),
    gradient("mdl.s4_4.dC_dw2.delta", Cs, w2, delta2_s * sa1, source=f"{s44} (∂C/∂w2 = δ2 a1)", expect="holds"),
    gradient("mdl.s4_4.dC_db2", Cs, b2, delta2_s, source=f"{s44} (∂C/∂b2 = δ2 · 1 = δ2)", expect="holds"),
    identity("mdl.s4_4.chain.w1", grad(Cs, w1),
             grad(Cs, sa2) * grad(sa2, sz2) * grad(sz2, sa1) * grad(sa1, sz1) * grad(sz1, w1),
             source=f"{s44} (∂C/∂w1 as the five-factor chain w1 → z1 → a1 → z2 → a2 → C)", expect="holds"),
    gradient("mdl.s4_4.dz2_da1", sz2, sa1, w2, source=f"{s44} (∂z2/∂a1 = w2)", expect="holds"),
    gradient("mdl.s4_4.da1_dz1", sa1, sz1, dsig(sz1), source=f"{s44} (∂a1/∂z1 = σ′(z1))", expect="holds"),
    gradient("mdl.s4_4.dz1_dw1", sz1, w1, xs, source=f"{s44} (∂z1/∂w1 = x)", expect="holds"),
    gradient("mdl.s4_4.dC_dw1", Cs, w1, delta2_s * w2 * dsig(sz1) * xs,
             source=f"{s44} (∂C/∂w1 = δ2 · w2 · σ′(z1) · x)", expect="holds"),
    gradient("mdl.s4_4.dC_dw1.delta", Cs, w1, delta1_s * xs, source=f"{s44} (∂C/∂w1 = δ1 x)", expect="holds"),
    gradient("mdl.s4_4.dC_db1", Cs, b1, delta1_s, source=f"{s44} (∂C/∂b1 = δ1)", expect="holds"),
]

# ---------------------------------------------------------------- §5.3 three layers of vectors (and §6.4.1)
x = matrix("x", n0, 1)
W1, c1 = matrix("W1", n1, n0), matrix("b1", n1, 1)
W2, c2 = matrix("W2", n2, n1), matrix("b2", n2, 1)
W3, c3 = matrix("W3", n3, n2), matrix("b3", n3, 1)
yv = matrix("y", n3, 1)
dW3 = matrix("dW3", n3, n2)
v3 = matrix("v", n3, 1)
z1 = define("z1", W1 @ x + c1)
a1 = define("a1", sigmoid(z1))
z2 = define("z2", W2 @ a1 + c2)
a2 = define("a2", sigmoid(z2))
z3 = define("z3", W3 @ a2 + c3)
a3 = define("a3", sigmoid(z3))
C = define("C", sum((a3 - yv) ** 2) / 2)  # "C = ½(a3 − y)²" summed over the outputs
delta3 = (a3 - yv) * dsig(z3)
delta2 = (W3.T @ delta3) * dsig(z2)
delta1 = (W2.T @ delta2) * dsig(z1)
s53 = f"{DOC} §5.3"
s531 = f"{DOC} §5.3.1"
sigma_literal_note = ("As a derivative of the vector a w.r.t. the vector z this is the n × n Jacobian diag(σ′(z)), "
                      "not the column σ′(z); the column is its diagonal, which is what the document multiplies "
                      "elementwise (⊙) a few lines later. The Jacobian form is claim {}.")
rows_reading = ("derivcheck reading of {}: every factor a Jacobian, ∂C/∂… the 1 × n row (numerator layout), so "
                "that the product is defined{}")
chain_note = ("Read as the document's other lines read them, ∂C/∂L3 is a column (the gradient, like ∂C/∂a3 = "
              "(a3 − y)) and the product with the n3 × n2 Jacobian ∂L3/∂L2 is not defined; ∂L_i/∂W_i is a three-"
              "index tensor. This is derivcheck's reading: rows for the cost's derivatives, the bias in place of W.")
three_layers = [
    identity("mdl.s5_3.chain.W3", jacobian_of(C, c3), jacobian_of(C, a3) @ jacobian_of(a3, c3),
             source=rows_reading.format(f"{s53} ∂C/∂W3 = ∂C/∂L3 · ∂L3/∂W3", ", and the bias b3 in place of W3"),
             expect="holds", note=chain_note),
    identity("mdl.s5_3.chain.W2", jacobian_of(C, c2), jacobian_of(C, a3) @ jacobian_of(a3, a2) @ jacobian_of(a2, c2),
             source=rows_reading.format(f"{s53} ∂C/∂W2 = ∂C/∂L3 · ∂L3/∂L2 · ∂L2/∂W2", ", and b2 in place of W2"),
             expect="holds", note=chain_note),
    identity("mdl.s5_3.chain.W1", jacobian_of(C, c1),
             jacobian_of(C, a3) @ jacobian_of(a3, a2) @ jacobian_of(a2, a1) @ jacobian_of(a1, c1),
             source=rows_reading.format(f"{s53} ∂C/∂W1 = ∂C/∂L3 · ∂L3/∂L2 · ∂L2/∂L1 · ∂L1/∂W1",
                                        ", and b1 in place of W1"),
             expect="holds", note=chain_note),
    jacobian("mdl.s5_3_1.dC_da3.literal_loss", (a3 - yv) ** 2 / 2, a3, a3 - yv,
             source=f"{s531} (for MSE C = ½(a3 − y)², ∂C/∂a3 = (a3 − y); the square of a vector, read literally)",
             expect="fails",
             note="Read literally, ½(a3 − y)² squares a vector entry by entry: a vector of costs whose derivative is "
                  "the Jacobian diag(a3 − y), not the column (a3 − y). The document's cost is the scalar "
                  "½‖a3 − y‖² of §4.1.2 and §6.3.1, whose gradient is a3 − y (claim mdl.s5_3_1.dC_da3)."),
    gradient("mdl.s5_3_1.dC_da3", C, a3, a3 - yv,
             source=f"derivcheck reading of {s531} (∂C/∂a3 = (a3 − y) with C = ½‖a3 − y‖², the summed cost)",
             expect="holds"),
    jacobian("mdl.s5_3_1.da3_dz3", a3, z3, dsig(z3), source=f"{s531} (∂a3/∂z3 = σ′(z3))", expect="fails",
             note=sigma_literal_note.format("mdl.s5_3_1.jacobian_diag")),
    identity("mdl.s5_3_1.dz3_dW3", grad(C, W3), grad(C, z3) @ a2,
             source=f"{s531} (∂z3/∂W3 = a2, the last factor of ∂C/∂W3 = ∂C/∂a3 · ∂a3/∂z3 · ∂z3/∂W3 = δ3 · ∂z3/∂W3)",
             expect="fails",
             note="∂z3/∂W3 is a three-index tensor; the document uses it as the factor F in ∂C/∂W3 = δ3 · F. With "
                  "F = a2 (a column) δ3 · a2 does not typecheck; the document's own result two lines later is "
                  "δ3 · a2ᵀ (claim mdl.s5_3_1.dC_dW3), and §7.1.1 writes the same factor as (a^(l−1))ᵀ "
                  "(claim mdl.s7_1_1.dz_dW): the two passages contradict each other, and this one is wrong."),
    gradient("mdl.s5_3_1.delta3", C, z3, delta3, source=f"{s531} (δ3 = ∂C/∂z3 = (a3 − y) ⊙ σ′(z3))",
             expect="holds"),
    jacobian("mdl.s5_3_1.jacobian_diag", a3, z3, diag(dsig(z3)), source=f"{s531} (∂a/∂z = diag(σ′(z)))",
             expect="holds"),
    identity("mdl.s5_3_1.diag_is_hadamard", diag(dsig(z3)) @ v3, v3 * dsig(z3),
             source=f"{s531} (diag(σ′(z)) v = v ⊙ σ′(z))", expect="holds"),
    gradient("mdl.s5_3_1.dC_dW3", C, W3, delta3 @ a2.T, source=f"{s531} (∂C/∂W3 = δ3 · a2ᵀ)", expect="holds"),
    gradient("mdl.s5_3_1.dC_da.transpose", C, a2, W3.T @ grad(C, z3),
             source=f"{s531} (for z = W a + b, ∂C/∂a = Wᵀ ∂C/∂z)", expect="holds"),
    gradient("mdl.s5_3_1.dC_dW2.chain", C, W2, grad(C, z2) @ a1.T,
             source=f"{s531} Step 2 (∂C/∂W2 = ∂C/∂z2 · ∂z2/∂W2 = δ2 · a1ᵀ)", expect="holds"),
    identity("mdl.s5_3_1.delta2.chain", grad(C, z2), grad(C, z3) @ jacobian_of(z3, z2),
             source=f"{s531} Step 2 (δ2 = ∂C/∂z3 · ∂z3/∂z2, with ∂C/∂z3 = δ3 the column defined in Step 1)",
             expect="fails",
             note="δ3 = ∂C/∂z3 is the column (a3 − y) ⊙ σ′(z3), and a column times the n3 × n2 Jacobian ∂z3/∂z2 "
                  "is not defined. The document's own result is the transposed product δ2 = (W3ᵀ δ3) ⊙ σ′(z2) "
                  "(claim mdl.s5_3_1.delta2); with rows for ∂C/∂z the chain holds (claim "
                  "mdl.s5_3_1.delta2.chain.rows)."),
    identity("mdl.s5_3_1.delta2.chain.rows", jacobian_of(C, z2), jacobian_of(C, z3) @ jacobian_of(z3, z2),
             source=rows_reading.format(f"{s531} Step 2 δ2 = ∂C/∂z3 · ∂z3/∂z2", ""), expect="holds"),
    jacobian("mdl.s5_3_1.dz3_dz2", z3, z2, W3 @ dsig(z2), source=f"{s531} Step 2 (∂z3/∂z2 = W3 · σ′(z2))",
             expect="fails",
             note="W3 · σ′(z2) as a matrix product is a column (n3 × 1), but ∂z3/∂z2 is an n3 × n2 matrix. The "
                  "intended product is W3 diag(σ′(z2)): W3 with its columns scaled by σ′(z2) "
                  "(claim mdl.s5_3_1.dz3_dz2.diag)."),
    jacobian("mdl.s5_3_1.dz3_dz2.diag", z3, z2, W3 @ diag(dsig(z2)),
             source=f"derivcheck correction of {s531} Step 2 (∂z3/∂z2 = W3 diag(σ′(z2)))", expect="holds"),
    gradient("mdl.s5_3_1.delta2", C, z2, delta2, source=f"{s531} Step 2 (δ2 = (W3ᵀ · δ3) ⊙ σ′(z2))",
             expect="holds"),
    gradient("mdl.s5_3_1.dC_dW2", C, W2, delta2 @ a1.T, source=f"{s531} Step 2 (∂C/∂W2 = δ2 · a1ᵀ)",
             expect="holds"),
    gradient("mdl.s5_3_1.delta1", C, z1, delta1, source=f"{s531} Step 3 (δ1 = (W2ᵀ · δ2) ⊙ σ′(z1))",
             expect="holds"),
    gradient("mdl.s5_3_1.dC_dW1", C, W1, delta1 @ x.T, source=f"{s531} Step 3 (∂C/∂W1 = δ1 · xᵀ)",
             expect="holds"),
    gradient("mdl.s5_3_1.dC_db3", C, c3, delta3, source=f"derivcheck: {s531} network (∂C/∂b3 = δ3)",
             expect="holds"),
    gradient("mdl.s5_3_1.dC_db2", C, c2, delta2, source=f"derivcheck: {s531} network (∂C/∂b2 = δ2)",
             expect="holds"),
    gradient("mdl.s5_3_1.dC_db1", C, c1, delta1, source=f"derivcheck: {s531} network (∂C/∂b1 = δ1)",
             expect="holds"),
]

s641 = f"{DOC} §6.4.1"
summary = [
    gradient("mdl.s6_4_1.delta_L", C, z3, (a3 - yv) * dsig(z3),
             source=f"{s641} (δ^L = (a^L − y) ⊙ σ′(z^L), on the three-layer network of §5.3, L = 3)",
             expect="holds"),
    gradient("mdl.s6_4_1.recurrence.l2", C, z2, (W3.T @ grad(C, z3)) * dsig(z2),
             source=f"{s641} (δ^l = ((W^(l+1))ᵀ δ^(l+1)) ⊙ σ′(z^l) at l = 2, δ³ taken as ∂C/∂z³)", expect="holds"),
    gradient("mdl.s6_4_1.recurrence.l1", C, z1, (W2.T @ grad(C, z2)) * dsig(z1),
             source=f"{s641} (the recurrence at l = 1, δ² taken as ∂C/∂z²)", expect="holds"),
    gradient("mdl.s6_4_1.dW.l3", C, W3, grad(C, z3) @ a2.T, source=f"{s641} (∂C/∂W^l = δ^l (a^(l−1))ᵀ at l = 3)",
             expect="holds"),
    gradient("mdl.s6_4_1.dW.l2", C, W2, grad(C, z2) @ a1.T, source=f"{s641} (∂C/∂W^l = δ^l (a^(l−1))ᵀ at l = 2)",
             expect="holds"),
    gradient("mdl.s6_4_1.dW.l1", C, W1, grad(C, z1) @ x.T,
             source=f"{s641} (∂C/∂W^l = δ^l (a^(l−1))ᵀ at l = 1, a⁰ = x)", expect="holds"),
]

# ---------------------------------------------------------------- §6 two layers, matrix calculus
y2 = matrix("y", n2, 1)
h1 = define("z1", W1 @ x + c1)
g1 = define("a1", sigmoid(h1))
h2 = define("z2", W2 @ g1 + c2)
g2 = define("a2", sigmoid(h2))
C2 = define("C", sum((y2 - g2) ** 2) / 2)
d2 = (g2 - y2) * dsig(h2)
d1 = (W2.T @ d2) * dsig(h1)
s6 = f"{DOC} §6"
two_layers = [
    identity("mdl.s6_3_2.C.sum_of_squares", inner(y2 - g2, y2 - g2) / 2, sum((y2 - g2) ** 2) / 2,
             source=f"{s6}.3.2 (C = ½‖y − a²‖² = ½ Σ_j (y_j − a²_j)²)", expect="holds"),
    gradient("mdl.s6_3_2.dC_da2", C2, g2, g2 - y2, source=f"{s6}.3.2 (∂C/∂a² = (a² − y))", expect="holds"),
    jacobian("mdl.s6_3_2.da2_dz2", g2, h2, dsig(h2), source=f"{s6}.3.2 (∂a²/∂z² = σ′(z²))", expect="fails",
             note=sigma_literal_note.format("mdl.s6_3_2.jacobian_diag")),
    gradient("mdl.s6_3_2.delta2.hadamard_chain", C2, h2, grad(C2, g2) * jacobian_of(g2, h2),
             source=f"{s6}.3.2 (δ² ≡ ∂C/∂z² = ∂C/∂a² ⊙ ∂a²/∂z²)", expect="fails",
             note="∂a²/∂z² is the Jacobian diag(σ′(z²)), as the document says a few lines later; the Hadamard "
                  "product of the column ∂C/∂a² with an n × n matrix is an n × n matrix, not δ². The document "
                  "means the diagonal σ′(z²) (claim mdl.s6_3_2.delta2.hadamard_chain.diagonal), as in "
                  "δ² = (a² − y) ⊙ σ′(z²) (claim mdl.s6_3_2.delta2)."),
    gradient("mdl.s6_3_2.delta2.hadamard_chain.diagonal", C2, h2, grad(C2, g2) * dsig(h2),
             source=f"derivcheck reading of {s6}.3.2 (δ² = ∂C/∂a² ⊙ ∂a²/∂z² with ∂a²/∂z² read as its diagonal "
                    "σ′(z²))", expect="holds"),
    jacobian("mdl.s6_3_2.jacobian_diag", g2, h2, diag(dsig(h2)),
             source=f"{s6}.3.2 (J = ∂a/∂z, diagonal with σ′(z_i))", expect="holds"),
    gradient("mdl.s6_3_2.delta2", C2, h2, d2, source=f"{s6}.3.2 (δ² = (a² − y) ⊙ σ′(z²))", expect="holds"),
    identity("mdl.s6_3_2.z2_without_bias", h2, W2 @ g1, source=f"{s6}.3.2 (\"We know that z² = W² a¹\")",
             expect="fails",
             note="The bias is dropped: §6.3.1 defines z² = W² a¹ + b². Harmless for what follows, since b² does "
                  "not depend on W² and ∂C/∂W² is unchanged (claim mdl.s6_3_2.eq3)."),
    gradient("mdl.s6_3_2.eq3", C2, W2, d2 @ g1.T,
             source=f"{s6}.3.2 (Eq 3: ∂C/∂W² = δ² ⊗ a¹ = δ² (a¹)ᵀ, from ∂C/∂W²_ik = δ²_i a¹_k)", expect="holds"),
    gradient("mdl.s6_4.dC_dW1", C2, W1, grad(C2, h1) @ x.T, source=f"{s6}.4 (∂C/∂W¹ = δ¹ (a⁰)ᵀ)", expect="holds"),
    gradient("mdl.s6_4.delta1", C2, h1, d1, source=f"{s6}.4 (δ¹ = ((W²)ᵀ δ²) ⊙ σ′(z¹))", expect="holds"),
    gradient("mdl.s6_4.eq5", C2, W1, ((W2.T @ d2) * dsig(h1)) @ x.T,
             source=f"{s6}.4 (Eq 5: ∂C/∂W¹ = ((W²)ᵀ δ² ⊙ σ′(z¹)) (a⁰)ᵀ, read left to right)",
             expect="holds"),
    gradient("mdl.s6_4.eq5.hadamard_first", C2, W1, (W2.T @ (d2 * dsig(h1))) @ x.T,
             source=f"derivcheck variant of {s6}.4 Eq 5 (⊙ grouped before the matrix product)",
             expect="fails",
             note="Not the document's reading: Eq 5 read left to right is correct (claim mdl.s6_4.eq5). This wrong "
                  "grouping, (W²)ᵀ (δ² ⊙ σ′(z¹)) (a⁰)ᵀ, is ill-formed (δ² has the output size, σ′(z¹) the hidden "
                  "size); it checks that the checker refuses it."),
    gradient("mdl.s6_4.dC_db2", C2, c2, d2, source=f"derivcheck: {s6}.3 network (∂C/∂b² = δ²)", expect="holds"),
    gradient("mdl.s6_4.dC_db1", C2, c1, d1, source=f"derivcheck: {s6}.3 network (∂C/∂b¹ = δ¹)", expect="holds"),
]

s642 = f"{DOC} §6.4.2 NumPy"
numpy_snippet = [  # the code's variables, as expressions: `*` is the Hadamard product, np.matmul is @
    gradient("mdl.s6_4_2.delta2", C2, h2, (g2 - y2) * dsig(h2),
             source=f"{s642} (delta2 = (a2 - y) * sigmoid_prime(z2) is ∂C/∂z2)", expect="holds"),
    gradient("mdl.s6_4_2.dC_dw2", C2, W2, ((g2 - y2) * dsig(h2)) @ g1.T,
             source=f"{s642} (dC_dw2 = np.matmul(delta2, a1.T); the einsum outer product is the same matrix)",
             expect="holds"),
    gradient("mdl.s6_4_2.delta1", C2, h1, (W2.T @ ((g2 - y2) * dsig(h2))) * dsig(h1),
             source=f"{s642} (delta1 = np.matmul(W2.T, delta2) * sigmoid_prime(z1) is ∂C/∂z1)", expect="holds"),
    gradient("mdl.s6_4_2.dC_dw1", C2, W1, ((W2.T @ ((g2 - y2) * dsig(h2))) * dsig(h1)) @ x.T,
             source=f"{s642} (dC_dw1 = np.matmul(delta1, x.T))", expect="holds"),
]

# ---------------------------------------------------------------- §7 softmax and cross-entropy
K, = dims("K")
Yrow = matrix("Y", 1, K, assume="one_hot_rows")
yk = Yrow.T  # the one-hot target column Y = [0, 1, 0]
zs = matrix("z", K, 1)
ps = define("p", softmax(zs.T).T)
Ls = define("L", -sum(yk * log(ps)))
Jp = jacobian_of(ps, zs)
rest = sum(yk) - yk  # Σ_{k≠i} y_k, as a column over i
s711 = f"{DOC} §7.1.1"
index_derivation = [
    grad(Ls, zs),
    -(jacobian_of(log(ps), zs).T @ yk),  # −Σ_k y_k ∂(log p_k)/∂z_i
    -(Jp.T @ (yk / ps)),  # −Σ_k y_k (1/p_k) ∂p_k/∂z_i
]
literal_substitution = -sum(yk / ps) * (diag(ps) - ps @ ps.T)  # −Σ_k y_k (1/p_k) · p_i(δ_ij − p_j): j is free
renamed = [
    -((eye(K) - ones(K, 1) @ ps.T).T @ ((yk / ps) * ps)),  # −Σ_k y_k/p_k p_k(δ_ik − p_i)
    -(yk / ps) * ps * (1 - ps) - (sum((yk / ps) * ps) - (yk / ps) * ps) * (0 - ps),  # the two cases
    -yk * (1 - ps) - rest * (0 - ps),
    -yk + yk * ps + rest * ps,
    -yk + ps * (yk + rest),
    -yk + ps * sum(yk),
    ps - yk,  # Σ_k y_k = 1 for a one-hot y
]

a_in = matrix("a_lm2", n0, 1)  # a^(l−2), the output of the hidden layers before
Wm, bm = matrix("W_lm1", n1, n0), matrix("b_lm1", n1, 1)
Wl, bl = matrix("W_l", K, n1), matrix("b_l", K, 1)
dWl = matrix("dW_l", K, n1)
zm = define("z_lm1", Wm @ a_in + bm)
am = define("a_lm1", sigmoid(zm))
zl = define("z_l", Wl @ am + bl)
p = define("p", softmax(zl.T).T)
L = define("L", -sum(yk * log(p)))
dm = (Wl.T @ (p - yk)) * dsig(zm)
s7 = f"{DOC} §7"
softmax_ce = [
    identity("mdl.s7_1.softmax.index", ps, exp(zs) / sum(exp(zs)), source=f"{s7}.1 (p_j = e^(z_j) / Σ_k e^(z_k))",
             expect="holds"),
    identity("mdl.s7_1.softmax.sums_to_one", sum(ps), 1, source=f"{s7}.1 (all elements of the softmax output add "
                                                                "to 1)", expect="holds"),
    derivation("mdl.s7_1_1.dL_dz.derivation", index_derivation + [literal_substitution] + renamed,
               source=f"{s711} (∂L/∂z_i from −Σ_k y_k log p_k, every line as written)", expect="fails",
               note="Step 3 substitutes ∂p_k/∂z_i = p_i(δ_ij − p_j), the mis-indexed softmax derivative: the "
                    "index j is free, so the line is a matrix, not the vector ∂L/∂z. The next line's "
                    "\"renaming of dummy indices\" is really the correct derivative ∂p_k/∂z_i = p_k(δ_ik − p_i); "
                    "from there the derivation is valid and ends at p − y (claim mdl.s7_1_1.dL_dz.from_renamed)."),
    derivation("mdl.s7_1_1.dL_dz.from_renamed", index_derivation + renamed,
               source=f"derivcheck reading of {s711} (the derivation without the mis-indexed line, whose 'renaming' "
                      "is the correct derivative)", expect="holds"),
    identity("mdl.s7_1_1.dp_dz.literal", diag(Jp), diag(ps) - ps @ ps.T,
             source=f"{s711} (∂p_i/∂z_i = p_i(δ_ij − p_j), read literally: the diagonal entries on the left)",
             expect="fails",
             note="Index typo: the left side ∂p_i/∂z_i has one index, the right side p_i(δ_ij − p_j) two. The "
                  "softmax derivative is ∂p_i/∂z_j = p_i(δ_ij − p_j), the K × K matrix diag(p) − p pᵀ "
                  "(claim mdl.s7_1_1.dp_dz)."),
    jacobian("mdl.s7_1_1.dp_dz", ps, zs, diag(ps) - ps @ ps.T,
             source=f"derivcheck correction of {s711} (∂p_i/∂z_j = p_i(δ_ij − p_j))", expect="holds"),
    gradient("mdl.s7_1_1.EqA1_1", Ls, zs, ps - yk, source=f"{s711} (EqA1.1: ∂L/∂z_i = p_i − y_i, y one-hot)",
             expect="holds"),
    identity("mdl.s7_1_1.dz_dW", grad(L, Wl), grad(L, zl) @ am.T,
             source=f"{s711} (∂z^l/∂W^l = (a^(l−1))ᵀ, the factor in EqA1: ∂L/∂W^l = ∂L/∂z^l · ∂z^l/∂W^l)",
             expect="holds"),
    gradient("mdl.s7_1_1.EqA1", L, Wl, (p - yk) @ am.T, source=f"{s711} (EqA1: ∂L/∂W^l = (p − y)(a^(l−1))ᵀ)",
             expect="holds"),
    identity("mdl.s7_3.chain", grad(L, zm), grad(L, zl) @ jacobian_of(zl, am) @ jacobian_of(am, zm),
             source=f"{s7}.3 (∂L/∂z^(l−1) = ∂L/∂z^l · ∂z^l/∂a^(l−1) · ∂a^(l−1)/∂z^(l−1), ∂L/∂z^l = (p − y))",
             expect="fails",
             note="∂L/∂z^l = (p − y) is a column (EqA1.1, used as a column in EqA1), and a column times the K × n1 "
                  "Jacobian ∂z^l/∂a^(l−1) = W^l is not defined. The document's result is the transposed product "
                  "((W^l)ᵀ(p − y)) ⊙ σ′(z^(l−1)) (claim mdl.s7_3.EqA2_1); with rows for ∂L/∂z the chain holds "
                  "(claim mdl.s7_3.chain.rows)."),
    identity("mdl.s7_3.chain.rows", jacobian_of(L, zm),
             jacobian_of(L, zl) @ jacobian_of(zl, am) @ jacobian_of(am, zm),
             source=rows_reading.format(f"{s7}.3 ∂L/∂z^(l−1) = ∂L/∂z^l · ∂z^l/∂a^(l−1) · ∂a^(l−1)/∂z^(l−1)", ""),
             expect="holds"),
    jacobian("mdl.s7_3.dz_da", zl, am, Wl, source=f"{s7}.3 (∂z^l/∂a^(l−1) = w^l)", expect="holds"),
    jacobian("mdl.s7_3.da_dz", am, zm, dsig(zm), source=f"{s7}.3 (∂a^(l−1)/∂z^(l−1) = σ′(z^(l−1)))",
             expect="fails", note=sigma_literal_note.format("mdl.s5_3_1.jacobian_diag")),
    gradient("mdl.s7_3.EqA2_1", L, zm, dm, source=f"{s7}.3 (EqA2.1: ∂L/∂z^(l−1) = ((W^l)ᵀ (p − y)) ⊙ σ′(z^(l−1)))",
             expect="holds"),
    identity("mdl.s7_3.dz_dW", grad(L, Wm), grad(L, zm) @ a_in.T,
             source=f"{s7}.3 (∂z^(l−1)/∂W^(l−1) = (a^(l−2))ᵀ, the factor in EqA2)", expect="holds"),
    gradient("mdl.s7_3.EqA2", L, Wm, dm @ a_in.T,
             source=f"{s7}.3 (∂L/∂W^(l−1) = (((W^l)ᵀ (p − y)) ⊙ σ′(z^(l−1))) (a^(l−2))ᵀ)", expect="holds"),
    gradient("mdl.s7_3.EqA2.unbracketed", L, Wm, ((Wl.T @ (p - yk)) * dsig(zm)) @ a_in.T,
             source=f"{s7}.3 (the aligned version without the outer bracket, "
                    "((W^l)ᵀ · (p − y)) ⊙ σ′(z^(l−1)) · (a^(l−2))ᵀ, read left to right)",
             expect="holds"),
    gradient("mdl.s7.dL_db_l", L, bl, p - yk, source=f"derivcheck: {s7}.1 network (∂L/∂b^l = p − y)",
             expect="holds"),
    gradient("mdl.s7.dL_db_lm1", L, bm, dm, source=f"derivcheck: {s7}.1 network (∂L/∂b^(l−1) = EqA2.1)",
             expect="holds"),
]

# The §7 network over a batch, one example per column (what its kernel computes), derived by derivcheck.
Bs, = dims("B")
A_in = matrix("A_lm2", n0, Bs)
Ycol = matrix("Y", K, Bs, assume="one_hot_columns")
Zm_b = define("Z_lm1", Wm @ A_in + bm)
Am_b = define("A_lm1", sigmoid(Zm_b))
Zl_b = define("Z_l", Wl @ Am_b + bl)
P_b = define("P", softmax(Zl_b.T).T)
L_b = define("L", -sum(Ycol * log(P_b)))
dZl_b = define("dZ_l", P_b - Ycol)
dZm_b = define("dZ_lm1", (Wl.T @ dZl_b) * (Am_b * (1 - Am_b)))
s7b = f"derivcheck: {DOC} §7 network over a batch (columns are examples)"
softmax_ce_batch = [
    gradient("mdl.s7.batch.dW_l", L_b, Wl, dZl_b @ Am_b.T, source=s7b, expect="holds"),
    gradient("mdl.s7.batch.db_l", L_b, bl, sum(dZl_b, 1), source=s7b, expect="holds"),
    gradient("mdl.s7.batch.dW_lm1", L_b, Wm, dZm_b @ A_in.T, source=s7b, expect="holds"),
    gradient("mdl.s7.batch.db_lm1", L_b, bm, sum(dZm_b, 1), source=s7b, expect="holds"),
]

# ---------------------------------------------------------------- §8 the NumPy implementation
# §8 declares the row/batch convention for itself ("the code below follows this Row Vector/Batch convention"):
# X is (B, D), weight1 (D, H), weight2 (H, K), no biases.  The displayed Eq (3), Eq (5) and δ² = (a² − y),
# and the program's comments Eq (A), Eq (B), are all read in it, for the §8.1 network; `*` is NumPy's
# elementwise product (broadcasting), `.dot`/np.dot the matrix product.
B, D, H, Ko = dims("B D H K")
X = matrix("x", B, D)
V1, V2 = matrix("weight1", D, H), matrix("weight2", H, Ko)
Yb = matrix("y", B, Ko, assume="binary")
Z1 = define("z1", X @ V1)
A1 = define("a1", sigmoid(Z1))
Z2 = define("z2", A1 @ V2)
A2 = define("a2", sigmoid(Z2))
C8 = define("C", sum((Yb - A2) ** 2) / 2)  # the cost c0 = ((y-a2)**2)/2, summed
e2 = A2 - Yb  # §8's δ² = (a² − y)
dC_dw2_1 = e2 * dsig(Z2)
s8 = f"{DOC} §8"
s81 = f"{DOC} §8.1"
eq3_note = ("In §8's row/batch convention δ² * σ′(z²) is (B, K) and (a¹)ᵀ is (H, B): the elementwise product "
            "lines up only when sizes coincide. The §8.1 example has B = H = 4 and K = 1, so NumPy would compute a "
            "4 × 4 array where ∂C/∂w² is 4 × 1: a wrong-shaped value, not the gradient. The program itself "
            "computes a1.T.dot(delta2*derv_sigmoid(z2)) (claim mdl.s8_1.dC_dw2); read in chapter 6's column "
            "convention for one example the formula is right (claim mdl.s8.eq3.column_reading).")
equations_8 = [
    gradient("mdl.s8.delta2", C8, A2, e2, source=f"{s8} (δ² = (a² − y), here ∂C/∂a², not chapter 6's ∂C/∂z²)",
             expect="holds"),
    gradient("mdl.s8.eq3", C8, V2, e2 * dsig(Z2) * A1.T, source=f"{s8} (Eq (3): ∂C/∂w² = δ² * σ′(z²) * (a¹)ᵀ)",
             expect="fails", note=eq3_note),
    gradient("mdl.s8.eq5", C8, V1, dsig(Z1) * X.T * e2 * V2 * dsig(Z2),
             source=f"{s8} (Eq (5): ∂C/∂w¹ = σ′(z¹) * (a⁰)ᵀ * δ² * w² * σ′(z²))", expect="fails",
             note="Ill-formed: the factors are (B, H) * (D, B) * (B, K) * (H, K) * (B, K); elementwise they line up "
                  "only when sizes coincide, and even in the example (B = H = 4, D = 3, K = 1) σ′(z¹) * (a⁰)ᵀ "
                  "multiplies a 4 × 4 by a 3 × 4 array, which NumPy refuses. Correct: ∂C/∂w¹ = "
                  "(a⁰)ᵀ (((δ² ⊙ σ′(z²)) (w²)ᵀ) ⊙ σ′(z¹)) (claim mdl.s8.eq5.corrected), what the program computes."),
    gradient("mdl.s8.eq5.corrected", C8, V1, X.T @ ((dC_dw2_1 @ V2.T) * dsig(Z1)),
             source=f"derivcheck correction of {s8} Eq (5)", expect="holds"),
]

# The same displayed Eq (3) in chapter 6's column convention, one example: the reading under which it is right.
xc = matrix("x", n0, 1)
v1, v2, yc = matrix("w1", n1, n0), matrix("w2", 1, n1), scalar("y")
u1 = define("z1", v1 @ xc)
r1 = define("a1", sigmoid(u1))
u2 = define("z2", v2 @ r1)
r2 = define("a2", sigmoid(u2))
C8c = define("C", (yc - r2) ** 2 / 2)
equations_8.append(
    gradient("mdl.s8.eq3.column_reading", C8c, v2, (r2 - yc) * dsig(u2) * r1.T,
             source=f"derivcheck reading of {s8} Eq (3) in chapter 6's column convention (one example, one output)",
             expect="holds"))

program_gradients = [
    gradient("mdl.s8_1.dC_dw2", C8, V2, A1.T @ dC_dw2_1,
             source=f"{s81} (dC_dw2_1 = delta2*derv_sigmoid(z2); dC_dw2 = a1.T.dot(dC_dw2_1))", expect="holds"),
    gradient("mdl.s8_1.dC_dw1", C8, V1, X.T @ ((dC_dw2_1 @ V2.T) * dsig(Z1)),
             source=f"{s81} (dC_dw1 = a0.T.dot(np.dot(dC_dw2_1, weight2.T) * derv_sigmoid(z1)))", expect="holds"),
    gradient("mdl.s8_1.comment_eq_A", C8, V2, e2 * dsig(Z2) * A1.T,
             source=f"{s81} (code comment Eq (A): dC_dw2 = delta2*derv_sigmoid(z2)*a1.T)", expect="fails",
             note="The same formula as the displayed Eq (3), read the same way. " + eq3_note),
    gradient("mdl.s8_1.comment_eq_B", C8, V1, dsig(Z1) * e2 * dsig(Z2) * V2 * X.T,
             source=f"{s81} (code comment Eq (B): dC_dw1 = derv_sigmoid(z1)*delta2*derv_sigmoid(z2)*weight2*a0.T)",
             expect="fails",
             note="Ill-formed: the five factors are (B, H) * (B, K) * (B, K) * (H, K) * (D, B), which line up "
                  "elementwise only when sizes coincide; in the program (B = H = 4, D = 3, K = 1) the first four "
                  "broadcast to a 4 × 4 array and the last, a0.T (3 × 4), does not fit it, so NumPy would raise. "
                  "The comment's second line uses an undefined weight2_1, and its heading says '2nd/last layer' for "
                  "the first. The code below the comment is right: a0.T.dot(np.dot(dC_dw2_1, weight2.T) * "
                  "derv_sigmoid(z1)) (claim mdl.s8_1.dC_dw1)."),
]


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _program_8_1() -> dict:
    """The §8.1 program, line for line (printing replaced by returning what it prints and the weights)."""
    np.random.seed(1)
    learning_rate = 1
    x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    y = np.array([[0, 1, 1, 0]]).T
    weight1 = np.random.random((3, 4))
    weight2 = np.random.random((4, 1))
    a0 = x
    out = {"x": x, "y": y, "weight1_initial": weight1, "weight2_initial": weight2}
    for it in range(1000):
        z1 = np.dot(x, weight1)
        a1 = _sigmoid(z1)
        z2 = np.dot(a1, weight2)
        a2 = _sigmoid(z2)
        out["weight1_last_pass"], out["weight2_last_pass"] = weight1, weight2  # the weights "New output" uses
        delta2 = a2 - y
        dC_dw2_1 = delta2 * _sigmoid(z2) * (1 - _sigmoid(z2))
        dC_dw2 = a1.T.dot(dC_dw2_1)
        dC_dw1 = np.dot(dC_dw2_1, weight2.T) * _sigmoid(z1) * (1 - _sigmoid(z1))
        dC_dw1 = a0.T.dot(dC_dw1)
        weight2 = weight2 - learning_rate * dC_dw2
        weight1 = weight1 - learning_rate * dC_dw1
    out["weight1_trained"], out["weight2_trained"] = weight1, weight2
    return out


run = _program_8_1()
forward = A2  # a2 = sigmoid(sigmoid(x @ weight1) @ weight2)


def program_at(x, w1_key, w2_key):
    return {"x": x.tolist(), "weight1": run[w1_key].tolist(), "weight2": run[w2_key].tolist(),
            "B": len(x), "D": 3, "H": 4, "K": 1}


batch = run["x"]
test_input = np.array([[1, 0, 1]])
printed = 5e-4  # the program prints three decimals
program_output = [
    value("mdl.s8_1.initial_output", forward, program_at(batch, "weight1_initial", "weight2_initial"),
          [[0.758], [0.771], [0.791], [0.801]], tolerance=printed,
          source=f"{s81} (printed \"Initial Output\" after np.random.seed(1))", expect="holds"),
    value("mdl.s8_1.new_output", forward, program_at(batch, "weight1_last_pass", "weight2_last_pass"),
          [[0.028], [0.925], [0.925], [0.090]], tolerance=printed,
          source=f"{s81} (printed \"New output\" after 1000 iterations)", expect="holds"),
    value("mdl.s8_1.output_after_training", forward, program_at(test_input, "weight1_trained", "weight2_trained"),
          [[0.925]], tolerance=printed, source=f"{s81} (printed \"Output after Training\" for input [1, 0, 1])",
          expect="holds"),
    value("mdl.s8_1.test_input_gives_one", forward, program_at(test_input, "weight1_trained", "weight2_trained"),
          [[1.0]], tolerance=0.1,
          source=f"{s81} (\"two ones in input and one zero, output should be One\"; within 0.1)", expect="holds"),
    value("mdl.s8_1.learns_y", forward, program_at(batch, "weight1_last_pass", "weight2_last_pass"),
          run["y"].astype(float).tolist(), tolerance=0.1,
          source=f"{s81} (the trained output is similar to the program's y = [0, 1, 1, 0]; within 0.1)",
          expect="holds"),
    value("mdl.s8_1.closing_sentence", forward, program_at(batch, "weight1_last_pass", "weight2_last_pass"),
          [[0.0], [1.0], [0.0], [1.0]], tolerance=0.1,
          source=f"{s81} (\"We have trained the NW for getting the output similar to y; that is [0,1,0,1]\")",
          expect="fails",
          note="The program's target is y = [0, 1, 1, 0] (np.array([[0,1,1,0]]).T) and its printed output "
               "[0.028, 0.925, 0.925, 0.090] is close to that; [0, 1, 0, 1] is the y of the §8 introduction, "
               "not of this program."),
]

CLAIMS = (vectors + perceptron + chain_of_functions + worked + scalar_network + three_layers + summary + two_layers
          + numpy_snippet + softmax_ce + softmax_ce_batch + equations_8 + program_gradients + program_output)

KERNELS = [
    Kernel("mdl_sigmoid_mse", "The §8.1 program's network: rows are examples, sigmoid hidden and output layers, "
           "no biases, squared error halved and summed.", inputs=(X, Yb), params=(V1, V2), loss=C8,
           gradients={"weight1": "mdl.s8_1.dC_dw1", "weight2": "mdl.s8_1.dC_dw2"}, source=f"{DOC} §8.1",
           replaces={"weight1": "mdl.s8.eq5"}),
    Kernel("mdl_softmax_ce", "The §7 network over a batch: columns are examples, a sigmoid layer, then a softmax "
           "output layer with cross-entropy summed over the batch (one-hot Y columns).", inputs=(A_in, Ycol),
           params=(Wm, bm, Wl, bl), loss=L_b,
           gradients={"W_lm1": "mdl.s7.batch.dW_lm1", "b_lm1": "mdl.s7.batch.db_lm1", "W_l": "mdl.s7.batch.dW_l",
                      "b_l": "mdl.s7.batch.db_l"}, source=f"{DOC} §7"),
]


# ================================================================ the documents' code, run (gradcheck)
# "code" claims: the document's NumPy backward code, transcribed as a function, computes the gradients of
# the loss it belongs to.  gradcheck runs it at the document's own data and at random instances whose
# dimensions all differ, against derivcheck's 50-digit forward-mode derivative of the loss (spec mode).
from derivcheck.gradcheck.claim import code_gradients  # noqa: E402


def _sigmoid_prime(v):
    return _sigmoid(v) * (1 - _sigmoid(v))


def _snippet_6_4_2(x, W1, b1, W2, b2, y, einsum=False):
    """§6.4.2's snippet, after the forward pass of §6.3.1 that it assumes (column vectors)."""
    z1 = np.matmul(W1, x) + b1
    a1 = _sigmoid(z1)
    z2 = np.matmul(W2, a1) + b2
    a2 = _sigmoid(z2)
    delta2 = (a2 - y) * _sigmoid_prime(z2)
    dC_dw2 = np.matmul(delta2, a1.T)
    if einsum:  # "Alternative using einsum for outer product"
        dC_dw2 = np.einsum('i,j->ij', delta2.flatten(), a1.flatten())
    delta1 = np.matmul(W2.T, delta2) * _sigmoid_prime(z1)
    dC_dw1 = np.matmul(delta1, x.T)
    return {"W1": dC_dw1, "W2": dC_dw2}


def _backward_8_1(x, y, weight1, weight2, comment_eq_A=False):
    """The loop body of the §8.1 program (``_program_8_1``) up to the gradients, line for line."""
    a0 = x
    z1 = np.dot(x, weight1)
    a1 = _sigmoid(z1)
    z2 = np.dot(a1, weight2)
    a2 = _sigmoid(z2)
    delta2 = a2 - y
    dC_dw2_1 = delta2 * _sigmoid(z2) * (1 - _sigmoid(z2))
    dC_dw2 = a1.T.dot(dC_dw2_1)
    if comment_eq_A:  # the code comment's Eq (A), run as code
        dC_dw2 = delta2 * _sigmoid(z2) * (1 - _sigmoid(z2)) * a1.T
    dC_dw1 = np.dot(dC_dw2_1, weight2.T) * _sigmoid(z1) * (1 - _sigmoid(z1))
    dC_dw1 = a0.T.dot(dC_dw1)
    return {"weight1": dC_dw1, "weight2": dC_dw2}


program_data = [{"x": run["x"], "y": run["y"], "weight1": run[w1], "weight2": run[w2]}
                for w1, w2 in (("weight1_initial", "weight2_initial"), ("weight1_trained", "weight2_trained"))]
code_checks = [
    code_gradients("mdl.s6_4_2.code", C2, (W1, W2), _snippet_6_4_2,
                   source=f"{s642} (the snippet run: delta2, dC_dw2 = np.matmul(delta2, a1.T), delta1, dC_dw1)",
                   expect="holds"),
    code_gradients("mdl.s6_4_2.code.einsum", C2, (W1, W2), lambda **v: _snippet_6_4_2(**v, einsum=True),
                   source=f"{s642} (the snippet run with its einsum alternative for dC_dw2)", expect="holds"),
    code_gradients("mdl.s8_1.code", C8, (V1, V2), _backward_8_1, points=program_data,
                   source=f"{s81} (the program's backward code run, at its own data with the initial and the "
                          "trained weights, and at random sizes)", expect="holds"),
    code_gradients("mdl.s8_1.code.comment_eq_A", C8, (V1, V2), lambda **v: _backward_8_1(**v, comment_eq_A=True),
                   points=program_data,
                   source=f"{s81} (the code comment's Eq (A), dC_dw2 = delta2*derv_sigmoid(z2)*a1.T, run as code)",
                   expect="fails",
                   note="Run on the program's own data (B = H = 4, K = 1) the comment's line broadcasts a (4, 1) "
                        "column against the (4, 4) a1.T and returns a (4, 4) array for the (4, 1) weight2; at other "
                        "sizes it raises. The program's own line a1.T.dot(dC_dw2_1) is right (claim mdl.s8_1.code)."),
]
CLAIMS = CLAIMS + code_checks
