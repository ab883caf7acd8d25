"""ng_two_layer_differentials: two-layer network (tanh / sigmoid / binary cross-entropy).

Conventions of the document: X is (m, n), rows are instances; W1 is (n, n1),
b1 is (1, n1) and b2 is (1, 1), broadcast over the rows (NumPy broadcasting);
y is (m, 1) with labels in {0, 1}; the gradient of a scalar has the variable's
shape (denominator layout); derivatives are written as differentials
ΔW ↦ expr(ΔW) (directional claims here) and the inner product A•B is
sum_ij A_ij B_ij (``inner``).

Starter set for the core issue: the inner-product laws (§4, §5), the
sigmoid + binary cross-entropy collapse (§3) and the backprop results (§3, §4).
Claims whose source says "derivcheck" are not written in the document: they
are the corrected statements or wrong variants added to test the checker.
"""
from derivcheck import (Kernel, define, derivation, dims, directional, elementwise, exp, grad, gradient, identity,
                        inner, log, matrix, ones, sigmoid, tanh)

DOC = "ng_two_layer_differentials"

m, n, n1, q = dims("m n n1 q")

# ---------------------------------------------------------------- §4, §5 inner-product laws
A = matrix("A", m, n)
B = matrix("B", m, q)
C = matrix("C", q, n)
H1 = matrix("H1", m, n)
H2 = matrix("H2", m, n)
# square versions: a transpose error can typecheck when every shape is (n, n)
As, Bs, Cs = (matrix(name, n, n) for name in ("As", "Bs", "Cs"))

inner_laws = [
    identity("ng.inner.move_right", inner(A, B @ C), inner(A @ C.T, B), source=f"{DOC} §5 Property",
             expect="holds"),
    identity("ng.inner.move_left", inner(A, B @ C), inner(B.T @ A, C), source=f"{DOC} §5 Property",
             expect="holds"),
    identity("ng.inner.rmk_right", inner(B @ C, A), inner(B, A @ C.T), source=f"{DOC} §5 Rmk",
             expect="holds"),
    identity("ng.inner.rmk_left", inner(B @ C, A), inner(C, B.T @ A), source=f"{DOC} §5 Rmk",
             expect="holds"),
    identity("ng.inner.hadamard", inner(H1, H2 * A), inner(H2 * H1, A), source=f"{DOC} §4",
             expect="holds"),
    identity("ng.inner.move_right_wrong_transpose", inner(As, Bs @ Cs), inner(Cs.T @ As, Bs),
             source=f"derivcheck variant of {DOC} §5", expect="fails",
             note="Wrong variant: the transpose of C is on the wrong side. With all shapes (n, n) it "
                  "typechecks, but A•(BC) = (ACᵀ)•B, not (CᵀA)•B."),
]

# ---------------------------------------------------------------- §1, §3 the network
X = matrix("X", m, n)
W1 = matrix("W1", n, n1)
b1 = matrix("b1", 1, n1)
W2 = matrix("W2", n1, 1)
b2 = matrix("b2", 1, 1)
y = matrix("y", m, 1, assume="binary")
dZ = matrix("dZ", m, 1)
dW = matrix("dW", n, n1)

Z1 = define("Z1", X @ W1 + b1)
A1 = define("A1", tanh(Z1))
Z2 = define("Z2", A1 @ W2 + b2)
A2 = define("A2", sigmoid(Z2))
L = define("L", -(1 / m) * (y.T @ log(A2) + (1 - y).T @ log(1 - A2)))

# the same network with a generic first activation g1 (the document's g1)
g1, g1_prime = elementwise("g1")
Z1g = define("Z1", X @ W1 + b1)
A1g = define("A1", g1(Z1g))
Z2g = define("Z2", A1g @ W2 + b2)
A2g = define("A2", sigmoid(Z2g))
Lg = define("L", -(1 / m) * (y.T @ log(A2g) + (1 - y).T @ log(1 - A2g)))

network = [
    directional("ng.dA2_dZ2", A2, Z2, dZ, A2 * (A2 - 1) * dZ, source=f"{DOC} §3",
                expect="fails",
                note="Sign error: the document computes f'(z) = -e^z/(e^z+1)^2, but the derivative of "
                     "sigmoid is +e^z/(e^z+1)^2 = f(z)(1 - f(z)); the differential is ΔZ ↦ A2 ⊙ (1 − A2) ⊙ ΔZ."),
    directional("ng.dA2_dZ2.corrected", A2, Z2, dZ, A2 * (1 - A2) * dZ, source=f"derivcheck correction of {DOC} §3",
                expect="holds"),
    directional("ng.dL_dZ2", L, Z2, dZ, (1 / m) * (y - A2).T @ dZ, source=f"{DOC} §3",
                expect="fails",
                note="Inherits the sign error of f'(z): the differential is ΔZ ↦ (1/m)(A2 − y)ᵀΔZ."),
    gradient("ng.grad_Z2", L, Z2, (A2 - y) / m, source=f"derivcheck correction of {DOC} §3",
             expect="holds", note="The sigmoid + binary cross-entropy collapse: ∂L/∂Z2 = (A2 − y)/m."),
    gradient("ng.grad_Z2.wrong_sign", L, Z2, (y - A2) / m,
             source=f"derivcheck reading of {DOC} §3 (the differential ΔZ ↦ (1/m)(y − A2)ᵀΔZ as the gradient "
                    "(y − A2)/m)",
             expect="fails", note="The document's differential, written as a gradient, has the wrong sign: "
                                  "∂L/∂Z2 = (A2 − y)/m (claim ng.grad_Z2)."),
    derivation("ng.dL_dZ2.derivation", [
        inner(grad(L, Z2), dZ),  # the true differential ∂L/∂Z2 • ΔZ, added by derivcheck
        -(1 / m) * y.T @ ((1 / A2) * (A2 * (A2 - 1) * dZ)) + (1 / m) * (1 - y).T @ ((1 / (1 - A2)) * (A2 * (A2 - 1) * dZ)),
        -(1 / m) * y.T @ ((A2 - 1) * dZ) - (1 / m) * (1 - y).T @ (A2 * dZ),
        -(1 / m) * y.T @ (A2 * dZ - dZ) - (1 / m) * A2.T @ dZ + (1 / m) * y.T @ (A2 * dZ),
        (1 / m) * y.T @ dZ - (1 / m) * A2.T @ dZ,
        (1 / m) * (y - A2).T @ dZ,
    ], source=f"{DOC} §3", expect="fails",
        note="Step 1 (the document's first line) is wrong because it uses f' = A2 ⊙ (A2 − 1); every "
             "later step is valid algebra from that false premise. Step 0 is the true differential "
             "(1/m)(A2 − y)ᵀΔZ, added by derivcheck."),
    directional("ng.dL_dW1", Lg, W1, dW, (1 / m) * (y - A2g).T @ ((g1_prime(Z1g) * (X @ dW)) @ W2),
                source=f"{DOC} §3", expect="fails",
                note="Carries the sign error of ∂L/∂Z2: the differential is ΔW ↦ (1/m)(A2 − y)ᵀ((g1′(Z1) ⊙ (XΔW))W2)."),
    gradient("ng.grad_W1", Lg, W1, (1 / m) * (X.T @ (g1_prime(Z1g) * ((y - A2g) @ W2.T))),
             source=f"{DOC} §4", expect="fails",
             note="Sign error inherited from f'(z): ∂L/∂W1 = (1/m) Xᵀ(g1′(Z1) ⊙ ((A2 − y)W2ᵀ))."),
    gradient("ng.grad_W1.corrected", Lg, W1, (1 / m) * (X.T @ (g1_prime(Z1g) * ((A2g - y) @ W2.T))),
             source=f"derivcheck correction of {DOC} §4", expect="holds"),
    gradient("ng.grad_W1.tanh", L, W1, (1 / m) * (X.T @ ((1 - A1**2) * ((A2 - y) @ W2.T))),
             source=f"derivcheck: {DOC} §4 with g1 = tanh", expect="holds"),
]

# ---------------------------------------------------------------- §2, §3 the differentials, one by one
u, v, w = dims("u v w")
Ax, Wx, bx, dWx = matrix("A", u, v), matrix("W", v, w), matrix("b", u, w), matrix("dW", v, w)
dA = matrix("dA", m, n1)
dA2 = matrix("dA2", m, 1)
dZ1 = matrix("dZ1", m, n1)
z, dz = matrix("z", 1, 1), matrix("dz", 1, 1)
sig_prime_doc = -exp(z) / (exp(z) + 1) ** 2

differentials = [
    directional("ng.xi_differential", Ax @ Wx + bx, Wx, dWx, Ax @ dWx, source=f"{DOC} §2 (ξ(W) = AW + b)",
                expect="holds"),
    directional("ng.dZ1_dW1", Z1g, W1, dW, X @ dW, source=f"{DOC} §3", expect="holds"),
    directional("ng.dZ2_dA1", Z2g, A1g, dA, dA @ W2, source=f"{DOC} §3", expect="holds"),
    directional("ng.dA1_dZ1", A1g, Z1g, dZ1, g1_prime(Z1g) * dZ1, source=f"{DOC} §3 (g(Z + ΔZ) = g(Z) + g′(Z) ⊙ ΔZ + o)",
                expect="holds"),
    directional("ng.sigmoid_prime", sigmoid(z), z, dz, sig_prime_doc * dz, source=f"{DOC} §3 (f′(z) = −e^z/(e^z + 1)²)",
                expect="fails",
                note="The derivative of e^z/(1 + e^z) is +e^z/(e^z + 1)² = f(z)(1 − f(z)); the document's minus "
                     "sign is the origin of every later sign error."),
    derivation("ng.sigmoid_prime.algebra", [
        sig_prime_doc,
        -(exp(z) / (exp(z) + 1)) * (1 - exp(z) / (exp(z) + 1)),
        sigmoid(z) * (sigmoid(z) - 1),
    ], source=f"{DOC} §3 (−e^z/(e^z + 1)² = −(e^z/(e^z + 1))(1 − e^z/(e^z + 1)) = f(z)(f(z) − 1))", expect="holds",
        note="The algebra is right; only the derivative it starts from is wrong (claim ng.sigmoid_prime)."),
    directional("ng.dL_dA2", L, A2, dA2,
                -(1 / m) * y.T @ ((1 / A2) * dA2) - (1 / m) * (1 - y).T @ ((1 / (1 - A2)) * (-dA2)),
                source=f"{DOC} §3 (∂L/∂A2 with log′(x) = 1/x)", expect="holds"),
    derivation("ng.dL_dW1.inner_product_steps", [
        (1 / m) * (y - A2g).T @ ((g1_prime(Z1g) * (X @ dW)) @ W2),
        (1 / m) * inner(y - A2g, (g1_prime(Z1g) * (X @ dW)) @ W2),
        (1 / m) * inner((y - A2g) @ W2.T, g1_prime(Z1g) * (X @ dW)),
        (1 / m) * inner(X.T @ (g1_prime(Z1g) * ((y - A2g) @ W2.T)), dW),
    ], source=f"{DOC} §4", expect="holds",
        note="Each step is valid algebra (the inner-product laws of §5); the sign error is in the first "
             "expression, inherited from ∂L/∂Z2 (claims ng.dL_dW1, ng.grad_W1)."),
]

# Backprop recurrences of the two-layer network, derived by derivcheck so that every
# parameter has a verified gradient (the document derives only ∂L/∂W1).
dZ2 = define("dZ2", (A2 - y) / m)
dZ1 = define("dZ1", (1 - A1**2) * (dZ2 @ W2.T))  # the backprop quantity, not the direction above
recurrences = [
    gradient("ng.backprop.W2", L, W2, A1.T @ dZ2, source=f"derivcheck: {DOC} §3 network", expect="holds"),
    gradient("ng.backprop.b2", L, b2, dZ2.T @ ones(m, 1), source=f"derivcheck: {DOC} §3 network",
             expect="holds"),
    gradient("ng.backprop.A1", L, A1, dZ2 @ W2.T, source=f"derivcheck: {DOC} §3 network", expect="holds"),
    gradient("ng.backprop.Z1", L, Z1, dZ1, source=f"derivcheck: {DOC} §3 network", expect="holds"),
    gradient("ng.backprop.W1", L, W1, X.T @ dZ1, source=f"derivcheck: {DOC} §3 network", expect="holds"),
    gradient("ng.backprop.b1", L, b1, ones(m, 1).T @ dZ1, source=f"derivcheck: {DOC} §3 network",
             expect="holds"),
    gradient("ng.backprop.W2.transposed", L, W2, dZ2.T @ A1, source=f"derivcheck variant of {DOC} §3", expect="fails",
             note="Wrong variant: ∂L/∂W2 is A1ᵀ dZ2 (shape (n1, 1)); dZ2ᵀ A1 has the shape of W2ᵀ."),
]

CLAIMS = inner_laws + network + differentials + recurrences

KERNELS = [
    Kernel("ng_two_layer", "Two-layer network: tanh hidden layer, sigmoid output, binary cross-entropy (rows are "
           "instances, bias rows broadcast).", inputs=(X, y), params=(W1, b1, W2, b2), loss=L,
           gradients={"W1": "ng.backprop.W1", "b1": "ng.backprop.b1", "W2": "ng.backprop.W2",
                      "b2": "ng.backprop.b2"},
           source=f"{DOC} §1, §3", replaces={"W1": "ng.grad_W1"}),
]
