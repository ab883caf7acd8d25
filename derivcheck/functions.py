"""Elementwise scalar functions: one table, one row per function.

Each row gives the exact definition (a SymPy expression in one real variable,
the single source of truth for the exact checks and for mpmath evaluation), a
float64 NumPy implementation (written for numerical stability), the points
where the function is not differentiable (samplers keep arguments away from
them) and the domain the argument must lie in.

Generic functions ("any activation g") are declared by claim files.  They are
realised at check time as a random member of a rich smooth family, with their
derivative ``g_prime`` the exact derivative of that member (see GenericFunction).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy

__all__ = ["ElementwiseFunction", "GenericFunction", "FUNCTIONS", "PRIMES", "generic", "PRIME_SUFFIX"]

_x = sympy.Symbol("x", real=True)

#: The spelling of the derivative of a generic function ``g`` is ``g_prime``.
PRIME_SUFFIX = "_prime"


@dataclass(frozen=True, eq=False)
class ElementwiseFunction:
    """A function R -> R applied entry by entry to a matrix."""

    name: str
    exact: Callable[[sympy.Expr], sympy.Expr]
    numpy: Callable[[np.ndarray], np.ndarray]
    kinks: tuple[float, ...] = ()
    domain: str = "real"  # "real" or "positive": where the argument must lie
    _mp: dict = field(default_factory=dict, repr=False)

    def _compiled(self, order: int) -> Callable:
        # the exact definition, or its derivative by sympy.diff, compiled for mpmath (cached)
        if order not in self._mp:
            self._mp[order] = sympy.lambdify(_x, sympy.diff(self.exact(_x), _x, order), "mpmath")
        return self._mp[order]

    @property
    def mpmath(self) -> Callable:
        return self._compiled(0)

    def derivative_mpmath_call(self, arg, params=None):
        """f'(arg), from sympy.diff of the exact definition: no hand-written derivative."""
        return self._compiled(1)(arg)

    def sympy_call(self, arg, params=None):
        return self.exact(arg)

    def numpy_call(self, arg, params=None):
        return self.numpy(arg)

    def mpmath_call(self, arg, params=None):
        return self.mpmath(arg)

    @property
    def generic(self) -> bool:
        return False


def _sigmoid_np(x):
    # exp of a non-positive number only: no overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _piecewise_step(x):
    return sympy.Piecewise((1, x > 0), (0, True))


FUNCTIONS: dict[str, ElementwiseFunction] = {
    f.name: f
    for f in [
        ElementwiseFunction("sigmoid", lambda x: 1 / (1 + sympy.exp(-x)), _sigmoid_np),
        ElementwiseFunction("tanh", sympy.tanh, np.tanh),
        ElementwiseFunction("relu", lambda x: sympy.Piecewise((x, x > 0), (0, True)),
                            lambda x: np.maximum(x, 0.0), kinks=(0.0,)),
        ElementwiseFunction("step", _piecewise_step, lambda x: (x > 0).astype(float), kinks=(0.0,)),
        ElementwiseFunction("exp", sympy.exp, np.exp),
        ElementwiseFunction("log", sympy.log, np.log, domain="positive"),
        ElementwiseFunction("sqrt", sympy.sqrt, np.sqrt, domain="positive"),
        ElementwiseFunction("sin", sympy.sin, np.sin),
        ElementwiseFunction("cos", sympy.cos, np.cos),
        ElementwiseFunction("abs", sympy.Abs, np.abs, kinks=(0.0,)),
    ]
}


#: f′ written the way backprop writes it, with f itself where that is natural (σ′ = σ(1 − σ),
#: tanh′ = 1 − tanh²): one rule per function for the engines that *write* derivative formulas
#: (symbolic.py, derivative.py, codegen.py).  ``a`` is the argument, ``f`` the value f(a) (or a name
#: that holds it), ``call(name, a)`` applies another function of the table; only arithmetic is used,
#: so a rule works on derivcheck expressions and on SymPy alike.  The ground truth stays sympy.diff
#: of the exact definitions above; tests/test_truth.py checks every rule against it.  abs has no rule.
PRIMES: dict[str, Callable] = {
    "sigmoid": lambda a, f, call: f * (1 - f),
    "tanh": lambda a, f, call: 1 - f ** 2,
    "exp": lambda a, f, call: f,
    "log": lambda a, f, call: a ** -1,
    "sqrt": lambda a, f, call: f ** -1 * sympy.Rational(1, 2),
    "sin": lambda a, f, call: call("cos", a),
    "cos": lambda a, f, call: -call("sin", a),
    "relu": lambda a, f, call: call("step", a),
    "step": lambda a, f, call: 0 * a,  # almost everywhere
}


# A generic function is realised as  c0*sin(c1*u + c2) + c3*u + c4*u**2.
# The family has non-zero derivatives of every order, so an identity that is
# wrong for "any g" is wrong for almost every member.
_u = sympy.Symbol("u", real=True)
_c = sympy.symbols("c0:5", real=True)
_FAMILY = _c[0] * sympy.sin(_c[1] * _u + _c[2]) + _c[3] * _u + _c[4] * _u**2


@dataclass(frozen=True, eq=False)
class GenericFunction:
    """``name`` stands for any smooth g; ``order`` counts primes (g_prime is 1)."""

    base: str
    order: int = 0
    _compiled: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.base + PRIME_SUFFIX * self.order

    @property
    def generic(self) -> bool:
        return True

    kinks: tuple = ()
    domain: str = "real"

    @property
    def prime(self) -> "GenericFunction":
        return generic(self.base, self.order + 1)

    def family(self) -> sympy.Expr:
        return sympy.diff(_FAMILY, _u, self.order)

    def parameter_symbols(self) -> tuple[sympy.Symbol, ...]:
        """SymPy symbols standing for this function's random coefficients."""
        return sympy.symbols(f"_{self.base}_c0:5", real=True)

    def sympy_call(self, arg, params):
        # params: the coefficient symbols (exact checks keep them symbolic);
        # xreplace, not subs: a plain structural replacement, many times faster
        return self.family().xreplace({_u: arg, **dict(zip(_c, params))})

    def _lambda(self, module: str):
        if module not in self._compiled:
            self._compiled[module] = sympy.lambdify((_u, *_c), self.family(), module)
        return self._compiled[module]

    def numpy_call(self, arg, params):
        return self._lambda("numpy")(arg, *params)

    def mpmath_call(self, arg, params):
        return self._lambda("mpmath")(arg, *params)

    def derivative_mpmath_call(self, arg, params):
        return self.prime.mpmath_call(arg, params)

    @staticmethod
    def sample_parameters(rng: np.random.Generator) -> tuple[float, ...]:
        c = rng.uniform(0.5, 1.5, size=5) * rng.choice([-1.0, 1.0], size=5)
        return tuple(float(v) for v in c)


_GENERIC_CACHE: dict[tuple[str, int], GenericFunction] = {}


def generic(base: str, order: int = 0) -> GenericFunction:
    """The generic function ``base`` differentiated ``order`` times (shared instances)."""
    key = (base, order)
    if key not in _GENERIC_CACHE:
        _GENERIC_CACHE[key] = GenericFunction(base, order)
    return _GENERIC_CACHE[key]
