"""Diagnoses: for a claim that does not hold, name how it relates to the truth.

The claimed side C is compared with the true side T (the derivative of f for
gradient, jacobian and directional claims; the left side of an identity) by
trying, in order, the repairs in ``_REPAIRS``: each proposes corrected
versions of C (−C, Cᵀ, a vector read as a diagonal matrix — the whole side or
one factor —, an index slip: a diagonal or a sum over an index, a gradient
column used as a row, the operands of one product swapped, an elementwise
product meant as a matrix product, one factor transposed, the sign of one term, a term dropped or added), and the first
that the exact stage shows equal to T at concrete shapes is the diagnosis,
with the corrected formula in the claim's own names.  A constant or
size-dependent scalar factor (2, 1/m, …) of the whole side or of one term is
fitted at three size assignments, named, and then checked the same way; an
assumption added to one symbol is tried last.  Every formula shown — a
corrected side, a true gradient — is parsed back from its text and checked
against the truth before it is shown.  Nothing here changes a verdict: a
diagnosis only explains one.
"""
from __future__ import annotations

import dataclasses
import fractions

import mpmath
import sympy

from . import expr as E
from .claims import CLAIM_KINDS
from .conventions import CONVENTIONS
from .assumptions import UnsatisfiableError, by_strength, closure, sampler_for, size_assignments
from .evaluate import evaluate
from .exact import DIGITS, SIZE_POOL, exact_stage
from .forward import forward_backend
from .instances import claim_rng, draw, sizes_rng, to_mp
from .derivative import gradient, readable
from .parse import ExpressionError, Scope, parse_expression
from .printing import to_text
from .symbolic import Unsupported, prove_equal
from .timelimit import StageTimeout, time_limit
from .verdict import Diagnosis

__all__ = ["Diagnosis", "diagnose", "sides"]

def sides(claim, broken_step: int | None = None):
    """(claimed side, true side) of a claim (its kind's row, claims.CLAIM_KINDS), or None when there is
    nothing to compare.  For a derivation: the first broken step against the line before it."""
    if claim.kind == "derivation" and broken_step is not None:
        return claim.steps[broken_step], claim.steps[broken_step - 1]
    row = CLAIM_KINDS.get(claim.kind)
    return row.sides(claim) if row is not None and row.sides is not None else None


_shape = E.shape_or_none


def _equal(a, b, relations, seed: int, label: str) -> bool:
    """a equals b, decided as the checker decides a claim: first screened by the exact stage (a few exact
    points, the configurations of discrete symbols in float64, any suspicion decided exactly); what passes
    is then proved for all dimensions by the normal form, or else decided in full by the exact stage
    (all of it: a stage that covered only some configurations or pieces does not show a repair)."""
    if _shape(a) is None or _shape(a) != _shape(b):
        return False
    rng = claim_rng(seed, f"diagnosis: {label}")
    try:
        screen = exact_stage(a, b, relations, rng, seed, points=2, cross_check=True)
        if screen.status != "holds":
            return False
        if screen.points and not screen.unvisited and _proved(a, b):  # as check._compare trusts a proof
            return True
        stage = exact_stage(a, b, relations, rng, seed, points=2)
        return stage.status == "holds" and not stage.partial  # a repair is shown only where it was decided
    except Exception:  # a repair that cannot be evaluated is simply not the diagnosis
        return False


#: the normal form is fast when it applies; a repair it cannot prove in this time is decided by the exact stage
PROOF_SECONDS = 2.0


def _proved(a, b) -> bool:
    """Equal for all dimensions by the normal form (an inner time limit: the outer one fires again after it)."""
    try:
        with time_limit(PROOF_SECONDS):
            return prove_equal(a, b)
    except (StageTimeout, Unsupported, NotImplementedError, E.ShapeError, ValueError, TypeError):
        return False


def _scope(*exprs) -> Scope:
    """The names of the given expressions, for parsing a formula about to be shown back into them."""
    scope = Scope(dims={str(d): d for d in E.dims_of(*exprs)})
    for e in exprs:
        for node in E.walk(e):
            if isinstance(node, E.Symbol):
                scope.symbols.setdefault(node.name, node)
            elif isinstance(node, E.Defined):
                scope.defines.setdefault(node.name, node)
            elif isinstance(node, E.Apply) and getattr(node.fn, "generic", False):
                scope.generics.setdefault(node.fn.name, E.applier(node.fn))
    return scope


def _parsed(text: str, scope: Scope):
    """The expression a shown text stands for, or None if it does not read back in the claim's names."""
    try:
        return parse_expression(text, scope)
    except (ExpressionError, E.ShapeError, TypeError, ValueError):
        return None


def _readback(e: E.Expr, scope: Scope):
    """(text, expression) of a corrected side: its text and what that text reads back as in the claim's
    names, which is what gets checked; None if the text does not read back."""
    text = to_text(e)
    back = _parsed(text, scope)
    return None if back is None else (text, back)


# ---------------------------------------------------------------- rebuilding expressions


def _replace_node(e: E.Expr, target: E.Expr, new: E.Expr) -> E.Expr:
    return E.rebuild(e, lambda n: new if n is target else None, into_defined=False)


def _top_nodes(e: E.Expr):
    """The nodes of the claimed side itself (not inside named definitions)."""
    return E.walk(e, into_defined=False)


# ---------------------------------------------------------------- repairs


def _sign(c, t):
    negated = c.b if isinstance(c, E.Mul) and isinstance(c.a, E.Scalar) and c.a.value == -1 else -c
    yield "sign", "sign flip: the claimed side is the negative of the true one", negated


def _is_vector(x) -> bool:
    shape = _shape(x)
    return bool(shape) and 1 in (sympy.sympify(shape[0]), sympy.sympify(shape[1])) and shape != (1, 1)


def _transpose(c, t):
    if _shape(c) == (1, 1):
        return  # the transpose of a 1 × 1 value is the value itself: never a repair
    yield ("transpose", "transpose: the claimed side is the transpose of the true one",
           c.a if isinstance(c, E.Transpose) else E.Transpose(c))


def _diagonal(c, t):
    if _is_vector(c):
        yield ("diagonal", "a vector where a diagonal matrix is meant: the true side is diag of the claimed one",
               E.Diag(c))
    for n in _top_nodes(c):  # one factor of a product: W · σ′(z) meaning W diag(σ′(z))
        if isinstance(n, E.MatMul):
            for v in (n.a, n.b):
                if _is_vector(v):
                    yield ("diagonal", f"a vector where a diagonal matrix is meant: {to_text(v)} should be "
                                       f"diag({to_text(v)})", _replace_node(c, v, E.Diag(v)))


def _index(c, t):
    """Index slips: a free index the true side does not have (the diagonal, or a missing sum)."""
    cs, ts = _shape(c), _shape(t)
    if not cs or not ts or cs == ts:
        return
    one = sympy.Integer(1)
    if cs[0] == cs[1] and cs[0] in ts and one in ts:
        diagonal = E.Diag(c) if sympy.sympify(ts[1]) == 1 else E.Transpose(E.Diag(c))
        yield ("index", "an index slip: the claimed side has a free index the true side lacks; with the two "
                        "indices equal (its diagonal) it is the true side", diagonal)
    if sympy.sympify(ts[1]) == 1 and ts[0] == cs[0]:
        yield "index", "an index slip: the claimed side lacks a sum over its second index", E.Sum(c, 1)
    if sympy.sympify(ts[0]) == 1 and ts[1] == cs[1]:
        yield "index", "an index slip: the claimed side lacks a sum over its first index", E.Sum(c, 0)
    if ts == (1, 1) and cs[0] == cs[1]:
        yield "index", "an index slip: the claimed side lacks a sum over its repeated index (a trace)", E.Trace(c)


def _layout(c, t):
    """A gradient (a column) multiplied as if it were a row, as in δ = ∂C/∂z3 · ∂z3/∂z2."""
    for n in _top_nodes(c):
        if isinstance(n, E.MatMul) and _shape(n) is None:
            f = n.a
            while isinstance(f, E.MatMul):
                f = f.a
            shape = _shape(f)
            if shape and sympy.sympify(shape[1]) == 1 and shape != (1, 1):
                yield ("layout", f"a column used as a row: {to_text(f)} is a column (a gradient); with "
                                 f"{to_text(f)}.T in its place the product is a row, whose transpose is the true side",
                       E.Transpose(_replace_node(c, f, E.Transpose(f))))


def _swapped(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.MatMul):
            for new in (E.MatMul(n.b, n.a), E.Transpose(E.MatMul(E.Transpose(n.a), E.Transpose(n.b)))):
                yield ("swapped", f"swapped operands: {to_text(n)} should be {to_text(E.MatMul(n.b, n.a))}",
                       _replace_node(c, n, new))


def _product(c, t):
    """An elementwise product where a matrix product is meant (NumPy's * for np.dot)."""
    for n in _top_nodes(c):
        if isinstance(n, E.Mul) and _shape(n.a) not in (None, (1, 1)) and _shape(n.b) not in (None, (1, 1)):
            for new in (E.MatMul(n.a, n.b), E.MatMul(n.b, n.a)):
                yield ("product", f"an elementwise product where a matrix product is meant: {to_text(n)} should be "
                                  f"{to_text(new)}", _replace_node(c, n, new))


def _transposed_factor(c, t):
    for n in _top_nodes(c):
        if isinstance(n, (E.Symbol, E.Defined)) and _shape(n) != (1, 1):
            yield ("transposed factor", f"a factor should be transposed: {to_text(n)} should be {to_text(n)}.T",
                   _replace_node(c, n, E.Transpose(n)))
        if isinstance(n, E.Transpose) and isinstance(n.a, (E.Symbol, E.Defined)) and _shape(n) != (1, 1):
            yield ("transposed factor", f"a transpose too many: {to_text(n)} should be {to_text(n.a)}",
                   _replace_node(c, n, n.a))


def _term_sign(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.Add):
            for flipped, keep, other in ((E.Add(n.a, -n.b), n.a, n.b), (E.Add(-n.a, n.b), n.b, n.a)):
                yield ("term sign", f"the sign of one term is wrong: in {to_text(n)}, {to_text(other)} "
                                    f"should have the opposite sign", _replace_node(c, n, flipped))


def _extra_term(c, t):
    for n in _top_nodes(c):
        if isinstance(n, E.Add):
            for keep, dropped in ((n.a, n.b), (n.b, n.a)):
                yield ("extra term", f"a term too many: {to_text(dropped)} in {to_text(n)}", _replace_node(c, n, keep))


def _missing_term(c, t):
    names = {}
    for n in E.walk(t):
        if isinstance(n, (E.Symbol, E.Defined)) and n.name not in names:
            names[n.name] = n
    for name, n in names.items():
        for candidate, how in ((E.Add(c, n), "+"), (E.Add(c, -n), "-")):
            yield "missing term", f"a term is missing: {how} {name}", candidate


_REPAIRS = (_sign, _transpose, _diagonal, _index, _layout, _swapped, _product, _transposed_factor, _term_sign,
            _extra_term, _missing_term)


def _with_assumption(exprs, name: str, assumption: str):
    memo: dict = {}

    def change(n):
        if isinstance(n, E.Symbol) and n.name == name:
            return dataclasses.replace(n, assume=frozenset(n.assume | {assumption}))
        return None

    return [E.rebuild(e, change, into_defined=True, memo=memo) for e in exprs]


def _assumption(c, t, relations, seed):
    """One more assumption on one symbol, weakest first (the diagnosis names the least it needs)."""
    symbols = E.symbols_of(c, t)
    for name, s in sorted(symbols.items()):
        for a in by_strength():
            if a in closure(s.assume):
                continue
            try:
                domain = sampler_for(name, s.assume | {a})
            except UnsatisfiableError:
                continue
            if domain.square and s.rows != s.cols:
                continue
            if (a in ("one_hot_rows", "rows_sum_to_one") and s.cols == 1) or (a == "one_hot_columns" and s.rows == 1):
                continue  # on a single column (row) these would make every entry 1: no longer the claim
            c2, t2 = _with_assumption([c, t], name, a)
            if _equal(c2, t2, relations, seed, f"{name}:{a}"):
                return Diagnosis("assumption", f"an assumption is missing: the claim holds when {name} is {a}")
    return None


# ---------------------------------------------------------------- scalar factors


def _fit(base, direction, target, relations, seed, label):
    """[(sizes, k)] with target = base + k·direction at each of three size assignments, or None
    (the whole side: base = 0, direction = C, target = T gives C = T/k; one term: base = C without it)."""
    exprs = [e for e in (base, direction, target) if e is not None]
    dims = E.dims_of(*exprs)
    out = []
    backend = forward_backend()
    rng = claim_rng(seed, f"diagnosis: {label}", 7)
    with mpmath.workdps(DIGITS):
        for sizes in size_assignments(dims, relations, SIZE_POOL, 3, sizes_rng(seed, dims)):
            env = to_mp(draw(exprs, sizes, rng))
            d = evaluate(direction, env, backend).reshape(-1)
            r = evaluate(target, env, backend).reshape(-1)
            if base is not None:
                r = r - evaluate(base, env, backend).reshape(-1)
            denom = sum(x * x for x in d)
            if denom == 0:
                return None
            k = sum(x * y for x, y in zip(r, d)) / denom
            resid = max(abs(x - k * y) for x, y in zip(r, d))
            if resid > mpmath.mpf(10) ** -30 * max(1, max(abs(x) for x in r)):
                return None
            out.append((sizes, k))
    return out


def _name_factor(ratios):
    """The factor as a constant or a constant times a power of one dimension, e.g. 2, 1/m, 2*n."""
    candidates = [sympy.Integer(1)]
    dims = sorted({d for sizes, _ in ratios for d in sizes}, key=str)
    candidates += [d ** p for d in dims for p in (1, -1, 2, -2)]
    for form in candidates:
        values = [sympy.Rational(form.subs(sizes)) for sizes, _ in ratios]
        coefficients = [k * v.q / v.p for (_, k), v in zip(ratios, values)]
        if all(abs(x - coefficients[0]) < mpmath.mpf(10) ** -25 for x in coefficients):
            q = fractions.Fraction(float(coefficients[0])).limit_denominator(1000)
            if abs(float(coefficients[0]) - q.numerator / q.denominator) < 1e-12 and (q != 1 or form != 1):
                return sympy.Rational(q.numerator, q.denominator) * form
    return None


def _constant(e: E.Expr):
    """(k, rest) with e = k·rest for a constant k pulled out of products (rest None: e is the constant)."""
    if isinstance(e, E.Scalar):
        return sympy.sympify(e.value), None
    if isinstance(e, E.Pow) and isinstance(e.a, E.Scalar) and isinstance(e.b, E.Scalar):
        return sympy.sympify(e.a.value) ** sympy.sympify(e.b.value), None
    if isinstance(e, (E.Mul, E.MatMul)):
        ka, ra = _constant(e.a)
        kb, rb = _constant(e.b)
        if ra is None and rb is None:
            return ka * kb, None
        if ra is None or rb is None:
            return ka * kb, ra if rb is None else rb
        return ka * kb, type(e)(ra, rb)
    return sympy.Integer(1), e


def _scaled(k, e: E.Expr) -> E.Expr:
    """k·e with the constants of e merged into k: 1/2 · (4 λ W) is 2 * lam * W."""
    k0, rest = _constant(e)
    k = k * k0
    if rest is None:
        return E.Scalar(k)
    if k == 1:
        return rest
    if k == -1:
        return -rest
    return _times(k, rest)


def _times(k, e: E.Expr) -> E.Expr:
    """k·e with k on the leftmost factor, so that it prints as the documents write it: 2/m * X.T @ D."""
    if isinstance(e, (E.Mul, E.MatMul)):
        return type(e)(_times(k, e.a), e.b)
    return E.Mul(E.Scalar(k), e)


def _factor(c, t, relations, seed):
    """C = k·T for a named constant k (2, 1/m, …): the whole side is off by a scalar factor."""
    ratios = _fit(None, t, c, relations, seed, "factor")
    k = _name_factor(ratios) if ratios else None
    if k is None:
        return None
    shown = _readback(_scaled(1 / k, c), _scope(c, t))
    if shown is None or not _equal(shown[1], t, relations, seed, "factor"):
        return None
    return Diagnosis("factor", f"scalar factor: the claimed side is {sympy.sstr(k)} times the true one", shown[0])


def _term_factor(c, t, relations, seed):
    """One term of a sum is off by a named factor (a missing 1/m on one term, 2λ for λ)."""
    for n in _top_nodes(c):
        if not isinstance(n, E.Add):
            continue
        for keep, term, build in ((n.a, n.b, lambda k: E.Add(n.a, _scaled(k, n.b))),
                                  (n.b, n.a, lambda k: E.Add(_scaled(k, n.a), n.b))):
            without = _replace_node(c, n, keep)  # C is affine in the term's factor k: C(k) = C(0) + k (C − C(0))
            ratios = _fit(without, c - without, t, relations, seed, f"term {to_text(term)}")
            k = _name_factor(ratios) if ratios else None
            if k is None or k in (0, 1, -1):
                continue
            shown = _readback(_replace_node(c, n, build(k)), _scope(c, t))
            if shown is not None and _equal(shown[1], t, relations, seed, f"term factor {to_text(term)}"):
                return Diagnosis("term factor", f"one term is off by a factor: in {to_text(n)}, {to_text(term)} "
                                                f"should be {to_text(_scaled(k, term))}", shown[0])
    return None


# ---------------------------------------------------------------- the true gradient


def _true_gradient(claim, seed: int) -> str:
    """The true gradient in the claim's names (derivative.py), simplified under the claim's assumptions
    where that reads back correctly; a text is shown only once the expression it parses to has the
    variable's shape and is shown equal to the truth (by the normal form, else by the exact stage)."""
    try:
        g = gradient(claim.f, claim.wrt)
    except (NotImplementedError, E.ShapeError):  # no rule for an operation: nothing rather than something unchecked
        return ""
    truth = E.Grad(claim.f, claim.wrt)
    scope = _scope(g, truth)
    texts = []
    for simplify in (True, False):
        try:
            texts.append(readable(g, simplify))
        except (ValueError, TypeError, AttributeError, NotImplementedError, E.ShapeError):
            continue
    texts.append(to_text(g))
    for text in dict.fromkeys(texts):
        e = _parsed(text, scope)
        if e is None or _shape(e) != _shape(claim.wrt):
            continue
        if _equal(e, truth, claim.relations, seed, "true gradient"):
            return text
    return ""


# ---------------------------------------------------------------- entry point


def _convention(claim, claimed, seed: int) -> Diagnosis | None:
    """A gradient w.r.t. a symmetric matrix, refuted entry by entry, that holds in a convention of
    conventions.py (the Matrix Cookbook's 2X⁻¹ − X⁻¹∘I for ln det X): the formula is right for what it
    means, and the claim has to say so."""
    if claim.kind != "gradient" or claim.convention or not isinstance(claim.wrt, E.Symbol) \
            or "symmetric" not in closure(claim.wrt.assume):
        return None
    for name, row in CONVENTIONS.items():
        if row.structured and _equal(claimed, row.truth(E.Grad(claim.f, claim.wrt)), claim.relations, seed,
                                     f"convention {name}"):
            return Diagnosis("convention", f"it holds in the {name!r} convention ({row.means}): "
                                           f"declare convention = \"{name}\"")
    return None


def diagnose(claim, seed: int = 0, broken_step: int | None = None) -> Diagnosis | None:
    """How a failing claim's claimed side relates to the truth, or None if no repair explains it."""
    pair = sides(claim, broken_step)
    if pair is None:
        return None
    c, t = pair
    if _shape(t) is None:
        return None
    scope = _scope(c, t)
    found, tried = _convention(claim, c, seed) if broken_step is None else None, set()
    for repair in _REPAIRS if found is None else ():
        for kind, text, candidate in repair(c, t):
            shown = _readback(candidate, scope)
            if shown is None or shown[0] in tried:
                continue
            tried.add(shown[0])
            if _equal(shown[1], t, claim.relations, seed, text):
                found = Diagnosis(kind, text, shown[0])
                break
        if found:
            break
    if found is None and _shape(c) == _shape(t):
        found = (_factor(c, t, claim.relations, seed) or _term_factor(c, t, claim.relations, seed)
                 or _assumption(c, t, claim.relations, seed))
    if found is None and _shape(c) is not None and _shape(c) != _shape(t):
        found = Diagnosis("shape", f"wrong shape: the claimed side is {E.fmt_shape(_shape(c))}, the true one "
                                   f"{E.fmt_shape(_shape(t))}, and no transpose, diagonal or index repair explains it")
    if claim.kind == "gradient" and broken_step is None and not claim.convention:  # the entrywise gradient
        truth = _true_gradient(claim, seed)
        if truth:
            if found is None:
                found = Diagnosis("true formula", "no simple repair explains it; the true gradient is given")
            found.truth = truth
    if found is not None:
        found.step = broken_step
    return found
