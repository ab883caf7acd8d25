"""Claims as TOML claim files (the reproducer of every disagreement), and back.

``to_toml`` writes a claim in the claim-file format the README documents
(dims, symbols, assume, define in dependency order, one [[claim]]), with the
expressions printed by derivcheck's own printer; ``load`` reads such text
back with derivcheck's own loader, so a reproducer is exactly what a user
would run with ``python -m derivcheck check``.  ``scope_of`` gives the names
of a claim to the expression parser (for the diagnoses' corrected formulas).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import sympy

from derivcheck import expr as E
from derivcheck.claims import Claim
from derivcheck.functions import PRIME_SUFFIX
from derivcheck.parse import Scope, load_toml, parse_expression
from derivcheck.printing import to_text

__all__ = ["to_toml", "load", "scope_of", "parse_in", "claim_exprs"]


def claim_exprs(claim: Claim) -> list:
    """The expressions a claim is made of (wrt and direction included)."""
    if claim.kind == "identity":
        return [claim.lhs, claim.rhs]
    if claim.kind == "derivation":
        return list(claim.steps)
    return [x for x in (claim.f, claim.wrt, claim.claimed, claim.direction) if x is not None]


def _defined_in_order(exprs) -> list[E.Defined]:
    """Every named definition, each after the ones its body uses."""
    out, seen = [], set()

    def visit(e):
        for node in E.walk(e, into_defined=False):
            if isinstance(node, E.Defined) and node.name not in seen:
                seen.add(node.name)
                visit(node.body)
                out.append(node)

    for e in exprs:
        visit(e)
    return out


def _dim(d) -> object:
    d = sympy.sympify(d)
    return int(d) if d.is_Integer else str(d)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_toml(claim: Claim, expect: str | None = None, note: str = "", comment: str = "") -> str:
    exprs = claim_exprs(claim)
    dims = sorted({d.name for d in E.dims_of(*exprs)})
    symbols = E.symbols_of(*exprs)
    lines = [f"# {line}" for line in comment.splitlines()]
    lines.append(f"dims = [{', '.join(_q(d) for d in dims)}]")
    generics = sorted(E.generics_of(*exprs))
    if generics:
        lines.append(f"functions = [{', '.join(_q(g) for g in generics)}]")
    lines.append("[symbols]")
    for name, s in sorted(symbols.items()):
        lines.append(f"{name} = [{', '.join(_q(x) if isinstance(x, str) else str(x) for x in map(_dim, (s.rows, s.cols)))}]")
    assumed = {name: s for name, s in sorted(symbols.items()) if s.assume}
    if assumed:
        lines.append("[assume]")
        for name, s in assumed.items():
            lines.append(f"{name} = [{', '.join(_q(a) for a in sorted(s.assume))}]")
    defined = _defined_in_order(exprs)
    if defined:
        lines.append("[define]")
        for d in defined:
            lines.append(f"{d.name} = {_q(to_text(d.body))}")
    lines += ["[[claim]]", f"id = {_q(claim.id)}", f"kind = {_q(claim.kind)}"]
    if claim.kind == "identity":
        lines += [f"lhs = {_q(to_text(claim.lhs))}", f"rhs = {_q(to_text(claim.rhs))}"]
    elif claim.kind == "derivation":
        lines.append("steps = [")
        lines += [f"  {_q(to_text(s))}," for s in claim.steps]
        lines.append("]")
    else:
        lines += [f"f = {_q(to_text(claim.f))}", f"wrt = {_q(claim.wrt.name)}"]
        if claim.direction is not None:
            lines.append(f"direction = {_q(claim.direction.name)}")
        lines.append(f"claimed = {_q(to_text(claim.claimed))}")
    if expect:
        lines.append(f"expect = {_q(expect)}")
    if note:
        lines.append(f"note = {_q(note)}")
    return "\n".join(lines) + "\n"


def load(text: str) -> list[Claim]:
    """The claims of a TOML claim file given as text, read by derivcheck's loader."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reproducer.toml"
        path.write_text(text, encoding="utf-8")
        return load_toml(path)


def scope_of(claim: Claim) -> Scope:
    exprs = claim_exprs(claim)
    scope = Scope()
    scope.dims = {d.name: d for d in E.dims_of(*exprs)}
    scope.symbols = dict(E.symbols_of(*exprs))
    scope.defines = {d.name: d for d in _defined_in_order(exprs)}
    for g in E.generics_of(*exprs):
        scope.generics[g], scope.generics[g + PRIME_SUFFIX] = E.elementwise(g)
    return scope


def parse_in(claim: Claim, text: str) -> E.Expr:
    """An expression written in the claim's own names (a diagnosis's corrected formula)."""
    return parse_expression(text, scope_of(claim))
