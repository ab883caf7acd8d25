"""The command line: ``all``, ``check PATH...`` and ``list``.

Checking is done by check.py; this module only loads, filters, prints and
chooses the exit code: 0 when every claim holds or matches its ``expect``,
1 otherwise, 2 for unusable input or arguments.
"""
from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

from .catalog import ClaimFileError, load_kernels, load_paths
from .check import Limits, check_all
from .claims import PROVABLE_KINDS
from .verdict import VERDICTS, summary_of, to_json

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--only", metavar="PATTERN", help="check only claims whose id matches this glob "
                        "(e.g. 'ng.*'); a plain word matches ids containing it")
    common.add_argument("--json", action="store_true", help="print results as JSON on standard output")
    common.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same "
                        "instances and counterexamples (default 0)")
    common.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS",
                        help="time limit per stage of each claim (default 30)")
    common.add_argument("--no-proof", dest="proof", action="store_false",
                        help="skip the proof for all dimensions; check at concrete shapes only")
    common.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="worker processes (default: 2, or 1 on a one-core machine)")
    p = argparse.ArgumentParser(prog="derivcheck", description="Check claimed matrix-calculus identities and "
                                "gradients symbolically and numerically.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{all,check,list}")
    a = sub.add_parser("all", parents=[common], help="check the catalog (./identities)")
    a.add_argument("--catalog", default="identities", metavar="DIR", help="catalog directory (default ./identities)")
    a.add_argument("--report", default="reports", metavar="DIR",
                   help="write index.html, report.tex (and .pdf), results.json here (default ./reports)")
    a.add_argument("--no-report", dest="report", action="store_const", const=None,
                   help="check only; leave ./reports as it is")
    c = sub.add_parser("check", parents=[common], help="check claim files (.py or .toml) or directories")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--report", metavar="DIR", help="also write the HTML, LaTeX and JSON reports into DIR")
    c.add_argument("--declare", metavar="FILE", help="declarations (TOML) for the .md/.tex/.ipynb documents checked")
    ls = sub.add_parser("list", help="list the catalog's claims without checking them")
    ls.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: the catalog)")
    ls.add_argument("--catalog", default="identities", metavar="DIR")
    ls.add_argument("--only", metavar="PATTERN")
    return p


def _select(claims, pattern):
    if not pattern:
        return claims
    glob = any(ch in pattern for ch in "*?[")
    return [c for c in claims if (fnmatch.fnmatchcase(c.id, pattern) if glob else pattern in c.id)]


def _progress(i, total, result):
    mark = "ok " if result.ok else "NOT OK"
    print(f"[{i:>{len(str(total))}}/{total}] {result.verdict.status:<17} {mark:<6} {result.id} "
          f"({result.seconds:.2f} s)", file=sys.stderr, flush=True)


def _summary(results) -> str:
    lines = []
    by_doc = defaultdict(Counter)
    for r in results:
        by_doc[r.document or "(no file)"][r.verdict.status] += 1
    shown = [v for v in VERDICTS if any(c[v] for c in by_doc.values())]
    width = max([len(d) for d in by_doc] + [8])
    lines.append(f"{'document':<{width}}  " + "  ".join(f"{v:>{max(len(v), 3)}}" for v in shown) + "  total")
    for doc in sorted(by_doc):
        counts = by_doc[doc]
        lines.append(f"{doc:<{width}}  " + "  ".join(f"{counts[v]:>{max(len(v), 3)}}" for v in shown)
                     + f"  {sum(counts.values()):>5}")
    failing = [r for r in results if r.verdict.status not in ("proved", "proved_at_shapes", "confirmed")]
    if failing:
        lines.append("")
        lines.append("Claims that do not hold:")
        for r in failing:
            expected = "" if r.expected is None else f" (expected: {r.expected})"
            lines.append(f"  {r.id} [{r.verdict.status}]{expected}")
            lines.append(f"      {r.verdict.reason}")
            d = r.verdict.diagnosis
            if d:
                where = f"step {d.step}: " if d.step is not None else ""
                lines.append(f"      diagnosis: {where}{d.text}" + (f"; corrected: {d.corrected}" if d.corrected else ""))
                if d.truth:
                    lines.append(f"      true gradient: {d.truth}")
            if r.note:
                lines.append(f"      note: {r.note}")
    symbolic = [r for r in results if r.kind in PROVABLE_KINDS
                and r.verdict.holds]
    if symbolic:
        proved = sum(r.verdict.status == "proved" for r in symbolic)
        lines.append("")
        lines.append(f"Proved for all dimensions: {proved} of the {len(symbolic)} identity, derivative and "
                     f"derivation claims that hold ({100 * proved / len(symbolic):.0f}%); the rest at concrete "
                     "shapes")
    not_ok = [r for r in results if not r.ok]
    lines.append("")
    lines.append(f"{len(results)} claims checked in {sum(r.seconds for r in results):.1f} s; "
                 + (f"{len(not_ok)} not as expected: {', '.join(r.id for r in not_ok)}" if not_ok
                    else "all as expected"))
    return "\n".join(lines)


def _run(claims, args) -> int:
    claims = _select(claims, args.only)
    if not claims:
        print(f"derivcheck: no claim matches {args.only!r}", file=sys.stderr)
        return EXIT_UNUSABLE
    results = check_all(claims, seed=args.seed, limits=Limits(args.time_limit, args.time_limit, symbolic=args.proof,
                                                                 convergence=bool(args.report)),
                        progress=_progress, jobs=args.jobs)
    alarms = [r for r in results if r.verdict.alarm]
    for r in alarms:
        print(f"derivcheck: INTERNAL ERROR in claim {r.id}: the symbolic proof and the exact check disagree; "
              "the verdict follows the counterexample; please report it", file=sys.stderr)
    if args.json:
        json.dump({"claims": [to_json(r) for r in results], "summary": summary_of(results, args.seed)}, sys.stdout,
                  indent=2)
        print()
    else:
        print(_summary(results))
        if _documents(args):
            from .latex import coverage_text
            print("\n" + coverage_text(_documents(args)))
    if args.command == "all":
        _write_kernels(args.catalog, claims, results)
    if args.report:
        if not _write_reports(args.report, claims, results, args):
            return EXIT_UNUSABLE
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _documents(args) -> list:
    """The .md/.tex/.ipynb documents named on the command line, as loaded (for their coverage)."""
    from .catalog import DOCUMENT_SUFFIXES

    if args.command != "check":
        return []
    from .latex import load_document
    return [load_document(p, args.declare) for p in map(Path, args.paths) if p.suffix in DOCUMENT_SUFFIXES]


def _write_kernels(catalog, claims, results) -> None:
    """Regenerate the kernels whose claims were checked in this run (codegen.py)."""
    from .codegen import write_kernels

    for message in write_kernels(load_kernels(catalog), claims, results):
        print(f"kernels: {message}", file=sys.stderr)


def _write_reports(directory, claims, results, args) -> bool:
    from .report import write_reports  # jinja2 and TeX only when reports are asked for

    print(f"writing reports to {directory}/ ...", file=sys.stderr)
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        kernels = load_kernels(args.catalog) if args.command == "all" else ()
        written = write_reports(directory, claims, results, args.seed, generated, kernels=kernels)
    except OSError as exc:
        print(f"derivcheck: cannot write reports to {directory}: {exc.strerror or exc} "
              "(the previous reports, if any, are unchanged)", file=sys.stderr)
        return False
    for message in written.messages:
        print(f"  {message}", file=sys.stderr)
    for problem in written.problems:
        print(f"derivcheck: {problem}", file=sys.stderr)
    print(f"  {Path(directory) / 'index.html'}, report.tex, results.json", file=sys.stderr)
    return not written.problems


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from_catalog = not getattr(args, "paths", None)  # `all`, and `list` without paths
    try:
        if from_catalog and not Path(args.catalog).is_dir():
            raise ClaimFileError(f"{args.catalog}: no catalog directory here (run from the project "
                                 "root or pass --catalog DIR)")
        claims = load_paths([args.catalog] if from_catalog else args.paths, getattr(args, "declare", None))
    except ClaimFileError as exc:
        print(f"derivcheck: unusable input:\n{exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.command == "list":
        selected = _select(claims, args.only)
        for c in selected:
            print(f"{c.id:<40} {c.kind:<12} {c.expect or '-':<6} {c.source}")
        print(f"{len(selected)} claims", file=sys.stderr)
        return EXIT_OK
    try:
        return _run(claims, args)
    except KeyboardInterrupt:
        print("derivcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
