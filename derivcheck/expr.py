"""The expression vocabulary: matrix expressions over SymPy MatrixSymbols.

An expression is a small tree of frozen dataclasses.  Leaves are matrix symbols
(each carrying a SymPy ``MatrixSymbol`` with symbolic dimensions), scalar
constants (numbers and dimension names such as ``1/m``), constant fills
(``ones``, ``zeros``, ``eye``) and defined names (``Z1 = X @ W1 + b1``).

The primitive set is kept small, as in micrograd: ``a - b`` is
``a + (-1)*b`` and ``a / b`` is ``a * b**-1``.  ``*``, ``**`` and ``+`` are
elementwise with NumPy broadcasting of a scalar, a 1×k row or an m×1 column;
``@`` is the matrix product.

Shapes are inferred lazily by :func:`shape` so that a catalog module with a
malformed claim still imports; the checker turns a :class:`ShapeError` into
the verdict ``ill_formed``.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Iterator, Union

import sympy

from .functions import ElementwiseFunction, GenericFunction, generic
from .matrix_functions import MatrixFunction

__all__ = [
    "Expr", "Symbol", "Scalar", "Defined", "Add", "Mul", "Pow", "MatMul", "Transpose",
    "Apply", "Softmax", "Sum", "Trace", "Det", "Inv", "Diag", "Inner", "Fill",
    "Extreme", "ExtremeMask", "ApplyMatrix", "MatPow", "Kron", "Vec", "OuterSum",
    "Grad", "Jacobian", "Directional", "ShapeError", "as_expr", "shape", "walk", "fold",
    "symbols_of", "dims", "matrix", "define",
]

Dim = sympy.Expr  # a dimension: a positive-integer SymPy symbol or an Integer


class ShapeError(ValueError):
    """Shapes do not fit together (the claim is ill-formed)."""


class Expr:
    """Base class: operator overloading only; nodes are the dataclasses below."""

    __array_priority__ = 1000  # make NumPy defer to our reflected operators

    def __add__(self, other):
        return Add(self, as_expr(other))

    def __radd__(self, other):
        return Add(as_expr(other), self)

    def __sub__(self, other):
        return Add(self, -as_expr(other))

    def __rsub__(self, other):
        return Add(as_expr(other), -self)

    def __neg__(self):
        return Mul(Scalar(sympy.Integer(-1)), self)

    def __pos__(self):
        return self

    def __mul__(self, other):
        return Mul(self, as_expr(other))

    def __rmul__(self, other):
        return Mul(as_expr(other), self)

    def __truediv__(self, other):
        return Mul(self, Pow(as_expr(other), Scalar(sympy.Integer(-1))))

    def __rtruediv__(self, other):
        return Mul(as_expr(other), Pow(self, Scalar(sympy.Integer(-1))))

    def __pow__(self, other):
        return Pow(self, as_expr(other))

    def __matmul__(self, other):
        return MatMul(self, as_expr(other))

    def __rmatmul__(self, other):
        return MatMul(as_expr(other), self)

    @property
    def T(self):
        return Transpose(self)

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return shape(self)

    def __repr__(self) -> str:
        from .printing import to_text

        return to_text(self)


# ---------------------------------------------------------------- leaves


@dataclass(frozen=True, eq=False, repr=False)
class Symbol(Expr):
    """A matrix of independent real entries, with assumptions for sampling."""

    name: str
    rows: Dim
    cols: Dim
    assume: frozenset = frozenset()

    @property
    def matrix_symbol(self) -> sympy.MatrixSymbol:
        return sympy.MatrixSymbol(self.name, self.rows, self.cols)


@dataclass(frozen=True, eq=False, repr=False)
class Scalar(Expr):
    """A scalar constant: a number or an expression in dimension names."""

    value: sympy.Expr


@dataclass(frozen=True, eq=False, repr=False)
class Fill(Expr):
    """ones(r, c), zeros(r, c) or eye(n)."""

    kind: str  # "ones" | "zeros" | "eye"
    rows: Dim
    cols: Dim


@dataclass(frozen=True, eq=False, repr=False)
class Defined(Expr):
    """A named intermediate such as Z2 = A1 @ W2 + b2; derivatives may be taken w.r.t. it."""

    name: str
    body: Expr


# ---------------------------------------------------------------- operations


@dataclass(frozen=True, eq=False, repr=False)
class Add(Expr):
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Mul(Expr):
    """Elementwise (Hadamard) product with broadcasting; scalar times matrix."""

    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Pow(Expr):
    """Elementwise power; the exponent broadcasts like any operand."""

    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class MatMul(Expr):
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Transpose(Expr):
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Apply(Expr):
    """An elementwise function (known or generic) applied to every entry."""

    fn: Union[ElementwiseFunction, GenericFunction]
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Softmax(Expr):
    """Row-wise softmax: each row is exponentiated and normalised to sum 1."""

    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Sum(Expr):
    """Sum of all entries (axis None), of each column (axis 0) or of each row (axis 1)."""

    a: Expr
    axis: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Trace(Expr):
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Det(Expr):
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Inv(Expr):
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Diag(Expr):
    """diag(v) of a row or column vector is a diagonal matrix; diag(A) of a square A is its diagonal as a column."""

    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Inner(Expr):
    """Frobenius inner product A•B = sum_ij A_ij B_ij of two equal shapes."""

    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Extreme(Expr):
    """The largest (``which`` "max") or smallest ("min") entry: of all entries (axis None), of each
    column (axis 0) or of each row (axis 1), keeping two dimensions like Sum.  Samplers keep ties apart."""

    a: Expr
    axis: int | None = None
    which: str = "max"


@dataclass(frozen=True, eq=False, repr=False)
class ExtremeMask(Expr):
    """1 where ``a`` attains its max (min) — over all entries, each column or each row — and 0
    elsewhere: the derivative of Extreme (max-pooling's backward pass routes the gradient through it)."""

    a: Expr
    axis: int | None = None
    which: str = "max"


@dataclass(frozen=True, eq=False, repr=False)
class ApplyMatrix(Expr):
    """A matrix function (expm, logm, sqrtm: matrix_functions.py) of a square matrix."""

    fn: MatrixFunction
    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class MatPow(Expr):
    """The matrix power A^k for an integer k: a number or an expression in dimension names (k, k - 1),
    so that a claim may hold for every k (a negative k means powers of the inverse)."""

    a: Expr
    exponent: sympy.Expr


@dataclass(frozen=True, eq=False, repr=False)
class Kron(Expr):
    """The Kronecker product A ⊗ B: block (i, j) is A[i, j]·B."""

    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Vec(Expr):
    """vec(A): the columns of A stacked into one column (column-major, as in vec(AXB) = (Bᵀ ⊗ A) vec(X))."""

    a: Expr


@dataclass(frozen=True, eq=False, repr=False)
class OuterSum(Expr):
    """outer_sum(c, r)[i, j] = c[i] + r[j] for a column c and a row r (pairwise distances, RBF kernels):
    the explicit spelling of what ``c + r`` would mean under NumPy broadcasting, which the vocabulary
    refuses as ambiguous."""

    a: Expr
    b: Expr


# ---------------------------------------------------------------- derivatives
# Ground truth for these comes from scalar differentiation or finite
# differences (truth.py), never from the claim's own rules.


@dataclass(frozen=True, eq=False, repr=False)
class Grad(Expr):
    """∂f/∂wrt for a scalar f, in the shape of wrt (denominator layout)."""

    f: Expr
    wrt: Expr  # a Symbol or a Defined intermediate


@dataclass(frozen=True, eq=False, repr=False)
class Jacobian(Expr):
    """J_ij = ∂f_i/∂x_j for vector f and vector wrt (numerator layout)."""

    f: Expr
    wrt: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Directional(Expr):
    """The differential of f at wrt applied to a direction: d/dt f(wrt + t·direction) at t=0."""

    f: Expr
    wrt: Expr
    direction: Expr


# ---------------------------------------------------------------- helpers


def as_expr(value) -> Expr:
    """Wrap numbers and dimension expressions as Scalar; pass expressions through."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans are not part of the vocabulary")
    if isinstance(value, int):
        return Scalar(sympy.Integer(value))
    if isinstance(value, float):
        return Scalar(sympy.Rational(repr(value)))  # 0.1 means one tenth
    if isinstance(value, sympy.Expr) and not value.atoms(sympy.MatrixSymbol):
        return Scalar(sympy.sympify(value))
    raise TypeError(f"cannot use {value!r} ({type(value).__name__}) in an expression")


def children(e: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of a node (Defined bodies included)."""
    if isinstance(e, (Symbol, Scalar, Fill)):
        return ()
    if isinstance(e, Defined):
        return (e.body,)
    if isinstance(e, Directional):
        return (e.f, e.wrt, e.direction)
    if isinstance(e, (Grad, Jacobian)):
        return (e.f, e.wrt)
    return tuple(getattr(e, n) for n in ("a", "b") if isinstance(getattr(e, n, None), Expr))


def walk(e: Expr, into_defined: bool = True) -> Iterator[Expr]:
    """Every node once, parents before children; ``into_defined=False`` stops at named definitions."""
    seen: set[int] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if into_defined or not isinstance(node, Defined):
            stack.extend(reversed(children(node)))


def fold(e: Expr, combine, memo: dict | None = None):
    """``combine(node, memo)`` for every node, children first, each node once (shared sub-trees and
    definitions included), without recursion: any depth can be folded.  ``combine`` reads its
    children's results as ``memo[id(child)]``; the result for e is returned.  ``memo`` (node id ->
    result) may be shared by trees that share sub-trees, and must not outlive them (ids are reused)."""
    memo = {} if memo is None else memo
    stack = [(e, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in memo:
            continue
        kids = children(node)
        if expanded or not kids:
            memo[id(node)] = combine(node, memo)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in memo)
    return memo[id(e)]


def rebuild(e: Expr, change, into_defined: bool = True, memo: dict | None = None) -> Expr:
    """``e`` with ``change(node)`` applied top-down: each node is offered to ``change`` before its
    children, and kept (its children rebuilt) when it returns None.  Shared nodes stay shared, and
    named definitions are entered only with ``into_defined`` (a changed body keeps its name).  ``memo``
    may be shared by the trees of one claim, so a node they share is rebuilt once."""
    memo = {} if memo is None else memo
    if id(e) in memo:
        return memo[id(e)]
    out = change(e)
    if out is None:
        if isinstance(e, Defined) and not into_defined:
            out = e
        else:
            fields = {f.name: rebuild(v, change, into_defined, memo) for f in dataclasses.fields(e)
                      if isinstance(v := getattr(e, f.name), Expr)}
            out = dataclasses.replace(e, **fields) if any(fields[k] is not getattr(e, k) for k in fields) else e
    memo[id(e)] = out
    return out


def symbols_of(*exprs: Expr) -> dict[str, Symbol]:
    """The matrix symbols an expression depends on, by name; a name used for two
    different shapes is an error."""
    return dict(_symbols_of(exprs))


def dims_of(*exprs: Expr) -> set[sympy.Symbol]:
    """Dimension symbols used anywhere (shapes, scalars, fills)."""
    return set(_dims_of(exprs))


# Expressions are immutable, and the checks ask these questions of the same trees at every point:
# the answers are cached per tuple of trees (each caller gets its own copy).

@functools.lru_cache(maxsize=8192)
def _symbols_of(exprs: tuple) -> dict[str, Symbol]:
    found: dict[str, Symbol] = {}
    for e in exprs:
        for node in walk(e):
            if isinstance(node, Symbol):
                old = found.get(node.name)
                if old is not None and old is not node and (old.rows, old.cols, old.assume) != (
                    node.rows, node.cols, node.assume):
                    raise ShapeError(f"symbol {node.name} is declared twice with different shapes or assumptions")
                found.setdefault(node.name, node)
    return found


@functools.lru_cache(maxsize=8192)
def _dims_of(exprs: tuple) -> frozenset:
    out: set[sympy.Symbol] = set()
    for e in exprs:
        for node in walk(e):
            if isinstance(node, (Symbol, Fill)):
                out |= sympy.sympify(node.rows).free_symbols | sympy.sympify(node.cols).free_symbols
            elif isinstance(node, Scalar):
                out |= node.value.free_symbols
            elif isinstance(node, MatPow):
                out |= sympy.sympify(node.exponent).free_symbols
    return frozenset(out)


def generics_of(*exprs: Expr) -> list[str]:
    """Base names of the generic functions used (g for both g and g_prime), sorted: instances draw
    their coefficients in this order (a set's order changes from one process to the next)."""
    return sorted({n.fn.base for e in exprs for n in walk(e) if isinstance(n, Apply) and n.fn.generic})


# ---------------------------------------------------------------- shapes
# One rule per node type.  Dimensions are compared structurally: m and n are
# different sizes even though some instance could make them equal.


def fmt_shape(s) -> str:
    """A shape as messages write it: (m, n)."""
    return f"({s[0]}, {s[1]})"



def shape_or_none(e: Expr):
    """The shape of e, or None when it is ill-formed."""
    try:
        return shape(e)
    except ShapeError:
        return None


def _broadcast(e, what: str):
    sa, sb = shape(e.a), shape(e.b)
    out = []
    stretched = []
    for axis, (x, y) in enumerate(zip(sa, sb)):
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
            stretched.append(("a", axis))
        elif y == 1:
            out.append(x)
            stretched.append(("b", axis))
        else:
            raise ShapeError(f"{what}: shapes {fmt_shape(sa)} and {fmt_shape(sb)} do not match")
    if len(stretched) == 2 and stretched[0][0] != stretched[1][0] and sa != (1, 1) and sb != (1, 1):
        raise ShapeError(f"{what}: broadcasting {fmt_shape(sa)} against {fmt_shape(sb)} is ambiguous "
                         "(a column against a row makes an outer sum/product)")
    return tuple(out)


def _matmul_shape(e):
    sa, sb = shape(e.a), shape(e.b)
    if sa[1] != sb[0]:
        raise ShapeError(f"matrix product: shapes {fmt_shape(sa)} @ {fmt_shape(sb)} do not match "
                         f"({sa[1]} columns against {sb[0]} rows)")
    return (sa[0], sb[1])


def _square(e, what):
    s = shape(e.a)
    if s[0] != s[1]:
        raise ShapeError(f"{what} needs a square matrix, got {fmt_shape(s)}")
    return s


def _square_to_scalar(e, what):
    _square(e, what)
    return (1, 1)


def _diag_shape(e):
    r, c = shape(e.a)
    if c == 1 and r != 1:
        return (r, r)
    if r == 1 and c != 1:
        return (c, c)
    if r == c:
        return (r, 1)
    raise ShapeError(f"diag needs a vector or a square matrix, got {fmt_shape((r, c))}")


def _sum_shape(e):
    r, c = shape(e.a)
    return {None: (1, 1), 0: (1, c), 1: (r, 1)}[e.axis]


def _inner_shape(e):
    sa, sb = shape(e.a), shape(e.b)
    if sa != sb:
        raise ShapeError(f"inner product: shapes {fmt_shape(sa)} and {fmt_shape(sb)} differ")
    return (1, 1)


def _pow_shape(e):
    if shape(e.b) != (1, 1):
        raise ShapeError(f"power: the exponent must be a scalar, got shape {fmt_shape(shape(e.b))}")
    return shape(e.a)


def _extreme_shape(e):
    r, c = shape(e.a)
    return {None: (1, 1), 0: (1, c), 1: (r, 1)}[e.axis]


def _matpow_shape(e):
    k = sympy.sympify(e.exponent)
    if not k.is_integer:
        raise ShapeError(f"matrix power: the exponent {k} must be an integer (a number or dimension names); "
                         "use sqrtm for the square root")
    return _square(e, "matrix power")


def _kron_shape(e):
    (ra, ca), (rb, cb) = shape(e.a), shape(e.b)
    return (ra * rb, ca * cb)


def _outer_sum_shape(e):
    sa, sb = shape(e.a), shape(e.b)
    if sa[1] != 1 or sb[0] != 1:
        raise ShapeError(f"outer_sum needs a column and a row, got {fmt_shape(sa)} and {fmt_shape(sb)}")
    return (sa[0], sb[1])


def _grad_shape(e):
    if shape(e.f) != (1, 1):
        raise ShapeError(f"gradient: f must be scalar, got shape {fmt_shape(shape(e.f))}")
    _check_wrt(e)
    return shape(e.wrt)


def _jacobian_shape(e):
    sf, sx = shape(e.f), shape(e.wrt)
    _check_wrt(e)
    if 1 not in sf or 1 not in sx:
        raise ShapeError(f"jacobian: f and wrt must be vectors, got {fmt_shape(sf)} and {fmt_shape(sx)}")
    length = lambda s: s[0] * s[1]  # noqa: E731 - a vector's length
    return (length(sf), length(sx))


def _directional_shape(e):
    _check_wrt(e)
    if shape(e.direction) != shape(e.wrt):
        raise ShapeError(f"directional: the direction has shape {fmt_shape(shape(e.direction))}, "
                         f"wrt has {fmt_shape(shape(e.wrt))}")
    return shape(e.f)


def _check_wrt(e):
    if not isinstance(e.wrt, (Symbol, Defined)):
        raise ShapeError("a derivative must be taken w.r.t. a symbol or a defined name")
    if not any(node is e.wrt or (isinstance(node, type(e.wrt)) and node.name == e.wrt.name)
               for node in walk(e.f)):
        raise ShapeError(f"{e.wrt.name} does not occur in the function being differentiated")
    shape(e.f)


_SHAPE_RULES = {
    Symbol: lambda e: (e.rows, e.cols),
    Scalar: lambda e: (1, 1),
    Fill: lambda e: (e.rows, e.cols),
    Defined: lambda e: shape(e.body),
    Add: lambda e: _broadcast(e, "sum"),
    Mul: lambda e: _broadcast(e, "elementwise product"),
    Pow: _pow_shape,
    MatMul: _matmul_shape,
    Transpose: lambda e: tuple(reversed(shape(e.a))),
    Apply: lambda e: shape(e.a),
    Softmax: lambda e: shape(e.a),
    Sum: _sum_shape,
    Trace: lambda e: _square_to_scalar(e, "trace"),
    Det: lambda e: _square_to_scalar(e, "det"),
    Inv: lambda e: _square(e, "inv"),
    Diag: _diag_shape,
    Inner: _inner_shape,
    Extreme: _extreme_shape,
    ExtremeMask: lambda e: shape(e.a),
    ApplyMatrix: lambda e: _square(e, e.fn.name),
    MatPow: _matpow_shape,
    Kron: _kron_shape,
    Vec: lambda e: (shape(e.a)[0] * shape(e.a)[1], 1),
    OuterSum: _outer_sum_shape,
    Grad: _grad_shape,
    Jacobian: _jacobian_shape,
    Directional: _directional_shape,
}

@functools.lru_cache(maxsize=4096)
def shape(e: Expr) -> tuple[Dim, Dim]:
    """(rows, cols) with symbolic dimensions; raises ShapeError naming both shapes."""
    return tuple(sympy.sympify(d) for d in _SHAPE_RULES[type(e)](e))


# ---------------------------------------------------------------- construction API


def dims(names: str) -> tuple[sympy.Symbol, ...]:
    """Dimension names, e.g. ``m, n = dims("m n")``; usable in shapes and as scalars (1/m)."""
    out = sympy.symbols(names, integer=True, positive=True, seq=True)
    return tuple(out)


def matrix(name: str, rows, cols, assume=()) -> Symbol:
    """A matrix symbol of shape (rows, cols); ``assume`` is one assumption name or a list."""
    from .assumptions import validate

    if isinstance(assume, str):
        assume = (assume,)
    validate(name, assume)
    return Symbol(name, sympy.sympify(rows), sympy.sympify(cols), frozenset(assume))


def define(name: str, body) -> Defined:
    """A named intermediate (``Z1 = define("Z1", X @ W1 + b1)``)."""
    return Defined(name, as_expr(body))


def elementwise(name: str):
    """Declare a generic elementwise function g; returns (g, g_prime) as callables."""
    fn = generic(name)
    return applier(fn), applier(fn.prime)


def applier(fn):
    """A callable that applies the elementwise function ``fn`` to an expression."""

    def call(a):
        return Apply(fn, as_expr(a))

    call.__name__ = fn.name
    return call
