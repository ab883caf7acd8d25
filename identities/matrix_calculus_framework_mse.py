"""matrix_calculus_framework_mse: a "framework" of matrix derivative rules and the
L-layer backprop equations for mean squared error.

Conventions of the document: X is (m, n), rows are training examples; Y is
(m, 1); layer ℓ computes Z^[ℓ] = A^[ℓ-1] W^[ℓ] and A^[ℓ] = g^[ℓ](Z^[ℓ]) with no
biases, A^[0] = X; the loss is f = (1/m) ||A^[L] − Y||_F² (``sum(D**2)`` is
the squared Frobenius norm); df/dX has the shape of X (denominator layout).

The framework's rules are stated for an arbitrary matrix-to-scalar f and
arbitrary activation g; here f(G) = sum(h(G) ⊙ C) with a generic elementwise h
and a constant matrix C (so f is not symmetric in the entries of G), and g is
a generic function (its derivative spelled g_prime).  The L-layer equations
are checked on a 3-layer network (L = 3), with a generic activation per layer;
the document writes g′ without the layer index in "Derivatives in an arbitrary
layer" and the summary, which is read as g^[ℓ]′.  "derivcheck" in a source
marks a claim that the document does not state.
"""
from derivcheck import (Kernel, define, derivation, dims, elementwise, grad, gradient, identity, matrix, sum, trace)

DOC = "matrix_calculus_framework_mse"

m, n, p, n1, n2 = dims("m n p n1 n2")

# ---------------------------------------------------------------- Matrix calculus: the rules
h, h_prime = elementwise("h")  # makes an arbitrary scalar function of a matrix
g, g_prime = elementwise("g")

X = matrix("X", m, n)
Wr = matrix("W", n, p)  # right multiplication: G = X W, W is (n, p)
Wl = matrix("W", p, m)  # left multiplication: G = W X, W is (p, m)
C_mp = matrix("C", m, p)
C_pn = matrix("C", p, n)
C_mn = matrix("C", m, n)
K = matrix("K", m, n)  # the constant added in "Matrix addition"


def arbitrary_f(G, C):
    """An arbitrary matrix-to-scalar function of G."""
    return define("f", sum(h(G) * C))


G_right = define("G", X @ Wr)
G_left = define("G", Wl @ X)
G_elem = define("G", g(X))
G_add = define("G", X + K)
f_right, f_left = arbitrary_f(G_right, C_mp), arbitrary_f(G_left, C_pn)
f_elem, f_add = arbitrary_f(G_elem, C_mn), arbitrary_f(G_add, C_mn)

G_frob = matrix("G", m, n)

rules = [
    identity("fw.rule.right_multiplication", grad(f_right, X), grad(f_right, G_right) @ Wr.T,
             source=f"{DOC} §Matrix calculus, Right Matrix multiplication", expect="holds"),
    identity("fw.rule.left_multiplication", grad(f_left, X), Wl.T @ grad(f_left, G_left),
             source=f"{DOC} §Matrix calculus, Left multiplication by matrix", expect="holds"),
    identity("fw.rule.elementwise", grad(f_elem, X), grad(f_elem, G_elem) * g_prime(X),
             source=f"{DOC} §Matrix calculus, Elementwise function application", expect="holds"),
    identity("fw.rule.addition", grad(f_add, X), grad(f_add, G_add),
             source=f"{DOC} §Matrix calculus, Matrix addition", expect="holds"),
    gradient("fw.rule.frobenius", sum(G_frob ** 2), G_frob, 2 * G_frob,
             source=f"{DOC} §Matrix-to-scalar derivatives, Squared Frobenius norm", expect="holds"),
]

# ---------------------------------------------------------------- the L-layer network, L = 3
g1, g1_prime = elementwise("g1")
g2, g2_prime = elementwise("g2")
g3, g3_prime = elementwise("g3")
Y = matrix("Y", m, 1)
W1 = matrix("W1", n, n1)
W2 = matrix("W2", n1, n2)
W3 = matrix("W3", n2, 1)
Z1 = define("Z1", X @ W1)
A1 = define("A1", g1(Z1))
Z2 = define("Z2", A1 @ W2)
A2 = define("A2", g2(Z2))
Z3 = define("Z3", A2 @ W3)
A3 = define("A3", g3(Z3))  # A^[L], the predictions
D = define("D", A3 - Y)
f = define("f", (1 / m) * sum(D ** 2))

yhat = matrix("yhat", m, 1)
vectorization = [
    identity("fw.mse.vectorized", (1 / m) * sum((yhat - Y) ** 2), (1 / m) * trace((yhat - Y).T @ (yhat - Y)),
             source=f"{DOC} §Vectorization (MSE as a squared Frobenius norm)", expect="holds"),
]

output_layer = [
    derivation("fw.dA_L.derivation", [
        grad(f, A3),
        (1 / m) * grad(sum((A3 - Y) ** 2), A3),
        (1 / m) * grad(sum(D ** 2), D),
        (1 / m) * 2 * (A3 - Y),
    ], source=f"{DOC} §Derivative with respect to A^[L]", expect="holds"),
    gradient("fw.dA_L", f, A3, (1 / m) * 2 * (A3 - Y), source=f"{DOC} §Derivative summary", expect="holds"),
    derivation("fw.dZ_L.derivation", [
        grad(f, Z3),
        grad(f, A3) * g3_prime(Z3),
        (2 / m) * (A3 - Y) * g3_prime(Z3),
    ], source=f"{DOC} §Derivative with respect to Z^[L]", expect="holds"),
    identity("fw.dW_L.chain", grad(f, W3), A2.T @ grad(f, Z3),
             source=f"{DOC} §Derivative with respect to W^[L] (first line)", expect="holds"),
    gradient("fw.dW_L.literal", f, W3, ((2 / m) * A2.T @ (A3 - Y)) * g3_prime(Z3),
             source=f"{DOC} §Derivative with respect to W^[L] (second line, literal reading)", expect="fails",
             note="Without brackets, (2/m) A^[L-1]ᵀ · (A^[L] − Y) ⊙ g′(Z^[L]) read left to right multiplies "
                  "first: an (n^[L-1], 1) matrix ⊙ an (m, 1) matrix, which does not typecheck. The intended "
                  "reading is (2/m) A^[L-1]ᵀ · ((A^[L] − Y) ⊙ g′(Z^[L])) (claim fw.dW_L.intended)."),
    gradient("fw.dW_L.intended", f, W3, (2 / m) * A2.T @ ((A3 - Y) * g3_prime(Z3)),
             source=f"derivcheck reading of {DOC} §Derivative with respect to W^[L] (second line, bracketed as "
                    "(2/m) A^[L-1]ᵀ · ((A^[L] − Y) ⊙ g′(Z^[L])))", expect="holds"),
]


def layer(l, A_prev, Z, W, A_this, Z_next, W_next, gl_prime):
    """The three equations for a non-final layer ℓ, stated with grad() of the neighbours."""
    section = f"{DOC} §Derivatives in an arbitrary layer / §Derivative summary (ℓ = {l})"
    claims = [
        identity(f"fw.layer{l}.dA", grad(f, A_this), grad(f, Z_next) @ W_next.T, source=section, expect="holds"),
        identity(f"fw.layer{l}.dZ", grad(f, Z), grad(f, A_this) * gl_prime(Z), source=section, expect="holds"),
        identity(f"fw.layer{l}.dW", grad(f, W), A_prev.T @ grad(f, Z), source=section, expect="holds"),
    ]
    return claims


hidden_layers = (layer(1, X, Z1, W1, A1, Z2, W2, g1_prime)
                 + layer(2, A1, Z2, W2, A2, Z3, W3, g2_prime))

# The recurrence unrolled into explicit formulas (what a kernel computes), derived by derivcheck.
dZ3 = define("dZ3", (2 / m) * (A3 - Y) * g3_prime(Z3))
dZ2 = define("dZ2", (dZ3 @ W3.T) * g2_prime(Z2))
dZ1 = define("dZ1", (dZ2 @ W2.T) * g1_prime(Z1))
unrolled = [
    gradient("fw.backprop.W3", f, W3, A2.T @ dZ3, source=f"derivcheck: {DOC} §Derivative summary, L = 3",
             expect="holds"),
    gradient("fw.backprop.W2", f, W2, A1.T @ dZ2, source=f"derivcheck: {DOC} §Derivative summary, L = 3",
             expect="holds"),
    gradient("fw.backprop.W1", f, W1, X.T @ dZ1, source=f"derivcheck: {DOC} §Derivative summary, L = 3",
             expect="holds"),
]

CLAIMS = rules + vectorization + output_layer + hidden_layers + unrolled

KERNELS = [
    Kernel("fw_mse", "Three-layer network without biases, mean-squared error; tanh hidden layers and a linear "
           "output (the document's generic g1, g2, g3 instantiated).", inputs=(X, Y), params=(W1, W2, W3), loss=f,
           gradients={"W1": "fw.backprop.W1", "W2": "fw.backprop.W2", "W3": "fw.backprop.W3"},
           activations={"g1": "tanh", "g2": "tanh", "g3": "identity"}, source=f"{DOC} §Derivative summary, L = 3"),
]
