"""The front end on the source documents, read as written, against the hand-written catalog.

Each pair is a document equation and the catalog claim that encodes it; both are checked and must reach
the same kind of verdict (holds, or the same way of failing).  The whole table is in
benchmarks/bench_latex.py (--compare); these are the equations where the two could most easily part:
an ambiguous product, a literal reading that is ill-formed, a sign error, a rule for an arbitrary f.
"""
from pathlib import Path

import pytest

from derivcheck.catalog import load_file
from derivcheck.check import Limits, check
from derivcheck.latex import REASONS, load_document

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT.parent / "shared" / "sources"
DOCUMENTS = ("matrix_calculus_framework_mse", "matrix_calculus_survival_guide", "maths_of_deep_learning",
             "ffnn_backprop_chapter")

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="../shared/sources is not beside the repository")


def document(name):
    declare = ROOT / "identities" / "declarations" / f"{name}.toml"
    return load_document(SOURCES / f"{name}.txt", declare if declare.exists() else None)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_equation_is_accounted_for(name):
    doc = document(name)
    text = (SOURCES / f"{name}.txt").read_text()
    assert doc.equations, name
    for e in doc.equations:
        assert e.status in ("checked", "definition", "skipped")
        if e.status == "skipped":
            assert e.reason in REASONS and e.reason != "internal error", (e.line, e.detail)
        assert 1 <= e.line <= text.count("\n") + 1
    ids = [c.id for c in doc.claims]
    assert len(ids) == len(set(ids))
    assert all(c.latex and c.origin.endswith(f":{c.origin.rsplit(':', 1)[1]}") for c in doc.claims)


def test_the_documents_have_their_declarations_and_are_mostly_parsed():
    for name in DOCUMENTS:
        c = document(name).coverage()
        assert c["parsed"] >= 0.9 * c["found"], (name, c)
    assert document("matrix_calculus_framework_mse").coverage()["checked"] >= 15
    assert document("matrix_calculus_survival_guide").coverage()["checked"] >= 12
    assert document("ffnn_backprop_chapter").coverage()["checked"] >= 12
    assert document("maths_of_deep_learning").coverage()["checked"] >= 40


PAIRS = [  # (document, document claim, catalog module, catalog claim)
    ("matrix_calculus_framework_mse", "fw.doc.L263", "matrix_calculus_framework_mse", "fw.rule.right_multiplication"),
    ("matrix_calculus_framework_mse", "fw.doc.L432.reading-a", "matrix_calculus_framework_mse", "fw.dW_L.literal"),
    ("matrix_calculus_framework_mse", "fw.doc.L432.reading-b", "matrix_calculus_framework_mse", "fw.dW_L.intended"),
    ("matrix_calculus_survival_guide", "sg.doc.L343.reading-a", "matrix_calculus_survival_guide",
     "sg.two_layer.dW1.intended"),
    ("matrix_calculus_survival_guide", "sg.doc.L343.reading-b", "matrix_calculus_survival_guide",
     "sg.two_layer.dW1.literal"),
    ("matrix_calculus_survival_guide", "sg.doc.L197", "matrix_calculus_survival_guide",
     "sg.softmax_ce.dZ.literal_loss"),
    ("ffnn_backprop_chapter", "ffnn.doc.L275.reading-b", "ffnn_backprop_chapter", "ffnn.s2_3.dc2.middle"),
    ("ffnn_backprop_chapter", "ffnn.doc.L190", "ffnn_backprop_chapter", "ffnn.rss_prime"),
    ("maths_of_deep_learning", "mdl.doc.L1242.reading-b", "maths_of_deep_learning", "mdl.s6_4.eq5.hadamard_first"),
    ("maths_of_deep_learning", "mdl.doc.L587", "maths_of_deep_learning", "mdl.s4_3_4.dL_dw1.value"),
]


def _outcome(verdict):
    return "holds" if verdict.holds else verdict.status


@pytest.mark.parametrize("doc_name, doc_id, module, catalog_id", PAIRS)
def test_same_verdict_as_the_catalog(doc_name, doc_id, module, catalog_id):
    ours = next(c for c in document(doc_name).claims if c.id == doc_id)
    theirs = next(c for c in load_file(ROOT / "identities" / f"{module}.py") if c.id == catalog_id)
    limits = Limits(20, 20)
    a, b = check(ours, limits=limits), check(theirs, limits=limits)
    assert _outcome(a.verdict) == _outcome(b.verdict), (a.verdict.reason, b.verdict.reason)
    assert a.ok, a.verdict.reason  # the declarations record what a reader concludes (expect)
