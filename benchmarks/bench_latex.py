"""Extraction and parsing of the four LaTeX documents: the front end must not be the slow part.

    python benchmarks/bench_latex.py

Prints, in one run, for each of the four documents of ../shared/sources that
write LaTeX (fw, sg, mdl, ffnn): the equations found, parsed, checked and
skipped, and the median of five runs of the whole front end (extraction, the
document's macros, the grammar, translation with the declarations in
identities/declarations/, claims), the grammar built once beforehand as in a
real run after the first document.  Then the cold time of the first document
(the grammar built too) and the total against the 1 s target of issue 15.

    python benchmarks/bench_latex.py --compare

also checks every equation that the front end and the hand-written catalog
(identities/*.py) both cover (the table COVERED) and prints both verdicts.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derivcheck.latex.document import read_document  # noqa: E402
from derivcheck.latex.translate import _parser, parse_statement  # noqa: E402

SOURCES = ROOT.parent / "shared" / "sources"
DOCUMENTS = ("matrix_calculus_framework_mse", "matrix_calculus_survival_guide", "maths_of_deep_learning",
             "ffnn_backprop_chapter")
TARGET_SECONDS = 1.0


def run(name: str):
    path = SOURCES / f"{name}.txt"
    declare = ROOT / "identities" / "declarations" / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    parse_statement.cache_clear()  # each run parses from scratch (repeats inside one document still hit)
    start = time.perf_counter()
    doc = read_document(text, path, markdown=True, declare=declare if declare.exists() else None)
    return time.perf_counter() - start, doc


#: (document claim id, catalog claim ids): the same equation, read by the front end and encoded by hand
COVERED = {
    "fw.doc.L263": ("fw.rule.right_multiplication",), "fw.doc.L285": ("fw.rule.left_multiplication",),
    "fw.doc.L313": ("fw.rule.elementwise",), "fw.doc.L343": ("fw.rule.addition",),
    "fw.doc.L373": ("fw.rule.frobenius",), "fw.doc.L399": ("fw.dA_L.derivation",),
    "fw.doc.L417": ("fw.dZ_L.derivation",), "fw.doc.L432.reading-a": ("fw.dW_L.chain", "fw.dW_L.literal"),
    "fw.doc.L432.reading-b": ("fw.dW_L.chain", "fw.dW_L.intended"),
    "fw.doc.L449.ell1": ("fw.layer1.dA",), "fw.doc.L449.ell2": ("fw.layer2.dA",),
    "fw.doc.L454.ell1": ("fw.layer1.dZ",), "fw.doc.L454.ell2": ("fw.layer2.dZ",),
    "fw.doc.L455.ell1": ("fw.layer1.dW",), "fw.doc.L455.ell2": ("fw.layer2.dW",),
    "fw.doc.L463": ("fw.dA_L",), "fw.doc.L464.ell1": ("fw.layer1.dA",), "fw.doc.L464.ell2": ("fw.layer2.dA",),
    "fw.doc.L465.ell1": ("fw.layer1.dZ",), "fw.doc.L465.ell2": ("fw.layer2.dZ",),
    "fw.doc.L466.ell1": ("fw.layer1.dW",), "fw.doc.L466.ell2": ("fw.layer2.dW",), "fw.doc.L466.ell3": ("fw.dW_L.chain",),
    "sg.doc.L163": ("sg.s3.dL_dX",), "sg.doc.L163.2": ("sg.s3.dL_dY",),
    "sg.doc.L197": ("sg.softmax_ce.dZ.literal_loss",), "sg.doc.L211": ("sg.softmax_ce.dW_chain",),
    "sg.doc.L231": ("sg.softmax_ce.dZ",), "sg.doc.L235": ("sg.softmax_ce.dW",),
    "sg.doc.L299": ("sg.two_layer.dW1_chain",), "sg.doc.L331": ("sg.two_layer.dH1_chain",),
    "sg.doc.L339": ("sg.two_layer.dA2",),
    "sg.doc.L343.reading-a": ("sg.two_layer.dW1.intended", "sg.two_layer.dW1"),
    "sg.doc.L343.reading-b": ("sg.two_layer.dW1.literal",),
    "ffnn.doc.L122": ("ffnn.sigmoid_prime",), "ffnn.doc.L132": ("ffnn.linear_prime",),
    "ffnn.doc.L183": ("ffnn.rss_prime.loss_vector",), "ffnn.doc.L190": ("ffnn.rss_prime",),
    "ffnn.doc.L200": ("ffnn.log_prime",), "ffnn.doc.L219": ("ffnn.dz_dh.relu",), "ffnn.doc.L235": ("ffnn.dz_dh.linear",),
    "ffnn.doc.L247": ("ffnn.dh_dc",), "ffnn.doc.L261": ("ffnn.dh_dz",),
    "ffnn.doc.L275.reading-b": ("ffnn.s2_3.dc2.middle",), "ffnn.doc.L309": ("ffnn.s3.dH_L",),
    "mdl.doc.L573": ("mdl.s4_3_4.chain",), "mdl.doc.L579": ("mdl.s4_3_4.dL_dz",), "mdl.doc.L583": ("mdl.s4_3_4.dz_dw1",),
    "mdl.doc.L587": ("mdl.s4_3_4.dL_dw1.value",), "mdl.doc.L595": ("mdl.s4_3_4.dL_dw2",),
    "mdl.doc.L649": ("mdl.s4_4.chain.w2",), "mdl.doc.L657": ("mdl.s4_4.dC_dw2",), "mdl.doc.L661": ("mdl.s4_4.dC_dw2.delta",),
    "mdl.doc.L663": ("mdl.s4_4.dC_db2",), "mdl.doc.L669": ("mdl.s4_4.chain.w1",), "mdl.doc.L680": ("mdl.s4_4.dC_dw1",),
    "mdl.doc.L684": ("mdl.s4_4.dC_dw1.delta",), "mdl.doc.L686": ("mdl.s4_4.dC_db1",),
    "mdl.doc.L870": ("mdl.s5_3_1.dC_da3",), "mdl.doc.L874": ("mdl.s5_3_1.da3_dz3",), "mdl.doc.L882": ("mdl.s5_3_1.delta3",),
    "mdl.doc.L898": ("mdl.s5_3_1.dC_dW3",), "mdl.doc.L918": ("mdl.s5_3_1.delta2.chain",),
    "mdl.doc.L922": ("mdl.s5_3_1.dz3_dz2",), "mdl.doc.L926": ("mdl.s5_3_1.delta2",), "mdl.doc.L930": ("mdl.s5_3_1.dC_dW2",),
    "mdl.doc.L944": ("mdl.s5_3_1.dC_dW1",), "mdl.doc.L1151": ("mdl.s6_3_2.C.sum_of_squares",),
    "mdl.doc.L1163": ("mdl.s6_3_2.delta2.hadamard_chain",), "mdl.doc.L1190": ("mdl.s6_3_2.delta2",),
    "mdl.doc.L1223": ("mdl.s6_3_2.eq3",), "mdl.doc.L1235": ("mdl.s6_4.delta1",),
    "mdl.doc.L1242.reading-a": ("mdl.s6_4.eq5",), "mdl.doc.L1242.reading-b": ("mdl.s6_4.eq5.hadamard_first",),
    "mdl.doc.L1248": ("mdl.s6_4_1.delta_L",), "mdl.doc.L1252.l1": ("mdl.s6_4_1.recurrence.l1",),
    "mdl.doc.L1256.l1": ("mdl.s6_4_1.dW.l1",), "mdl.doc.L1256.l2": ("mdl.s6_4_1.dW.l2",),
    "mdl.doc.L1519": ("mdl.s7_1_1.EqA1",), "mdl.doc.L1557": ("mdl.s7_3.chain",), "mdl.doc.L1563": ("mdl.s7_3.da_dz",),
    "mdl.doc.L1567": ("mdl.s7_3.EqA2_1",), "mdl.doc.L1571": ("mdl.s7_3.EqA2",), "mdl.doc.L1597": ("mdl.s7_3.da_dz",),
    "mdl.doc.L1603": ("mdl.s7_3.EqA2_1",),
}


def _outcome(verdict) -> str:
    return "holds" if verdict.holds else verdict.status


def compare() -> None:
    """Both verdicts for every equation the front end and the catalog both cover."""
    from derivcheck.catalog import load_paths
    from derivcheck.check import Limits, check

    ours = {c.id: c for name in DOCUMENTS for c in run(name)[1].claims}
    theirs = {c.id: c for c in load_paths([ROOT / "identities"])}
    limits = Limits(30, 30)
    same = differ = 0
    for doc_id, catalog_ids in COVERED.items():
        if doc_id not in ours:
            print(f"{doc_id:<26} MISSING from the front end's claims")
            differ += 1
            continue
        mine = check(ours[doc_id], limits=limits)
        if mine.verdict.steps:  # a derivation: its steps, against the catalog's claims one by one
            got = [_outcome(s.verdict) for s in mine.verdict.steps]
        else:
            got = [_outcome(mine.verdict)]
        missing = [c for c in catalog_ids if c not in theirs]
        if missing:
            print(f"{doc_id:<26} catalog claim {missing[0]} not found")
            differ += 1
            continue
        want = [_outcome(check(theirs[c], limits=limits).verdict) for c in catalog_ids]
        agree = (got == want) or (len(want) == 1 and _outcome(mine.verdict) == want[0])
        same += agree
        differ += not agree
        print(f"{doc_id:<26} {'/'.join(got):<28} {'/'.join(catalog_ids):<58} {'/'.join(want):<22} "
              f"{'same' if agree else 'DIFFERENT'}")
    print(f"{same} equations with the same verdict, {differ} different")


def main() -> None:
    start = time.perf_counter()
    _parser()
    grammar = time.perf_counter() - start
    print(f"grammar (lark LALR) built in {grammar * 1000:.0f} ms")
    total = 0.0
    for name in DOCUMENTS:
        times = []
        for _ in range(5):
            seconds, doc = run(name)
            times.append(seconds)
        c = doc.coverage()
        median = statistics.median(times)
        total += median
        print(f"{name:<32} {median * 1000:7.0f} ms  found {c['found']:>3}  parsed {c['parsed']:>3}  "
              f"checked {c['checked']:>3} ({c['claims']} claims)  definitions {c['definitions']:>2}  "
              f"skipped {sum(c['skipped'].values()):>3}")
    print(f"four documents: {total:.3f} s (median of 5 runs each), {total + grammar:.3f} s with the grammar built; "
          f"target {TARGET_SECONDS:.0f} s: ratio {(total + grammar) / TARGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
    if "--compare" in sys.argv[1:]:
        compare()
