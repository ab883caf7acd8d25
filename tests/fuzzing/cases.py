"""The generated cases: a claim of each kind, true by construction or mutated to be false.

``cases()`` is the Hypothesis strategy the quick profile and the campaign
draw from.  A ``Case`` records how its claim was made (the rules and the
mutation) for the statistics and for reading a reproducer; whether the claim
holds is for the reference to say.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

import derivcheck as dc
from derivcheck import expr as E
from derivcheck.claims import Claim

from .derivatives import directional_claim, gradient_claim, jacobian_claim
from .expressions import Ctx, pair
from .mutations import drop_assumption, mutate_expr
from .reproduce import claim_exprs

__all__ = ["Case", "KINDS", "cases", "assumption_labels"]

KINDS = ("identity", "gradient", "jacobian", "directional", "derivation")


@dataclass
class Case:
    claim: Claim
    intended: bool  # what the construction meant (a mutation may happen to keep a claim true)
    rules: tuple
    mutation: str | None

    @property
    def assumptions(self) -> list[str]:
        return assumption_labels(self.claim)


def assumption_labels(claim: Claim) -> list[str]:
    """The assumption combinations of the claim's symbols ('none' when there are none)."""
    labels = sorted({"+".join(sorted(s.assume)) for s in E.symbols_of(*claim_exprs(claim)).values() if s.assume})
    return labels or ["none"]


def _restate(ctx: Ctx, e: E.Expr) -> E.Expr:
    """e written once more in an equal form (a derivation's next line)."""
    s = E.shape(e)
    kind = ctx.choose(["double transpose", "eye", "plus zeros", "add and subtract", "halve and double"])
    ctx.rules.append(f"restate: {kind}")
    if kind == "double transpose":
        return e.T.T
    if kind == "eye":
        return dc.eye(s[0]) @ e
    if kind == "plus zeros":
        return e + dc.zeros(*s)
    if kind == "add and subtract":
        a, b = ctx.pair(s, 1)
        return (e + a) - b
    return 2 * (e / 2)


def _identity(ctx: Ctx, depth: int):
    if ctx.chance(10):  # grad(...) and jacobian(...) inside an expression
        f, wrt, claimed = gradient_claim(ctx, depth - 1)
        ctx.rules.append("grad in an expression")
        return {"lhs": dc.grad(f, wrt), "rhs": claimed}
    shape = (ctx.dim(allow_one=True), ctx.dim(allow_one=True))
    lhs, rhs = pair(ctx, shape, depth)
    return {"lhs": lhs, "rhs": rhs}


def _gradient(ctx: Ctx, depth: int):
    f, wrt, claimed = gradient_claim(ctx, depth - 1)
    return {"f": f, "wrt": wrt, "claimed": claimed}


def _jacobian(ctx: Ctx, depth: int):
    f, wrt, claimed = jacobian_claim(ctx, depth - 1)
    return {"f": f, "wrt": wrt, "claimed": claimed}


def _directional(ctx: Ctx, depth: int):
    f, wrt, direction, claimed = directional_claim(ctx, depth - 1)
    return {"f": f, "wrt": wrt, "direction": direction, "claimed": claimed}


def _derivation(ctx: Ctx, depth: int):
    if ctx.chance(25):
        f, wrt, claimed = gradient_claim(ctx, depth - 1)
        ctx.rules.append("derivation from grad")
        first, second = dc.grad(f, wrt), claimed
    else:
        shape = (ctx.dim(allow_one=True), ctx.dim(allow_one=True))
        first, second = pair(ctx, shape, depth)
    steps = [first, second]
    for _ in range(ctx.draw(st.integers(1, 2))):
        steps.append(_restate(ctx, steps[-1]))
    return {"steps": tuple(steps)}


_BUILD = {"identity": _identity, "gradient": _gradient, "jacobian": _jacobian, "directional": _directional,
          "derivation": _derivation}
_TARGET = {"identity": "rhs", "gradient": "claimed", "jacobian": "claimed", "directional": "claimed"}


def _mutate(ctx: Ctx, kind: str, fields: dict) -> tuple[str, dict]:
    names = [k for k in ("lhs", "rhs", "f", "wrt", "claimed", "direction") if k in fields]
    exprs = [fields[k] for k in names] if kind != "derivation" else list(fields["steps"])
    if ctx.chance(15):
        dropped = drop_assumption(ctx, exprs)
        if dropped is not None:
            label, new = dropped
            if kind == "derivation":
                return label, {"steps": tuple(new)}
            return label, dict(zip(names, new))
    if kind == "derivation":
        steps = list(fields["steps"])
        i = ctx.draw(st.integers(1, len(steps) - 1))
        label, steps[i] = mutate_expr(ctx, steps[i])
        return f"{label} (step {i})", {"steps": tuple(steps)}
    key = _TARGET[kind]
    label, new = mutate_expr(ctx, fields[key])
    return label, {**fields, key: new}


@st.composite
def cases(draw, kinds=KINDS, depth: int = 3, mutate_percent: int = 50):
    """A Case: a claim of one of ``kinds`` with expressions up to ``depth`` rules deep."""
    ctx = Ctx(draw)
    kind = ctx.choose(kinds)
    depth = draw(st.integers(1, depth))  # small claims are fast and read well; big ones find more
    fields = _BUILD[kind](ctx, depth)
    mutation = None
    if ctx.chance(mutate_percent):
        mutation, fields = _mutate(ctx, kind, fields)
    cid = f"fuzz.{kind}.{'true' if mutation is None else 'mutated'}"
    claim = Claim(cid, kind, source="fuzz", **fields)
    return Case(claim, mutation is None, tuple(ctx.rules), mutation)
