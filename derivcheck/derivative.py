"""The derivative engine: reverse mode over matrix expressions, one VJP rule per operation.

``gradient(f, wrt)`` returns ∂f/∂wrt as an expression in the claim's own names
(denominator layout: the shape of wrt).  It is used to *show* the true gradient
of a claim that fails; whether a claim holds is never decided from it (the
exact stage differentiates the explicit entries, symbolic.py proves).  The
elementwise parts of the result that divide by an expression are cancelled
by SymPy (σ′ is written with the cached A = σ(Z) as A(1 − A)), so that the
sigmoid + cross-entropy gradient reads (A2 − y)/m, not a sum of quotients;
the rest keeps the shape the chain rule gave it.
"""
from __future__ import annotations

import functools

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from . import expr as E
from .functions import FUNCTIONS, PRIMES
from .precedence import ATOM, POWER, PRODUCT, SUM, UNARY
from .printing import TextPrinter

__all__ = ["gradient", "readable"]




def _one(x) -> bool:
    return isinstance(x, E.Scalar) and x.value == 1


def _mul(a, b):
    if _one(a):
        return b
    if _one(b):
        return a
    return E.Mul(a, b)


def _T(x: E.Expr) -> E.Expr:
    if isinstance(x, E.Transpose):
        return x.a
    if isinstance(x, E.Scalar) or _eye(x) or E.shape(x) == (1, 1) and isinstance(x, E.Fill):
        return x
    return E.Transpose(x)


def _eye(x) -> bool:
    return isinstance(x, E.Fill) and x.kind == "eye"


def _matmul(a: E.Expr, b: E.Expr) -> E.Expr:
    """a @ b, written as a scalar multiple when one side is 1 × 1 (the product is then a scaling);
    an identity factor is dropped (d/dX tr(AXB) reads Aᵀ Bᵀ, not Aᵀ (I Bᵀ))."""
    if _eye(a):
        return b
    if _eye(b):
        return a
    if E.shape(a) == (1, 1) and sympy.sympify(E.shape(b)[0]) == 1:
        return _mul(a, b)
    if E.shape(b) == (1, 1) and sympy.sympify(E.shape(a)[1]) == 1:
        return _mul(a, b)
    return E.MatMul(a, b)


def _unbroadcast(g: E.Expr, shape) -> E.Expr:
    """Sum the adjoint over the axes along which the operand was broadcast."""
    gr, gc = E.shape(g)
    r, c = shape
    if sympy.sympify(r) == 1 and sympy.sympify(c) == 1 and (gr, gc) != (1, 1):
        return E.Sum(g)
    if sympy.sympify(r) == 1 and sympy.sympify(gr) != 1:
        g = E.Sum(g, 0)
    if sympy.sympify(c) == 1 and sympy.sympify(gc) != 1:
        g = E.Sum(g, 1)
    return g


def _prime(node: E.Apply, value: E.Expr) -> E.Expr:
    """f′(a) for node = f(a); ``value`` is the node or the defined name that holds it."""
    fn, a = node.fn, node.a
    if getattr(fn, "generic", False):
        return E.Apply(fn.prime, a)
    if fn.name not in PRIMES:
        raise NotImplementedError(f"no derivative rule for {fn.name}")
    return E.as_expr(PRIMES[fn.name](a, value, lambda name, x: E.Apply(FUNCTIONS[name], x)))


def _pow(node, g, value):
    if not isinstance(node.b, E.Scalar):
        raise NotImplementedError("a matrix exponent")
    n = sympy.sympify(node.b.value)
    return [(node.a, _unbroadcast(_mul(g, E.Scalar(n) * node.a ** (n - 1) if n != 2 else 2 * node.a),
                                  E.shape(node.a)))]


def _sum(node, g, value):
    r, c = E.shape(node.a)
    if node.axis is None:
        return [(node.a, _mul(g, E.Fill("ones", r, c)))]
    if node.axis == 0:
        return [(node.a, E.MatMul(E.Fill("ones", r, 1), g))]
    return [(node.a, E.MatMul(g, E.Fill("ones", 1, c)))]


def _trace(node, g, value):
    n = E.shape(node.a)[0]
    return [(node.a, _mul(g, E.Fill("eye", n, n)))]


def _leaf(node, g, value):
    return []


# ---------------------------------------------------------------- the rules: node type -> VJP
# Each rule takes (node, g, value) — g the adjoint of node, value the node or the defined name that
# holds its value — and gives [(child, its adjoint contribution)].  An operation without a rule has
# no written reverse-mode derivative (the true gradient is then not shown; verdicts never use this).

_VJP = {
    # ------------------------------------------------ leaves and names
    E.Symbol: _leaf,
    E.Scalar: _leaf,
    E.Fill: _leaf,
    E.Defined: lambda node, g, value: [(node.body, g)],
    # ------------------------------------------------ elementwise arithmetic (with broadcasting)
    E.Add: lambda node, g, value: [(node.a, _unbroadcast(g, E.shape(node.a))),
                                   (node.b, _unbroadcast(g, E.shape(node.b)))],
    E.Mul: lambda node, g, value: [(node.a, _unbroadcast(_mul(g, node.b), E.shape(node.a))),
                                   (node.b, _unbroadcast(_mul(g, node.a), E.shape(node.b)))],
    E.Pow: _pow,
    E.Apply: lambda node, g, value: [(node.a, _mul(g, _prime(node, value)))],
    # ------------------------------------------------ matrix algebra
    E.MatMul: lambda node, g, value: [(node.a, _matmul(g, _T(node.b))), (node.b, _matmul(_T(node.a), g))],
    E.Transpose: lambda node, g, value: [(node.a, _T(g))],
    E.Softmax: lambda node, g, value: [(node.a, value * (g - E.Sum(g * value, 1)))],  # P ⊙ (g − rowsum(g ⊙ P))
    # ------------------------------------------------ reductions
    E.Sum: _sum,
    E.Trace: _trace,
    E.Inner: lambda node, g, value: [(node.a, _mul(g, node.b)), (node.b, _mul(g, node.a))],
    E.Extreme: lambda node, g, value: [(node.a, _mul(g, E.ExtremeMask(node.a, node.axis, node.which)))],
    E.ExtremeMask: _leaf,  # constant off ties
    E.OuterSum: lambda node, g, value: [(node.a, E.Sum(g, 1)), (node.b, E.Sum(g, 0))],
}


def _vjp(node, g, value):
    """[(child, its adjoint contribution)] for the adjoint g of node (``value`` names node)."""
    rule = _VJP.get(type(node))
    if rule is None:
        raise NotImplementedError(f"no derivative rule for {type(node).__name__}")
    return rule(node, g, value)


def _order(root) -> list:
    """Nodes reachable from root, each after every node that uses it (reverse topological)."""
    seen, post = set(), []
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            post.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in E.children(node):
            stack.append((child, False))
    return list(reversed(post))


def gradient(f: E.Expr, wrt: E.Expr) -> E.Expr:
    """∂f/∂wrt for a scalar f, as an expression (zeros if f does not depend on wrt)."""
    if E.shape(f) != (1, 1):
        raise E.ShapeError("a gradient needs a scalar function")
    holder = {}  # id(Apply/Softmax node) -> the defined name that holds its value
    for node in _order(f):
        if isinstance(node, E.Defined) and isinstance(node.body, (E.Apply, E.Softmax)):
            holder[id(node.body)] = node
    adjoint: dict[int, E.Expr] = {id(f): E.Scalar(sympy.Integer(1))}
    for node in _order(f):
        g = adjoint.get(id(node))
        if g is None:
            continue
        if node is wrt or (isinstance(node, (E.Symbol, E.Defined)) and node.name == wrt.name):
            continue
        for child, contribution in _vjp(node, g, holder.get(id(node), node)):
            if isinstance(contribution, E.Scalar) and contribution.value == 0:
                continue
            prev = adjoint.get(id(child))
            adjoint[id(child)] = contribution if prev is None else E.Add(prev, contribution)
    total = None
    for node in _order(f):
        if node is wrt or (isinstance(node, (E.Symbol, E.Defined)) and node.name == wrt.name):
            g = adjoint.get(id(node))
            if g is not None:
                total = g if total is None else E.Add(total, g)
    return total if total is not None else E.Fill("zeros", *E.shape(wrt))


# ---------------------------------------------------------------- readable text

_ELEMENTWISE = (E.Add, E.Mul, E.Pow, E.Scalar)

#: sums that the symbols' assumptions make a vector of ones: (axis, transposed?) -> the assumptions that say so
_UNIT_SUMS = {
    (1, False): frozenset({"rows_sum_to_one", "one_hot_rows"}),  # each row of Y sums to one
    (0, True): frozenset({"rows_sum_to_one", "one_hot_rows"}),  # each column of Yᵀ
    (0, False): frozenset({"one_hot_columns"}),
    (1, True): frozenset({"one_hot_columns"}),
}


def _unit(x: E.Expr) -> bool:
    """x is a matrix of ones: ones(r, c), or a row/column sum that the assumptions fix at one."""
    if isinstance(x, E.Fill):
        return x.kind == "ones"
    if isinstance(x, E.Sum) and x.axis is not None:
        a, transposed = (x.a.a, True) if isinstance(x.a, E.Transpose) else (x.a, False)
        return isinstance(a, E.Symbol) and bool(a.assume & _UNIT_SUMS[x.axis, transposed])
    return False


def _factors(x: E.Expr) -> list:
    """The factors of a chain of elementwise products."""
    return _factors(x.a) + _factors(x.b) if isinstance(x, E.Mul) else [x]


def readable(e: E.Expr, simplify: bool = True) -> str:
    """Text of e in the vocabulary, its elementwise parts cancelled and factored by SymPy.

    With ``simplify``, a factor or term that is a matrix of ones (``ones(m, n)``, or the row sums of a
    symbol whose rows sum to one) is read as the number 1 where the other operand already has the
    result's shape; the caller checks the text it shows (diagnose parses it back and proves it)."""
    return _Readable(simplify).doprint(e)


class _Readable(TextPrinter):
    """The text printer (printing.py) with each elementwise part (sums, products, powers, numbers)
    turned into SymPy, cancelled and printed by SymPy, the other operations as the text printer writes
    them; every operand of a matrix product that is not atomic is bracketed (precedence.py)."""

    def __init__(self, simplify: bool):
        self.simplify = simplify

    def _print(self, e: E.Expr) -> tuple[str, int]:
        if isinstance(e, _ELEMENTWISE):
            return self._elementwise(e)
        if isinstance(e, (E.MatMul, E.Transpose, E.Sum)):
            return super()._print(e)
        return TextPrinter()._print(e)  # any other operation exactly as the text printer writes it

    def _print_MatMul(self, e):
        return f"{self._wrap(e.a, ATOM)} @ {self._wrap(e.b, ATOM)}", PRODUCT

    def _elementwise(self, e: E.Expr) -> tuple[str, int]:
        simplify = self.simplify
        leaves: dict[str, E.Expr] = {}
        units: set = set()  # leaves that are a column or row of ones under the assumptions

        def one(x, other, whole) -> bool:  # x + other: x is ones and other has the sum's shape
            return simplify and _unit(x) and E.shape(other) == E.shape(whole)

        def to_sympy(x):
            if isinstance(x, E.Scalar):
                return sympy.sympify(x.value)
            if isinstance(x, E.Sum):  # constants come out of a sum: sum(-Y/N, 1) is -sum(Y, 1)/N
                inner = to_sympy(x.a)
                own = [sym for sym in inner.free_symbols if sym.name in leaves]
                c, rest = inner.as_independent(*own, as_Add=False) if own else (inner, sympy.Integer(1))
                rest_node = leaves.get(str(rest)) if isinstance(rest, sympy.Symbol) else None
                axis = "" if x.axis is None else f", {x.axis}"
                text = f"sum({sympy.sstr(rest, order='none')}{axis})"
                leaves[text] = E.Sum(rest_node, x.axis) if rest_node is not None else x
                if simplify and _unit(leaves[text]):
                    units.add(sympy.Symbol(text))
                return c * sympy.Symbol(text)
            if isinstance(x, E.MatMul):  # ones(r, 1) @ g and g @ ones(1, c) broadcast g
                if isinstance(x.a, E.Fill) and x.a.kind == "ones" and sympy.sympify(x.a.cols) == 1:
                    return to_sympy(x.b)
                if isinstance(x.b, E.Fill) and x.b.kind == "ones" and sympy.sympify(x.b.rows) == 1:
                    return to_sympy(x.a)
            if isinstance(x, E.Add):
                a = sympy.Integer(1) if one(x.a, x.b, x) else to_sympy(x.a)
                b = sympy.Integer(1) if one(x.b, x.a, x) else to_sympy(x.b)
                return a + b
            if isinstance(x, E.Mul):  # a factor of ones goes when the other factors have the product's shape
                factors = _factors(x)
                kept = [f for f in factors if not (simplify and _unit(f))] if simplify else factors
                if not kept or E.shape_or_none(functools.reduce(E.Mul, kept)) != E.shape(x):
                    kept = factors
                return sympy.Mul(*(to_sympy(f) for f in kept))
            if isinstance(x, E.Pow) and isinstance(x.b, E.Scalar):
                return to_sympy(x.a) ** sympy.sympify(x.b.value)
            if isinstance(x, E.MatMul):  # bracketed by SymPy's printer inside a product or a power only
                leaf = MatrixProduct(self._print(x)[0])
            else:  # anything else that binds less than a name keeps its brackets
                leaf = sympy.Symbol(self._wrap(x, ATOM))
            leaves[leaf.name] = x
            return leaf

        value = to_sympy(e).subs({u: 1 for u in units})
        if any(p.exp.is_negative and p.base.free_symbols for p in value.atoms(sympy.Pow)):
            value = sympy.factor_terms(sympy.cancel(value))  # σ′/σ and the like cancel: (A2 - y)/m
        value = _sign_into_sum(value)
        return _Printer().doprint(value), _sympy_precedence(value)


def _sympy_precedence(value) -> int:
    """How tightly SymPy's text of ``value`` binds: a name (a leaf's text, π), a natural number or a square
    root is atomic; any other form has an operator outside brackets."""
    if isinstance(value, MatrixProduct):
        return PRODUCT
    if value.is_Symbol or value.is_NumberSymbol or (value.is_Integer and value >= 0) or (
            value.is_Pow and value.exp == sympy.S.Half):
        return ATOM
    if value.is_Add:
        return SUM
    if value.is_Pow and not value.exp.is_negative:
        return POWER
    return UNARY if value.could_extract_minus_sign() else PRODUCT


class _Printer(StrPrinter):
    """SymPy's text, with the terms of a sum that carry no minus sign first: yhat - y, not -y + yhat."""

    def _as_ordered_terms(self, expr, order=None):
        return sorted(super()._as_ordered_terms(expr, order=order), key=lambda t: t.could_extract_minus_sign())


class MatrixProduct(sympy.Symbol):
    """A matrix product as a SymPy leaf: bracketed inside a product or a power, not inside a sum."""

    precedence = (PRECEDENCE["Add"] + PRECEDENCE["Mul"]) // 2


def _sign_into_sum(value):
    """-a*(1 - a)*(y - a) reads a*(1 - a)*(a - y): a leading minus goes into the last sum among the factors."""
    coefficient, rest = value.as_coeff_Mul()
    if coefficient >= 0 or not rest.is_Mul:
        return value
    factors = list(rest.args)
    for i in reversed(range(len(factors))):
        if factors[i].is_Add:
            factors[i] = sympy.Mul(-1, factors[i])
            return sympy.Mul(-coefficient, *factors, evaluate=False) if coefficient != -1 else sympy.Mul(*factors)
    return value
