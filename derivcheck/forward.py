"""Forward-mode differentiation of the explicit entries, at 50 digits.

A ``Dual`` carries an entry's value and its derivative along one direction.
Evaluating f with the variable's entries seeded as Dual(x, v) gives
d/dt f(x + t v) at t = 0 exactly up to 50-digit rounding: the chain rule is
applied to scalar operations only (+, ×, ÷, powers and each elementwise
function, whose derivative comes from ``sympy.diff`` of its exact definition),
never to the matrix-level rules a claim states (det and inv are computed by
Gaussian elimination in Dual arithmetic, and expm, logm, sqrtm by series and
iterations, so they too reduce to scalar operations).  Passes nest (dual.py:
each pass has its own tag), so the exact stage differentiates twice: Hessians
and second differentials.  One pass per direction, so it is much faster than
differentiating SymPy expressions (truth.symbolic_backend), which tests use to
cross-check this module.
"""
from __future__ import annotations

import dataclasses

import mpmath
import numpy as np

from . import expr as E
from .dual import Dual, call, innermost, new_tag
from .evaluate import MP, Backend, Env, evaluate, matrix_function_method
from .matrix_functions import eliminate, inverse

__all__ = ["Dual", "forward_backend", "directional_forward"]


def _apply(fn, a, params):
    # every layer of dual parts at once: nested passes (a Hessian) need f″, f‴, … too
    return np.vectorize(lambda z: call(fn, z, params), otypes=[object])(a)


def _softmax(z):
    from .functions import FUNCTIONS

    e = _apply(FUNCTIONS["exp"], z, None)
    return e / e.sum(axis=1, keepdims=True)


def _det(a):
    return np.array([[eliminate(a, None)[0]]], dtype=object)


_values = np.vectorize(innermost, otypes=[object])


def _seeded_pass(f: E.Expr, wrt: E.Expr, seeds: np.ndarray, env: Env, backend: Backend) -> np.ndarray:
    """Evaluate f with wrt's entries as Dual(value, seed); the derivative parts of the result."""
    base = evaluate(wrt, env, backend)
    tag = new_tag()  # larger than any tag in base: this pass's derivatives never mix with an outer pass's
    seeded = np.empty(base.shape, dtype=object)
    for idx in np.ndindex(*base.shape):
        seeded[idx] = Dual(base[idx], seeds[idx], tag)
    moved = env.with_values(**{wrt.name: seeded}) if isinstance(wrt, E.Symbol) else \
        env.with_overrides(**{wrt.name: seeded})
    out = evaluate(f, moved, backend)
    zero = seeds.reshape(-1)[0] * 0
    return np.vectorize(lambda v: v.d if type(v) is Dual and v.t == tag else zero, otypes=[object])(out)


def directional_forward(f: E.Expr, wrt: E.Expr, direction: np.ndarray, env: Env, backend: Backend) -> np.ndarray:
    """d/dt f(wrt + t·direction) at t = 0, entry by entry."""
    return _seeded_pass(f, wrt, direction, env, backend)


def _all_directions(f: E.Expr, wrt: E.Expr, env: Env, backend: Backend) -> np.ndarray:
    """∂f_p/∂x_q for every entry p of f and q of wrt, in one pass: (f entries, wrt entries)."""
    shape = evaluate(wrt, env, backend).shape
    k = shape[0] * shape[1]
    seeds = np.empty(shape, dtype=object)
    for q, idx in enumerate(np.ndindex(*shape)):
        unit = np.full(k, mpmath.mpf(0), dtype=object)
        unit[q] = mpmath.mpf(1)
        seeds[idx] = unit
    out = _seeded_pass(f, wrt, seeds, env, backend)
    return np.stack([np.asarray(d, dtype=object).reshape(k) for d in out.reshape(-1)])


def _derivative(node, env: Env, backend: Backend):
    if isinstance(node, E.Directional):
        return directional_forward(node.f, node.wrt, evaluate(node.direction, env, backend), env, backend)
    table = _all_directions(node.f, node.wrt, env, backend)
    if isinstance(node, E.Grad):  # f is 1x1: one row, reshaped to wrt's shape
        return table[0].reshape(evaluate(node.wrt, env, backend).shape)
    return table  # Jacobian, numerator layout


def forward_backend() -> Backend:
    """mpmath arithmetic whose derivatives come from forward-mode differentiation."""
    return dataclasses.replace(MP, apply=_apply, softmax=_softmax, det=_det, inv=inverse,
                               derivative=_derivative, values=_values, matrix_function=matrix_function_method("exact"))
