"""The assumption table and its samplers: each draws from the whole intersection of its assumptions,
adds nothing to it, and discrete ones list every configuration."""
import mpmath
import numpy as np
import pytest

from derivcheck import dims, matrix
from derivcheck.assumptions import (ASSUMPTIONS, DOMAINS, UnsatisfiableError, by_strength, closure, facts_of,
                                    sampler_for, size_assignments)
from derivcheck.instances import draw

m, n, k = dims("m n k")


def _satisfies(v: np.ndarray, name: str) -> bool:
    """An independent statement of what each assumption means (README, "Assumptions")."""
    with mpmath.workdps(60):
        exact_row_sums = [mpmath.fsum(mpmath.mpf(x) for x in row) for row in v]
    is01 = set(np.unique(v)) <= {0.0, 1.0}
    square = v.shape[0] == v.shape[1]
    return {
        "binary": lambda: is01,
        "one_hot_rows": lambda: is01 and (v.sum(axis=1) == 1).all(),
        "one_hot_columns": lambda: is01 and (v.sum(axis=0) == 1).all(),
        "rows_sum_to_one": lambda: all(r == 1 for r in exact_row_sums) and (v >= 0).all(),
        "probability": lambda: ((v > 0) & (v < 1)).all(),
        "positive": lambda: (v > 0).all(),
        "symmetric": lambda: square and (v == v.T).all(),
        "spd": lambda: square and (v == v.T).all() and np.linalg.eigvalsh(v).min() > 0,
        "invertible": lambda: square and abs(np.linalg.det(v)) > 1e-9,
    }[name]()


def test_every_assumption_has_a_meaning_that_the_test_knows():
    assert set(ASSUMPTIONS) == {"binary", "one_hot_rows", "one_hot_columns", "rows_sum_to_one", "probability",
                                "positive", "symmetric", "spd", "invertible"}


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_every_draw_satisfies_every_assumption_the_sampler_covers(domain):
    rng = np.random.default_rng(0)
    for size in (2, 3, 5):
        for _ in range(20):
            v = domain.draw(rng, size, size)
            for a in domain.covers:
                assert _satisfies(v, a), (domain.name, a, v)


@pytest.mark.parametrize("domain", [d for d in DOMAINS if d.discrete], ids=lambda d: d.name)
def test_discrete_samplers_list_every_configuration_once(domain):
    rng = np.random.default_rng(1)
    for r, c in ((2, 2), (2, 3), (3, 2), (3, 3)):
        if domain.square and r != c:
            continue
        every = list(domain.every(r, c))
        assert len(every) == domain.count(r, c)
        assert len({v.tobytes() for v in every}) == len(every)
        for v in every + domain.extremes(rng, r, c):
            assert all(_satisfies(v, a) for a in domain.covers), (domain.name, v)


def test_soft_rows_are_soft_and_spread_over_the_open_interval():
    """rows_sum_to_one used to be sampled as one-hot rows (a tie in the sampler table): S * S = S passed."""
    for assume in ({"rows_sum_to_one"}, {"rows_sum_to_one", "probability"}, {"rows_sum_to_one", "positive"}):
        domain = sampler_for("S", frozenset(assume))
        assert not domain.discrete
        v = np.concatenate([domain.draw(np.random.default_rng(i), 4, 3) for i in range(50)])
        assert not set(np.unique(v)) <= {0.0, 1.0}
        assert 0 < v.min() < 0.05 and 0.9 < v.max() < 1


def test_binary_configurations_include_all_zeros_and_all_ones():
    domain = sampler_for("b", frozenset({"binary"}))
    every = [v for v in domain.every(3, 1)]
    assert any((v == 0).all() for v in every) and any((v == 1).all() for v in every)
    ext = domain.extremes(np.random.default_rng(0), 9, 9)
    assert any((v == 0).all() for v in ext) and any((v == 1).all() for v in ext)


def test_one_hot_extremes_include_a_permutation_and_a_single_column():
    domain = sampler_for("Y", frozenset({"one_hot_rows"}))
    ext = domain.extremes(np.random.default_rng(0), 9, 9)
    assert any(abs(np.linalg.det(v)) == 1 for v in ext)  # a permutation matrix is one-hot by rows
    assert any((v[:, 0] == 1).all() for v in ext)


def test_combinations_are_intersections_or_refused():
    assert sampler_for("Y", frozenset({"binary", "rows_sum_to_one"})).name == "one_hot_rows"
    assert sampler_for("P", frozenset({"one_hot_rows", "one_hot_columns"})).name == "permutation"
    assert sampler_for("S", frozenset({"symmetric", "invertible"})).name == "symmetric_invertible"
    assert sampler_for("S", frozenset({"spd", "symmetric"})).name == "spd"
    assert sampler_for("p", frozenset({"probability", "positive"})).name == "probability"
    assert sampler_for("A", frozenset({"symmetric", "binary"})).name == "symmetric_binary"
    assert sampler_for("X", frozenset()).name == "default"
    for impossible in ({"binary", "probability"}, {"positive", "symmetric"}, {"one_hot_rows", "probability"}):
        with pytest.raises(UnsatisfiableError, match="no sampler"):
            sampler_for("Z", frozenset(impossible))


def test_closure_and_facts():
    assert closure({"one_hot_rows"}) == {"one_hot_rows", "binary", "rows_sum_to_one"}
    assert facts_of({"one_hot_rows"}) == {"idempotent", "rows_sum_to_one"}
    assert facts_of({"one_hot_columns"}) == {"idempotent", "columns_sum_to_one"}
    assert facts_of({"spd"}) == {"symmetric"}
    assert facts_of({"probability"}) == frozenset()


def test_weakest_first():
    order = by_strength()
    assert order.index("rows_sum_to_one") < order.index("one_hot_rows")
    assert order.index("positive") < order.index("probability")
    assert order.index("binary") < order.index("one_hot_columns")


def test_unconstrained_symbols_get_continuous_values():
    X = matrix("X", m, n)
    env = draw([X], {m: 4, n: 3}, np.random.default_rng(0))
    assert len(np.unique(env.values["X"])) == 12


def test_size_assignments_are_distinct_and_respect_relations():
    rng = np.random.default_rng(0)
    got = size_assignments({m, n, k}, [m > n + 1], (2, 3, 4, 5), 3, rng)
    assert len(got) == 3 and len({tuple(sorted(s.items(), key=str)) for s in got}) == 3
    for s in got:
        assert len(set(s.values())) == 3 and s[m] > s[n] + 1


def test_relations_beyond_the_pool_widen_it():
    """`m > 10` made every claim inconclusive: no size in the pool satisfied it."""
    got = size_assignments({m, n}, [m > 10], (2, 3, 4, 5, 6, 7), 2, np.random.default_rng(0))
    assert len(got) == 2 and all(s[m] > 10 for s in got)


def test_contradictory_relations_are_named():
    with pytest.raises(UnsatisfiableError, match="m > n"):
        size_assignments({m, n}, [m > n, n > m], (2, 3, 4), 2, np.random.default_rng(0))


def test_cost_orders_the_assignments():
    got = size_assignments({m, n}, [], (2, 3, 4, 5), 2, np.random.default_rng(0), cost=lambda s: s[m] ** s[n])
    assert [s[m] ** s[n] for s in got] == sorted(s[m] ** s[n] for s in got)
    assert got[0] == {m: 2, n: 3}  # 2**3 = 8 configurations before 3**2 = 9


def test_cheap_assignments_still_give_every_size_two_values():
    """A one-hot row of length n has n configurations, so the cheapest two assignments were
    {m: 3, n: 2} and {m: 4, n: 2}: a claim true only at n = 2 passed the exact stage."""
    got = size_assignments({m, n}, [], (2, 3, 4, 5), 2, np.random.default_rng(0), cost=lambda s: s[n])
    assert got[0][n] == 2
    assert {s[n] for s in got} != {2} and len({s[m] for s in got}) == 2
