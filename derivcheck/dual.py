"""Dual numbers with tags: forward-mode differentiation that nests (derivatives of derivatives).

``Dual(v, d, tag)`` is v + d·ε with ε² = 0.  The derivative part may be an object array (one pass
carries many directions).  Each differentiation pass seeds its variable with a fresh tag
(``new_tag``), larger than every tag alive in the values it starts from; a dual's parts only ever
hold duals of smaller tags.  Arithmetic between two duals of different tags treats the smaller-tag
one as a constant of the larger tag's pass: that is what keeps the derivative of one pass from
being mistaken for another's ("perturbation confusion"), so ``jacobian(grad(f, x), x)`` and mixed
second derivatives come out right.  Only scalar arithmetic is defined here (+ − × ÷ and powers);
functions go through ``call`` with the derivatives of every order their table row provides.
"""
from __future__ import annotations

import itertools

import mpmath
import numpy as np

__all__ = ["Dual", "new_tag", "innermost", "magnitude", "call"]

_TAGS = itertools.count(1)


def new_tag() -> int:
    """A tag larger than any given before: the next differentiation pass's."""
    return next(_TAGS)


class Dual:
    """value + derivative·ε.  Products put the derivative first (``d * x``, not ``x * d``): an mpf
    on the left of an array makes mpmath try to convert the array through its repr, which is slow."""

    __slots__ = ("v", "d", "t")

    def __init__(self, v, d, t: int = 0):
        self.v, self.d, self.t = v, d, t

    # Each binary operation: with an array operand, let NumPy broadcast and come back entry by
    # entry; with a dual of a larger tag, that dual's (reflected) operation decides; anything else
    # (numbers, duals of smaller tags) is a constant of this dual's pass.

    def __add__(self, o):
        if type(o) is Dual:
            if o.t == self.t:
                return Dual(self.v + o.v, self.d + o.d, self.t)
            if o.t > self.t:
                return o.__radd__(self)
        elif isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v + o, self.d, self.t)

    def __radd__(self, o):
        if isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v + o, self.d, self.t)

    def __sub__(self, o):
        if type(o) is Dual:
            if o.t == self.t:
                return Dual(self.v - o.v, self.d - o.d, self.t)
            if o.t > self.t:
                return o.__rsub__(self)
        elif isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v - o, self.d, self.t)

    def __rsub__(self, o):
        if isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(o - self.v, -self.d, self.t)

    def __mul__(self, o):
        if type(o) is Dual:
            if o.t == self.t:
                return Dual(self.v * o.v, self.d * o.v + o.d * self.v, self.t)
            if o.t > self.t:
                return o.__rmul__(self)
        elif isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v * o, self.d * o, self.t)

    def __rmul__(self, o):
        if isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v * o, self.d * o, self.t)

    def __truediv__(self, o):
        if type(o) is Dual:
            if o.t == self.t:
                return Dual(self.v / o.v, (self.d * o.v - o.d * self.v) / (o.v * o.v), self.t)
            if o.t > self.t:
                return o.__rtruediv__(self)
        elif isinstance(o, np.ndarray):
            return NotImplemented
        return Dual(self.v / o, self.d / o, self.t)

    def __rtruediv__(self, o):
        if isinstance(o, np.ndarray):
            return NotImplemented
        value = o / self.v
        return Dual(value, -self.d * (value / self.v), self.t)

    def __neg__(self):
        return Dual(-self.v, -self.d, self.t)

    def __pos__(self):
        return self

    def __pow__(self, o):
        if type(o) is Dual and o.t > self.t:
            return o.__rpow__(self)
        if isinstance(o, np.ndarray):
            return NotImplemented
        if type(o) is Dual and o.t == self.t:  # d(a^b) = b a^(b−1) a' + a^b log(a) b'
            value = self.v ** o.v
            return Dual(value, self.d * (o.v * self.v ** (o.v - 1)) + o.d * (value * _log(self.v)), self.t)
        return Dual(self.v ** o, self.d * (o * self.v ** (o - 1)), self.t)

    def __rpow__(self, o):  # o ** self, o a constant of this pass: d = o^v log(o) v'
        if isinstance(o, np.ndarray):
            return NotImplemented
        value = o ** self.v
        return Dual(value, self.d * (value * _log(o)), self.t)

    def __repr__(self):
        # kept cheap: mpmath builds repr(x) for its error message whenever an mpf
        # meets a Dual (then Python falls back to Dual.__rmul__ and the like)
        d = f"<{self.d.shape[0]} directions>" if isinstance(self.d, np.ndarray) else self.d
        return f"Dual({self.v}, {d}, tag {self.t})"


def innermost(z):
    """The plain number under every layer of dual parts (the value at the point)."""
    while type(z) is Dual:
        z = z.v
    return z


def magnitude(z):
    """|z| of the value at the point (for pivoting and for choosing how many terms a series needs)."""
    return abs(innermost(z))


def size(z):
    """The largest magnitude among every part of z (values and derivatives at every layer): a series
    or an iteration in dual arithmetic has converged only when all of them have."""
    if type(z) is Dual:
        return max(size(z.v), size(z.d))
    if isinstance(z, np.ndarray):
        return max((size(x) for x in z.reshape(-1)), default=mpmath.mpf(0))
    return abs(z)


def call(fn, z, params=None, order: int = 0):
    """The ``order``-th derivative of the elementwise function ``fn`` at z, through every layer of
    dual parts: f(v + d ε) = f(v) + f′(v) d ε, with f(v) and f′(v) themselves duals when v is."""
    if type(z) is Dual:
        return Dual(call(fn, z.v, params, order), z.d * call(fn, z.v, params, order + 1), z.t)
    return fn.mpmath_derivative(z, params, order)


def _log(z):
    from .functions import FUNCTIONS  # the table's log, so that a dual base works too

    return call(FUNCTIONS["log"], z)
