"""Forward mode over expressions: the differential of an expression, as an expression.

``differential(e, wrt, v)`` is d/dt e(wrt + t·v) at t = 0, written in the vocabulary (one rule per
operation, ``_RULES``), or None when it is zero.  The prover uses it for second derivatives: the
derivative of a directional derivative is the derivative of this expression, and the derivative of a
gradient ∂f/∂x along v (x and the moving variable both symbols, v a direction free of x) is the
gradient of f's differential, by the symmetry of second derivatives (∂/∂x D_v f = D_v ∂f/∂x for the
twice-differentiable functions of the vocabulary, off their kinks).  Nothing here decides a verdict
on its own: the exact stage cross-checks every proof.

Elementwise functions use their table row's written rule (functions.PRIMES); an operation without
a rule here raises NoRule, which the prover turns into "outside the normal form".
"""
from __future__ import annotations

import sympy

from . import expr as E
from .functions import FUNCTIONS, PRIMES

__all__ = ["differential", "power_product", "NoRule"]

MAX_POWER = 16  # A^k with a constant k is differentiated as the product of k factors, up to this k


class NoRule(NotImplementedError):
    """No written differential for this operation."""


def _spread(d: E.Expr | None, shape) -> E.Expr | None:
    """d stretched to ``shape`` where its operand was broadcast (a bias row's change moves every row)."""
    if d is None or E.shape(d) == tuple(sympy.sympify(s) for s in shape):
        return d
    return E.Mul(d, E.Fill("ones", *shape))


def _plus(*parts) -> E.Expr | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    out = kept[0]
    for p in kept[1:]:
        out = E.Add(out, p)
    return out


def _times(a, b):
    return None if a is None or b is None else E.Mul(a, b)


def _matmul(a, b):
    return None if a is None or b is None else E.MatMul(a, b)


def _call(name: str, a: E.Expr) -> E.Expr:
    return E.Apply(FUNCTIONS[name], a)


def _prime(e: E.Apply) -> E.Expr:
    fn = e.fn
    if fn.generic:
        return E.Apply(fn.prime, e.a)
    if fn.name not in PRIMES:
        raise NoRule(f"no written derivative of {fn.name}")
    return E.as_expr(PRIMES[fn.name](e.a, e, _call))


def power_product(a: E.Expr, k: int) -> E.Expr:
    n = E.shape(a)[0]
    if k == 0:
        return E.Fill("eye", n, n)
    out = a
    for _ in range(k - 1):
        out = E.MatMul(out, a)
    return out


def _matpow(d, e, wrt, v):
    k = sympy.sympify(e.exponent)
    if not (k.is_Integer and 0 <= k <= MAX_POWER):
        raise NoRule("a matrix power with a symbolic or negative exponent")
    da = d(e.a)
    if da is None or k == 0:
        return None
    return _plus(*(E.MatMul(E.MatMul(power_product(e.a, i), da), power_product(e.a, int(k) - 1 - i)) for i in range(int(k))))


def _swap(e, wrt, v):
    """D_v ∂f/∂x = ∂(D_v f)/∂x: only for symbols (a defined name's derivative holds other inputs fixed,
    which does not commute with moving what it is made of) and a direction free of x."""
    if not (isinstance(wrt, E.Symbol) and isinstance(e.wrt, E.Symbol) and e.wrt.name not in E.symbols_of(v)):
        raise NoRule("a derivative of a derivative w.r.t. a defined name")
    inner = differential(e.f, wrt, v)
    if inner is None:
        return None
    return type(e)(inner, e.wrt)


def _outer_sum(d, e):
    da, db = d(e.a), d(e.b)
    if da is None and db is None:
        return None
    return E.OuterSum(da if da is not None else E.Fill("zeros", *E.shape(e.a)),
                      db if db is not None else E.Fill("zeros", *E.shape(e.b)))


def _extreme(d, e):
    # the picked entry moves with its own change; which entry is picked does not change (off ties)
    da = d(e.a)
    return None if da is None else E.Sum(E.Mul(E.ExtremeMask(e.a, e.axis, e.which), da), e.axis)


def _softmax(d, e):
    da = d(e.a)
    if da is None:
        return None
    return E.Mul(e, E.Add(da, E.Mul(E.Scalar(sympy.Integer(-1)), E.Sum(E.Mul(e, da), 1))))


def _pow(d, e):
    if not isinstance(e.b, E.Scalar):
        raise NoRule("a power with a matrix exponent")
    da = d(e.a)
    if da is None:
        return None
    n = sympy.sympify(e.b.value)
    return E.Mul(E.Mul(E.Scalar(n), E.Pow(e.a, E.Scalar(n - 1))), da)


_RULES = {  # node type -> (d, node, wrt, v) -> differential or None; d differentiates a child
    E.Symbol: lambda d, e, w, v: None,
    E.Scalar: lambda d, e, w, v: None,
    E.Fill: lambda d, e, w, v: None,
    E.Defined: lambda d, e, w, v: d(e.body),
    E.Add: lambda d, e, w, v: _plus(_spread(d(e.a), E.shape(e)), _spread(d(e.b), E.shape(e))),
    E.Mul: lambda d, e, w, v: _plus(_spread(_times(d(e.a), e.b), E.shape(e)),
                                    _spread(_times(e.a, d(e.b)), E.shape(e))),
    E.Pow: lambda d, e, w, v: _pow(d, e),
    E.MatMul: lambda d, e, w, v: _plus(_matmul(d(e.a), e.b), _matmul(e.a, d(e.b))),
    E.Transpose: lambda d, e, w, v: None if d(e.a) is None else E.Transpose(d(e.a)),
    E.Apply: lambda d, e, w, v: _times(_prime(e), d(e.a)),
    E.Softmax: lambda d, e, w, v: _softmax(d, e),
    E.Sum: lambda d, e, w, v: None if d(e.a) is None else E.Sum(d(e.a), e.axis),
    E.Trace: lambda d, e, w, v: None if d(e.a) is None else E.Trace(d(e.a)),
    E.Inner: lambda d, e, w, v: _plus(None if d(e.a) is None else E.Inner(d(e.a), e.b),
                                      None if d(e.b) is None else E.Inner(e.a, d(e.b))),
    E.Diag: lambda d, e, w, v: None if d(e.a) is None else E.Diag(d(e.a)),
    E.Inv: lambda d, e, w, v: None if d(e.a) is None else E.Mul(
        E.Scalar(sympy.Integer(-1)), E.MatMul(E.MatMul(e, d(e.a)), e)),
    E.Det: lambda d, e, w, v: None if d(e.a) is None else E.Mul(e, E.Trace(E.MatMul(E.Inv(e.a), d(e.a)))),
    E.Extreme: lambda d, e, w, v: _extreme(d, e),
    E.ExtremeMask: lambda d, e, w, v: None,  # constant off ties
    E.MatPow: lambda d, e, w, v: _matpow(d, e, w, v),
    E.Kron: lambda d, e, w, v: _plus(None if d(e.a) is None else E.Kron(d(e.a), e.b),
                                     None if d(e.b) is None else E.Kron(e.a, d(e.b))),
    E.Vec: lambda d, e, w, v: None if d(e.a) is None else E.Vec(d(e.a)),
    E.OuterSum: lambda d, e, w, v: _outer_sum(d, e),
    E.Directional: lambda d, e, w, v: d(differential(e.f, e.wrt, e.direction) or E.Fill("zeros", *E.shape(e))),
    E.Grad: lambda d, e, w, v: _swap(e, w, v),
    E.Jacobian: lambda d, e, w, v: _swap(e, w, v),
}


def differential(e: E.Expr, wrt: E.Expr, v: E.Expr) -> E.Expr | None:
    """d/dt e(wrt + t·v) at t = 0 as an expression of e's shape, or None when it is zero; NoRule for an
    operation without a written rule (matrix functions, for one)."""
    memo: dict[int, tuple] = {}

    def d(node: E.Expr):
        if id(node) not in memo:
            if isinstance(node, (E.Symbol, E.Defined)) and node.name == wrt.name:
                out = v
            else:
                rule = _RULES.get(type(node))
                if rule is None:
                    raise NoRule(f"no written differential of {type(node).__name__}")
                out = rule(d, node, wrt, v)
            memo[id(node)] = (node, out)
        return memo[id(node)][1]

    return d(e)
