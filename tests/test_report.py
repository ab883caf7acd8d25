"""Reports: HTML in a real browser, escaping, determinism, atomic writes, LaTeX, JSON."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derivcheck import derivation, dims, gradient, grad, identity, log, matrix, sigmoid, sum, tanh, value
from derivcheck import report
from derivcheck.check import check_all

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


@pytest.fixture(scope="module")
def checked():
    claims = _claims()
    return claims, check_all(claims, seed=0, jobs=1)


def _write(tmp_path, claims, results, stamp="2026-01-01 00:00:00 UTC", **kw):
    kw.setdefault("pdf", False)
    report.write_reports(tmp_path, claims, results, 0, stamp, jobs=1, **kw)
    return {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}


def test_reports_are_written_and_say_what_was_shown(checked, tmp_path):
    files = _write(tmp_path, *checked)
    assert set(files) == {"index.html", "report.tex", "results.json"}
    html = files["index.html"].decode()
    assert html.count("<math") == 8  # one statement each, three lines for the derivation
    assert "formula not shown" not in html and "<mtable" in html  # the stated matrix of a worked example
    assert "proved for all dimensions" in html and "refuted" in html and "ill-formed" in html
    assert html.count("<svg") == 2  # the two gradient claims get a convergence picture
    assert "claimed" in html and "true" in html  # the counterexample of r.bce.dW.sign
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
        runs.append(_write(out, claims, check_all(claims, seed=0, jobs=1), stamp))
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


@pytest.mark.skipif(report.tex_engine() is None, reason="no TeX engine (latexmk or pdflatex) installed")
def test_latex_report_compiles(checked, tmp_path):
    files = _write(tmp_path, *checked, pdf=True)
    assert files["report.pdf"].startswith(b"%PDF")


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
