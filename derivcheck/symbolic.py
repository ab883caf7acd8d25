"""Proofs for all dimensions: index notation with symbolic sizes, and a normal form.

Every expression is written entrywise: the entry (r, c) of a matrix is a sum of
terms ``coef · Σ_{dummies} monomial``, where the monomial is a SymPy rational
expression in *indexed atoms* — ``X|r|k`` for an entry of a matrix symbol,
``tanh<key>|r|c`` for an entry of an elementwise function of a sub-expression
(``key`` is that sub-expression's own normal form), ``δ|a|b`` for the identity.
A matrix product introduces a summed index ranging over a symbolic dimension,
a transpose swaps the indices, broadcasting pins an index of a 1-sized axis to
0.  Elementwise algebra at one entry is ordinary commutative algebra, so SymPy
``cancel`` performs the rational cancellations (σ′/(1 − σ)).

Derivatives are taken in the same notation by forward mode, one rule per node
(``_JVP``): the directional derivative of f along a direction V is linear in V,
and the gradient is read off it by removing V's entry and freeing its indices.

Two sides are equal for all sizes when the difference normalises to no terms:
each term's deltas are contracted, the assumptions applied (rows that sum to
one, binary entries, symmetry), summed indices that no atom uses become a factor
of their dimension, the summed indices are renamed canonically (the least form
over all permutations), and equal monomials are collected.  The normal form is
sound but not complete: "not shown equal" falls back to the concrete checks.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy

from . import expr as E
from .assumptions import facts_of
from .functions import FUNCTIONS, PRIMES

__all__ = ["prove_equal", "Unsupported"]


#: The Kronecker delta's atom key: not an identifier, so no symbol (a user's δ, say) can be taken for it.
DELTA = "<δ>"


class Unsupported(Exception):
    """An operation the normal form does not cover (det, inv, nested derivatives of them, …)."""


@dataclass(frozen=True)
class Atom:
    key: str  # symbol name, DELTA, or a function with its argument's normal form
    row: str  # index name, or "0" for a pinned (1-sized) axis
    col: str


@dataclass
class Term:
    coef: sympy.Expr  # numbers and dimensions
    dummies: dict  # summed index name -> its range (a dimension)
    mono: sympy.Expr  # product of indexed atoms (SymPy symbols), possibly with denominators


class _Ctx:
    def __init__(self, facts: dict):
        self.counter = itertools.count()
        self.atoms: dict[sympy.Symbol, Atom] = {}
        self.keys: dict[int, tuple] = {}  # id(node) -> (node, normal-form key), memo
        self.forms: dict[str, str] = {}  # a matrix's normal form -> its short key
        self.facts = facts  # symbol name -> the algebraic facts its assumptions allow (assumptions.facts_of)
        self.symbols: dict[Atom, sympy.Symbol] = {}

    def fresh(self) -> str:
        return f"k{next(self.counter)}"

    def atom(self, key: str, row: str, col: str) -> sympy.Symbol:
        if "symmetric" in self.facts.get(key, ()) and row > col:  # X[p, q] = X[q, p]: one atom for both
            row, col = col, row
        a = Atom(key, row, col)
        s = self.symbols.get(a)
        if s is None:
            s = self.symbols[a] = sympy.Symbol(f"{key}|{row}|{col}", commutative=True)
            self.atoms[s] = a
        return s


def _dim(d):
    return sympy.sympify(d)


def _pin(size, index: str) -> str:
    return "0" if _dim(size) == 1 else index


def _compress(xs: list[Term]) -> list[Term]:
    """The terms with no summed index added into one (their sum at this entry, unexpanded), so that
    products of elementwise factors stay products: (1 - a²)(1 - b²)... does not become 2**L terms."""
    free = [t for t in xs if not t.dummies]
    if len(free) <= 1:
        return xs
    total = sympy.Add(*(t.coef * t.mono for t in free))
    return [t for t in xs if t.dummies] + ([Term(sympy.Integer(1), {}, total)] if total != 0 else [])


def _product(xs: list[Term], ys: list[Term]) -> list[Term]:
    xs, ys = _compress(xs), _compress(ys)
    return [Term(x.coef * y.coef, {**x.dummies, **y.dummies}, x.mono * y.mono) for x in xs for y in ys]


def _scale(xs: list[Term], c) -> list[Term]:
    return [Term(t.coef * c, t.dummies, t.mono) for t in xs]


def _one() -> list[Term]:
    return [Term(sympy.Integer(1), {}, sympy.Integer(1))]


# ---------------------------------------------------------------- values




def _build(e: E.Expr, r: str, c: str, ctx: _Ctx) -> list[Term]:
    """Entry (r, c) of e as terms."""
    rule = _VALUE.get(type(e))
    if rule is None:
        raise Unsupported(type(e).__name__)
    return rule(e, r, c, ctx)


def _symbol(e, r, c, ctx):
    s = ctx.atom(e.name, _pin(e.rows, r), _pin(e.cols, c))
    return [Term(sympy.Integer(1), {}, s)]


def _scalar(e, r, c, ctx):
    v = sympy.sympify(e.value)
    return [Term(v, {}, sympy.Integer(1))] if v != 0 else []


def _fill(e, r, c, ctx):
    if e.kind == "zeros":
        return []
    if e.kind == "ones":
        return _one()
    return [Term(sympy.Integer(1), {}, ctx.atom(DELTA, _pin(e.rows, r), _pin(e.cols, c)))]


def _add(e, r, c, ctx):
    return _at(e.a, e, r, c, ctx) + _at(e.b, e, r, c, ctx)


def _at(part, whole, r, c, ctx):
    """A broadcast operand at the entry of the whole: its 1-sized axes are pinned."""
    pr, pc = E.shape(part)
    return _build(part, _pin(pr, r), _pin(pc, c), ctx)


def _mul(e, r, c, ctx):
    return _product(_at(e.a, e, r, c, ctx), _at(e.b, e, r, c, ctx))


def _pow(e, r, c, ctx):
    if not isinstance(e.b, E.Scalar):
        raise Unsupported("a power with a matrix exponent")
    n = sympy.sympify(e.b.value)
    base = _at(e.a, e, r, c, ctx)
    if n.is_Integer and n >= 0:
        # (Σ_k x_k)² = Σ_k Σ_l x_k x_l: every factor is built afresh, so its summed indices get
        # names of their own (multiplying the same terms twice would give Σ_k x_k², which is wrong)
        out = _one()
        for i in range(int(n)):
            out = _product(out, base if i == 0 else _at(e.a, e, r, c, ctx))
        return out
    # a negative or fractional power of a sum with no summed index is a rational expression of its atoms
    if any(t.dummies for t in base):
        if not n.is_Integer:
            raise Unsupported("a fractional power of a sum over an index")
        key = f"pow[{n}]({_key(e.a, ctx)})"
        return [Term(sympy.Integer(1), {}, ctx.atom(key, *_slots(e.a, r, c)))]
    value = sum((t.coef * t.mono for t in base), sympy.Integer(0))
    return [Term(sympy.Integer(1), {}, value ** n)]


def _slots(e, r, c):
    rows, cols = E.shape(e)
    return _pin(rows, r), _pin(cols, c)


def _matmul(e, r, c, ctx):
    inner = E.shape(e.a)[1]
    k = _pin(inner, ctx.fresh())
    left, right = _build(e.a, _pin(E.shape(e.a)[0], r), k, ctx), _build(e.b, k, _pin(E.shape(e.b)[1], c), ctx)
    out = _product(left, right)
    if k != "0":
        for t in out:
            t.dummies[k] = _dim(inner)
    return out


def _transpose(e, r, c, ctx):
    return _build(e.a, c, r, ctx)


def _apply(e, r, c, ctx):
    return [Term(sympy.Integer(1), {}, ctx.atom(f"{e.fn.name}({_key(e.a, ctx)})", *_slots(e.a, r, c)))]


def _softmax(e, r, c, ctx):
    return [Term(sympy.Integer(1), {}, ctx.atom(f"softmax({_key(e.a, ctx)})", *_slots(e.a, r, c)))]


def _summed(e, indices: tuple, ctx):
    """(row index, col index, dummies) for summing e over the given axes."""
    rows, cols = E.shape(e)
    dummies = {}
    names = []
    for axis, size in zip((0, 1), (rows, cols)):
        if axis in indices and _dim(size) != 1:
            name = ctx.fresh()
            dummies[name] = _dim(size)
            names.append(name)
        else:
            names.append(None)
    return names, dummies


def _sum(e, r, c, ctx):
    axes = {None: (0, 1), 0: (0,), 1: (1,)}[e.axis]
    (sr, sc), dummies = _summed(e.a, axes, ctx)
    rows, cols = E.shape(e.a)
    inner = _build(e.a, sr or _pin(rows, r), sc or _pin(cols, c), ctx)
    for t in inner:
        t.dummies.update(dummies)
    return inner


def _trace(e, r, c, ctx):
    k = ctx.fresh()
    out = _build(e.a, k, k, ctx)
    for t in out:
        t.dummies[k] = _dim(E.shape(e.a)[0])
    return out


def _inner(e, r, c, ctx):
    (p, q), dummies = _summed(e.a, (0, 1), ctx)
    rows, cols = E.shape(e.a)
    p, q = p or "0", q or "0"
    out = _product(_build(e.a, p, q, ctx), _build(e.b, p, q, ctx))
    for t in out:
        t.dummies.update(dummies)
    return out


def _diag(e, r, c, ctx):
    rows, cols = E.shape(e.a)
    if _dim(cols) == 1 and _dim(rows) != 1:  # column -> diagonal matrix
        return _product(_build(e.a, r, "0", ctx), [Term(sympy.Integer(1), {}, ctx.atom(DELTA, r, c))])
    if _dim(rows) == 1 and _dim(cols) != 1:  # row -> diagonal matrix
        return _product(_build(e.a, "0", c, ctx), [Term(sympy.Integer(1), {}, ctx.atom(DELTA, r, c))])
    return _build(e.a, r, r, ctx)  # square -> its diagonal as a column


def _defined(e, r, c, ctx):
    return _build(e.body, r, c, ctx)


def _grad_value(e, r, c, ctx):
    """Entry (r, c) of ∂f/∂wrt, read off the directional derivative along a fresh direction."""
    v = E.Symbol(f"@dir{next(ctx.counter)}", *E.shape(e.wrt))
    terms = _normal(_jvp(e.f, e.wrt, v, "0", "0", ctx), ctx, factored=True)
    return _read_off(terms, v.name, (r, c), ctx)


def _jacobian_value(e, r, c, ctx):
    v = E.Symbol(f"@dir{next(ctx.counter)}", *E.shape(e.wrt))
    frows, fcols = E.shape(e.f)
    fr, fc = (r, "0") if _dim(fcols) == 1 else ("0", r)
    terms = _normal(_jvp(e.f, e.wrt, v, fr, fc, ctx), ctx, factored=True)
    # wrt is a vector: its one real index (the other is pinned to 0) becomes the Jacobian's column
    return _read_off(terms, v.name, (c, c), ctx)


def _read_off(terms, vname, targets, ctx):
    """Remove the direction's entry from each term of a linear form; its (row, col) indices become
    ``targets``."""
    out = []
    for t in terms:
        found = [s for s in t.mono.free_symbols if s in ctx.atoms and ctx.atoms[s].key == vname]
        rest = _split_off(t.mono, found[0]) if len(found) == 1 else None
        if rest is None:
            if len(found) == 1 and len(_expand_terms([t], ctx)) > 1:  # the direction sits inside a sum
                out += _read_off(_normal([t], ctx), vname, targets, ctx)
                continue
            raise Unsupported("the directional derivative is not a plain linear form")
        s = found[0]
        a = ctx.atoms[s]
        mono = rest
        dummies = dict(t.dummies)
        renames = {}
        for slot, target in zip((a.row, a.col), targets):
            if slot == "0":
                continue
            if slot in dummies:
                del dummies[slot]
                renames[slot] = target
            else:  # the entry of f that moves with this entry of wrt: a Kronecker delta
                mono = mono * ctx.atom(DELTA, slot, target)
        out.append(Term(t.coef, dummies, _rename(mono, renames, ctx)))
    return out


_VALUE = {
    E.Symbol: _symbol, E.Scalar: _scalar, E.Fill: _fill, E.Defined: _defined, E.Add: _add, E.Mul: _mul,
    E.Pow: _pow, E.MatMul: _matmul, E.Transpose: _transpose, E.Apply: _apply, E.Softmax: _softmax,
    E.Sum: _sum, E.Trace: _trace, E.Inner: _inner, E.Diag: _diag, E.Grad: _grad_value,
    E.Jacobian: _jacobian_value,
}


def _key(e: E.Expr, ctx: _Ctx) -> str:
    """The normal form of a whole matrix, with formal free indices: equal keys, equal matrices."""
    if id(e) not in ctx.keys:
        terms = _normal(_build(e, "@r", "@c", ctx), ctx)
        # a short name per distinct normal form: atoms of nested layers would otherwise carry every
        # layer's normal form in their names, and printing them would cost more than the proof
        form = _render(terms, ctx)
        name = ctx.forms.setdefault(form, f"#{len(ctx.forms)}")
        ctx.keys[id(e)] = (e, name)  # the node is kept alive: its id is never reused
    return ctx.keys[id(e)][1]


# ---------------------------------------------------------------- directional derivatives (forward mode)

def _named(name: str, a: E.Expr) -> E.Expr:
    return E.Apply(FUNCTIONS[name], a)


def _jvp(e: E.Expr, wrt: E.Expr, v: E.Expr, r: str, c: str, ctx: _Ctx) -> list[Term]:
    """Entry (r, c) of the derivative of e along v (the variable wrt moved by t·v)."""
    if isinstance(e, (E.Symbol, E.Defined)) and e.name == wrt.name:
        return _build(v, r, c, ctx)
    rule = _JVP.get(type(e))
    if rule is None:
        raise Unsupported(f"derivative of {type(e).__name__}")
    return rule(e, wrt, v, r, c, ctx)


def _jat(part, wrt, v, r, c, ctx):
    pr, pc = E.shape(part)
    return _jvp(part, wrt, v, _pin(pr, r), _pin(pc, c), ctx)


def _j_matmul(e, wrt, v, r, c, ctx):
    inner = E.shape(e.a)[1]
    k = _pin(inner, ctx.fresh())
    ar, bc = _pin(E.shape(e.a)[0], r), _pin(E.shape(e.b)[1], c)
    out = (_product(_jvp(e.a, wrt, v, ar, k, ctx), _build(e.b, k, bc, ctx))
           + _product(_build(e.a, ar, k, ctx), _jvp(e.b, wrt, v, k, bc, ctx)))
    if k != "0":
        for t in out:
            t.dummies[k] = _dim(inner)
    return out


def _j_pow(e, wrt, v, r, c, ctx):
    if not isinstance(e.b, E.Scalar):
        raise Unsupported("derivative of a matrix exponent")
    n = sympy.sympify(e.b.value)
    return _scale(_product(_build(E.Pow(e.a, E.Scalar(n - 1)), r, c, ctx), _jat(e.a, wrt, v, r, c, ctx)), n)


def _j_apply(e, wrt, v, r, c, ctx):
    name = e.fn.name
    if getattr(e.fn, "generic", False):
        prime = E.Apply(e.fn.prime, e.a)
    elif name in PRIMES:
        prime = PRIMES[name](e.a, e, _named)
    else:
        raise Unsupported(f"derivative of {name}")
    return _product(_build(E.as_expr(prime), *_slots(e.a, r, c), ctx), _jat(e.a, wrt, v, r, c, ctx))


def _j_softmax(e, wrt, v, r, c, ctx):
    # d softmax(Z)[r, c] = P[r, c] (dZ[r, c] − Σ_q P[r, q] dZ[r, q]): polynomial in the atoms P
    q = ctx.fresh()
    cols = E.shape(e.a)[1]
    row_sum = _product(_build(e, r, q, ctx), _jvp(e.a, wrt, v, r, q, ctx))
    for t in row_sum:
        t.dummies[q] = _dim(cols)
    return _product(_build(e, r, c, ctx), _jvp(e.a, wrt, v, r, c, ctx) + _scale(row_sum, -1))


def _j_sum(e, wrt, v, r, c, ctx):
    axes = {None: (0, 1), 0: (0,), 1: (1,)}[e.axis]
    (sr, sc), dummies = _summed(e.a, axes, ctx)
    rows, cols = E.shape(e.a)
    out = _jvp(e.a, wrt, v, sr or _pin(rows, r), sc or _pin(cols, c), ctx)
    for t in out:
        t.dummies.update(dummies)
    return out


def _j_trace(e, wrt, v, r, c, ctx):
    k = ctx.fresh()
    out = _jvp(e.a, wrt, v, k, k, ctx)
    for t in out:
        t.dummies[k] = _dim(E.shape(e.a)[0])
    return out


def _j_inner(e, wrt, v, r, c, ctx):
    (p, q), dummies = _summed(e.a, (0, 1), ctx)
    p, q = p or "0", q or "0"
    out = (_product(_jvp(e.a, wrt, v, p, q, ctx), _build(e.b, p, q, ctx))
           + _product(_build(e.a, p, q, ctx), _jvp(e.b, wrt, v, p, q, ctx)))
    for t in out:
        t.dummies.update(dummies)
    return out


def _j_diag(e, wrt, v, r, c, ctx):
    rows, cols = E.shape(e.a)
    delta = [Term(sympy.Integer(1), {}, ctx.atom(DELTA, r, c))]
    if _dim(cols) == 1 and _dim(rows) != 1:
        return _product(_jvp(e.a, wrt, v, r, "0", ctx), delta)
    if _dim(rows) == 1 and _dim(cols) != 1:
        return _product(_jvp(e.a, wrt, v, "0", c, ctx), delta)
    return _jvp(e.a, wrt, v, r, r, ctx)


_JVP = {
    E.Symbol: lambda e, w, v, r, c, ctx: [],
    E.Scalar: lambda e, w, v, r, c, ctx: [],
    E.Fill: lambda e, w, v, r, c, ctx: [],
    E.Defined: lambda e, w, v, r, c, ctx: _jvp(e.body, w, v, r, c, ctx),
    E.Add: lambda e, w, v, r, c, ctx: _jat(e.a, w, v, r, c, ctx) + _jat(e.b, w, v, r, c, ctx),
    E.Mul: lambda e, w, v, r, c, ctx: (_product(_jat(e.a, w, v, r, c, ctx), _at(e.b, e, r, c, ctx))
                                       + _product(_at(e.a, e, r, c, ctx), _jat(e.b, w, v, r, c, ctx))),
    E.Pow: _j_pow, E.MatMul: _j_matmul,
    E.Transpose: lambda e, w, v, r, c, ctx: _jvp(e.a, w, v, c, r, ctx),
    E.Apply: _j_apply, E.Softmax: _j_softmax, E.Sum: _j_sum, E.Trace: _j_trace, E.Inner: _j_inner,
    E.Diag: _j_diag,
}


def _directional_value(e, r, c, ctx):
    return _jvp(e.f, e.wrt, e.direction, r, c, ctx)


_VALUE[E.Directional] = _directional_value


# ---------------------------------------------------------------- rows for max/min, outer sums, matrix powers and
# derivatives of derivatives (issue 16); kron, vec and the matrix functions stay outside the normal form

_MASK_FACTS = {None: frozenset({"idempotent"}), 0: frozenset({"idempotent", "columns_sum_to_one"}),
               1: frozenset({"idempotent", "rows_sum_to_one"})}


def _ties_have_measure_zero(a: E.Expr) -> bool:
    """Whether ties among a's entries are a null set, so that a mask with one 1 per line holds almost
    everywhere: not when a passes through the flat piece of a kinked function or another max (relu's
    zeros tie with positive probability).  Ties that come from discrete values (a binary row [1, 1, 0])
    or structure (X @ ones(n, n)) are met by the cross-check's draws, which then withdraw the proof
    (exact.exact_stage, check._compare)."""
    return not any(isinstance(node, E.Apply) and node.fn.kinks or isinstance(node, (E.Extreme, E.ExtremeMask))
                   for node in E.walk(a))


def _mask(e, r, c, ctx):
    """The entry (r, c) of the 0/1 mask of where e.a attains its max (min): one 1 per row, per column or
    in all, facts of the atom's key where ties are a null set (the samplers keep off them); elsewhere
    only that it is 0/1."""
    key = f"{e.which}_mask[{e.axis}]({_key(e.a, ctx)})"
    ctx.facts.setdefault(key, _MASK_FACTS[e.axis] if _ties_have_measure_zero(e.a) else _MASK_FACTS[None])
    return [Term(sympy.Integer(1), {}, ctx.atom(key, *_slots(e.a, r, c)))]


def _extreme_terms(inner, e, r, c, ctx):
    """max(A)[r, c] = Σ_k M[r, k] A[r, k] over the reduced axes, M the mask; ``inner`` builds A (or dA).
    Off ties only: where they have positive probability the sum counts a tied max more than once."""
    if not _ties_have_measure_zero(e.a):
        raise Unsupported(f"{e.which} of an argument whose entries tie with positive probability")
    (sr, sc), dummies = _summed(e.a, {None: (0, 1), 0: (0,), 1: (1,)}[e.axis], ctx)
    rows, cols = E.shape(e.a)
    p, q = sr or _pin(rows, r), sc or _pin(cols, c)
    out = _product(_mask(e, p, q, ctx), inner(p, q))
    for t in out:
        t.dummies.update(dummies)
    return out


def _constant_power(e) -> E.Expr:
    from .differential import MAX_POWER, power_product

    k = sympy.sympify(e.exponent)
    if not (k.is_Integer and 0 <= k <= MAX_POWER):
        raise Unsupported("a matrix power with a symbolic or negative exponent")
    return power_product(e.a, int(k))


def _by_differential(e, w, v, r, c, ctx):
    """The derivative of a derivative (or of anything differential.py writes): build its differential."""
    from .differential import NoRule, differential

    try:
        d = differential(e, w, v)
    except NoRule as exc:
        raise Unsupported(str(exc)) from None
    return [] if d is None else _build(d, r, c, ctx)


_VALUE.update({
    E.OuterSum: lambda e, r, c, ctx: (_build(e.a, _pin(E.shape(e.a)[0], r), "0", ctx)
                                      + _build(e.b, "0", _pin(E.shape(e.b)[1], c), ctx)),
    E.Extreme: lambda e, r, c, ctx: _extreme_terms(lambda p, q: _build(e.a, p, q, ctx), e, r, c, ctx),
    E.ExtremeMask: _mask,
    E.MatPow: lambda e, r, c, ctx: _build(_constant_power(e), r, c, ctx),
})
_JVP.update({
    E.OuterSum: lambda e, w, v, r, c, ctx: (_jvp(e.a, w, v, _pin(E.shape(e.a)[0], r), "0", ctx)
                                            + _jvp(e.b, w, v, "0", _pin(E.shape(e.b)[1], c), ctx)),
    E.Extreme: lambda e, w, v, r, c, ctx: _extreme_terms(lambda p, q: _jvp(e.a, w, v, p, q, ctx), e, r, c, ctx),
    E.ExtremeMask: lambda e, w, v, r, c, ctx: [],  # constant off ties
    E.MatPow: lambda e, w, v, r, c, ctx: _jvp(_constant_power(e), w, v, r, c, ctx),
    E.Grad: _by_differential, E.Jacobian: _by_differential, E.Directional: _by_differential,
})


# ---------------------------------------------------------------- the normal form


def _rename(expr, renames: dict, ctx: _Ctx):
    if not renames:
        return expr
    subs = {}
    for s in expr.free_symbols:
        a = ctx.atoms.get(s)
        if a is None:
            continue
        row, col = renames.get(a.row, a.row), renames.get(a.col, a.col)
        if (row, col) != (a.row, a.col):
            subs[s] = ctx.atom(a.key, row, col)
    return expr.xreplace(subs)


def _has_denominator(x) -> bool:
    return any(p.exp.is_negative for p in x.atoms(sympy.Pow))


def _linear_in(mono, s) -> bool:
    """mono = s · (something free of s)."""
    return _split_off(mono, s) is not None or not sympy.cancel(mono / s).has(s)


def _split_off(mono, s):
    """rest when mono is the product s · rest with s nowhere in rest (read off the factors, no algebra),
    else None."""
    args = sympy.Mul.make_args(mono)
    hits = [i for i, f in enumerate(args) if f == s]
    if len(hits) != 1:
        return None
    rest = args[:hits[0]] + args[hits[0] + 1:]
    if any(f.has(s) for f in rest):
        return None
    return sympy.Mul(*rest)


EXPANSION_LIMIT = 20000  # monomials one term may expand into before the normal form gives up


def _expansion_size(x) -> int:
    size = 1
    for f in sympy.Mul.make_args(x):
        base, exp = f.as_base_exp()
        if base.is_Add:
            size *= len(base.args) ** (int(exp) if exp.is_Integer and exp > 0 else 1)
    return size


def _expand_terms(terms: list[Term], ctx: _Ctx) -> list[Term]:
    """Cancel each term's rational monomial and split its numerator into monomials;
    numbers and dimensions go to the coefficient."""
    out = []
    for t in terms:
        if _expansion_size(t.mono) > EXPANSION_LIMIT:
            raise Unsupported(f"a term expands into more than {EXPANSION_LIMIT} monomials")
        num, den = sympy.fraction(sympy.cancel(t.mono)) if _has_denominator(t.mono) else (t.mono, sympy.Integer(1))
        for part in sympy.Add.make_args(sympy.expand(num)):
            atoms = [x for x in part.free_symbols | den.free_symbols if x in ctx.atoms]
            coeff, rest = part.as_independent(*atoms, as_Add=False) if atoms else (part, sympy.Integer(1))
            dcoeff, drest = den.as_independent(*atoms, as_Add=False) if atoms else (den, sympy.Integer(1))
            out.append(Term(t.coef * coeff / dcoeff, dict(t.dummies), rest / drest))
    return out


def _facts_of(ctx, s) -> frozenset:
    return ctx.facts.get(ctx.atoms[s].key, frozenset()) if s in ctx.atoms else frozenset()


def _contract(t: Term, ctx: _Ctx) -> Term | None:
    """Deltas, assumptions and unused summed indices; None when the term vanishes."""
    changed = True
    while changed:
        changed = False
        # Σ_k δ[k, j] f(k) = f(j) (j in k's range: shapes agree); δ[j, j] = 1.  Only for a delta that
        # is a factor of the whole term.
        for s in list(t.mono.free_symbols):
            a = ctx.atoms.get(s)
            if a is None or a.key != DELTA:
                continue
            rest = _split_off(t.mono, s)
            if rest is None:
                continue
            if a.row == a.col:
                t.mono = rest
            elif a.row in t.dummies:
                del t.dummies[a.row]
                t.mono = _rename(rest, {a.row: a.col}, ctx)
            elif a.col in t.dummies:
                del t.dummies[a.col]
                t.mono = _rename(rest, {a.col: a.row}, ctx)
            else:  # two free or pinned indices: the delta stays a factor
                continue
            changed = True
            break
        # Σ_q Y[p, q] = 1 for rows that sum to one (softmax rows too), Σ_p Y[p, q] = 1 for columns.
        # Valid only when the term is Y[p, q] times a factor free of q (linear in this one entry, no
        # other atom indexed by q) and q is summed over Y's whole axis (it is: shapes agree).
        for s in list(t.mono.free_symbols):
            a = ctx.atoms.get(s)
            facts = _facts_of(ctx, s)
            if a is None:
                continue
            if "rows_sum_to_one" in facts or a.key.startswith("softmax("):
                q, other = a.col, a.row
            elif "columns_sum_to_one" in facts:
                q, other = a.row, a.col
            else:
                continue
            rest = _split_off(t.mono, s) if q in t.dummies and other != q else None
            if rest is not None:
                others = [x for x in t.mono.free_symbols if x is not s and x in ctx.atoms
                          and q in (ctx.atoms[x].row, ctx.atoms[x].col)]
                if not others:
                    t.mono = rest
                    del t.dummies[q]
                    changed = True
                    break
        # an entry that is 0 or 1 equals its own positive integer powers: y**k = y (one entry, never
        # a sum or product of entries: (y1 + y2)**2 is not y1 + y2)
        for s in list(t.mono.free_symbols):
            if "idempotent" in _facts_of(ctx, s):
                new = t.mono.replace(lambda x: x.is_Pow and x.base == s and x.exp.is_Integer and x.exp > 1,
                                     lambda x: s)
                if new != t.mono:
                    t.mono, changed = new, True
    used = {i for s in t.mono.free_symbols if s in ctx.atoms for i in (ctx.atoms[s].row, ctx.atoms[s].col)}
    for d in [d for d in t.dummies if d not in used]:
        t.coef *= t.dummies.pop(d)
    return t


CANONICAL_CANDIDATES = 720  # renamings tried among summed indices that refinement cannot tell apart


def _index_classes(t: Term, ctx: _Ctx) -> list[list[str]]:
    """The summed indices grouped by their place in the term, groups in a canonical order.

    Colour refinement (as in graph isomorphism tests): an index starts with the colour of its range;
    each round its colour becomes its old colour with the sorted list of (atom key, slot, colour or
    name of the atom's other index) of every atom it indexes; rounds repeat until the classes stop
    splitting.  Indices in different classes can never be exchanged by a renaming that preserves the
    term, so only renamings within a class need to be tried."""
    names = sorted(t.dummies)
    occurrences = [(a.key, a.row, a.col) for a in (ctx.atoms[s] for s in t.mono.free_symbols if s in ctx.atoms)]
    colour = {d: str(t.dummies[d]) for d in names}
    while True:
        signature = {}
        for d in names:
            around = []
            for key, row, col in occurrences:
                if row == d:
                    around.append((key, 0, colour.get(col, "=" + col)))
                if col == d:
                    around.append((key, 1, colour.get(row, "=" + row)))
            signature[d] = (colour[d], tuple(sorted(around)))
        ranks = {sig: str(i) for i, sig in enumerate(sorted(set(signature.values())))}
        refined = {d: ranks[signature[d]] for d in names}
        if len(set(refined.values())) == len(set(colour.values())):
            colour = refined
            break
        colour = refined
    classes: dict[str, list[str]] = {}
    for d in names:
        classes.setdefault(colour[d], []).append(d)
    return [classes[c] for c in sorted(classes, key=lambda c: (int(c), ))]


def _canonical(t: Term, ctx: _Ctx) -> tuple:
    """(ranges of the summed indices, monomial) under a canonical renaming of the summed indices,
    as a hashable key (SymPy expressions compare structurally).

    Renaming summed indices never changes a term (any renaming is sound); a canonical one makes equal
    terms look equal.  Refinement orders the indices up to ties; among the renamings within tied
    classes the one whose form hashes least is taken (equal terms have the same candidates, so they
    pick the same one; capped at CANONICAL_CANDIDATES: beyond that two equal terms may look different,
    which only costs a proof, never a wrong one)."""
    classes = _index_classes(t, ctx)
    best = None
    choices = itertools.product(*(itertools.permutations(group) for group in classes))
    for arrangement in itertools.islice(choices, CANONICAL_CANDIDATES):
        order = [d for group in arrangement for d in group]
        mapping = {d: f"s{i}" for i, d in enumerate(order)}
        ranges = tuple(sorted((mapping[d], str(t.dummies[d])) for d in order))
        form = (ranges, _rename(t.mono, mapping, ctx))
        if best is None or hash(form) < hash(best):
            best = form
    return best


def _merge_same_sums(terms: list[Term]) -> list[Term]:
    """Add up the terms that sum over the very same indices, over a common denominator:
    σ/(1 − σ) − σ²/(1 − σ) must become σ before the terms are split into monomials."""
    groups: dict[tuple, sympy.Expr] = {}
    ranges: dict[tuple, dict] = {}
    for t in terms:
        key = tuple(sorted((k, str(v)) for k, v in t.dummies.items()))
        groups[key] = groups.get(key, sympy.Integer(0)) + t.coef * t.mono
        ranges[key] = t.dummies
    return [Term(sympy.Integer(1), dict(ranges[k]), sympy.cancel(sympy.together(v)) if _has_denominator(v) else v)
            for k, v in groups.items() if v != 0]


def _sites(t: Term, ctx: _Ctx) -> Term | None:
    """The term with its factors grouped by the indices their atoms carry ("sites"), each group
    multiplied out (rational ones cancelled) on its own, and numbers, dimensions and signs moved to
    the coefficient; None when a group is zero.  A product of sums at different sites stays a
    product: the form is not canonical for every sum of such products, but it is for equal products,
    which is what deep chains of layers give (and _normal falls back to full expansion otherwise)."""
    groups: dict[frozenset, list] = {}
    coef = t.coef
    for f in sympy.Mul.make_args(t.mono):
        atoms = [x for x in f.free_symbols if x in ctx.atoms]
        if not atoms:
            coef *= f
            continue
        groups.setdefault(frozenset(i for x in atoms for i in (ctx.atoms[x].row, ctx.atoms[x].col)), []).append(f)
    factors = []
    for fs in groups.values():
        p = sympy.Mul(*fs)
        if _has_denominator(p):
            p = sympy.cancel(p)
        elif len(fs) > 1 or p.is_Add or p.is_Pow:
            if _expansion_size(p) > EXPANSION_LIMIT:
                raise Unsupported(f"a term expands into more than {EXPANSION_LIMIT} monomials")
            p = sympy.expand(p)
        if p == 0:
            return None
        content, p = p.as_content_primitive()
        coef *= content
        if p.could_extract_minus_sign():
            coef, p = -coef, -p
        factors.append(p)
    return Term(coef, dict(t.dummies), sympy.Mul(*factors))


def _factored(t: Term, ctx: _Ctx) -> Term | None:
    """One term in factored form: contract, group by sites, and again while that changes it."""
    t = Term(t.coef, dict(t.dummies), t.mono)
    for _ in range(4):
        before = (t.mono, tuple(t.dummies))
        t = _contract(t, ctx)
        t = _sites(t, ctx) if t is not None else None
        if t is None or t.coef == 0 or (t.mono, tuple(t.dummies)) == before:
            return t
    return t


def _collect(terms, ctx: _Ctx) -> list[Term]:
    collected: dict[tuple, list] = {}
    for t in terms:
        if t is None or t.coef == 0 or t.mono == 0:
            continue
        form = _canonical(t, ctx)
        if form in collected:
            collected[form][0] += t.coef
        else:
            collected[form] = [t.coef, t]
    out = []
    for form, (coef, t) in collected.items():
        coef = sympy.cancel(coef)
        if coef != 0:
            out.append(Term(coef, t.dummies, t.mono))
    return out


def _normal(terms: list[Term], ctx: _Ctx, factored: bool = False) -> list[Term]:
    """The sum of terms in normal form: every term expanded into monomials (canonical), or with
    ``factored`` each term's sites multiplied out separately (fast for deep products, canonical for
    equal products only).  Both are sound: every step is an identity."""
    if factored:
        return _collect((_factored(t, ctx) for t in terms), ctx)
    return _collect((_contract(t, ctx) for t in _expand_terms(_merge_same_sums(terms), ctx)), ctx)


def _render(terms: list[Term], ctx: _Ctx) -> str:
    """A matrix's normal form as one string, the same for equal term sets whatever their order."""
    parts = sorted(f"({sympy.sstr(t.coef)})*{_canonical(t, ctx)[0]}*{sympy.srepr(_canonical(t, ctx)[1])}"
                   for t in terms)
    return " + ".join(parts) or "0"


def prove_equal(lhs: E.Expr, rhs: E.Expr) -> bool:
    """True when lhs and rhs are equal for all sizes (by the normal form); False when the normal
    form does not show it (which is not a disproof); Unsupported for what it cannot express."""
    ctx = _Ctx({name: facts_of(s.assume) for name, s in E.symbols_of(lhs, rhs).items()})
    if E.shape(lhs) != E.shape(rhs):
        return False
    rows, cols = E.shape(lhs)
    r, c = _pin(rows, "@R"), _pin(cols, "@C")
    diff = _build(lhs, r, c, ctx) + _scale(_build(rhs, r, c, ctx), -1)
    left = _normal(diff, ctx, factored=True)  # equal products of layers cancel here, unexpanded
    return not left or not _normal(left, ctx)
