"""False claims by mutation: one small change to a true claim's claimed side (or its assumptions).

Each row of ``MUTATIONS`` proposes the mutated expressions for a node of the
claimed side (or None where it does not apply): a sign flip, a transpose, a
factor 2 or 1/m, a dropped term, an added 10^-40, a product's operands
swapped, a factor transposed, a power moved inside a sum, a function, a
constant or a power changed.  ``drop_assumption`` removes a symbol's
assumptions everywhere in the claim.  A mutation may happen to leave the
claim true (a sign flip of zero); the reference decides, not the intent.
"""
from __future__ import annotations

import dataclasses


from derivcheck import expr as E

from .expressions import ONE, Ctx, function, m

__all__ = ["MUTATIONS", "mutate_expr", "drop_assumption"]


def _replace(e: E.Expr, target: E.Expr, new: E.Expr) -> E.Expr:
    return E.rebuild(e, lambda x: new if x is target else None, into_defined=False)


def _nodes(e: E.Expr, kind):
    return [x for x in E.walk(e, into_defined=False) if isinstance(x, kind)]


def _shape(e):
    return E.shape_or_none(e)


# -- one row per mutation: where it applies (spots of e) and what it makes of e at a spot


def _whole(e):
    return [e]


def _square_whole(e):
    s = _shape(e)
    return [e] if s[0] == s[1] and s != (ONE, ONE) else []


def _adds(e):
    return [a for a in _nodes(e, E.Add) if _shape(a.a) == _shape(a) or _shape(a.b) == _shape(a)]


def _dropped(ctx, e, node):
    return _replace(e, node, ctx.choose([x for x in (node.a, node.b) if _shape(x) == _shape(node)]))


def _products(e):
    return [p for p in _nodes(e, E.MatMul) if _shape(E.MatMul(p.b, p.a)) == _shape(p)]


def _square_factors(e):
    return [x for x in _nodes(e, (E.Symbol, E.Defined)) if _shape(x)[0] == _shape(x)[1] and _shape(x)[0] != ONE]


def _square_inside(x):
    """The 'sum of squares' for a square of a sum (the classic wrong step)."""
    if isinstance(x, E.Sum):
        return E.Sum(x.a ** 2, x.axis)
    if isinstance(x, E.Trace):
        return E.Trace(x.a ** 2)
    if isinstance(x, E.Inner):
        return E.Inner(x.a ** 2, x.b ** 2)
    return None


def _squared_sums(e):
    spots = [p for p in _nodes(e, E.Pow) if isinstance(p.b, E.Scalar) and p.b.value == 2 and _square_inside(p.a)]
    return spots + [p for p in _nodes(e, E.Mul) if isinstance(p.a, E.Sum) and isinstance(p.b, E.Sum)
                    and p.a.axis is None and p.b.axis is None and _shape(p.a.a) == _shape(p.b.a)]


def _inside(ctx, e, node):
    return _replace(e, node, _square_inside(node.a) if isinstance(node, E.Pow) else E.Sum(node.a.a * node.b.a))


_OTHER_FUNCTION = {"sigmoid": "tanh", "tanh": "sigmoid", "exp": "sigmoid", "sin": "cos", "cos": "sin",
                   "relu": "abs", "abs": "relu", "step": "sigmoid", "log": "sqrt", "sqrt": "log",
                   "g": "g_prime", "g_prime": "g", "softplus": "sigmoid", "expm1": "exp", "normal_cdf": "sigmoid",
                   "normal_pdf": "normal_cdf", "erf": "tanh", "lgamma": "digamma", "digamma": "lgamma",
                   "trigamma": "digamma", "log1p": "log"}


def _integer_powers(e):
    return [p for p in _nodes(e, E.Pow) if isinstance(p.b, E.Scalar) and p.b.value.is_Integer]


def _square_fills(e):
    return [f for f in _nodes(e, E.Fill) if f.kind in ("eye", "ones") and f.rows == f.cols and f.rows != ONE]


def _square_axis_sums(e):
    return [x for x in _nodes(e, E.Sum) if x.axis is not None and _shape(x.a)[0] == _shape(x.a)[1]]


def _extremes(e):
    return [x for x in _nodes(e, (E.Extreme, E.ExtremeMask))]


MUTATIONS = {  # name -> (spots, mutated expression at a spot)
    "max for min": (_extremes, lambda ctx, e, x: _replace(e, x, dataclasses.replace(
        x, which="min" if x.which == "max" else "max"))),
    "sign": (_whole, lambda ctx, e, _: -e),
    "transpose": (_square_whole, lambda ctx, e, _: e.T),
    "factor": (_whole, lambda ctx, e, _: ctx.choose([lambda: 2 * e, lambda: e / m, lambda: 0.5 * e])()),
    "tiny constant": (_whole, lambda ctx, e, _: e + ctx.choose([1e-40, 1e-30])),
    "dropped term": (_adds, _dropped),
    "swapped product": (_products, lambda ctx, e, p: _replace(e, p, E.MatMul(p.b, p.a))),
    "transposed factor": (_square_factors, lambda ctx, e, x: _replace(e, x, x.T)),
    "power inside a sum": (_squared_sums, _inside),
    "other function": (lambda e: [a for a in _nodes(e, E.Apply) if a.fn.name in _OTHER_FUNCTION],
                       lambda ctx, e, a: _replace(e, a, function(_OTHER_FUNCTION[a.fn.name])(a.a))),
    "other constant": (lambda e: [x for x in _nodes(e, E.Scalar) if x.value != 0],
                       lambda ctx, e, x: _replace(e, x, E.Scalar(x.value * 2))),
    "other power": (_integer_powers, lambda ctx, e, p: _replace(e, p, E.Pow(p.a, E.Scalar(p.b.value + 1)))),
    "eye for ones": (_square_fills, lambda ctx, e, f: _replace(
        e, f, E.Fill("ones" if f.kind == "eye" else "eye", f.rows, f.cols))),
    "other axis": (_square_axis_sums, lambda ctx, e, x: _replace(e, x, E.Transpose(E.Sum(x.a, 1 - x.axis)))),
}


def mutate_expr(ctx: Ctx, e: E.Expr) -> tuple[str, E.Expr]:
    """(mutation name, mutated e), among the mutations that apply to e."""
    spots = {name: where(e) for name, (where, _) in MUTATIONS.items()}
    name = ctx.choose([k for k in MUTATIONS if spots[k]])
    new = MUTATIONS[name][1](ctx, e, ctx.choose(spots[name]))
    if _shape(new) != _shape(e):
        raise AssertionError(f"mutation {name} changed the shape")
    return name, new


def drop_assumption(ctx: Ctx, exprs: list) -> tuple[str, list] | None:
    """The claim's expressions with one symbol's assumptions removed (None if no symbol has any)."""
    symbols = sorted((s for s in E.symbols_of(*exprs).values() if s.assume), key=lambda s: s.name)
    if not symbols:
        return None
    target = ctx.choose(symbols)
    keep = frozenset()
    if len(target.assume) > 1 and ctx.chance(50):
        keep = frozenset(sorted(target.assume)[1:])  # drop one of several
    new = dataclasses.replace(target, assume=keep)
    memo: dict = {}
    change = lambda x: new if isinstance(x, E.Symbol) and x.name == target.name else None  # noqa: E731
    dropped = ", ".join(sorted(target.assume - keep))
    return f"dropped assumption ({dropped})", [E.rebuild(e, change, into_defined=True, memo=memo) for e in exprs]
