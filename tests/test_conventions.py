"""Derivatives w.r.t. a symmetric matrix: the declared conventions (conventions.py), the Matrix
Cookbook's worked example ln det X, and the claim files that declare them."""
import pytest

from derivcheck import det, dims, expr as E, eye, inv, log, matrix, trace
from derivcheck.check import check
from derivcheck.claims import gradient
from derivcheck.conventions import CONVENTIONS
from derivcheck.parse import load_toml
from derivcheck.verdict import HOLDS

(n,) = dims("n")
S = matrix("S", n, n, assume="spd")
M = matrix("M", n, n)
COOKBOOK = 2 * inv(S) - inv(S) * eye(n)


@pytest.mark.parametrize("convention, claimed, holds", [
    ("", inv(S), True),              # entry by entry: X⁻ᵀ = X⁻¹
    ("", COOKBOOK, False),           # the Cookbook's formula read entry by entry
    ("sym", inv(S), True),
    ("sym", COOKBOOK, False),
    ("cookbook", COOKBOOK, True),
    ("cookbook", inv(S), False),
])
def test_log_det_in_each_convention(convention, claimed, holds):
    res = check(gradient(f"logdet.{convention}", log(det(S)), S, claimed, convention=convention))
    assert (res.verdict.status in HOLDS) is holds and res.verdict.status in (*HOLDS, "refuted"), res.verdict.reason


def test_a_non_symmetric_truth_is_symmetrised_by_the_convention():
    """tr(MS): entrywise Mᵀ; sym(G) = (M + Mᵀ)/2; the Cookbook's M + Mᵀ − M∘I.  Mᵀ itself is not
    symmetric, so it holds only entry by entry."""
    f = trace(M @ S)
    assert check(gradient("e", f, S, M.T)).verdict.status in HOLDS
    assert check(gradient("s", f, S, (M + M.T) / 2, convention="sym")).verdict.status in HOLDS
    assert check(gradient("c", f, S, M + M.T - M * eye(n), convention="cookbook")).verdict.status in HOLDS
    wrong = check(gradient("w", f, S, M.T, convention="sym"))
    assert wrong.verdict.status == "refuted"
    # the diagnosis compares with the truth in the claim's convention: (M + Mᵀ)/2 is 2x nothing here,
    # and no entrywise "true gradient" is offered for a convention it does not follow
    assert wrong.verdict.diagnosis is None or not wrong.verdict.diagnosis.truth


def test_a_convention_needs_a_symmetric_wrt():
    res = check(gradient("g", trace(M @ M), M, 2 * M.T, convention="sym"))
    assert res.verdict.status == "ill_formed" and "symmetric" in res.verdict.reason
    res = check(gradient("g", trace(M @ S), S, M.T, convention="upper"))
    assert res.verdict.status == "ill_formed" and "unknown convention" in res.verdict.reason


def test_every_convention_has_a_meaning_and_the_default_changes_nothing():
    assert set(CONVENTIONS) == {"", "sym", "cookbook"} and all(c.means for c in CONVENTIONS.values())
    V = matrix("V", n, n)
    assert CONVENTIONS[""].direction(V) is V and CONVENTIONS[""].truth(V) is V


def test_claim_files_declare_the_convention(tmp_path):
    path = tmp_path / "sym.toml"
    path.write_text('dims = ["n"]\n[symbols]\nS = ["n", "n"]\n[assume]\nS = "spd"\n'
                    '[[claim]]\nid = "ok"\nkind = "gradient"\nf = "log(det(S))"\nwrt = "S"\n'
                    'claimed = "2 * inv(S) - inv(S) * eye(n)"\nconvention = "cookbook"\n'
                    '[[claim]]\nid = "bad"\nkind = "gradient"\nf = "log(det(S))"\nwrt = "S"\n'
                    'claimed = "inv(S)"\nconvention = "symmetric"\n')
    ok, bad = load_toml(path)
    assert ok.convention == "cookbook" and check(ok).verdict.status in HOLDS
    assert bad.error and "unknown convention 'symmetric'" in bad.error and ":19:" in bad.error


def test_the_cookbook_formula_read_entry_by_entry_is_diagnosed_as_a_missing_convention():
    res = check(gradient("logdet.literal", log(det(S)), S, COOKBOOK))
    assert res.verdict.status == "refuted"
    assert res.verdict.diagnosis.kind == "convention" and 'convention = "cookbook"' in res.verdict.diagnosis.text
    plain = check(gradient("trace.wrong", trace(M @ S), S, 3 * M))  # no convention makes 3M right
    assert plain.verdict.status == "refuted" and getattr(plain.verdict.diagnosis, "kind", None) != "convention"
