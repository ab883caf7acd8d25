"""How tightly each written form binds: one table for every renderer of expressions.

The text printer (printing.py, the claim-file vocabulary), the notation (notation.py, LaTeX and
MathML) and the readable true gradients (derivative.readable, through the text printer) give every
form one of these levels and bracket an operand with the one rule below, so that a product inside a
sum, a sum inside a power or a negation inside a product is bracketed the same way everywhere.
"""
from __future__ import annotations

from . import expr as E

__all__ = ["ATOM", "POWER", "UNARY", "PRODUCT", "KRON", "SUM", "bracketed", "is_minus_one", "is_reciprocal"]

ATOM = 100  # names, numbers, calls, and anything already bracketed or postfixed (X.T)
POWER = 40  # a ** b, a^b, a^T written as a superscript
UNARY = 30  # −a
PRODUCT = 20  # a * b, a @ b, a / b, a ⊙ b, a • b, scaling by juxtaposition
KRON = 15  # a ⊗ b: bracketed as an operand of a product
SUM = 10  # a + b, a − b


def bracketed(prec: int, level: int, strict: bool = False) -> bool:
    """Whether an operand of precedence ``prec`` needs brackets where ``level`` is required: when it binds
    less tightly, or as tightly on the side of an operator that does not associate (the right of −, /)."""
    return prec < level or (strict and prec == level)


def is_minus_one(e) -> bool:
    """The −1 of a negation (−x is written Mul(−1, x)) or of a reciprocal (x**−1)."""
    return isinstance(e, E.Scalar) and e.value == -1


def is_reciprocal(e) -> bool:
    """x**−1, which the renderers write as a division."""
    return isinstance(e, E.Pow) and is_minus_one(e.b)
