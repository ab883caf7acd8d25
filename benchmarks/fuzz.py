"""The long differential-fuzzing campaign: derivcheck against an independent reference.

    python benchmarks/fuzz.py --minutes 30            # the campaign
    python benchmarks/fuzz.py --minutes 30 --jobs 2   # two worker processes
    python benchmarks/fuzz.py --replay tests/fuzzing/regressions   # re-examine claim files

Generated claims (identity, gradient, jacobian, directional, derivation; true
by construction or mutated) are checked by every stage of derivcheck and by
the reference in tests/fuzzing/ (explicit entries at 200 digits, discrete
symbols enumerated).  Prints the claims by kind and assumption, the verdict
counts, every disagreement with a shrunk reproducer (a TOML claim file), and
the rate.  Exit code 1 when a disagreement was found.

The generator, reference and oracle live in tests/fuzzing/, shared with the
quick profile in tests/test_fuzz.py; this script puts tests/ on sys.path.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fuzzing.campaign import Tally, campaign  # noqa: E402
from fuzzing.cases import KINDS, Case  # noqa: E402
from fuzzing.oracle import examine  # noqa: E402
from fuzzing.reproduce import load  # noqa: E402

SECTIONS = ["kind", "assumption", "intended", "truth", "kind x truth", "verdict (full)", "verdict (concrete)",
            "verdict (full) x truth", "verdict (concrete) x truth", "prover alone", "gradient writer", "diagnosis",
            "undecided", "mutation", "rule", "harness error", "disagreement"]


def report(tally: Tally, elapsed: float, out=sys.stdout) -> None:
    c = tally.counts
    claims = c["claims"]
    print(f"\n{claims} claims in {elapsed:.0f} s ({claims / max(elapsed, 1e-9):.2f} claims/s); time in the "
          "reference {:.0f} s, check() {:.0f} s, prover/diagnoses/gradient writer {:.0f} s".format(
              tally.seconds["reference"], tally.seconds["check"], tally.seconds["stages"]), file=out)
    for section in SECTIONS:
        rows = sorted(((k[1], v) for k, v in c.items() if isinstance(k, tuple) and k[0] == section),
                      key=lambda kv: (-kv[1], kv[0]))
        if not rows:
            continue
        print(f"\n{section}:", file=out)
        for label, v in rows:
            print(f"  {v:7d}  {label}", file=out)
    print(f"\ndisagreements: {len(tally.findings)} kinds", file=out)
    for sig, text in sorted(tally.findings.items()):
        print(f"\n=== {sig} (seen in {c[('disagreement', sig)]} claims); shrunk reproducer:\n{text}", file=out)


def replay(paths) -> int:
    """Examine every claim of the given claim files (or directories of them)."""
    files = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.toml")) if p.is_dir() else [p]
    bad = 0
    for path in files:
        for claim in load(path.read_text(encoding="utf-8")):
            out = examine(Case(claim, claim.expect != "fails", ("replayed",), None))
            truth = {True: "holds", False: "fails", None: f"undecided ({out.undecided})"}[out.truth]
            print(f"{path.name}: {claim.id}: reference {truth}; expected {claim.expect}; "
                  + ", ".join(f"{k} {v}" for k, v in out.verdicts.items()) + f"; prover alone {out.prover}")
            for f in out.findings:
                print(f"    {f}")
            bad += bool(out.findings)
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0, help="first chunk's Hypothesis seed")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--depth", type=int, default=3, help="rules nested in one expression")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--json", type=Path, help="also write the tallies as JSON")
    ap.add_argument("--out", type=Path, help="write each disagreement's reproducer here (one .toml each)")
    ap.add_argument("--replay", nargs="+", help="examine these claim files instead of generating")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    last = [0.0]

    def progress(tally, elapsed):
        if elapsed - last[0] >= 30:
            last[0] = elapsed
            print(f"[{elapsed:5.0f} s] {tally.counts['claims']} claims, {len(tally.findings)} disagreement kinds",
                  file=sys.stderr, flush=True)

    start = time.time()
    tally = campaign(args.minutes, args.seed, args.jobs, args.depth, tuple(args.kinds.split(",")), progress)
    elapsed = time.time() - start
    report(tally, elapsed)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for i, (sig, text) in enumerate(sorted(tally.findings.items()), 1):
            (args.out / f"finding-{i:02d}.toml").write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({
            "claims": tally.counts["claims"], "seconds": elapsed,
            "counts": {f"{k[0]}: {k[1]}": v for k, v in tally.counts.items() if isinstance(k, tuple)},
            "disagreements": {sig: {"seen": tally.counts[("disagreement", sig)], "reproducer": text}
                              for sig, text in tally.findings.items()},
        }, indent=1))
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
