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
    "ffnn.relu_prime": "proved_at_shapes",
    "ffnn.sigmoid_prime": "proved_at_shapes",
    "ffnn.linear_prime": "proved_at_shapes",
    "ffnn.rss_prime": "proved_at_shapes",
    "ffnn.rss_prime.loss_vector": "ill_formed",
    "ffnn.log_prime": "proved_at_shapes",
    "ffnn.log_prime.loss_vector": "ill_formed",
    "ffnn.dz_dh.relu": "proved_at_shapes",
    "ffnn.dz_dh.sigmoid": "proved_at_shapes",
    "ffnn.dz_dh.linear": "proved_at_shapes",
    "ffnn.dh_dc": "proved_at_shapes",
    "ffnn.dh_dW": "proved_at_shapes",
    "ffnn.dh_dz": "proved_at_shapes",
    "ffnn.chain.c_L": "proved_at_shapes",
    "ffnn.chain.c_L-1": "proved_at_shapes",
    "ffnn.chain.nabla_h": "proved_at_shapes",
    "ffnn.s2_3.dW2": "refuted",
    "ffnn.s2_3.dW2.corrected": "proved_at_shapes",
    "ffnn.s2_3.dc2.middle": "refuted",
    "ffnn.s2_3.dc2": "refuted",
    "ffnn.s2_3.dc2.corrected": "proved_at_shapes",
    "ffnn.s3.sum_of_observations": "proved_at_shapes",
    "ffnn.s3.dH_L": "proved_at_shapes",
    "ffnn.s3.dc_L": "proved_at_shapes",
    "ffnn.s3.dc.literal_c1": "ill_formed",
    "ffnn.s3.dW_L": "proved_at_shapes",
    "ffnn.s3.dZ_L-1": "proved_at_shapes",
    "ffnn.batch.log.W2": "proved_at_shapes",
    "ffnn.batch.log.c2": "proved_at_shapes",
    "ffnn.batch.log.W1": "proved_at_shapes",
    "ffnn.batch.log.c1": "proved_at_shapes",
    "ffnn.batch.rss.W2": "proved_at_shapes",
    "ffnn.batch.rss.c2": "proved_at_shapes",
    "ffnn.batch.rss.W1": "proved_at_shapes",
    "ffnn.batch.rss.c1": "proved_at_shapes",
    "fw.rule.right_multiplication": "proved_at_shapes",
    "fw.rule.left_multiplication": "proved_at_shapes",
    "fw.rule.elementwise": "proved_at_shapes",
    "fw.rule.addition": "proved_at_shapes",
    "fw.rule.frobenius": "proved_at_shapes",
    "fw.mse.vectorized": "proved_at_shapes",
    "fw.dA_L.derivation": "proved_at_shapes",
    "fw.dA_L": "proved_at_shapes",
    "fw.dZ_L.derivation": "proved_at_shapes",
    "fw.dW_L.chain": "proved_at_shapes",
    "fw.dW_L.literal": "ill_formed",
    "fw.dW_L.intended": "proved_at_shapes",
    "fw.layer1.dA": "proved_at_shapes",
    "fw.layer1.dZ": "proved_at_shapes",
    "fw.layer1.dW": "proved_at_shapes",
    "fw.layer2.dA": "proved_at_shapes",
    "fw.layer2.dZ": "proved_at_shapes",
    "fw.layer2.dW": "proved_at_shapes",
    "fw.backprop.W3": "proved_at_shapes",
    "fw.backprop.W2": "proved_at_shapes",
    "fw.backprop.W1": "proved_at_shapes",
    "sg.s3.dZ_dX": "proved_at_shapes",
    "sg.s3.dZ_dY": "proved_at_shapes",
    "sg.s3.dL_dX": "proved_at_shapes",
    "sg.s3.dL_dY": "proved_at_shapes",
    "sg.s3.dL_db": "proved_at_shapes",
    "sg.softmax_ce.loss_forms": "proved_at_shapes",
    "sg.softmax_ce.loss_forms.soft_labels": "refuted",
    "sg.softmax_ce.dW_chain": "proved_at_shapes",
    "sg.softmax_ce.dZ_cases": "proved_at_shapes",
    "sg.softmax_ce.dZ": "proved_at_shapes",
    "sg.softmax_ce.dW": "proved_at_shapes",
    "sg.softmax_ce.dZ.literal_loss": "ill_formed",
    "sg.softmax_ce.dZ.soft_labels": "refuted",
    "sg.softmax_ce.dZ.rows_sum_to_one": "proved_at_shapes",
    "sg.two_layer.dW1_chain": "proved_at_shapes",
    "sg.two_layer.dH1_dA1": "proved_at_shapes",
    "sg.two_layer.dA1": "proved_at_shapes",
    "sg.two_layer.dH1_chain": "proved_at_shapes",
    "sg.two_layer.dA2": "proved_at_shapes",
    "sg.two_layer.dH1": "proved_at_shapes",
    "sg.two_layer.dW1.literal": "ill_formed",
    "sg.two_layer.dW1.intended": "proved_at_shapes",
    "sg.two_layer.dW1": "proved_at_shapes",
    "sg.two_layer.dW2": "proved_at_shapes",
    "sg.two_layer.db2": "proved_at_shapes",
    "sg.two_layer.db1": "proved_at_shapes",
    "ng.inner.move_right": "proved_at_shapes",
    "ng.inner.move_left": "proved_at_shapes",
    "ng.inner.rmk_right": "proved_at_shapes",
    "ng.inner.rmk_left": "proved_at_shapes",
    "ng.inner.hadamard": "proved_at_shapes",
    "ng.inner.move_right_wrong_transpose": "refuted",
    "ng.dA2_dZ2": "refuted",
    "ng.dA2_dZ2.corrected": "proved_at_shapes",
    "ng.dL_dZ2": "refuted",
    "ng.grad_Z2": "proved_at_shapes",
    "ng.grad_Z2.wrong_sign": "refuted",
    "ng.dL_dZ2.derivation": "refuted",
    "ng.dL_dW1": "refuted",
    "ng.grad_W1": "refuted",
    "ng.grad_W1.corrected": "proved_at_shapes",
    "ng.grad_W1.tanh": "proved_at_shapes",
    "ng.xi_differential": "proved_at_shapes",
    "ng.dZ1_dW1": "proved_at_shapes",
    "ng.dZ2_dA1": "proved_at_shapes",
    "ng.dA1_dZ1": "proved_at_shapes",
    "ng.sigmoid_prime": "refuted",
    "ng.sigmoid_prime.algebra": "proved_at_shapes",
    "ng.dL_dA2": "proved_at_shapes",
    "ng.dL_dW1.inner_product_steps": "proved_at_shapes",
    "ng.backprop.W2": "proved_at_shapes",
    "ng.backprop.b2": "proved_at_shapes",
    "ng.backprop.A1": "proved_at_shapes",
    "ng.backprop.Z1": "proved_at_shapes",
    "ng.backprop.W1": "proved_at_shapes",
    "ng.backprop.b1": "proved_at_shapes",
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
