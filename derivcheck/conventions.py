"""What "the gradient w.r.t. a symmetric matrix" means: one row per convention.

By default every entry of ``wrt`` is its own variable, and a gradient claim states G = ∂f/∂X entry by
entry, whatever X is assumed to be.  For a symmetric X the literature uses two other meanings; a
gradient claim declares one with ``convention`` (X must then be assumed symmetric or spd):

- ``sym``: the gradient in the space of symmetric matrices — the symmetric matrix S with ⟨S, V⟩ =
  df[V] for every symmetric V, which is sym(G) = (G + Gᵀ)/2.  For f = ln det X: X⁻¹.
- ``cookbook``: the Matrix Cookbook's (§2.8.2, structured symmetric matrices): X_ij and X_ji are one variable, so the entry
  (i, j) off the diagonal is the derivative w.r.t. that variable, which moves both entries:
  G + Gᵀ − G∘I.  For f = ln det X: 2X⁻¹ − X⁻¹∘I.

Both depend only on f's values at symmetric matrices (on sym(G)), not on how f would extend to other
matrices.  A row gives the claim's truth from G (``truth``, to show a counterexample entry by entry)
and the direction along which f is differentiated so that ⟨claimed, V⟩ can be compared with it for a
random, unstructured V (``direction``): ⟨sym(G), V⟩ = df[(V + Vᵀ)/2] and ⟨G + Gᵀ − G∘I, V⟩ =
df[V + Vᵀ − V∘I].  Equal for a random V exactly when the claimed matrix is the truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy

from . import expr as E
from .assumptions import closure

__all__ = ["Convention", "CONVENTIONS", "check_convention"]


@dataclass(frozen=True)
class Convention:
    name: str
    means: str
    direction: Callable[[E.Expr], E.Expr]  # V -> the direction f is differentiated along
    truth: Callable[[E.Expr], E.Expr]  # G = ∂f/∂X entry by entry -> the gradient in this convention
    structured: bool = True  # only for a symmetric wrt


def _half(e: E.Expr) -> E.Expr:
    return E.Mul(e, E.Scalar(sympy.Rational(1, 2)))


def _both_minus_diagonal(e: E.Expr) -> E.Expr:
    n = E.shape(e)[0]
    return E.Add(E.Add(e, E.Transpose(e)), E.Mul(E.Scalar(sympy.Integer(-1)), E.Mul(e, E.Fill("eye", n, n))))


CONVENTIONS: dict[str, Convention] = {c.name: c for c in [
    Convention("", "every entry of wrt is its own variable (the default)", lambda v: v, lambda g: g, False),
    Convention("sym", "the gradient among symmetric matrices: sym(∂f/∂X) = (G + Gᵀ)/2",
               lambda v: _half(E.Add(v, E.Transpose(v))), lambda g: _half(E.Add(g, E.Transpose(g)))),
    Convention("cookbook", "the Matrix Cookbook's: X_ij = X_ji is one variable, G + Gᵀ − G∘I",
               _both_minus_diagonal, _both_minus_diagonal),
]}


def check_convention(name: str, wrt: E.Expr) -> Convention:
    """The convention's row; ShapeError when it is unknown or wrt is not a symmetric matrix symbol."""
    if name not in CONVENTIONS:
        raise E.ShapeError(f"unknown convention {name!r}; known: {', '.join(repr(c) for c in CONVENTIONS if c)}")
    row = CONVENTIONS[name]
    if row.structured and not (isinstance(wrt, E.Symbol) and "symmetric" in closure(wrt.assume)):
        raise E.ShapeError(f"convention {name!r} is for a symmetric matrix: declare {getattr(wrt, 'name', wrt)} "
                           "symmetric (or spd)")
    return row
