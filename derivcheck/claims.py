"""Claims: what a document asserts, as plain data.

A claim is checked, never trusted.  Constructors take the document's own
expressions; ``expect`` records what a human concluded after the checker
spoke (``holds`` / ``fails``) and ``note`` says in words what is wrong.
"""
from __future__ import annotations

import sys
from pathlib import Path
from dataclasses import dataclass, field

from .expr import Expr, as_expr

__all__ = ["Claim", "Kernel", "KINDS", "PROVABLE_KINDS", "identity", "gradient", "jacobian", "directional", "value",
           "derivation", "hessian", "second_differential"]

KINDS = ("identity", "gradient", "jacobian", "directional", "value", "derivation", "code", "hessian",
         "second_differential")
PROVABLE_KINDS = ("identity", "gradient", "jacobian", "directional", "derivation", "hessian",
                  "second_differential")  # all but worked numbers and programs
EXPECTATIONS = ("holds", "fails")


@dataclass(frozen=True, eq=False)
class Claim:
    id: str
    kind: str
    source: str = ""
    expect: str | None = None
    note: str = ""
    # identity
    lhs: Expr | None = None
    rhs: Expr | None = None
    # gradient / jacobian / directional
    f: Expr | None = None
    wrt: Expr | None = None
    claimed: Expr | None = None
    direction: Expr | None = None
    # gradient: what a derivative w.r.t. a symmetric matrix means (conventions.py; "" entry by entry)
    convention: str = ""
    # second_differential: the two directions V, W of d²f[V, W]
    directions: tuple = ()
    # value
    expr: Expr | None = None
    at: dict = field(default_factory=dict)
    equals: object = None
    tolerance: float = 1e-9
    # derivation
    steps: tuple = ()
    # sizes: SymPy relations between dimensions, e.g. m > n
    relations: tuple = ()
    # where the claim was written ("file:line"), for error messages
    origin: str = ""
    # set by a loader when the claim's text could not be turned into expressions
    error: str | None = None
    # the equation as the document writes it (LaTeX), for claims read from a document
    latex: str = ""
    # code: the program whose gradients are checked (derivcheck.gradcheck.claim.CodeCheck)
    code: object = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: unknown kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.expect not in (None, *EXPECTATIONS):
            raise ValueError(f"claim {self.id}: expect must be 'holds' or 'fails', not {self.expect!r}")

    @property
    def document(self) -> str:
        """What the claim is grouped under: its claim file's name (one catalog module per document)."""
        if self.origin:
            return Path(self.origin.rsplit(":", 1)[0]).stem
        return self.source.split("§")[0].strip() or "(no source)"


def _common(kw):
    kw = dict(kw)
    kw["relations"] = tuple(kw.get("relations", ()))
    if "origin" not in kw:  # where the constructor was called: file:line of the catalog module
        caller = sys._getframe(2)
        kw["origin"] = f"{caller.f_code.co_filename}:{caller.f_lineno}"
    return kw


def identity(id: str, lhs, rhs, **kw) -> Claim:
    """lhs == rhs for all values (and all sizes allowed by the relations)."""
    return Claim(id, "identity", lhs=as_expr(lhs), rhs=as_expr(rhs), **_common(kw))


def gradient(id: str, f, wrt, claimed, **kw) -> Claim:
    """claimed == ∂f/∂wrt for a scalar f, in the shape of wrt."""
    return Claim(id, "gradient", f=as_expr(f), wrt=wrt, claimed=as_expr(claimed), **_common(kw))


def jacobian(id: str, f, wrt, claimed, **kw) -> Claim:
    """claimed == ∂f/∂wrt for vectors (numerator layout: J_ij = ∂f_i/∂x_j)."""
    return Claim(id, "jacobian", f=as_expr(f), wrt=wrt, claimed=as_expr(claimed), **_common(kw))


def hessian(id: str, f, wrt, claimed, **kw) -> Claim:
    """claimed == ∂²f/∂x∂xᵀ for a scalar f and a vector x (n × n)."""
    return Claim(id, "hessian", f=as_expr(f), wrt=wrt, claimed=as_expr(claimed), **_common(kw))


def second_differential(id: str, f, wrt, directions, claimed, **kw) -> Claim:
    """The second differential d²f[V, W] = d/ds d/dt f(wrt + tV + sW) at 0 is ``claimed`` (bilinear in the two
    direction symbols V, W of wrt's shape): second derivatives w.r.t. a matrix without 4-index objects."""
    return Claim(id, "second_differential", f=as_expr(f), wrt=wrt, directions=tuple(directions),
                 claimed=as_expr(claimed), **_common(kw))


def directional(id: str, f, wrt, direction, claimed, **kw) -> Claim:
    """The differential of f at wrt is the linear map direction ↦ claimed."""
    return Claim(id, "directional", f=as_expr(f), wrt=wrt, direction=direction,
                 claimed=as_expr(claimed), **_common(kw))


def value(id: str, expr, at: dict, equals, tolerance: float = 1e-9, **kw) -> Claim:
    """expr evaluated at the given numbers equals ``equals`` within ``tolerance``."""
    return Claim(id, "value", expr=as_expr(expr), at=dict(at), equals=equals, tolerance=tolerance,
                 **_common(kw))


def derivation(id: str, steps, **kw) -> Claim:
    """Each expression equals the previous one."""
    return Claim(id, "derivation", steps=tuple(as_expr(s) for s in steps), **_common(kw))


@dataclass(frozen=True, eq=False)
class Kernel:
    """A network whose backward pass is generated from verified claims (codegen.py).

    ``gradients`` maps each parameter's name to the id of the claim whose
    ``claimed`` expression is its gradient; a kernel is generated only when
    every one of those claims holds.  ``activations`` instantiates the generic
    functions of the claims (``{"g1": "tanh"}``).  ``replaces`` maps a
    parameter to the document's own claim when that one was refuted."""

    name: str
    title: str
    inputs: tuple
    params: tuple
    loss: Expr
    gradients: dict
    source: str = ""
    activations: dict = field(default_factory=dict)
    replaces: dict = field(default_factory=dict)
    origin: str = ""

    def __post_init__(self):
        if not self.origin:  # file:line of the catalog module that declared it
            caller = sys._getframe(2)
            object.__setattr__(self, "origin", f"{caller.f_code.co_filename}:{caller.f_lineno}")
