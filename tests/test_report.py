"""Reports: HTML in a real browser, escaping, determinism, atomic writes, LaTeX, JSON, convergence pictures."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derivcheck import derivation, dims, gradient, grad, identity, log, matrix, sigmoid, sum, tanh, value
from derivcheck import plots, report
from derivcheck.check import Limits, check_all
from derivcheck.texescape import tex_escape, tex_math

ROOT = Path(__file__).resolve().parent.parent

m, n = dims("m n")
X, W = matrix("X", m, n), matrix("W", n, 1)
y = matrix("y", m, 1, assume="binary")
A = sigmoid(X @ W)


def _claims(evil: str = ""):
    loss = -sum(y * log(A) + (1 - y) * log(1 - A)) / m
    return [
        gradient("r.bce.dW", loss, W, X.T @ (A - y) / m, source="test §1 (the sigmoid + BCE collapse)",
                 expect="holds"),
        gradient("r.bce.dW.sign" + evil, loss, W, X.T @ (y - A) / m, source="test §1 " + evil, expect="fails",
                 note="Sign flipped " + evil + "; correct: claim r.bce.dW."),
        derivation("r.derivation", [grad(sum(tanh(X @ W)), W), X.T @ (1 - tanh(X @ W) ** 2),
                                    X.T @ (1 + tanh(X @ W) ** 2)], source="test §2", expect="fails",
                   note="the last step flips the sign of the square"),
        value("r.value", sigmoid(matrix("t", 1, 1)), {"t": 0.0}, 0.5, source="test §3", expect="holds"),
        value("r.value.matrix", matrix("M", 2, 2).T, {"M": [[1, 2], [3, 4]]}, [[1, 3], [2, 4]], source="test §3",
              expect="holds"),
        identity("r.shapes", X, X.T, source="test §4", expect="fails", note="a matrix is not its transpose"),
    ]


REPORTING = Limits(convergence=True)  # what the CLI asks for when it writes a report


@pytest.fixture(scope="module")
def checked():
    claims = _claims()
    return claims, check_all(claims, seed=0, limits=REPORTING, jobs=1)


def _section(html: str, cid: str) -> str:
    """The HTML of one claim's section."""
    match = re.search(r'<section class="claim [a-z]+" id="%s">(.*?)</section>' % re.escape(cid), html, re.S)
    assert match, cid
    return match.group(1)


def _badge(html: str, cid: str) -> tuple[str, str]:
    """(verdict class, words) of the badge in a claim's heading."""
    match = re.search(r'<h3>%s <span class="badge v-([a-z_]+)">([^<]+)</span>' % re.escape(cid), _section(html, cid))
    assert match, cid
    return match.groups()


def _write(tmp_path, claims, results, stamp="2026-01-01 00:00:00 UTC", **kw):
    kw.setdefault("pdf", False)
    report.write_reports(tmp_path, claims, results, 0, stamp, **kw)
    return {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}


def test_reports_are_written_and_say_what_was_shown(checked, tmp_path):
    files = _write(tmp_path, *checked)
    assert set(files) == {"index.html", "report.tex", "results.json"}
    html = files["index.html"].decode()
    assert html.count("<math") == 8  # one statement each, three lines for the derivation
    assert "formula not shown" not in html and "<mtable" in html  # the stated matrix of a worked example
    assert {cid: _badge(html, cid) for cid in ("r.bce.dW", "r.bce.dW.sign", "r.derivation", "r.value",
                                                "r.shapes")} == {
        "r.bce.dW": ("proved", "proved for all dimensions"), "r.bce.dW.sign": ("refuted", "refuted"),
        "r.derivation": ("refuted", "refuted"), "r.value": ("confirmed", "confirmed numerically"),
        "r.shapes": ("ill_formed", "ill-formed")}  # each claim's own badge, not the page's introduction
    assert html.count("<svg") == 2  # the two gradient claims get a convergence picture, in their own colour
    assert _section(html, "r.bce.dW").count('stroke="#1a7f37"') == 1
    assert _section(html, "r.bce.dW.sign").count('stroke="#cf222e"') == 1
    counterexample = re.search(r'<div class="counterexample">(.*?)</div>', _section(html, "r.bce.dW.sign"), re.S)
    assert counterexample and re.search(r"claimed -?[0-9.e-]+, true -?[0-9.e-]+", counterexample.group(1))
    assert "step 2: refuted" in html  # the derivation's broken step is labelled
    assert '<a href="#r.bce.dW">r.bce.dW</a>.' in html  # a note's corrected claim is a link
    data = json.loads(files["results.json"])
    assert {c["id"]: c["verdict"] for c in data["claims"]} == {
        "r.bce.dW": "proved", "r.bce.dW.sign": "refuted", "r.derivation": "refuted",
        "r.value": "confirmed", "r.value.matrix": "confirmed", "r.shapes": "ill_formed"}
    curve = dict(next(c for c in data["claims"] if c["id"] == "r.bce.dW")["evidence"]["convergence"])
    assert curve[1e-1] > 100 * curve[1e-4]  # a true derivative converges as h shrinks ...
    assert list(curve) == sorted(curve, reverse=True) and len(curve) == 8
    wrong = dict(next(c for c in data["claims"] if c["id"] == "r.bce.dW.sign")["evidence"]["convergence"])
    assert min(wrong.values()) > 0.5  # ... a wrong one levels off at its error


def test_same_seed_same_bytes_apart_from_the_generated_line(tmp_path):
    runs = []
    for k, stamp in enumerate(["2026-01-01 00:00:00 UTC", "2026-02-02 12:34:56 UTC"]):
        claims = _claims()
        out = tmp_path / str(k)
        runs.append(_write(out, claims, check_all(claims, seed=0, limits=REPORTING, jobs=1), stamp))
    for name in runs[0]:
        a, b = runs[0][name].decode().splitlines(), runs[1][name].decode().splitlines()
        assert len(a) == len(b)
        differing = [i for i, (x, z) in enumerate(zip(a, b)) if x != z]
        assert len(differing) == 1 and "2026-02-02" in b[differing[0]], name


def test_a_failed_run_leaves_the_previous_reports_intact(checked, tmp_path, monkeypatch):
    before = _write(tmp_path, *checked)

    def broken(data):
        raise RuntimeError("interrupted while rendering")

    monkeypatch.setattr(report, "render_latex", broken)
    with pytest.raises(RuntimeError):
        _write(tmp_path, *checked, stamp="2027-01-01 00:00:00 UTC")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    monkeypatch.undo()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    from derivcheck import files
    monkeypatch.setattr(files.os, "fsync", disk_full)  # the disk fills up while writing
    with pytest.raises(OSError):
        _write(tmp_path, *checked, stamp="2027-01-01 00:00:00 UTC")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # and no temporary files are left


def test_ids_notes_and_sources_are_escaped(tmp_path):
    evil = "<script>alert('x')</script> & co"
    claims = _claims(evil)
    files = _write(tmp_path, claims, check_all(claims, seed=0, jobs=1))
    html = files["index.html"].decode()
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
    tex = files["report.tex"].decode()
    assert r"</script> \& co" in tex and "</script> & co" not in tex  # < and > are plain text under T1
    assert json.loads(files["results.json"])["claims"][1]["note"] == "Sign flipped " + evil + "; correct: claim r.bce.dW."


def test_latex_escaping_of_specials_and_unicode():
    assert report.tex_escape("a_b & 50% #1 {x} ~ ^") == r"a\_b \& 50\% \#1 \{x\} \~{} \^{}"
    assert report.tex_escape("σ′(z) ⊙ Wᵀ") == r"\ensuremath{\sigma}\ensuremath{'}(z) \ensuremath{\odot} W\ensuremath{^{\top}}"
    assert report.tex_escape("Δ") == r"\ensuremath{\Delta}"


# every character a claim's text may carry: the whole of Unicode's first planes (and a few beyond),
# controls, lone surrogates, TeX's specials and its ^^ notation
HOSTILE = ("".join(chr(c) for c in (*range(0x3000), *range(0xFB00, 0xFB50), *range(0xFE00, 0x10000)))
           + "\U0001F600\U0001D400\U0010FFFF e\u0301 \\end{document} ^^M $x$ %{ \\input{/etc/passwd}")


def _balanced(tex: str) -> bool:
    depth = 0
    for token in re.findall(r"\\.|[{}]", tex):
        depth += {"{": 1, "}": -1}.get(token, 0)
        if depth < 0:
            return False
    return depth == 0


def test_latex_escaping_leaves_only_printable_ascii_with_balanced_braces():
    for text in (HOSTILE, *HOSTILE[::97]):  # the whole sweep, and characters one at a time
        tex = tex_escape(text)
        assert all(ch == "\n" or " " <= ch <= "~" for ch in tex), ascii(text[:20])
        assert _balanced(tex) and "\n\n" not in tex, ascii(text[:20])  # a blank line ends a paragraph in an argument
        assert max(len(line) for line in tex.splitlines()) < 2000  # pdflatex reads at most 200,000 bytes a line
    names = tex_math(r"\alpha + Βα_{ñ} + Ｘ")  # formulas keep their LaTeX; names may be any letter
    assert names == r"\alpha + \text{\ensuremath{\mathrm{B}}}\text{\ensuremath{\alpha}}_{\text{\~{n}}} + \text{X}"
    assert tex_escape("Β ß é ǘ Ｘ \x00\u200b😀") == (r"\ensuremath{\mathrm{B}} \ss{} \'{e} \'{\"{u}} X "
                                                    r"\texttt{[U+0000]}\texttt{[U+1F600]}")


def _hostile_claims():
    """Claims whose id, source, note and symbol names carry hostile text (Β in a note: issue 11)."""
    g = matrix("Βαñ", m, n)  # a Unicode name reaches the formulas' LaTeX
    return [identity("h.Βeta." + HOSTILE[:40].replace("\x00", ""), g + g, 2 * g, source="§ Β " + HOSTILE[::7],
                     note="Β " + HOSTILE, expect="holds"),
            identity("h.greek", g, g.T, source="Ω", note="ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ αβγδεζηθικλμνξοπρστυφχψω",
                     expect="fails")]


@pytest.mark.skipif(report.tex_engine() is None, reason="no TeX engine (pdflatex or latexmk) installed; "
                    "the escaping itself is checked without TeX above")
def test_latex_report_compiles_whatever_text_the_claims_carry(checked, tmp_path):
    claims = checked[0] + _hostile_claims()
    results = checked[1] + check_all(claims[len(checked[0]):], seed=0, jobs=1)
    written = report.write_reports(tmp_path, claims, results, 0, "2026-01-01 00:00:00 UTC", kernels=())
    assert written.problems == [], written.problems
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    if report.tex_engine()[0] == "pdflatex":  # and nothing is lost off the page: TeX drops what lies beyond
        subprocess.run(report.tex_engine(), cwd=tmp_path, capture_output=True)  # its largest dimension
        log = (tmp_path / "report.log").read_text(errors="replace")
        assert max(map(float, re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide", log)), default=0) < 16000


def test_a_report_set_is_never_mixed_with_an_old_pdf(checked, tmp_path, monkeypatch):
    (tmp_path / "report.pdf").write_bytes(b"%PDF an old report")
    monkeypatch.setattr(report, "compile_pdf", lambda tex: (None, "pdflatex failed (exit 1): no report.pdf", True))
    written = _write_set(tmp_path, checked)
    assert written.problems == ["pdflatex failed (exit 1): no report.pdf"]  # reported, not swallowed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "report.tex", "results.json"]

    monkeypatch.setattr(report, "compile_pdf", lambda tex: (b"%PDF new", "report.pdf written by pdflatex", False))
    assert _write_set(tmp_path, checked).problems == []
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF new"
    monkeypatch.setattr(report, "compile_pdf", lambda tex: (None, "no TeX engine installed: report.pdf skipped", False))
    written = _write_set(tmp_path, checked)  # no TeX here: nothing to fail, but the old PDF must go
    assert written.problems == [] and written.messages == ["no TeX engine installed: report.pdf skipped"]
    assert not (tmp_path / "report.pdf").exists()


def _write_set(directory, checked):
    return report.write_reports(directory, *checked, 0, "2026-01-01 00:00:00 UTC")


def test_a_failed_pdf_build_fails_the_command_and_removes_the_old_pdf(tmp_path):
    """A TeX that fails (here a stand-in pdflatex on the PATH) gives exit 2 and a message, not a quiet 0."""
    claim_file = tmp_path / "claims.toml"
    claim_file.write_text('[symbols]\nX = [2, 3]\n[[claim]]\nid = "cli.Βeta"\nkind = "identity"\n'
                          'lhs = "X + X"\nrhs = "2*X"\nnote = "Β"\n', encoding="utf-8")
    tex_bin = tmp_path / "bin"
    tex_bin.mkdir()
    fake = tex_bin / "pdflatex"
    fake.write_text("#!/bin/sh\necho '! LaTeX Error: a stand-in that always fails.'\nexit 1\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"%PDF an old report")
    env = dict(os.environ, PATH=f"{tex_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([sys.executable, "-m", "derivcheck", "check", str(claim_file), "--report", str(out)],
                       cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 2, r.stderr
    assert "pdflatex failed" in r.stderr and "a stand-in that always fails" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report.tex", "results.json"]


def test_text_that_utf8_cannot_encode_does_not_lose_the_report(checked, tmp_path):
    claims = checked[0] + [identity("r.surrogate", X, X, note="half a pair: \ud800", expect="holds")]
    results = checked[1] + check_all(claims[-1:], seed=0, jobs=1)
    files = _write(tmp_path, claims, results)
    assert "half a pair: \\ud800" in files["index.html"].decode()
    assert json.loads(files["results.json"])["claims"][-1]["note"] == "half a pair: \ud800"


def test_convergence_curves_are_computed_only_when_a_report_asks(checked):
    claims, results = checked
    with_curves = {r.id: r.verdict.convergence for r in results}
    assert len(with_curves["r.bce.dW"]) == 8
    without = {r.id: r.verdict.convergence for r in check_all(claims[:2], seed=0, jobs=1)}
    assert without == {"r.bce.dW": [], "r.bce.dW.sign": []}


def test_convergence_picture_puts_points_where_the_axes_say():
    f = plots.FRAME
    svg = str(plots.convergence_svg([(1e-4, 1e-8), (1e-8, 0.0), (1e-10, float("nan")), (1e-12, 1e5)], True))
    ticks = dict((label, float(x)) for x, label in re.findall(r'<text x="([0-9.]+)" y="[0-9.]+">(1e-\d+|1)</text>',
                                                                svg))
    y_ticks = dict((label, float(y)) for y, label in re.findall(r'<text x="[0-9.]+" y="([0-9.]+)" dy="3">([^<]+)</text>',
                                                                  svg))
    lines = re.findall(r'points="([^"]+)"', svg)
    runs = [[tuple(map(float, p.split(","))) for p in line.split()] for line in lines]
    assert len(runs) == 2  # the NaN point breaks the line
    (x1, y1), (x2, y2) = runs[0]
    assert (x1, y1) == (ticks["1e-4"], y_ticks["1e-8"])  # h = 1e-4, discrepancy 1e-8 sit on their ticks
    assert (x2, y2) == (ticks["1e-8"], f.bottom)  # an exact zero sits on the bottom axis
    assert runs[1] == [(ticks["1e-12"], f.top)]  # a value above the frame sits on its top edge
    assert 'stroke="#1a7f37"' in svg and 'stroke="#cf222e"' in str(plots.convergence_svg([(1e-4, 1.0)], False))
    assert svg.startswith("<svg") and 'viewBox="0 0 300 200"' in svg  # inline, scalable


def _browser():
    """A headless Chromium driven by Selenium, or the reason there is none."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, "selenium is not installed (pip install -e '.[test]')"
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        return None, "chromium and chromedriver are not installed (.ci/run installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,1600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options), ""


def test_index_html_renders_in_a_real_browser(checked, tmp_path):
    browser, why = _browser()
    if browser is None:
        pytest.skip(why)
    _write(tmp_path, *checked)
    try:
        browser.get((tmp_path / "index.html").as_uri())
        sizes = browser.execute_script(
            "return Array.from(document.querySelectorAll('math')).map(m => {"
            "const r = m.getBoundingClientRect(); return [r.width, r.height];})")
        svgs = browser.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().height)")
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        shot = tmp_path / "index.png"
        browser.save_screenshot(str(shot))
    finally:
        browser.quit()
    assert len(sizes) == 8
    assert all(w > 0 and h > 0 for w, h in sizes), sizes
    assert len(svgs) == 2 and all(h > 0 for h in svgs)
    assert errors == []
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_check_writes_reports_when_asked(tmp_path):
    claim_file = tmp_path / "claims.toml"
    claim_file.write_text('''dims = ["m", "n"]
[symbols]
X = ["m", "n"]
W = ["n", 1]
[[claim]]
id = "cli.grad"
kind = "gradient"
f = "sum(tanh(X @ W))"
wrt = "W"
claimed = "X.T @ (1 - tanh(X @ W)**2)"
''')
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "derivcheck", "check", str(claim_file), "--report", str(out)],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {"index.html", "report.tex", "results.json"} <= {p.name for p in out.iterdir()}
    assert "writing reports to" in r.stderr
    r = subprocess.run([sys.executable, "-m", "derivcheck", "check", str(claim_file)], cwd=tmp_path,
                       capture_output=True, text=True)
    assert "writing reports" not in r.stderr  # check writes reports only when asked

    blocked = tmp_path / "a_file"
    blocked.write_text("not a directory")
    r = subprocess.run([sys.executable, "-m", "derivcheck", "check", str(claim_file), "--report", str(blocked)],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "cannot write reports" in r.stderr and "Traceback" not in r.stderr
