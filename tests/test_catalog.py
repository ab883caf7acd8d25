"""The catalog: every claim's verdict is pinned, so a change of verdict fails CI.

A change here is a change of what derivcheck says about a document: update
the table only after re-reading the passage and the claim's note.
"""
from pathlib import Path

import pytest

from derivcheck.catalog import load_paths
from derivcheck.check import check_all

ROOT = Path(__file__).resolve().parent.parent

PINNED = {
    "ffnn.relu_example.z1_positive": "confirmed",
    "ffnn.relu_example.y_positive": "confirmed",
    "ffnn.relu_example.y_negative": "confirmed",
    "ffnn.relu_prime": "proved",
    "ffnn.sigmoid_prime": "proved_at_shapes",
    "ffnn.linear_prime": "proved",
    "ffnn.rss_prime": "proved",
    "ffnn.rss_prime.loss_vector": "ill_formed",
    "ffnn.log_prime": "proved",
    "ffnn.log_prime.loss_vector": "ill_formed",
    "ffnn.dz_dh.relu": "proved",
    "ffnn.dz_dh.sigmoid": "proved",
    "ffnn.dz_dh.linear": "proved",
    "ffnn.dh_dc": "proved",
    "ffnn.dh_dW": "proved",
    "ffnn.dh_dz": "proved",
    "ffnn.chain.c_L": "proved",
    "ffnn.chain.c_L-1": "proved",
    "ffnn.chain.nabla_h": "proved",
    "ffnn.s2_3.dW2": "ill_formed",
    "ffnn.s2_3.dW2.transposed": "refuted",
    "ffnn.s2_3.dW2.corrected": "proved",
    "ffnn.s2_3.dc2.middle": "refuted",
    "ffnn.s2_3.dc2": "ill_formed",
    "ffnn.s2_3.dc2.as_column": "refuted",
    "ffnn.s2_3.dc2.corrected": "proved",
    "ffnn.s3.H_L_without_c": "refuted",
    "ffnn.s3.H_L_entry": "refuted",
    "ffnn.s3.sum_of_observations": "proved",
    "ffnn.s3.dH_L": "proved",
    "ffnn.s3.dc_L": "proved",
    "ffnn.s3.dc.literal_c1": "ill_formed",
    "ffnn.s3.dW_L": "proved",
    "ffnn.s3.dZ_L-1": "proved",
    "ffnn.batch.log.W2": "proved",
    "ffnn.batch.log.c2": "proved",
    "ffnn.batch.log.W1": "proved",
    "ffnn.batch.log.c1": "proved",
    "ffnn.batch.rss.W2": "proved",
    "ffnn.batch.rss.c2": "proved",
    "ffnn.batch.rss.W1": "proved",
    "ffnn.batch.rss.c1": "proved",
    "mdl.s2_1_2.column_equals_row": "ill_formed",
    "mdl.s2_1_4.dot.index": "proved",
    "mdl.s2_1_4.dot.matrix": "proved",
    "mdl.s3_1_2.false_negative.rotates_towards": "proved",
    "mdl.s3_1_2.false_positive.rotates_away": "proved",
    "mdl.s3_1_3.rule.case1": "confirmed",
    "mdl.s3_1_3.rule.case2": "confirmed",
    "mdl.s3_1_3.rule.case2_y_minus_one": "refuted",
    "mdl.s4_1_1_1.linear_collapse": "proved",
    "mdl.s4_3_1.z": "confirmed",
    "mdl.s4_3_1.L": "confirmed",
    "mdl.s4_3_1.E": "confirmed",
    "mdl.s4_3_4.chain": "proved",
    "mdl.s4_3_4.dL_dz": "proved",
    "mdl.s4_3_4.dL_dz.value": "confirmed",
    "mdl.s4_3_4.dz_dw1": "proved",
    "mdl.s4_3_4.dz_dw1.value": "confirmed",
    "mdl.s4_3_4.dL_dw1.value": "confirmed",
    "mdl.s4_3_4.nudge_w1": "confirmed",
    "mdl.s4_3_4.dL_dw2": "proved",
    "mdl.s4_3_4.dL_dw2.value": "confirmed",
    "mdl.s4_3_4.nudge_w2": "confirmed",
    "mdl.s4_3_5.w1_new": "confirmed",
    "mdl.s4_3_5.w2_new": "confirmed",
    "mdl.s4_3_6.z_new": "confirmed",
    "mdl.s4_3_6.L_new": "confirmed",
    "mdl.s4_3_6.error_before": "confirmed",
    "mdl.s4_3_6.error_after": "confirmed",
    "mdl.s4_3_6.smaller_rate.w1": "confirmed",
    "mdl.s4_3_6.smaller_rate.w2": "confirmed",
    "mdl.s4_3_6.smaller_rate.z": "confirmed",
    "mdl.s4_3_6.smaller_rate.L": "confirmed",
    "mdl.s4_4.chain.w2": "proved",
    "mdl.s4_4.dC_da2": "proved",
    "mdl.s4_4.da2_dz2": "proved",
    "mdl.s4_4.dz2_dw2": "proved",
    "mdl.s4_4.dC_dw2": "proved",
    "mdl.s4_4.dC_dw2.delta": "proved",
    "mdl.s4_4.dC_db2": "proved",
    "mdl.s4_4.chain.w1": "proved",
    "mdl.s4_4.dz2_da1": "proved",
    "mdl.s4_4.da1_dz1": "proved",
    "mdl.s4_4.dz1_dw1": "proved",
    "mdl.s4_4.dC_dw1": "proved",
    "mdl.s4_4.dC_dw1.delta": "proved",
    "mdl.s4_4.dC_db1": "proved",
    "mdl.s5_3.chain.W3": "proved",
    "mdl.s5_3.chain.W2": "proved",
    "mdl.s5_3.chain.W1": "proved",
    "mdl.s5_3_1.dC_da3.literal_loss": "ill_formed",
    "mdl.s5_3_1.dC_da3": "proved",
    "mdl.s5_3_1.da3_dz3": "ill_formed",
    "mdl.s5_3_1.dz3_dW3": "ill_formed",
    "mdl.s5_3_1.delta3": "proved",
    "mdl.s5_3_1.jacobian_diag": "proved",
    "mdl.s5_3_1.diag_is_hadamard": "proved",
    "mdl.s5_3_1.dC_dW3": "proved",
    "mdl.s5_3_1.dC_da.transpose": "proved",
    "mdl.s5_3_1.dC_dW2.chain": "proved",
    "mdl.s5_3_1.delta2.chain": "ill_formed",
    "mdl.s5_3_1.delta2.chain.rows": "proved",
    "mdl.s5_3_1.dz3_dz2": "ill_formed",
    "mdl.s5_3_1.dz3_dz2.diag": "proved",
    "mdl.s5_3_1.delta2": "proved",
    "mdl.s5_3_1.dC_dW2": "proved",
    "mdl.s5_3_1.delta1": "proved",
    "mdl.s5_3_1.dC_dW1": "proved",
    "mdl.s5_3_1.dC_db3": "proved",
    "mdl.s5_3_1.dC_db2": "proved",
    "mdl.s5_3_1.dC_db1": "proved",
    "mdl.s6_4_1.delta_L": "proved",
    "mdl.s6_4_1.recurrence.l2": "proved",
    "mdl.s6_4_1.recurrence.l1": "proved",
    "mdl.s6_4_1.dW.l3": "proved",
    "mdl.s6_4_1.dW.l2": "proved",
    "mdl.s6_4_1.dW.l1": "proved",
    "mdl.s6_3_2.C.sum_of_squares": "proved",
    "mdl.s6_3_2.dC_da2": "proved",
    "mdl.s6_3_2.da2_dz2": "ill_formed",
    "mdl.s6_3_2.delta2.hadamard_chain": "ill_formed",
    "mdl.s6_3_2.delta2.hadamard_chain.diagonal": "proved",
    "mdl.s6_3_2.jacobian_diag": "proved",
    "mdl.s6_3_2.delta2": "proved",
    "mdl.s6_3_2.z2_without_bias": "refuted",
    "mdl.s6_3_2.eq3": "proved",
    "mdl.s6_4.dC_dW1": "proved",
    "mdl.s6_4.delta1": "proved",
    "mdl.s6_4.eq5": "proved",
    "mdl.s6_4.eq5.hadamard_first": "ill_formed",
    "mdl.s6_4.dC_db2": "proved",
    "mdl.s6_4.dC_db1": "proved",
    "mdl.s6_4_2.delta2": "proved",
    "mdl.s6_4_2.dC_dw2": "proved",
    "mdl.s6_4_2.delta1": "proved",
    "mdl.s6_4_2.dC_dw1": "proved",
    "mdl.s7_1.softmax.index": "proved_at_shapes",
    "mdl.s7_1.softmax.sums_to_one": "proved",
    "mdl.s7_1_1.dL_dz.derivation": "ill_formed",
    "mdl.s7_1_1.dL_dz.from_renamed": "proved",
    "mdl.s7_1_1.dp_dz.literal": "ill_formed",
    "mdl.s7_1_1.dp_dz": "proved",
    "mdl.s7_1_1.EqA1_1": "proved",
    "mdl.s7_1_1.dz_dW": "proved",
    "mdl.s7_1_1.EqA1": "proved",
    "mdl.s7_3.chain": "ill_formed",
    "mdl.s7_3.chain.rows": "proved",
    "mdl.s7_3.dz_da": "proved",
    "mdl.s7_3.da_dz": "ill_formed",
    "mdl.s7_3.EqA2_1": "proved",
    "mdl.s7_3.dz_dW": "proved",
    "mdl.s7_3.EqA2": "proved",
    "mdl.s7_3.EqA2.unbracketed": "proved",
    "mdl.s7.dL_db_l": "proved",
    "mdl.s7.dL_db_lm1": "proved",
    "mdl.s7.batch.dW_l": "proved",
    "mdl.s7.batch.db_l": "proved",
    "mdl.s7.batch.dW_lm1": "proved",
    "mdl.s7.batch.db_lm1": "proved",
    "mdl.s8.delta2": "proved",
    "mdl.s8.eq3": "ill_formed",
    "mdl.s8.eq5": "ill_formed",
    "mdl.s8.eq5.corrected": "proved",
    "mdl.s8.eq3.column_reading": "proved",
    "mdl.s8_1.dC_dw2": "proved",
    "mdl.s8_1.dC_dw1": "proved",
    "mdl.s8_1.comment_eq_A": "ill_formed",
    "mdl.s8_1.comment_eq_B": "ill_formed",
    "mdl.s8_1.initial_output": "confirmed",
    "mdl.s8_1.new_output": "confirmed",
    "mdl.s8_1.output_after_training": "confirmed",
    "mdl.s8_1.test_input_gives_one": "confirmed",
    "mdl.s8_1.learns_y": "confirmed",
    "mdl.s8_1.closing_sentence": "refuted",
    "mdl.s6_4_2.code": "confirmed",
    "mdl.s6_4_2.code.einsum": "confirmed",
    "mdl.s8_1.code": "confirmed",
    "mdl.s8_1.code.comment_eq_A": "ill_formed",
    "fw.rule.right_multiplication": "proved",
    "fw.rule.left_multiplication": "proved",
    "fw.rule.elementwise": "proved",
    "fw.rule.addition": "proved",
    "fw.rule.frobenius": "proved",
    "fw.mse.vectorized": "proved",
    "fw.dA_L.derivation": "proved",
    "fw.dA_L": "proved",
    "fw.dZ_L.derivation": "proved",
    "fw.dW_L.chain": "proved",
    "fw.dW_L.literal": "ill_formed",
    "fw.dW_L.intended": "proved",
    "fw.layer1.dA": "proved",
    "fw.layer1.dZ": "proved",
    "fw.layer1.dW": "proved",
    "fw.layer2.dA": "proved",
    "fw.layer2.dZ": "proved",
    "fw.layer2.dW": "proved",
    "fw.backprop.W3": "proved",
    "fw.backprop.W2": "proved",
    "fw.backprop.W1": "proved",
    "sg.s3.dZ_dX": "proved",
    "sg.s3.dZ_dY": "proved",
    "sg.s3.dL_dX": "proved",
    "sg.s3.dL_dY": "proved",
    "sg.s3.dL_db": "proved",
    "sg.softmax_ce.dZ_case.j_ne_ck": "refuted",
    "sg.softmax_ce.dZ_case.j_eq_ck": "refuted",
    "sg.softmax_ce.loss_forms": "proved_at_shapes",
    "sg.softmax_ce.loss_forms.soft_labels": "refuted",
    "sg.softmax_ce.dW_chain": "proved",
    "sg.softmax_ce.dZ_cases": "proved",
    "sg.softmax_ce.dZ": "proved",
    "sg.softmax_ce.dW": "proved",
    "sg.softmax_ce.dZ.literal_loss": "ill_formed",
    "sg.softmax_ce.dZ.soft_labels": "refuted",
    "sg.softmax_ce.dZ.rows_sum_to_one": "proved",
    "sg.two_layer.dW1_chain": "proved",
    "sg.two_layer.dH1_dA1": "proved",
    "sg.two_layer.dA1": "proved",
    "sg.two_layer.dH1_chain": "proved",
    "sg.two_layer.dA2": "proved",
    "sg.two_layer.dA2.literal_loss": "ill_formed",
    "sg.two_layer.dH1": "proved",
    "sg.two_layer.dW1.literal": "ill_formed",
    "sg.two_layer.dW1.intended": "proved",
    "sg.two_layer.dW1": "proved",
    "sg.two_layer.dW2": "proved",
    "sg.two_layer.db2": "proved",
    "sg.two_layer.db1": "proved",
    "ng.inner.move_right": "proved",
    "ng.inner.move_left": "proved",
    "ng.inner.rmk_right": "proved",
    "ng.inner.rmk_left": "proved",
    "ng.inner.hadamard": "proved",
    "ng.inner.move_right_wrong_transpose": "refuted",
    "ng.dA2_dZ2": "refuted",
    "ng.dA2_dZ2.corrected": "proved",
    "ng.dL_dZ2": "refuted",
    "ng.grad_Z2": "proved",
    "ng.grad_Z2.wrong_sign": "refuted",
    "ng.dL_dZ2.derivation": "refuted",
    "ng.dL_dW1": "refuted",
    "ng.grad_W1": "refuted",
    "ng.grad_W1.corrected": "proved",
    "ng.grad_W1.tanh": "proved",
    "ng.xi_differential": "proved",
    "ng.dZ1_dW1": "proved",
    "ng.dZ2_dA1": "proved",
    "ng.dA1_dZ1": "proved",
    "ng.sigmoid_prime": "refuted",
    "ng.sigmoid_prime.algebra": "proved_at_shapes",
    "ng.dL_dA2": "proved",
    "ng.dL_dW1.inner_product_steps": "proved",
    "ng.backprop.W2": "proved",
    "ng.backprop.b2": "proved",
    "ng.backprop.A1": "proved",
    "ng.backprop.Z1": "proved",
    "ng.backprop.W1": "proved",
    "ng.backprop.b1": "proved",
    "ng.backprop.W2.transposed": "ill_formed",
}


@pytest.fixture(scope="module")
def results():
    claims = load_paths([ROOT / "identities"])
    return {r.id: r for r in check_all(claims, seed=0, jobs=2)}


def test_every_catalog_claim_is_pinned(results):
    assert set(results) == set(PINNED)


@pytest.mark.parametrize("claim_id", sorted(PINNED))
def test_catalog_verdict(results, claim_id):
    r = results[claim_id]
    assert r.verdict.status == PINNED[claim_id], r.verdict.reason
    assert r.expected is not None, "every catalog claim states what the checker concluded"
    assert r.ok
    if r.verdict.status in ("refuted", "ill_formed"):
        assert r.note, "a claim that fails explains what is wrong"


def test_coverage_table_names_every_claim():
    """identities/README.md lists each claim against its section, and names no claim that does not exist."""
    import re
    table = (ROOT / "identities" / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:ng|fw|sg|ffnn|mdl)\.[^`*\s]+)`", table))
    assert sorted(set(PINNED) - named) == []
    assert sorted(named - set(PINNED)) == []


DOCUMENTS = {"ng_two_layer_differentials", "matrix_calculus_framework_mse", "matrix_calculus_survival_guide",
             "maths_of_deep_learning", "ffnn_backprop_chapter"}


def test_catalog_covers_the_five_documents():
    """Each document in ../shared/sources has a module, and each module encodes lines of its document."""
    claims = load_paths([ROOT / "identities"])
    sources = {p.stem for p in (ROOT.parent / "shared" / "sources").glob("*.txt")} or DOCUMENTS
    assert {c.document for c in claims} == DOCUMENTS == sources
    for doc in DOCUMENTS:
        own = [c for c in claims if c.document == doc and c.source.startswith(doc)]
        assert len(own) >= 10, f"{doc}: only {len(own)} claims state a line of the document"


# the reading policy of identities/README.md: how a source says who wrote the formula
DERIVCHECK_SOURCES = {"derivcheck reading of ": None, "derivcheck correction of ": "holds",
                      "derivcheck variant of ": "fails", "derivcheck: ": "holds"}


def test_every_source_says_whose_formula_it_is():
    """A line of the document cites the document first; anything else is marked as derivcheck's, and a
    correction holds while a variant fails (a correction is never attributed to the document)."""
    for c in load_paths([ROOT / "identities"]):
        assert c.document in c.source, (c.id, c.source)
        if c.source.startswith(c.document):
            continue
        prefix = next((p for p in DERIVCHECK_SOURCES if c.source.startswith(p)), None)
        assert prefix is not None, f"{c.id}: source {c.source!r} neither cites the document first nor says derivcheck"
        assert DERIVCHECK_SOURCES[prefix] in (None, c.expect), (c.id, c.source, c.expect)


def test_a_document_line_that_fails_has_a_note_naming_a_claim_that_holds_or_the_error():
    """Every failing line of a document is explained, and the claims its note names exist."""
    import re
    for c in load_paths([ROOT / "identities"]):
        if c.expect == "fails":
            assert c.note, c.id
            for named in re.findall(r"claim ((?:ng|fw|sg|ffnn|mdl)\.[^\s),;]+)", c.note):
                assert named.rstrip(".") in PINNED, (c.id, named)


def test_every_formula_a_diagnosis_shows_reads_back_and_holds(results):
    """A corrected side or a true gradient shown for a catalog claim is, read back from its text in the
    claim's names, equal to the truth: checked here again by the whole checker, not by the diagnosis."""
    from derivcheck import expr as E
    from derivcheck.check import check
    from derivcheck.claims import Claim
    from derivcheck.diagnose import _parsed, _scope, sides

    claims = {c.id: c for c in load_paths([ROOT / "identities"])}
    shown = 0
    for r in results.values():
        d = r.verdict.diagnosis
        if d is None:
            continue
        claim = claims[r.id]
        c, t = sides(claim, d.step)
        for text, target in ((d.corrected, t), (d.truth, E.Grad(claim.f, claim.wrt) if d.truth else None)):
            if not text:
                continue
            e = _parsed(text, _scope(c, t, target))
            assert e is not None, (r.id, text)
            again = check(Claim(f"{r.id}#shown", "identity", lhs=target, rhs=e, relations=claim.relations))
            assert again.verdict.status in ("proved", "proved_at_shapes", "confirmed"), (r.id, text,
                                                                                         again.verdict.reason)
            shown += 1
    assert shown >= 25
