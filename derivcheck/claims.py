"""Claims: what a document asserts, as plain data.

A claim is checked, never trusted.  Constructors take the document's own
expressions; ``expect`` records what a human concluded after the checker
spoke (``holds`` / ``fails``) and ``note`` says in words what is wrong.
"""
from __future__ import annotations

import sys
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

from . import expr as E
from .expr import Expr, as_expr

__all__ = ["Claim", "ClaimKind", "Kernel", "CLAIM_KINDS", "KINDS", "PROVABLE_KINDS", "identity", "gradient", "jacobian", "directional", "value",
           "derivation", "hessian", "second_differential"]

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


# ---------------------------------------------------------------- claim kinds: one row each


@dataclass(frozen=True)
class ClaimKind:
    """What a claim kind means, in one place.

    ``required``/``optional``: its fields in a TOML claim file (empty for kinds TOML cannot state).
    ``sides(claim)``: (claimed side, true side) as expressions, the truth written with derivative nodes
    whose value comes from differentiating the explicit entries — what the checker compares, the
    diagnoses repair and the reports show; None for kinds that are not two sides (numbers, steps,
    programs).  ``compare``: how the checker decides it (check.py has one way per name: "entrywise",
    "projection" along a random direction, "vector" product with a random vector, or a kind's own).
    ``statement(claim)``: how the reports write it, rows of (parts, label).  ``validate(claim)``
    raises ShapeError for what the kind needs beyond shapes."""

    name: str
    compare: str
    sides: Callable | None = None
    statement: Callable | None = None
    required: frozenset = frozenset()
    optional: frozenset = frozenset()
    provable: bool = True
    validate: Callable = lambda claim: None
    mismatch: Callable | None = None  # (claim, claimed shape, true shape) -> why the shapes do not fit
    compared: str = ""  # what the checker's two sides are, when it compares projections


def _gradient_sides(c):
    from .conventions import check_convention  # the meaning of ∂f/∂X for a symmetric X (ShapeError if none)

    return c.claimed, check_convention(c.convention, c.wrt).truth(E.Grad(c.f, c.wrt))


def _hessian_needs_a_vector(c):
    rows, cols = E.shape(c.wrt)
    if 1 not in (rows, cols):
        raise E.ShapeError(f"a Hessian needs a vector, but {c.wrt.name} has shape {E.fmt_shape((rows, cols))}; "
                           "for a matrix, state the second differential (kind second_differential)")


def _direction_is_a_symbol(c):
    if not isinstance(c.direction, E.Symbol):
        raise E.ShapeError("the direction of a directional claim must be a symbol (such as dW)")


def _two_directions(c):
    if len(c.directions) != 2:
        raise E.ShapeError("a second differential needs two directions, such as directions = [\"V\", \"W\"]")
    for d in c.directions:
        if not isinstance(d, E.Symbol) or E.shape(d) != E.shape(c.wrt):
            raise E.ShapeError(f"the directions must be symbols of {c.wrt.name}'s shape {E.fmt_shape(E.shape(c.wrt))}")
        if d.name in E.symbols_of(c.f):
            raise E.ShapeError(f"the direction {d.name} occurs in f")


def _second(c):
    v, w = c.directions
    return E.Directional(E.Directional(c.f, c.wrt, v), c.wrt, w)


def _hessian(c):
    return E.Jacobian(E.Grad(c.f, c.wrt), c.wrt)


def _equation(left, right, label=""):
    return [((left, "=", right), label)]


def _shapes(text):
    """A mismatch message from a template with {claimed}, {true} (shapes) and {wrt} (a name)."""
    return lambda c, sc, st: text.format(claimed=E.fmt_shape(sc), true=E.fmt_shape(st),
                                         wrt=getattr(c.wrt, "name", ""))


_F = frozenset
CLAIM_KINDS: dict[str, ClaimKind] = {k.name: k for k in [
    # the right side is what is claimed of the left (a derivation's new line of the line before)
    ClaimKind("identity", "entrywise", lambda c: (c.rhs, c.lhs), lambda c: _equation(c.lhs, c.rhs),
              _F({"lhs", "rhs"}), mismatch=_shapes("the left side has shape {true}, the right side has shape {claimed}")),
    ClaimKind("gradient", "projection", _gradient_sides,
              lambda c: _equation(E.Grad(c.f, c.wrt), c.claimed, f"convention: {c.convention}" if c.convention else ""),
              _F({"f", "wrt", "claimed"}), _F({"convention"}),
              mismatch=_shapes("the claimed gradient has shape {claimed}, but {wrt} has shape {true}"),
              compared="<claimed, V> against the directional derivative of f along a random V"),
    ClaimKind("jacobian", "vector", lambda c: (c.claimed, E.Jacobian(c.f, c.wrt)),
              lambda c: _equation(E.Jacobian(c.f, c.wrt), c.claimed), _F({"f", "wrt", "claimed"}),
              mismatch=_shapes("the claimed Jacobian has shape {claimed}, but ∂f/∂{wrt} in numerator layout has "
                               "shape {true}"),
              compared="J v against the directional derivative of f along a random v"),
    ClaimKind("directional", "entrywise", lambda c: (c.claimed, E.Directional(c.f, c.wrt, c.direction)),
              lambda c: _equation(E.Directional(c.f, c.wrt, c.direction), c.claimed),
              _F({"f", "wrt", "direction", "claimed"}), validate=_direction_is_a_symbol,
              mismatch=_shapes("the claimed differential has shape {claimed}, the true differential has shape {true}")),
    ClaimKind("hessian", "vector", lambda c: (c.claimed, _hessian(c)), lambda c: _equation(_hessian(c), c.claimed),
              _F({"f", "wrt", "claimed"}), validate=_hessian_needs_a_vector,
              mismatch=_shapes("the claimed Hessian has shape {claimed}, but ∂²f/∂{wrt}² has shape {true}"),
              compared="H v against the directional derivative of the gradient along a random v"),
    ClaimKind("second_differential", "entrywise", lambda c: (c.claimed, _second(c)),
              lambda c: _equation(_second(c), c.claimed), _F({"f", "wrt", "directions", "claimed"}),
              validate=_two_directions,
              mismatch=_shapes("the claimed second differential has shape {claimed}, the true second differential "
                               "has shape {true}")),
    ClaimKind("derivation", "derivation",
              statement=lambda c: [((c.steps[0],), "")] + [(("=", s), "") for s in c.steps[1:]],
              required=_F({"steps"})),
    ClaimKind("value", "value", statement=lambda c: [((c.expr, "=", c.equals), f"within {c.tolerance:g}")],
              required=_F({"expr", "at", "equals"}), optional=_F({"tolerance"}), provable=False),
    ClaimKind("code", "code",  # a program's gradients (gradcheck); Python claim modules only
              statement=lambda c: [((c.f,), "the loss whose gradients w.r.t. "
                                             f"{', '.join(c.code.params)} the code computes")], provable=False),
]}
KINDS = tuple(CLAIM_KINDS)
PROVABLE_KINDS = tuple(k for k, row in CLAIM_KINDS.items() if row.provable)  # all but worked numbers and programs


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
