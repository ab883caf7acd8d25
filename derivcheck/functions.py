"""Elementwise scalar functions: one table, one row per function.

A row says everything derivcheck needs to know about a function:

- ``exact``: its definition, a SymPy expression in one real variable — the single source of truth
  for the exact checks (compiled for mpmath at 50 digits, derivatives of any order by sympy.diff);
- ``numpy``: a float64 implementation (numerically stable; SciPy where that is the well-kept one);
- ``prime``: f′ written the way backprop writes it, with f itself where that is natural (σ′ = σ(1 − σ),
  tanh′ = 1 − tanh²), for the engines that *write* derivative formulas (the prover, the gradient
  writer, the kernel generator).  ``prime(a, f, call)``: ``a`` is the argument, ``f`` the value f(a)
  (or a name that holds it), ``call(name, a)`` applies another function of the table; only arithmetic
  is used, so a rule works on derivcheck expressions and on SymPy alike.  None: no written rule (the
  prover then leaves the claim to the concrete stages).  tests/test_truth.py checks every rule
  against sympy.diff of ``exact``;
- ``kinks`` (points where it is not differentiable) and ``domain`` (a row of ``DOMAINS``): samplers
  keep arguments away from both;
- ``latex``/``mathml``/``layout``: how reports write it (a named call, √x or |x|);
- ``code``/``inplace``: its NumPy code form in generated kernels ("" for the functions SymPy's own
  NumPy printer writes from ``exact``).

Adding a function is adding a row (and its tests).  Generic functions ("any activation g") are
declared by claim files; they are realised at check time as a random member of a rich smooth family,
with their derivative ``g_prime`` the exact derivative of that member (see GenericFunction).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy

__all__ = ["ElementwiseFunction", "GenericFunction", "FUNCTIONS", "PRIMES", "DOMAINS", "KINK_MARGIN",
           "generic", "PRIME_SUFFIX"]

_x = sympy.Symbol("x", real=True)

#: The spelling of the derivative of a generic function ``g`` is ``g_prime``.
PRIME_SUFFIX = "_prime"

KINK_MARGIN = 1e-3  # relative distance kept from a kink: far beyond any finite-difference step
DOMAIN_MARGIN = 1e-6  # distance kept from the open end of a domain

#: domain name -> the open lower bound its arguments must stay above (None: every real number)
DOMAINS: dict[str, float | None] = {"real": None, "positive": 0.0, "above_minus_one": -1.0}



def scipy_function(module: str, name: str, *first):
    """SciPy's ``scipy.<module>.<name>`` (with ``first`` arguments bound), imported at its first call:
    SciPy's import would be a sixth of derivcheck's start-up, and most claims never call it."""
    def call(*args):
        return getattr(importlib.import_module(f"scipy.{module}"), name)(*first, *args)

    call.__name__ = name
    return call

@dataclass(frozen=True, eq=False)
class ElementwiseFunction:
    """A function R -> R applied entry by entry to a matrix (one row of FUNCTIONS)."""

    name: str
    exact: Callable[[sympy.Expr], sympy.Expr]
    numpy: Callable[[np.ndarray], np.ndarray]
    prime: Callable | None = None
    kinks: tuple[float, ...] = ()
    domain: str = "real"
    latex: str = ""  # "" is \operatorname{name}
    mathml: str = ""  # "" is the name
    layout: str = "call"  # "call": f(x); "sqrt": √x; "abs": |x|
    code: str = ""  # NumPy form for kernels, {0} the argument; "" when SymPy's NumPy printer writes ``exact``
    inplace: str = ""  # the NumPy form that writes into its argument's array, when there is one
    _mp: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"{self.name}: unknown domain {self.domain!r}")

    def _derivative(self, order: int) -> sympy.Expr:
        # the exact definition, or its derivative by sympy.diff (cached); a Dirac delta (sign′ in abs″)
        # is zero wherever the samplers let an argument be: away from the kinks
        key = ("expr", order)
        if key not in self._mp:
            self._mp[key] = sympy.diff(self.exact(_x), _x, order).replace(sympy.DiracDelta, lambda *args: 0)
        return self._mp[key]

    def _compiled(self, order: int) -> Callable:
        # compiled for mpmath (cached)
        if order not in self._mp:
            self._mp[order] = sympy.lambdify(_x, self._derivative(order), "mpmath")
        return self._mp[order]

    def vanishes(self, order: int) -> bool:
        """Whether the ``order``-th derivative is identically zero (relu'', step'), as SymPy writes it."""
        return self._derivative(order) == 0

    @property
    def mpmath(self) -> Callable:
        return self._compiled(0)

    def mpmath_derivative(self, arg, params=None, order: int = 1):
        """The ``order``-th derivative at arg, from sympy.diff of the exact definition: no
        hand-written derivative (order 0 is the function itself)."""
        return self._compiled(order)(arg)

    def derivative_mpmath_call(self, arg, params=None):
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

    @property
    def watched(self) -> bool:
        """Whether an argument can land somewhere the samplers must avoid."""
        return bool(self.kinks) or DOMAINS[self.domain] is not None

    def admits(self, arg: np.ndarray, kinks: bool = True) -> bool:
        """Whether float64 arguments are finite, inside the domain and (with ``kinks``: where the function
        is differentiated) away from the kinks: relu(0) = 0 is a fine value, not a fine derivative."""
        if not np.all(np.isfinite(arg)):
            return False
        low = DOMAINS[self.domain]
        if low is not None and arg.size and np.min(arg) - low <= DOMAIN_MARGIN:
            return False
        return not kinks or all(not arg.size or np.min(np.abs(arg - k) / (1.0 + np.abs(arg))) >= KINK_MARGIN
                                for k in self.kinks)

    def exactly_on_edge(self, arg: np.ndarray) -> bool:
        """Whether an argument sits exactly on a kink or on the domain's boundary: random draws of
        continuous values never do, so where one does it does with positive probability (relu's zeros
        fed to step), and the points that avoid it no longer stand for the whole domain."""
        low = DOMAINS[self.domain]
        return bool(any(np.any(arg == k) for k in self.kinks) or (low is not None and np.any(arg == low)))


def _sigmoid_np(x):
    # exp of a non-positive number only: no overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _piecewise_step(x):
    return sympy.Piecewise((1, x > 0), (0, True))


_SQRT_2PI = np.sqrt(2.0 * np.pi)


FUNCTIONS: dict[str, ElementwiseFunction] = {f.name: f for f in [
    # ---------------------------------------------------------------- activations
    ElementwiseFunction("sigmoid", lambda x: 1 / (1 + sympy.exp(-x)), _sigmoid_np,
                        prime=lambda a, f, call: f * (1 - f), latex="\\sigma", mathml="σ",
                        code="rt.sigmoid({0})", inplace="rt.sigmoid({0}, out={0})"),
    ElementwiseFunction("tanh", sympy.tanh, np.tanh, prime=lambda a, f, call: 1 - f ** 2,
                        latex="\\tanh", mathml="tanh", inplace="numpy.tanh({0}, out={0})"),
    ElementwiseFunction("relu", lambda x: sympy.Piecewise((x, x > 0), (0, True)), lambda x: np.maximum(x, 0.0),
                        prime=lambda a, f, call: call("step", a), kinks=(0.0,),
                        code="numpy.maximum({0}, 0)", inplace="numpy.maximum({0}, 0, out={0})"),
    ElementwiseFunction("step", _piecewise_step, lambda x: (x > 0).astype(float),
                        prime=lambda a, f, call: 0 * a, kinks=(0.0,),  # zero almost everywhere
                        code="({0} > 0)"),
    ElementwiseFunction("softplus", lambda x: sympy.log(1 + sympy.exp(x)), lambda x: np.logaddexp(0.0, x),
                        prime=lambda a, f, call: call("sigmoid", a), code="numpy.logaddexp(0, {0})"),
    ElementwiseFunction("softsign", lambda x: x / (1 + sympy.Abs(x)), lambda x: x / (1 + np.abs(x)),
                        prime=lambda a, f, call: (1 + call("abs", a)) ** -2, code="({0} / (1 + numpy.abs({0})))"),
    # ---------------------------------------------------------------- elementary functions
    ElementwiseFunction("exp", sympy.exp, np.exp, prime=lambda a, f, call: f,
                        latex="\\exp", mathml="exp", inplace="numpy.exp({0}, out={0})"),
    ElementwiseFunction("log", sympy.log, np.log, prime=lambda a, f, call: a ** -1, domain="positive",
                        latex="\\log", mathml="log", inplace="numpy.log({0}, out={0})"),
    ElementwiseFunction("sqrt", sympy.sqrt, np.sqrt, prime=lambda a, f, call: f ** -1 * sympy.Rational(1, 2),
                        domain="positive", layout="sqrt", inplace="numpy.sqrt({0}, out={0})"),
    ElementwiseFunction("sin", sympy.sin, np.sin, prime=lambda a, f, call: call("cos", a),
                        latex="\\sin", mathml="sin", inplace="numpy.sin({0}, out={0})"),
    ElementwiseFunction("cos", sympy.cos, np.cos, prime=lambda a, f, call: -call("sin", a),
                        latex="\\cos", mathml="cos", inplace="numpy.cos({0}, out={0})"),
    ElementwiseFunction("abs", sympy.Abs, np.abs, kinks=(0.0,), layout="abs",  # no rule: a kink at 0
                        inplace="numpy.abs({0}, out={0})"),
    ElementwiseFunction("log1p", lambda x: sympy.log(1 + x), np.log1p, prime=lambda a, f, call: (1 + a) ** -1,
                        domain="above_minus_one", code="numpy.log1p({0})", inplace="numpy.log1p({0}, out={0})"),
    ElementwiseFunction("expm1", lambda x: sympy.exp(x) - 1, np.expm1, prime=lambda a, f, call: f + 1,
                        code="numpy.expm1({0})", inplace="numpy.expm1({0}, out={0})"),
    # ---------------------------------------------------------------- special functions
    ElementwiseFunction("erf", sympy.erf, scipy_function("special", "erf"),
                        prime=lambda a, f, call: call("exp", -(a ** 2)) * (2 / sympy.sqrt(sympy.pi)),
                        latex="\\operatorname{erf}", code="scipy.special.erf({0})"),
    ElementwiseFunction("normal_cdf", lambda x: (1 + sympy.erf(x / sympy.sqrt(2))) / 2, scipy_function("special", "ndtr"),
                        prime=lambda a, f, call: call("normal_pdf", a), latex="\\Phi", mathml="Φ",
                        code="scipy.special.ndtr({0})"),
    ElementwiseFunction("normal_pdf", lambda x: sympy.exp(-x ** 2 / 2) / sympy.sqrt(2 * sympy.pi),
                        lambda x: np.exp(-0.5 * np.square(x)) / _SQRT_2PI, prime=lambda a, f, call: -a * f,
                        latex="\\varphi", mathml="φ", code="(numpy.exp(-0.5 * {0}**2) / numpy.sqrt(2 * numpy.pi))"),
    ElementwiseFunction("lgamma", sympy.loggamma, scipy_function("special", "gammaln"), prime=lambda a, f, call: call("digamma", a),
                        domain="positive", latex="\\ln\\Gamma", mathml="lnΓ", code="scipy.special.gammaln({0})"),
    ElementwiseFunction("digamma", sympy.digamma, scipy_function("special", "digamma"),
                        prime=lambda a, f, call: call("trigamma", a), domain="positive", latex="\\psi",
                        mathml="ψ", code="scipy.special.digamma({0})"),
    ElementwiseFunction("trigamma", lambda x: sympy.polygamma(1, x), scipy_function("special", "polygamma", 1),
                        domain="positive", latex="\\psi_1", mathml="ψ₁", code="scipy.special.polygamma(1, {0})"),
]}


#: name -> the written derivative rule of every function that has one (see ElementwiseFunction.prime)
PRIMES: dict[str, Callable] = {name: f.prime for name, f in FUNCTIONS.items() if f.prime is not None}


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
    watched: bool = False

    def admits(self, arg: np.ndarray, kinks: bool = True) -> bool:
        return bool(np.all(np.isfinite(arg)))

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

    def mpmath_derivative(self, arg, params, order: int = 1):
        return generic(self.base, self.order + order).mpmath_call(arg, params)

    def derivative_mpmath_call(self, arg, params):
        return self.prime.mpmath_call(arg, params)

    def vanishes(self, order: int) -> bool:
        return False  # a family with random coefficients: no derivative is zero

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
