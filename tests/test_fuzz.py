"""Differential fuzzing, quick profile: derivcheck's stages against an independent reference.

The generator, the reference and the oracle are in tests/fuzzing/ (the long
campaign is benchmarks/fuzz.py).  Everything here is derandomized, so CI
sees the same claims every run; the whole file takes well under a minute.
"""
import time
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import derivcheck as dc
import sympy
from derivcheck import expr as E
from derivcheck import det, dims, grad, gradient, identity, matrix, ones, softmax, trace
from derivcheck.claims import Claim
from derivcheck.parse import parse_expression
from derivcheck.printing import to_text

from fuzzing import reference
from fuzzing.cases import Case, cases
from fuzzing.expressions import Ctx, pair
from fuzzing.oracle import examine
from fuzzing.reproduce import load, scope_of, to_toml

REGRESSIONS = Path(__file__).parent / "fuzzing" / "regressions"
QUICK = settings(derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.filter_too_much])

m, n = dims("m n")
g, g_prime = dc.elementwise("g")


def decide(claim, seed=0):
    return reference.decide(claim, np.random.default_rng(seed))


# ---------------------------------------------------------------- the reference itself

def test_reference_refutes_the_four_false_holds_of_issue_10():
    S = matrix("S", m, n, assume="rows_sum_to_one")
    b = matrix("b", m, 1, assume="binary")
    Y = matrix("Y", 3, 3, assume="one_hot_rows")
    X = matrix("X", m, n)
    false = [identity("soft rows", S * S, S), identity("count", (b.T @ ones(m, 1)) ** 2, b.T @ ones(m, 1)),
             identity("permutation", det(Y), 0), identity("tiny", X + 1e-40, X),
             identity("power in a sum", dc.sum(X) ** 2, dc.sum(X * X)),
             identity("power in a trace", trace(X.T @ X) ** 2, dc.sum((X * X) ** 2))]
    for claim in false:
        truth = decide(claim)
        assert not truth.holds, claim.id
    # the counterexamples are the rare configurations: a permutation, two ones, a soft row
    assert abs(np.linalg.det(np.array(decide(false[2]).values["Y"], dtype=float))) == 1
    assert sum(int(x) for x in np.array(decide(false[1]).values["b"], dtype=float).ravel()) >= 2


def test_reference_holds_true_claims_exactly_despite_cancellation():
    X, A = matrix("X", m, n), matrix("A", n, m)
    b = matrix("b", m, 1, assume="binary")
    S = matrix("S", m, n, assume="rows_sum_to_one")
    true = [identity("cancel", (X + 1e20) - 1e20, X), identity("decimals", 0.1 * X + 0.2 * X, 0.3 * X),
            identity("cyclic", trace(A @ X), trace(X @ A)), identity("binary square", b * b, b),
            identity("binary gram", b.T @ b, dc.sum(b)), identity("rows", S @ ones(n, 1), ones(m, 1)),
            gradient("zero gradient", dc.sum(softmax(X)) / m, X, 0 * X),  # computed as round-off, decided as zero
            gradient("any g", dc.sum(g(X)), X, g_prime(X)), identity("g commutes with .T", g(X).T, g(X.T))]
    for claim in true:
        assert decide(claim).holds, claim.id
    for claim in (identity("one g", g(X), dc.sin(X)), identity("g is odd", g(-X), -g(X)),
                  gradient("g is its own derivative", dc.sum(g(X)), X, g(X))):
        assert not decide(claim).holds, claim.id  # true for some g is not true for any g


def test_reference_leaves_differences_beyond_its_precision_undecided():
    """sigmoid'(z) = s (1 - s) is true, but at z ~ 1e40 the right side is 0 at any feasible precision
    and the left e^(-1e40): the reference must not call the claim false (it did, and so blamed the
    prover and the gradient writer for a correct proof)."""
    A = matrix("A", 2, 3)
    Z = dc.define("Z", 1e40 * A / (A * A + 0.5))
    claim = gradient("saturated", dc.sum(dc.sigmoid(Z)), Z, dc.sigmoid(Z) * (1 - dc.sigmoid(Z)))
    with pytest.raises(reference.Undecided):
        decide(claim)
    Z2 = dc.define("Z2", 1e4 * A)  # agreement beyond the reach still counts: the zero gradient is zero
    assert decide(gradient("zero", dc.sum(softmax(Z2)), Z2, 0 * Z2)).holds


def test_reference_enumerates_discrete_domains_exhaustively():
    counts = {("binary",): 2 ** 6, ("one_hot_rows",): 3 ** 2, ("one_hot_columns",): 2 ** 3,
              ("binary", "rows_sum_to_one"): 3 ** 2}
    for assume, count in counts.items():
        names, configs, total = reference.configurations({"Y": matrix("Y", m, n, assume=list(assume))},
                                                         {"m": 2, "n": 3})
        values = {tuple(np.array(c[0], dtype=float).ravel()) for c in configs}
        assert total == count == len(values), assume
    names, configs, total = reference.configurations(
        {"P": _symbol("P", 3, 3, "one_hot_rows", "one_hot_columns")}, {})
    assert total == 6 and all(abs(np.linalg.det(np.array(c[0], dtype=float))) == 1 for c in configs)


def _symbol(name, r, c, *assume):
    from derivcheck import expr as E
    return E.Symbol(name, r, c, frozenset(assume))  # a combination the checker may not sample yet


def test_empty_domains_must_be_ill_formed():
    """0/1 entries in the open interval (0, 1), or a non-square symmetric matrix: no value satisfies
    them, so the claim is ill_formed; the oracle reports any other verdict."""
    for assume, shape in ((("binary", "probability"), (m, n)), (("spd",), (m, n)), (("symmetric",), (m, 2))):
        X = _symbol("X", *shape, *assume)
        with pytest.raises(reference.Unsatisfiable):
            decide(identity("empty", X * X, X))
        out = examine(Case(identity("empty", X * X, X), True, (), None))
        assert out.verdicts == {"full": "ill_formed", "concrete": "ill_formed"} and not out.findings


def test_reference_soft_rows_sum_to_exactly_one_and_are_not_one_hot():
    draw = reference.domain_of({"rows_sum_to_one"}).draw
    rng = np.random.default_rng(1)
    rows = [draw(rng, 4, 3) for _ in range(5)]
    for p in rows:
        for row in p:
            assert sum(row) == 1 and all(x >= 0 for x in row)
    assert any(0 < x < 1 for p in rows for x in p.ravel())


def test_reference_derivative_is_accurate_to_far_below_the_zero_threshold():
    x = matrix("x", 1, 1)
    with mpmath.workdps(reference.DIGITS):
        point = mpmath.mpf(3) / 7
        pt = reference.Point({}, {"x": np.array([[point]], dtype=object)})
        got = reference.evaluate(grad(x ** 3, x), pt)[0, 0]
        assert abs(got - 3 * point ** 2) < mpmath.mpf(10) ** -(reference.DIGITS - 5)


# ---------------------------------------------------------------- the generator, the printer, the reproducers

@settings(QUICK, max_examples=40)
@given(cases(mutate_percent=0))
def test_claims_true_by_construction_hold_per_the_reference(case):
    """The generator's rewrites and the reference agree (either being wrong would show here)."""
    try:
        truth = decide(case.claim)
    except reference.Undecided:
        return
    assert truth.holds, to_toml(case.claim, comment=f"rules: {case.rules}\n{truth.where}")


@st.composite
def expressions(draw):
    ctx = Ctx(draw)
    return pair(ctx, (ctx.dim(allow_one=True), ctx.dim(allow_one=True)), 3)[0]


@settings(QUICK, max_examples=60)
@given(expressions())
def test_printed_expressions_parse_back_to_the_same_function(e):
    """The printer writes reproducers and the diagnoses' corrected formulas: what it prints must
    mean what was printed (it wrote x**(1/2) as x**1/2, which parses as x/2)."""
    claim = identity("round trip", e, e)
    back = parse_expression(to_text(e), scope_of(claim))
    assert to_text(parse_expression(to_text(back), scope_of(claim))) == to_text(back)
    try:
        assert decide(identity("round trip", e, back)).holds, to_text(e)
    except reference.Undecided:
        pass


def test_rational_constants_print_with_their_brackets():
    x = matrix("x", 2, 2, assume="positive")
    scope = scope_of(identity("x", x, x))
    for e in (x ** 0.5, x / 0.5, x ** -0.5, 0.5 * x, x * 0.5, x + E.Transpose(E.Scalar(sympy.Integer(2)))):
        back = parse_expression(to_text(e), scope)
        assert decide(identity("printed", e, back)).holds, to_text(e)


@settings(QUICK, max_examples=15)
@given(cases())
def test_reproducers_load_back_as_the_same_claim(case):
    """A reproducer is the claim: loading it gives a claim the reference decides the same way,
    whose own reproducer is the same text."""
    text = to_toml(case.claim, expect="holds", note="a note")
    try:
        (claim,) = load(text)
    except Exception as exc:  # a combination of assumptions the loader refuses is its message, not a crash
        assert "assumption" in str(exc) or "sampler" in str(exc), text
        return
    assert claim.error is None, claim.error
    again = to_toml(claim, expect="holds", note="a note")
    assert to_toml(load(again)[0], expect="holds", note="a note") == again
    try:
        assert decide(claim).holds == decide(case.claim).holds, text
    except reference.Undecided:
        pass


# ---------------------------------------------------------------- the quick profile

@settings(QUICK, max_examples=150, phases=[Phase.explicit, Phase.generate])  # the campaign shrinks; CI reports
@given(cases(depth=2))
def test_quick_profile_every_stage_agrees_with_the_reference(case):
    """Verdicts with and without the proof, the prover alone, the diagnoses' corrected formulas,
    added assumptions and true gradients, and the gradient writer."""
    out = examine(case, seconds=10.0)
    assert not out.findings, out.reproducer()


# ---------------------------------------------------------------- every disagreement ever found, pinned

def _regressions():
    for path in sorted(REGRESSIONS.glob("*.toml")):
        for claim in load(path.read_text(encoding="utf-8")):
            yield pytest.param(claim, id=f"{path.stem}:{claim.id}")


@pytest.mark.parametrize("claim", list(_regressions()))
def test_pinned_disagreements_stay_fixed(claim: Claim):
    out = examine(Case(claim, claim.expect == "holds", ("pinned",), None), seconds=10.0)
    assert out.truth is not None, out.undecided
    assert out.truth == (claim.expect == "holds"), "the pinned expectation disagrees with the reference"
    assert not out.findings, out.reproducer()


def test_the_reference_sees_a_real_negative_eigenvalue_through_round_off():
    """mpmath.eig leaves -0.167 with an imaginary part of round-off; the reference took it as complex,
    computed a non-principal square root and called sqrtm(A)² = A false (see the pinned
    sqrtm-real-eigenvalue.toml)."""
    a = np.array([[0.5790843963623047, 2.6915159225463867, -0.8745079040527344],
                  [-0.8698892593383789, -0.0069980621337890625, -0.545567512512207],
                  [1.3935298919677734, -0.8839139938354492, 1.0045766830444336]])
    with mpmath.workdps(200):
        with pytest.raises(reference.OutsideDomain):
            reference._matrix_function("sqrtm", np.vectorize(mpmath.mpf, otypes=[object])(a))


def test_a_reference_that_runs_on_is_bounded(monkeypatch):
    """The final campaign stalled: the reference computed e to millions of bits for exp of a huge
    argument, with no time limit, in a worker the campaign waited for."""
    from fuzzing import oracle

    def spin(*args, **kwargs):
        end = time.monotonic() + 3
        while time.monotonic() < end:
            pass
        raise reference.Undecided("ran 3 s unbounded")

    monkeypatch.setattr(oracle, "REFERENCE_SECONDS", 0.2)
    monkeypatch.setattr(reference, "decide", spin)
    X = matrix("X", m, m)
    out = examine(Case(identity("c", X + X, 2 * X), True, ("pinned",), None), seconds=5.0)
    assert out.truth is None and "took more than" in out.undecided


def test_the_reference_does_not_call_a_saturated_normal_cdf_false(tmp_path):
    """Final campaign: Φ(1e20 · n · softmax(a)) is 1 at any precision, so the reference's difference
    quotient was 0 against φ's 10^(-2e39) and this true Jacobian (the chain rule) was called false,
    derivcheck's proof a FALSE HOLD.  erf and Φ now saturate like sigmoid: the reference is undecided."""
    text = ('dims = ["n"]\n[symbols]\na = [1, 2]\n[[claim]]\nid = "c"\nkind = "jacobian"\n'
            'f = "normal_cdf(100000000000000000000 * (n * softmax(a)))"\nwrt = "a"\n'
            'claimed = "diag(normal_pdf(softmax(a) * n * 100000000000000000000)) @ (100000000000000000000 * '
            'eye(2) @ (n * eye(2) @ (diag(softmax(a)) - softmax(a).T @ softmax(a))))"\n')
    claim = load(text)[0]
    try:
        assert reference.decide(claim, np.random.default_rng(0)).holds
    except reference.Undecided as exc:
        assert "saturates" in str(exc)
