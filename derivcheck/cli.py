"""The command line: ``all``, ``check PATH...``, ``list`` and ``kernels --out DIR``.

Checking is done by check.py; this module only loads, filters, looks results
up in the cache, prints and chooses the exit code: 0 when every claim holds or
matches its ``expect``, 1 otherwise, 2 for unusable input or arguments, 130
when interrupted.

Start-up matters (``derivcheck --help`` and ``list`` should answer at once):
only the standard library is imported at module level; SymPy, NumPy and the
checker are imported by the commands that need them.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
HOLDING = ("proved", "proved_at_shapes", "confirmed")


# ---------------------------------------------------------------- arguments


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value < 2 ** 63:
        raise argparse.ArgumentTypeError(f"the seed must be between 0 and 2**63 - 1, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"the time limit must be a positive number of seconds, got {text}")
    if value > 86400:
        raise argparse.ArgumentTypeError(f"the time limit is per stage of one claim; {text} s is more than a day")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"the number of worker processes must be between 1 and 256, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--only", metavar="PATTERN", help="check only claims whose id matches this glob "
                        "(e.g. 'ng.*'); a plain word matches ids containing it")
    common.add_argument("--json", action="store_true", help="print results as JSON on standard output")
    common.add_argument("--seed", type=_seed, default=0, help="random seed (a non-negative integer); the same "
                        "seed gives the same instances and counterexamples (default 0)")
    common.add_argument("--time-limit", type=_seconds, default=30.0, metavar="SECONDS",
                        help="time limit per stage of each claim, and for loading each Python claim file "
                             "(default 30)")
    common.add_argument("--no-proof", dest="proof", action="store_false",
                        help="skip the proof for all dimensions; check at concrete shapes only")
    common.add_argument("--jobs", type=_jobs, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="worker processes (default: 2, or 1 on a one-core machine)")
    common.add_argument("--cache", metavar="DIR", type=Path,
                        help="where results are cached (default: the user cache folder)")
    common.add_argument("--no-cache", dest="use_cache", action="store_false",
                        help="check every claim again; neither read nor write the result cache")
    catalog = argparse.ArgumentParser(add_help=False)
    catalog.add_argument("--catalog", metavar="DIR", type=Path,
                         help="catalog directory (default: the catalog shipped with derivcheck)")

    p = argparse.ArgumentParser(prog="derivcheck", description="Check claimed matrix-calculus identities and "
                                "gradients symbolically and numerically.",
                                epilog="exit status: 0 every claim holds or fails as its `expect` says; 1 some "
                                       "claim is not as expected; 2 unusable input or arguments; 130 interrupted")
    sub = p.add_subparsers(dest="command", required=True, metavar="{all,check,list,kernels}")
    a = sub.add_parser("all", parents=[common, catalog], help="check the catalog shipped with derivcheck")
    a.add_argument("--report", default=Path("reports"), type=Path, metavar="DIR",
                   help="write index.html, report.tex (and .pdf), results.json here (default ./reports)")
    a.add_argument("--no-report", dest="report", action="store_const", const=None,
                   help="check only; leave ./reports as it is")
    c = sub.add_parser("check", parents=[common], help="check claim files (.py, .toml), directories of them, or "
                       "documents (.md, .tex, .ipynb)")
    c.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    c.add_argument("--report", metavar="DIR", type=Path, help="also write the HTML, LaTeX and JSON reports into DIR")
    c.add_argument("--declare", metavar="FILE", help="declarations (TOML) for the .md/.tex/.ipynb documents checked")
    ls = sub.add_parser("list", parents=[catalog], help="list claims without checking them")
    ls.add_argument("paths", nargs="*", metavar="PATH", type=Path, help="files or directories (default: the catalog)")
    ls.add_argument("--only", metavar="PATTERN")
    ls.add_argument("--cache", metavar="DIR", type=Path, help="where the listing is cached")
    ls.add_argument("--no-cache", dest="use_cache", action="store_false", help="load the claim files again")
    ls.add_argument("--time-limit", type=_seconds, default=30.0, metavar="SECONDS",
                    help="time limit for loading each Python claim file (default 30)")
    k = sub.add_parser("kernels", parents=[common, catalog],
                       help="check the claims behind the NumPy kernels and write the kernel modules into DIR")
    k.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="output folder (derivcheck/kernels regenerates the committed kernels)")
    return p


# ---------------------------------------------------------------- selection and printing


def _matches(cid: str, pattern) -> bool:
    """--only: a glob on claim ids ('ng.*'), or a plain word that the id contains."""
    import fnmatch

    if not pattern:
        return True
    return fnmatch.fnmatchcase(cid, pattern) if any(ch in pattern for ch in "*?[") else pattern in cid


def _select(claims, pattern):
    return [c for c in claims if _matches(c.id, pattern)]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(i, total, result):
    mark = "ok " if result.ok else "NOT OK"
    _say(f"[{i:>{len(str(total))}}/{total}] {result.verdict.status:<17} {mark:<6} {result.id} "
         f"({result.seconds:.2f} s)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _headline(results, wall: float, cached: int) -> str:
    """First and last line of the summary: did the run pass, in how long (wall clock)."""
    not_ok = [r for r in results if not r.ok]
    expected_failures = sum(r.ok and not r.verdict.holds for r in results)
    timing = f"{_count(len(results), 'claim')} checked in {wall:.1f} s wall clock" + (
        f" ({cached} unchanged since an earlier run, from the cache)" if cached else "")
    if not_ok:
        return f"FAILED: {len(not_ok)} of {len(results)} claims not as expected ({', '.join(r.id for r in not_ok)}); " \
               + timing
    held = len(results) - expected_failures
    what = f"{held} hold" + (f", {expected_failures} fail as expected (errors of the documents, found as intended)"
                             if expected_failures else "")
    return f"PASSED: every claim as expected: {what}; " + timing


def _explain(r) -> list[str]:
    expected = "" if r.expected is None else f" (expected: {r.expected})"
    lines = [f"  {r.id} [{r.verdict.status}]{expected}", f"      {r.verdict.reason}"]
    d = r.verdict.diagnosis
    if d:
        where = f"step {d.step}: " if d.step is not None else ""
        lines.append(f"      diagnosis: {where}{d.text}" + (f"; corrected: {d.corrected}" if d.corrected else ""))
        if d.truth:
            lines.append(f"      true gradient: {d.truth}")
    if r.note:
        lines.append(f"      note: {r.note}")
    return lines


def _summary(results, wall: float, cached: int = 0) -> str:
    from collections import Counter, defaultdict

    from .claims import PROVABLE_KINDS
    from .verdict import VERDICTS

    headline = _headline(results, wall, cached)
    lines = [headline, ""]
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
    unexpected = [r for r in results if not r.ok]
    if unexpected:
        lines += ["", f"Not as expected ({len(unexpected)}):"]
        for r in unexpected:
            lines += _explain(r)
    found = [r for r in results if r.ok and not r.verdict.holds]
    if found:
        lines += ["", f"Expected failures ({len(found)}): errors of the documents, found as intended:"]
        for r in found:
            lines += _explain(r)
    symbolic = [r for r in results if r.kind in PROVABLE_KINDS and r.verdict.holds]
    if symbolic:
        proved = sum(r.verdict.status == "proved" for r in symbolic)
        lines.append("")
        lines.append(f"Proved for all dimensions: {proved} of the {len(symbolic)} identity, derivative and "
                     f"derivation claims that hold ({100 * proved / len(symbolic):.0f}%); the rest at concrete "
                     "shapes")
    lines += ["", headline]
    return "\n".join(lines)


# ---------------------------------------------------------------- commands


def _limits(args):
    from .check import Limits

    # the convergence curves of derivative claims are computed only when a report draws them
    return Limits(args.time_limit, args.time_limit, symbolic=args.proof, convergence=bool(getattr(args, "report", None)))


def _open_cache(args):
    """The result cache, or None (``--no-cache``, or a cache folder that cannot be used)."""
    if not args.use_cache:
        return None
    from .cache import CacheError, Store, default_directory

    try:
        return Store(args.cache or default_directory())
    except CacheError as exc:
        _say(f"derivcheck: result cache not used: {exc}")
        return None


def _check(claims, args) -> tuple[list, int]:
    """Results in the claims' order: unchanged claims from the cache, the others checked now."""
    from .check import check_all

    limits = _limits(args)
    store = _open_cache(args)
    found = {}
    if store is not None:
        from .cache import claim_key

        memo: dict = {}  # the claims of a file share their definitions: each tree is hashed once
        keys = {c.id: claim_key(c, args.seed, limits, memo) for c in claims}
        found = store.get(claims, keys)
        if not limits.convergence:  # a result stored with its convergence curves (by a run with reports) serves too
            richer = dataclasses.replace(limits, convergence=True)
            rest = [c for c in claims if c.id not in found]
            found.update(store.get(rest, {c.id: claim_key(c, args.seed, richer, memo) for c in rest}))
        if found:
            _say(f"cache: {len(found)} of {len(claims)} claims unchanged since they were last checked "
                 f"({store.path})")
    todo = [c for c in claims if c.id not in found]
    checked = check_all(todo, seed=args.seed, limits=limits, progress=_progress, jobs=args.jobs) if todo else []
    if store is not None:
        store.put([(keys[r.id], r) for r in checked])
        store.close()
    fresh = {r.id: r for r in checked}
    return [found.get(c.id) or fresh[c.id] for c in claims], len(found)


def _run(loaded, args, started: float) -> int:
    claims = _select(loaded.claims, args.only)
    if not claims:
        _say(f"derivcheck: no claim id matches {args.only!r}")
        return EXIT_UNUSABLE
    results, cached = _check(claims, args)
    wall = time.perf_counter() - started
    for r in results:
        if r.verdict.alarm:
            _say(f"derivcheck: INTERNAL ERROR in claim {r.id}: the symbolic proof and the exact check disagree; "
                 "the verdict follows the counterexample; please report it")
    if args.json:
        import json

        from .verdict import summary_of, to_json

        summary = summary_of(results, args.seed)
        json.dump({"claims": [to_json(r) for r in results], "summary": summary}, sys.stdout, indent=2)
        print()
        _say(_headline(results, wall, cached))
    else:
        print(_summary(results, wall, cached), flush=True)
        documents = _documents(args)
        if documents:
            from .latex import coverage_text

            print("\n" + coverage_text(documents))
    if args.report:
        if not _write_reports(args.report, claims, results, args, loaded.kernels):
            return EXIT_UNUSABLE
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _documents(args) -> list:
    """The .md/.tex/.ipynb documents named on the command line, as loaded (for their coverage)."""
    from .catalog import DOCUMENT_SUFFIXES

    if args.command != "check":
        return []
    from .latex import load_document

    return [load_document(p, args.declare) for p in map(Path, args.paths) if p.suffix in DOCUMENT_SUFFIXES]


def _write_reports(directory, claims, results, args, kernels) -> bool:
    import datetime

    from .report import write_reports  # jinja2 and TeX only when reports are asked for

    start = time.perf_counter()
    _say(f"writing reports to {directory}/ ...")
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        written = write_reports(directory, claims, results, args.seed, generated,
                                kernels=kernels if args.command == "all" else ())
    except OSError as exc:
        _say(f"derivcheck: cannot write reports to {directory}: {exc.strerror or exc} "
             "(the previous reports, if any, are unchanged)")
        return False
    for message in written.messages:
        _say(f"  {message}")
    for problem in written.problems:
        _say(f"derivcheck: {problem}")
    _say(f"  {Path(directory) / 'index.html'}, report.tex, results.json written in "
         f"{time.perf_counter() - start:.1f} s")
    return not written.problems


def _kernels(loaded, args) -> int:
    """Check the claims the kernels are generated from, then write the kernel modules into --out."""
    from .codegen import write_kernels

    # the claims whose formulas a kernel uses, and the document's own formulas it replaces (named with their verdicts)
    needed = {cid for k in loaded.kernels for cid in (*k.gradients.values(), *k.replaces.values())}
    claims = [c for c in _select(loaded.claims, args.only) if c.id in needed]  # a kernel not covered is left as it is
    if not loaded.kernels:
        _say("derivcheck: the catalog declares no kernels (KERNELS in its Python modules)")
        return EXIT_UNUSABLE
    results, _ = _check(claims, args)
    try:
        messages = write_kernels(loaded.kernels, loaded.claims, results, directory=args.out)
    except OSError as exc:
        _say(f"derivcheck: cannot write kernels to {args.out}: {exc.strerror or exc} (nothing was changed)")
        return EXIT_UNUSABLE
    for message in messages:
        _say(f"kernels: {message}")
    written = [m for m in messages if m.startswith("regenerated")]
    _say(f"kernels: {len(loaded.kernels)} kernels, {len(written)} written to {args.out}/, "
         f"{len(loaded.kernels) - len(written)} unchanged or not generated")
    failed = [m for m in messages if m.startswith("not generated")]
    return EXIT_FAILED if failed else EXIT_OK


def _list(args) -> int:
    """Claims, one per line; from the listing cache when no claim file changed (no SymPy import)."""
    paths = args.paths or [args.catalog or _default_catalog()]
    store, key, rows = _open_cache(args), None, None
    if store is not None:
        from .cache import listing_key

        key = listing_key(paths)
        rows = store.get_listing(key) if key else None
    try:
        if rows is None:
            from .catalog import ClaimFileError, load

            try:
                loaded = load(paths, args.time_limit)
            except ClaimFileError as exc:
                _say(f"derivcheck: unusable input:\n{exc}")
                return EXIT_UNUSABLE
            for skipped in loaded.skipped:
                _say(f"skipped {skipped}")
            rows = [(c.id, c.kind, c.expect or "-", c.source) for c in loaded.claims]
            if store is not None and key:
                store.put_listing(key, rows)
    finally:
        if store is not None:
            store.close()
    selected = [r for r in rows if _matches(r[0], args.only)]
    if selected:
        print("\n".join(f"{cid:<40} {kind:<12} {expect:<6} {source}" for cid, kind, expect, source in selected))
    _say(_count(len(selected), "claim"))
    return EXIT_OK


def _default_catalog() -> Path:
    from .catalog import default_catalog

    return default_catalog()


def main(argv=None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        from .catalog import ClaimFileError, load

        try:
            if args.command in ("all", "kernels"):
                catalog = args.catalog or _default_catalog()
                if not Path(catalog).is_dir():
                    raise ClaimFileError(f"{catalog}: no catalog directory here (pass --catalog DIR)")
                loaded = load([catalog], args.time_limit)
            else:
                loaded = load(args.paths, args.time_limit, args.declare)
        except ClaimFileError as exc:
            _say(f"derivcheck: unusable input:\n{exc}")
            return EXIT_UNUSABLE
        for skipped in loaded.skipped:
            _say(f"skipped {skipped}")
        if args.command == "kernels":
            return _kernels(loaded, args)
        return _run(loaded, args, started)
    except KeyboardInterrupt:
        _say("derivcheck: interrupted")
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as exc:  # a dependency of derivcheck itself: the installation is incomplete
        _say(f"derivcheck: the package {exc.name!r} is not installed, and derivcheck needs it "
             f"(pip install {exc.name}, or reinstall derivcheck with its dependencies)")
        return EXIT_UNUSABLE
    except BrokenPipeError:  # `derivcheck list | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
