"""The corpus of issue 16 (examples/vocabulary_corpus.toml): Hessians, second differentials, max/min
layers, special-function losses, matrix functions, Kronecker/vec, symmetric derivatives and outer sums,
each true claim next to a realistic slip.  Every verdict must be the expected one: no claim is left
inconclusive or ill-formed for lack of vocabulary, no slip holds, no true claim is refuted."""
from collections import Counter
from pathlib import Path

import pytest

from derivcheck import check as check_module
from derivcheck.check import check_all
from derivcheck.parse import load_toml
from derivcheck.verdict import HOLDS

CORPUS = Path(__file__).resolve().parent.parent / "examples" / "vocabulary_corpus.toml"


@pytest.fixture(scope="module")
def results():
    # verdicts only: diagnoses (which retry repairs at concrete shapes, slow for matrix functions) have
    # their own tests, and never change a verdict
    saved = check_module._diagnosis
    check_module._diagnosis = lambda *args: None
    try:
        return check_all(load_toml(CORPUS), seed=0, jobs=2)
    finally:
        check_module._diagnosis = saved


def test_every_claim_has_an_expectation_and_both_kinds_of_claims_are_there():
    claims = load_toml(CORPUS)
    assert all(c.expect in ("holds", "fails") and not c.error for c in claims)
    kinds = Counter((c.kind, c.expect) for c in claims)
    for kind in ("hessian", "second_differential", "gradient", "identity", "directional"):
        assert kinds[(kind, "holds")] and kinds[(kind, "fails")], kind


def test_every_verdict_is_the_expected_one(results):
    wrong = [(r.id, r.verdict.status, r.verdict.reason) for r in results
             if r.verdict.status not in (*HOLDS, "refuted") or not r.ok]
    assert not wrong


def test_no_slip_holds_and_no_true_claim_is_refuted(results):
    false_holds = [r.id for r in results if r.expected == "fails" and r.verdict.status in HOLDS]
    false_refutes = [r.id for r in results if r.expected == "holds" and r.verdict.status == "refuted"]
    assert not false_holds and not false_refutes


def test_the_prover_reaches_second_derivatives_max_and_outer_sums(results):
    proved = {r.id for r in results if r.verdict.status == "proved"}
    for cid in ("hessian.logistic", "hessian.softmax_ce", "d2.tanh_squares", "max.crammer_singer",
                "max.dqn", "outer.rbf", "special.dirichlet", "sym.trace_product.cookbook"):
        assert cid in proved, cid
