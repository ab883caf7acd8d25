"""Assumptions on symbols: what each one means, how its values are drawn, what the prover may use.

``ASSUMPTIONS`` is the table of assumptions, one row each: its meaning, what it
implies, the algebraic facts the normal form may use on its entries
(symbolic.py) and its strength (diagnoses try the weakest first).

``DOMAINS`` is the table of samplers.  Each row draws from the *whole*
intersection of a closed set of assumptions and adds nothing to it: a symbol
gets the row whose set is exactly the closure of its assumptions, and a
combination without a row is refused (ill_formed), never sampled from a
narrower domain.  "Whole" is meant as the exact stage needs it: an analytic
identity that holds on an open part of a connected domain holds on all of it,
so the continuous rows draw from an open, full-dimensional part of their
domain (soft rows from the interior of the simplex, say).  Discrete rows
(binary, one-hot, permutation) also list every configuration, so the exact
stage can enumerate them instead of hoping a random draw hits the rare
counterexample, and name their extreme configurations for when the count is
too large to enumerate.

Sizes: every dimension gets a distinct size (so a transpose cannot hide behind
a square shape), drawn so that the claim's dimension relations (``m > n``) hold.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

__all__ = ["ASSUMPTIONS", "DOMAINS", "Assumption", "Domain", "validate", "closure", "sampler_for", "facts_of",
           "by_strength", "size_assignments", "UnsatisfiableError"]


class UnsatisfiableError(ValueError):
    """The assumptions or relations cannot be met together."""


# ---------------------------------------------------------------- the assumptions

@dataclass(frozen=True)
class Assumption:
    """One assumption a claim file may put on a symbol.

    ``facts`` are what the normal form may use on single entries: ``idempotent``
    (x**k = x for an integer k >= 1, true of 0 and 1), ``rows_sum_to_one`` /
    ``columns_sum_to_one`` (Σ_q Y[p, q] = 1 / Σ_p Y[p, q] = 1) and ``symmetric``
    (X[p, q] = X[q, p])."""

    name: str
    means: str
    implies: frozenset = frozenset()
    facts: frozenset = frozenset()
    strength: int = 0  # diagnoses try the weakest (lowest) first


ASSUMPTIONS: dict[str, Assumption] = {a.name: a for a in [
    Assumption("positive", "every entry is > 0", strength=1),
    Assumption("probability", "every entry lies in the open interval (0, 1)", frozenset({"positive"}), strength=2),
    Assumption("rows_sum_to_one", "every row is a probability vector: entries >= 0 that sum to one",
               facts=frozenset({"rows_sum_to_one"}), strength=3),
    Assumption("binary", "every entry is 0 or 1", facts=frozenset({"idempotent"}), strength=4),
    Assumption("one_hot_rows", "every row has one entry 1 and the others 0",
               frozenset({"binary", "rows_sum_to_one"}), strength=5),
    Assumption("one_hot_columns", "every column has one entry 1 and the others 0 (one example per column)",
               frozenset({"binary"}), frozenset({"columns_sum_to_one"}), strength=5),
    Assumption("symmetric", "square, equal to its transpose", facts=frozenset({"symmetric"}), strength=1),
    Assumption("invertible", "square with a non-zero determinant", strength=1),
    Assumption("spd", "symmetric positive definite", frozenset({"symmetric", "invertible"}), strength=2),
]}

#: Conjunctions that are another assumption: binary rows that sum to one are one-hot rows; positive
#: entries of a row that sums to one lie in (0, 1) (a one-column row is the entry 1, a constant).
_JOINTLY: tuple[tuple[frozenset, str], ...] = (
    (frozenset({"binary", "rows_sum_to_one"}), "one_hot_rows"),
    (frozenset({"rows_sum_to_one", "positive"}), "probability"),
)


def closure(assume) -> frozenset:
    """The assumptions together with everything they imply."""
    out = set(assume)
    while True:
        more = {b for a in out for b in ASSUMPTIONS[a].implies}
        more |= {then for given, then in _JOINTLY if given <= out}
        if more <= out:
            return frozenset(out)
        out |= more


def facts_of(assume) -> frozenset:
    """The algebraic facts the prover may use on the entries of a symbol with these assumptions."""
    return frozenset().union(*(ASSUMPTIONS[a].facts for a in closure(assume)))


def by_strength() -> list[str]:
    """Assumption names, weakest first (the order diagnoses try them in)."""
    return sorted(ASSUMPTIONS, key=lambda a: (ASSUMPTIONS[a].strength, a))


# ---------------------------------------------------------------- continuous samplers


def _default(rng, r, c):
    return rng.standard_normal((r, c))


def _probability(rng, r, c):
    return rng.uniform(0.0, 1.0, size=(r, c)).clip(2.0**-20, 1 - 2.0**-20)


def _positive(rng, r, c):
    return np.exp(rng.normal(0.0, 1.0, size=(r, c)))  # log-normal: small and large values alike


def _soft_rows(rng, r, c):
    # Uniform on the simplex (Dirichlet(1)), rounded to multiples of 2**-20 so that the last column,
    # 1 - (sum of the others), is exact in float64 and each row sums to exactly one, also at 50 digits.
    # Entries are kept >= 2**-20 (the open interior) by resampling the rare row that rounds to 0.
    out = np.empty((r, c))
    for i in range(r):
        while True:
            w = rng.dirichlet(np.ones(c)) if c > 1 else np.ones(1)
            p = np.round(w * 2**20) / 2**20
            p[-1] = 1.0 - p[:-1].sum()
            if c == 1 or p.min() > 0:
                out[i] = p
                break
    return out


def _symmetric(rng, r, c):
    a = rng.standard_normal((r, c))
    return (a + a.T) / 2


def _symmetric_invertible(rng, r, c):
    # symmetric with both signs of eigenvalues; redrawn in the (measure-zero) singular case
    while True:
        s = _symmetric(rng, r, c)
        if abs(np.linalg.det(s)) > 1e-3:
            return s


def _spd(rng, r, c):
    a = rng.standard_normal((r, c))
    s = a @ a.T + 0.1 * np.eye(r)
    return (s + s.T) / 2  # exactly symmetric despite the product's rounding


def _invertible(rng, r, c):
    while True:
        a = rng.standard_normal((r, c))
        if abs(np.linalg.det(a)) > 1e-3:
            return a


# ---------------------------------------------------------------- discrete samplers
# Each gives: the number of configurations, all of them in order, and the extreme ones.


def _binary_draw(rng, r, c):
    return rng.integers(0, 2, size=(r, c)).astype(float)


def _binary_count(r, c):
    return 2 ** (r * c)


def _binary_all(r, c) -> Iterator[np.ndarray]:
    for bits in itertools.product((0.0, 1.0), repeat=r * c):
        yield np.array(bits).reshape(r, c)


def _binary_extremes(rng, r, c):
    one_each = np.zeros((r, c))
    one_each.flat[rng.integers(0, r * c)] = 1.0
    return [np.zeros((r, c)), np.ones((r, c)), one_each, 1.0 - one_each]


def _one_hot(r, c, picks) -> np.ndarray:
    out = np.zeros((r, c))
    out[np.arange(r), picks] = 1.0
    return out


def _one_hot_rows_draw(rng, r, c):
    return _one_hot(r, c, rng.integers(0, c, size=r))


def _one_hot_rows_all(r, c):
    for picks in itertools.product(range(c), repeat=r):
        yield _one_hot(r, c, list(picks))


def _one_hot_rows_extremes(rng, r, c):
    out = [_one_hot(r, c, [0] * r), _one_hot(r, c, [c - 1] * r), _one_hot(r, c, [i % c for i in range(r)]),
           _one_hot(r, c, rng.permutation(max(r, c))[:r] % c)]
    return out


def _transposed(fn):
    return lambda *args: fn(*args[:-2], args[-1], args[-2]).T.copy()


def _transposed_all(fn):
    return lambda r, c: (v.T.copy() for v in fn(c, r))


def _transposed_extremes(fn):
    return lambda rng, r, c: [v.T.copy() for v in fn(rng, c, r)]


def _symmetric_binary_draw(rng, r, c):
    upper = np.triu(rng.integers(0, 2, size=(r, r)).astype(float))
    return upper + np.triu(upper, 1).T


def _symmetric_binary_all(r, c):
    slots = [(i, j) for i in range(r) for j in range(i, r)]
    for bits in itertools.product((0.0, 1.0), repeat=len(slots)):
        out = np.zeros((r, r))
        for (i, j), bit in zip(slots, bits):
            out[i, j] = out[j, i] = bit
        yield out


def _symmetric_binary_extremes(rng, r, c):
    return [np.zeros((r, r)), np.ones((r, r)), np.eye(r), 1.0 - np.eye(r), _symmetric_binary_draw(rng, r, c)]


def _permutation_draw(rng, r, c):
    return np.eye(r)[rng.permutation(r)]


def _permutation_all(r, c):
    for perm in itertools.permutations(range(r)):
        yield np.eye(r)[list(perm)]


def _permutation_extremes(rng, r, c):
    return [np.eye(r), np.eye(r)[::-1].copy(), np.roll(np.eye(r), 1, axis=0)]


@dataclass(frozen=True)
class Domain:
    """A sampler: draws from the whole intersection of ``covers`` (a closed set of assumptions).

    Discrete domains also give ``count(r, c)`` configurations, ``every(r, c)`` listing them all and
    ``extremes(rng, r, c)``, the configurations a random draw would rarely hit (all zeros, all ones,
    the identity, ...), which are always among those checked when the count is too large."""

    name: str
    covers: frozenset
    draw: Callable[[np.random.Generator, int, int], np.ndarray]
    square: bool = False
    count: Callable[[int, int], int] | None = None
    every: Callable[[int, int], Iterator[np.ndarray]] | None = None
    extremes: Callable[[np.random.Generator, int, int], list] | None = None
    scalable: bool = False  # the domain is a cone: draws times any c > 0 stay in it (for far-out points)

    @property
    def discrete(self) -> bool:
        return self.count is not None


def _domain(name, assume, draw, **kw) -> Domain:
    return Domain(name, closure(assume), draw, **kw)


DOMAINS: list[Domain] = [
    _domain("default", (), _default, scalable=True),
    _domain("positive", ("positive",), _positive, scalable=True),
    _domain("probability", ("probability",), _probability),
    # the boundary of the simplex (zero entries) has measure zero: the interior decides analytic claims
    _domain("rows_sum_to_one", ("rows_sum_to_one",), _soft_rows),
    _domain("soft_rows", ("rows_sum_to_one", "probability"), _soft_rows),
    _domain("binary", ("binary",), _binary_draw, count=_binary_count, every=_binary_all, extremes=_binary_extremes),
    _domain("one_hot_rows", ("one_hot_rows",), _one_hot_rows_draw, count=lambda r, c: c ** r,
            every=_one_hot_rows_all, extremes=_one_hot_rows_extremes),
    _domain("one_hot_columns", ("one_hot_columns",), _transposed(_one_hot_rows_draw), count=lambda r, c: r ** c,
            every=_transposed_all(_one_hot_rows_all), extremes=_transposed_extremes(_one_hot_rows_extremes)),
    _domain("permutation", ("one_hot_rows", "one_hot_columns"), _permutation_draw, square=True,
            count=lambda r, c: math.factorial(r), every=_permutation_all, extremes=_permutation_extremes),
    _domain("symmetric_binary", ("symmetric", "binary"), _symmetric_binary_draw, square=True,
            count=lambda r, c: 2 ** (r * (r + 1) // 2), every=_symmetric_binary_all,
            extremes=_symmetric_binary_extremes),  # adjacency matrices of undirected graphs
    _domain("symmetric", ("symmetric",), _symmetric, square=True, scalable=True),
    _domain("invertible", ("invertible",), _invertible, square=True, scalable=True),
    _domain("symmetric_invertible", ("symmetric", "invertible"), _symmetric_invertible, square=True, scalable=True),
    _domain("spd", ("spd",), _spd, square=True, scalable=True),
]

_BY_COVER = {d.covers: d for d in DOMAINS}
assert len(_BY_COVER) == len(DOMAINS), "two samplers for the same assumptions"


def validate(name: str, assume) -> None:
    """Raise ValueError for an unknown assumption or a combination no sampler draws from."""
    unknown = [a for a in assume if a not in ASSUMPTIONS]
    if unknown:
        raise ValueError(f"unknown assumption {unknown[0]!r} on {name}; known: {', '.join(sorted(ASSUMPTIONS))}")
    sampler_for(name, frozenset(assume))


def sampler_for(name: str, assume: frozenset) -> Domain:
    """The sampler of exactly the closure of ``assume``; an error when no sampler draws from it
    (a narrower one would let a claim true only on the narrow domain pass)."""
    full = closure(assume)
    domain = _BY_COVER.get(full)
    if domain is None:
        raise UnsatisfiableError(f"{name}: no sampler draws from the intersection of "
                                 f"{', '.join(sorted(assume))} (derivcheck cannot check this combination)")
    return domain


# ---------------------------------------------------------------- sizes


def _compiled(names, relations):
    """One Python function testing every relation at a tuple of sizes (sympy's subs is far slower)."""
    if not relations:
        return lambda *sizes: True
    import sympy

    return sympy.lambdify(names, sympy.And(*relations), "math")


def size_assignments(dim_symbols, relations, pool, count: int, rng: np.random.Generator,
                     cost: Callable[[dict], int] | None = None) -> list[dict]:
    """Up to ``count`` different assignments of distinct sizes, from ``pool`` when the relations allow.

    The first uses the smallest sizes in name order where the relations allow; the others are random
    permutations, so a claim that only works for one ordering of the sizes is caught.  With ``cost``
    (say, the number of configurations of the discrete symbols) the cheapest assignments come first.
    Relations with constants beyond the pool (``m > 10``) widen it as far as they need."""
    names = sorted(dim_symbols, key=lambda s: s.name)
    if not names:
        return [{}]
    pool = list(pool)
    if len(names) > len(pool):
        pool += list(range(max(pool) + 1, max(pool) + 1 + len(names) - len(pool)))
    candidates = _candidates(names, relations, pool, max(count, 50) if cost else count)
    if not candidates:  # widen the pool for relations with large constants (m > 10, m >= n + 20)
        for top in (16, 32, 64, 128):
            wider = sorted(set(pool) | set(range(2, top + 1)))
            candidates = _candidates(names, relations, wider, max(count, 50) if cost else count)
            if candidates:
                candidates.sort(key=lambda s: sum(s.values()))
                break
    if not candidates:
        raise UnsatisfiableError("no sizes satisfy the relations " + ", ".join(map(str, relations))
                                 + " (sizes up to 128 tried; are they contradictory?)")
    if cost is not None:
        return _cheapest_spread(sorted(candidates, key=lambda s: (cost(s), sum(s.values()))), count)
    chosen = [candidates[0]]
    rest = candidates[1:]
    order = rng.permutation(len(rest)) if rest else []
    for i in order:
        if len(chosen) >= count:
            break
        chosen.append(rest[int(i)])
    return chosen


def _cheapest_spread(candidates: list[dict], count: int) -> list[dict]:
    """The cheapest assignment, then the cheapest that gives the most sizes a value not used yet: the
    cheapest two alone could both be n = 2, and a claim true only at n = 2 (1/2 for 1/n) would pass."""
    chosen = [candidates[0]]
    while len(chosen) < count and len(chosen) < len(candidates):
        used = {name: {c[name] for c in chosen} for name in chosen[0]}
        rest = [c for c in candidates if c not in chosen]
        chosen.append(max(rest, key=lambda c: sum(c[name] not in used[name] for name in c)))  # first of the best
    return chosen


def _candidates(names, relations, pool, want: int) -> list[dict]:
    # the smallest sizes first; the wider pool only if the relations leave too few
    holds = _compiled(names, relations)
    candidates = []
    for perm in itertools.islice(itertools.permutations(pool[: len(names)]), 5040):
        if holds(*perm):
            candidates.append(dict(zip(names, perm)))
    if len(candidates) < want:
        for combo in itertools.islice(itertools.permutations(pool, len(names)), 100000):
            sizes = dict(zip(names, combo))
            if holds(*combo) and sizes not in candidates:
                candidates.append(sizes)
                if len(candidates) >= max(want, 50):
                    break
    return candidates
