"""Ground-truth derivatives by SymPy and by finite differences.

Both are independent of any claim's own rules:

- ``symbolic_backend``: build the explicit scalar entries of f at concrete
  sizes with SymPy (evaluate.SYM), differentiate them with ``sympy.diff`` and
  compile the result for mpmath.  The exact check uses it where forward mode
  (forward.py) does not reach (det, inv); tests use it to cross-check forward mode.
- ``fd_backend``: central differences with one Richardson step, in float64
  (numeric check) or at 50 digits in mpmath (re-checking an apparent failure).
  A directional derivative costs four evaluations of f whatever the number of
  parameters.

Each returns an arithmetic (evaluate.Backend) whose ``derivative`` evaluates
the Grad, Jacobian and Directional nodes.
"""
from __future__ import annotations

import dataclasses
from functools import partial

import mpmath
import numpy as np
import sympy

from . import expr as E
from .evaluate import MP, SYM, Backend, Env, entry_symbols, evaluate

__all__ = ["symbolic_backend", "fd_backend", "central_difference", "step_scale"]


# ---------------------------------------------------------------- symbolic


def _sym_env(f_like: list[E.Expr], env: Env) -> Env:
    syms = E.symbols_of(*f_like)
    values = {name: entry_symbols(name, *env.values[name].shape) for name in syms}
    params = {g: E.generic(g).parameter_symbols() for g in E.generics_of(*f_like)}
    return Env(env.sizes, values, params)


def _parts(node) -> list[E.Expr]:
    return [node.f, node.wrt] + ([node.direction] if isinstance(node, E.Directional) else [])


def _explicit(f: E.Expr, senv: Env, cache: dict, key) -> np.ndarray:
    """The explicit SymPy entries of f, shared by every derivative of f at these shapes."""
    full = ("explicit", id(f), key)
    if full not in cache:
        cache[full] = (f, evaluate(f, senv, SYM))
    return cache[full][1]


def _compile_symbolic(node, env: Env, backend: Backend, cache: dict, key):
    """Differentiate explicitly; return the compiled derivative and how to call it."""
    senv = _sym_env(_parts(node), env)
    rows, cols = evaluate(node.wrt, env, backend).shape
    fresh = None
    if isinstance(node.wrt, E.Symbol):
        variables = senv.values[node.wrt.name]
    else:
        fresh = entry_symbols(node.wrt.name, rows, cols)
        variables = fresh
        senv = senv.with_overrides(**{node.wrt.name: fresh})

    if isinstance(node, E.Directional):
        t = sympy.Symbol("t", real=True)
        d = evaluate(node.direction, senv, SYM)
        moved = variables + t * d
        senv_t = (senv.with_values(**{node.wrt.name: moved}) if fresh is None
                  else senv.with_overrides(**{node.wrt.name: moved}))
        f = evaluate(node.f, senv_t, SYM)
        # t stays an argument of the compiled function and is passed as 0: cheaper than subs
        result = np.vectorize(lambda v: sympy.diff(v, t), otypes=[object])(f)
    else:
        f = _explicit(node.f, senv, cache, (key, node.wrt.name if fresh is not None else None))
        if isinstance(node, E.Grad):
            result = np.vectorize(lambda v: sympy.diff(f[0, 0], v), otypes=[object])(variables)
        else:  # Jacobian, numerator layout: row i is f_i, column j is x_j
            ff, xx = f.reshape(-1), variables.reshape(-1)
            result = np.array([[sympy.diff(fi, xj) for xj in xx] for fi in ff], dtype=object)

    args = [s for name in sorted(senv.values) for s in senv.values[name].reshape(-1)]
    if isinstance(node, E.Directional):
        args.append(t)
    if fresh is not None:
        args += list(fresh.reshape(-1))
    generic_names = sorted(senv.params)
    for g in generic_names:
        args += list(senv.params[g])
    fn = sympy.lambdify(args, sympy.Matrix(result), "mpmath", cse=True)
    return fn, sorted(senv.values), generic_names, fresh is not None, result.shape


def _symbolic_derivative(node, env: Env, backend: Backend, cache: dict):
    # Keyed by structure, not by node: claims that differentiate the same f w.r.t.
    # the same variable at the same shapes share one compiled derivative.
    shapes = tuple(sorted((n, env.values[n].shape) for n in E.symbols_of(*_parts(node))))
    key = (type(node).__name__, id(node.f), id(node.wrt), id(getattr(node, "direction", None)), shapes)
    if key not in cache:
        # the node is kept in the cache so the ids in the key stay unique
        cache[key] = (node, _compile_symbolic(node, env, backend, cache, shapes))
    fn, names, generic_names, needs_wrt, out_shape = cache[key][1]
    args = [v for name in names for v in env.values[name].reshape(-1)]
    if isinstance(node, E.Directional):
        args.append(0)  # t = 0
    if needs_wrt:
        args += list(evaluate(node.wrt, env, backend).reshape(-1))
    for g in generic_names:
        args += list(env.params[g])
    value = fn(*args)
    return np.array(value.tolist(), dtype=object).reshape(out_shape)


def symbolic_backend(cache: dict) -> Backend:
    """mpmath arithmetic whose derivatives come from sympy.diff of the explicit entries."""
    return dataclasses.replace(MP, derivative=partial(_symbolic_derivative, cache=cache))


# ---------------------------------------------------------------- finite differences


def _step(backend: Backend):
    if backend.dtype is float:
        return 2.0 ** -12  # ~eps**(1/3) scale; Richardson removes the h**2 term
    return mpmath.mpf(10) ** (-(mpmath.mp.dps // 4))


def step_scale(wrt, direction_value, env: Env, backend: Backend) -> float:
    """How far a unit step along ``direction_value`` moves relative to the size of wrt."""
    base = evaluate(wrt, env, backend)
    return max(1.0, float(np.max(np.abs(base.astype(float))))) / max(
        1e-300, float(np.max(np.abs(direction_value.astype(float)))))


def central_difference(f, wrt, direction_value, env: Env, backend: Backend, h):
    """(f(wrt + h v) − f(wrt − h v)) / 2h, with every other symbol held fixed."""
    base = evaluate(wrt, env, backend)

    def at(t):
        moved = base + t * direction_value
        e2 = (env.with_values(**{wrt.name: moved}) if isinstance(wrt, E.Symbol)
              else env.with_overrides(**{wrt.name: moved}))
        return evaluate(f, e2, backend)

    return (at(h) - at(-h)) / (2 * h)


def _directional_fd(f, wrt, direction_value, env: Env, backend: Backend):
    h0 = _step(backend) * step_scale(wrt, direction_value, env, backend)
    d1 = central_difference(f, wrt, direction_value, env, backend, h0)
    d2 = central_difference(f, wrt, direction_value, env, backend, h0 / 2)
    return (4 * d2 - d1) / 3  # Richardson: cancels the h**2 error term


def _unit(shape, index, backend):
    u = np.full(shape, backend.scalar(sympy.Integer(0)), dtype=backend.dtype)
    u[index] = backend.scalar(sympy.Integer(1))
    return u


def from_directional(directional):
    """The derivative method of an arithmetic, given how it takes one directional
    derivative ``directional(f, wrt, direction, env, backend)``: a gradient or a
    Jacobian is one directional derivative per entry of wrt."""

    def derivative(node, env: Env, backend: Backend):
        if isinstance(node, E.Directional):
            return directional(node.f, node.wrt, evaluate(node.direction, env, backend), env, backend)
        wshape = evaluate(node.wrt, env, backend).shape
        columns = [directional(node.f, node.wrt, _unit(wshape, idx, backend), env, backend)
                   for idx in np.ndindex(*wshape)]
        if isinstance(node, E.Grad):
            return np.array([c[0, 0] for c in columns], dtype=backend.dtype).reshape(wshape)
        return np.stack([c.reshape(-1) for c in columns], axis=1)  # Jacobian: column j is ∂f/∂x_j

    return derivative


def fd_backend(backend: Backend) -> Backend:
    """``backend`` arithmetic whose derivatives come from central finite differences."""
    return dataclasses.replace(backend, derivative=from_directional(_directional_fd))

