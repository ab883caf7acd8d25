"""Reports: index.html (MathML, inline SVG), report.tex (+ report.pdf when TeX is installed), results.json.

Input is the claims and their results; nothing here checks anything.  The
pages are rendered from Jinja2 templates in ``derivcheck/templates`` (HTML
with autoescaping on), every file is rendered in memory first and then moved
into place, so a failed or interrupted run leaves the previous reports intact.
Output is deterministic for a seed: the only line that changes between runs
is the one that says when the report was generated.  Per-claim timings are
left out for that reason (``--json`` and benchmarks/bench_check.py have them).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup

from . import expr as E
from .claims import CLAIM_KINDS, Claim
from .files import write_atomically
from .notation import to_latex, to_mathml
from .plots import convergence_svg
from .texescape import tex_escape, tex_math
from .verdict import HOLDS, VERDICTS, Result, summary_of, to_json

__all__ = ["build", "write_reports", "ReportData", "Written", "REPORT_FILES"]

#: What each verdict says about the evidence, in words.
LEVELS = {
    "proved": "proved for all dimensions",
    "proved_at_shapes": "proved exactly at concrete shapes",
    "confirmed": "confirmed numerically",
    "refuted": "refuted",
    "ill_formed": "ill-formed",
    "inconclusive": "inconclusive",
}
MAX_SHOWN_NUMBERS = 40  # counterexample values larger than this are summarised, not printed


@dataclass
class Formula:
    """One displayed formula, in both notations."""

    mathml: Markup
    latex: str
    label: str = ""  # e.g. "step 2: refuted"


@dataclass
class ClaimView:
    id: str
    source: str
    kind: str
    status: str
    level: str
    expected: str | None
    ok: bool
    reason: str
    note: str
    formulas: list = field(default_factory=list)
    definitions: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    counterexample: list = field(default_factory=list)
    plot: Markup | None = None
    note_parts: list = field(default_factory=list)  # [(text, id of a claim it names, or None)]
    diagnosis: str = ""
    corrected: str = ""
    truth: str = ""
    written: str = ""  # the equation as its document writes it (LaTeX), for claims read from a document

    @property
    def holds(self) -> bool:
        return self.status in HOLDS


def _linked(text: str, ids) -> list:
    """Split a note so that the claim ids it names (the corrected claims) can become links."""
    if not text or not ids:
        return [(text, None)] if text else []
    pattern = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append((text[last:match.start()], None))
        parts.append((match.group(0), match.group(0)))
        last = match.end()
    parts.append((text[last:], None))
    return [p for p in parts if p[0]]


@dataclass
class DocumentView:
    name: str
    counts: dict
    claims: list


@dataclass
class KernelView:
    """A generated kernel and the claims its gradients come from."""

    name: str
    title: str
    gradients: list  # [(parameter, claim id, verdict)]
    replaces: list  # [(parameter, id of the document's claim it does not use, that claim's verdict)]


@dataclass
class ReportData:
    seed: int
    generated_at: str
    verdicts: tuple
    totals: dict
    documents: list
    failures: list
    results_json: dict
    kernels: list = field(default_factory=list)


# ---------------------------------------------------------------- claims -> formulas


def _statement(claim: Claim) -> list:
    """The claim as the document states it: a list of (parts, label) for to_mathml/to_latex, from the
    claim kind's row (claims.CLAIM_KINDS); numbers a worked example states become formulas."""
    row = CLAIM_KINDS[claim.kind]
    if row.statement is None:
        return []
    return [(tuple(p if isinstance(p, (E.Expr, str)) else _number(p) for p in parts), label)
            for parts, label in row.statement(claim)]


def _number(v):
    arr = np.array(v, dtype=float)
    if arr.ndim == 0 or arr.size == 1:
        return E.Scalar(_sympy_number(float(arr.reshape(-1)[0])))
    import sympy

    return sympy.Matrix(arr.reshape(arr.shape[0], -1).tolist()).applyfunc(_sympy_number)


def _sympy_number(x: float):
    import sympy

    return sympy.Integer(int(x)) if float(x).is_integer() else sympy.Float(repr(x), 6)


def _latex_parts(parts) -> str:
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append({"=": "="}.get(p, p))
        elif isinstance(p, E.Expr):
            out.append(to_latex(p))
        else:
            import sympy

            out.append(sympy.latex(p))
    return " ".join(out)


def _formula(parts, label="") -> Formula:
    return Formula(Markup(to_mathml(*parts)), _latex_parts(parts), label)


def _definitions(claim: Claim) -> list:
    """Every named intermediate the claim uses, in the order they were defined."""
    roots = [e for e in (claim.lhs, claim.rhs, claim.f, claim.wrt, claim.claimed, claim.expr, *claim.steps)
             if isinstance(e, E.Expr)]
    seen: dict = {}
    for root in roots:
        for node in E.walk(root):
            if isinstance(node, E.Defined) and id(node) not in seen:
                seen[id(node)] = node
    ordered = sorted(seen.values(), key=lambda d: _depth(d))
    return [_formula((E.Symbol(d.name, 1, 1), "=", d.body)) for d in ordered]


def _depth(d: E.Defined) -> int:
    inner = [n for n in E.walk(d.body) if isinstance(n, E.Defined) and n is not d]
    return 1 + max((_depth(n) for n in inner), default=0)


# ---------------------------------------------------------------- results -> evidence


def _evidence(result: Result) -> list[str]:
    lines = []
    for s in result.verdict.stages:
        if s.method == "exact":
            lines.append(f"Exact check ({s.digits} digits, {_count(s.points, 'point')}): {s.status} — {s.detail}")
        elif s.method == "numeric":
            extra = f"; largest relative error {s.max_error:.1e}" if s.status == "holds" else ""
            lines.append(f"Numeric check (float64, {_count(s.points, 'instance')}): {s.status} — {s.detail}{extra}")
        else:
            lines.append(f"{s.method.capitalize()}: {s.status} — {s.detail}")
    for step in result.verdict.steps:
        lines.append(f"Step {step.index}: {step.verdict.status} — {step.verdict.reason}")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _counterexample(result: Result) -> list[str]:
    cx = result.verdict.counterexample
    if cx is None:
        return []
    sizes = ", ".join(f"{k} = {v}" for k, v in sorted(cx.sizes.items())) or "the claim's fixed sizes"
    lines = [f"At {sizes} (seed {cx.seed}, {cx.stage} stage), entry {tuple(cx.entry)}: "
             f"claimed {cx.claimed:.10g}, true {cx.true:.10g}" + (f" ({cx.what})" if cx.what else "")]
    count = sum(np.asarray(v, dtype=float).size for v in cx.values.values())
    if count <= MAX_SHOWN_NUMBERS:
        for name, v in sorted(cx.values.items()):
            lines.append(f"{name} = {np.array2string(np.asarray(v, dtype=float), precision=4, separator=', ')}")
    else:
        lines.append(f"The instance has {count} numbers; `--seed {cx.seed}` reproduces it "
                     "(the JSON report lists them).")
    return lines


def _view(claim: Claim | None, result: Result) -> ClaimView:
    v = result.verdict
    formulas, definitions = [], []
    if claim is not None and claim.error is None:
        try:
            formulas = [_formula(parts, label) for parts, label in _statement(claim)]
            if claim.kind == "derivation":
                for f, step in zip(formulas[1:], v.steps):
                    f.label = f"step {step.index}: {step.verdict.status.replace('_', ' ')}"
            definitions = _definitions(claim)
        except Exception as exc:  # a formula that cannot be typeset must not lose the rest of the report
            formulas = [Formula(Markup(""), "", f"(formula not shown: {type(exc).__name__}: {exc})")]
    view = ClaimView(result.id, result.source, result.kind, v.status, LEVELS[v.status], result.expected, result.ok,
                     v.reason, result.note, formulas, definitions, _evidence(result), _counterexample(result))
    view.written = getattr(claim, "latex", "") or ""
    if v.diagnosis:
        view.diagnosis = (f"step {v.diagnosis.step}: " if v.diagnosis.step is not None else "") + v.diagnosis.text
        view.corrected = v.diagnosis.corrected
        view.truth = v.diagnosis.truth
    return view


def _kernel_views(kernels, results) -> list[KernelView]:
    status = {r.id: r.verdict.status for r in results}
    return [KernelView(k.name, k.title, [(p, cid, status.get(cid, "not checked")) for p, cid in k.gradients.items()],
                       [(p, cid, status.get(cid, "not checked")) for p, cid in sorted(k.replaces.items())])
            for k in kernels]


def build(claims: list[Claim], results: list[Result], seed: int, generated_at: str, kernels=()) -> ReportData:
    by_id = {c.id: c for c in claims}
    views = [_view(by_id.get(r.id), r) for r in results]
    shown = {r.id for r in results}
    for view in views:
        view.note_parts = _linked(view.note, shown - {view.id})
    for view, r in zip(views, results):
        if r.verdict.convergence:
            view.plot = convergence_svg(r.verdict.convergence, r.verdict.holds)
    docs: dict[str, list] = {}
    for r, view in zip(results, views):
        docs.setdefault(r.document or "(no file)", []).append(view)
    documents = [DocumentView(name, {s: sum(1 for c in cs if c.status == s) for s in VERDICTS}, cs)
                 for name, cs in docs.items()]
    totals = {s: sum(d.counts[s] for d in documents) for s in VERDICTS}
    failures = [v for v in views if not v.holds]
    results_json = {"claims": [_stable(to_json(r)) for r in results], "summary": summary_of(results, seed)}
    return ReportData(seed, generated_at, VERDICTS, totals, documents, failures, results_json,
                      _kernel_views(kernels, results))


def _stable(d: dict) -> dict:
    d = dict(d)
    d.pop("seconds", None)
    return d


# ---------------------------------------------------------------- rendering

def _html_env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("derivcheck", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def _tex_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("derivcheck", "templates"), autoescape=False,
                             block_start_string="<%", block_end_string="%>", variable_start_string="<<",
                             variable_end_string=">>", comment_start_string="<#", comment_end_string="#>",
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["tex"] = tex_escape
    env.filters["texmath"] = tex_math
    return env


def render_html(data: ReportData) -> str:
    return _html_env().get_template("report.html").render(report=data, levels=LEVELS)


def render_latex(data: ReportData) -> str:
    return _tex_env().get_template("report.tex").render(report=data, levels=LEVELS)


def render_json(data: ReportData) -> str:
    doc = {"generated_at": data.generated_at, **data.results_json}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- writing


#: every file a report set may hold; one that this run does not write is removed, so a set is never mixed
REPORT_FILES = ("index.html", "report.tex", "results.json", "report.pdf")


@dataclass
class Written:
    """What write_reports did: messages to show, and problems (a PDF that TeX could not build)."""

    messages: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def tex_engine() -> list[str] | None:
    """The command that turns report.tex into a PDF here, or None.  One pdflatex pass is enough (the
    report has no cross-references); latexmk only when pdflatex is not on the path under its own name."""
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "report.tex"]
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "report.tex"]
    return None


def compile_pdf(tex: str, timeout: float = 120) -> tuple[bytes | None, str, bool]:
    """(PDF bytes or None, message, whether that is a failure).  No TeX engine is not a failure."""
    command = tex_engine()
    if command is None:
        return None, "no TeX engine (pdflatex or latexmk) installed: report.pdf skipped", False
    with tempfile.TemporaryDirectory() as work:
        Path(work, "report.tex").write_text(tex, encoding="utf-8")
        try:
            run = subprocess.run(command, cwd=work, capture_output=True, text=True, errors="replace",
                                 timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None, f"{command[0]} took longer than {timeout:g} s: no report.pdf", True
        pdf = Path(work, "report.pdf")
        if run.returncode != 0 or not pdf.exists():
            lines = (run.stdout or "").splitlines()
            first = next((i for i, line in enumerate(lines) if line.startswith("!")), max(len(lines) - 15, 0))
            tail = "\n".join(lines[first:first + 15])
            return None, f"{command[0]} failed (exit {run.returncode}): no report.pdf (report.tex is written):\n{tail}", True
        return pdf.read_bytes(), f"report.pdf written by {command[0]}", False


def write_reports(directory, claims: list[Claim], results: list[Result], seed: int, generated_at: str,
                  pdf: bool = True, kernels=()) -> Written:
    """Write index.html, report.tex, results.json (and report.pdf) into ``directory``.

    A report set is all new or all old: every file is rendered (and the PDF built) before anything
    is written; then the files are written beside their targets, a report.pdf this run does not
    replace is removed, and the new files are renamed into place."""
    data = build(claims, results, seed, generated_at, kernels)
    tex = render_latex(data)
    files = {"index.html": _utf8(render_html(data)), "report.tex": _utf8(tex), "results.json": _utf8(render_json(data))}
    written = Written()
    if pdf:
        pdf_bytes, message, failed = compile_pdf(tex)
        (written.problems if failed else written.messages).append(message)
        if pdf_bytes is not None:
            files["report.pdf"] = pdf_bytes
    write_atomically(Path(directory), files, remove=[name for name in REPORT_FILES if name not in files])
    return written


def _utf8(text: str) -> bytes:
    """A lone surrogate (possible in a Python claim file's strings) is written as an escape, not a crash."""
    return text.encode("utf-8", errors="backslashreplace")
