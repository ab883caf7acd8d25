"""gradcheck, shape 2: a layer with a hand-written backward — batch normalization.

The backward uses the compact formula for dx,
    dx = (1/N) γ σ⁻¹ (N·dout − Σ dout − x̂ Σ(dout ⊙ x̂)),
and ``batchnorm_backward_wrong`` drops its 1/N.  The layer is checked as a
vector-Jacobian product: backward(U, cache) against the derivative of ⟨U, out⟩
for a random upstream gradient U.

    python examples/gradcheck_batchnorm.py
"""
import numpy as np

from derivcheck.gradcheck import check


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (1.0 / N) * gamma * inv_std * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_backward_wrong(dout, cache):
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv_std * (N * dout - dbeta - x_hat * dgamma)  # the 1/N is missing
    return dx, dgamma, dbeta


def main():
    rng = np.random.default_rng(0)
    x = (5 * rng.standard_normal((32, 8)) + 2).astype(np.float32)
    gamma, beta = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    for backward in (batchnorm_backward, batchnorm_backward_wrong):
        print(check(batchnorm_forward, backward, inputs={"x": x}, params={"gamma": gamma, "beta": beta},
                    args=({"eps": 1e-5},)))
        print()


if __name__ == "__main__":
    main()
