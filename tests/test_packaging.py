"""The package as `pip install .` builds it: the catalog ships inside it and is found from any folder."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from a copy of the sources (the checkout is not written to), unpacked: what
    `pip install .` puts in site-packages."""
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("derivcheck", "identities"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("derivcheck-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    return site


def test_the_wheel_ships_the_catalog_and_the_templates(installed):
    shipped = {p.name for p in (installed / "derivcheck" / "identities").iterdir()}
    assert {p.name for p in (ROOT / "identities").glob("*.py")} <= shipped and "README.md" in shipped
    declarations = {p.name for p in (ROOT / "identities" / "declarations").glob("*.toml")}
    assert declarations <= {p.name for p in (installed / "derivcheck" / "identities" / "declarations").glob("*")}
    assert (installed / "derivcheck" / "templates" / "report.html").exists()
    assert (installed / "derivcheck" / "kernels" / "_runtime.py").exists()
    sources = {p.relative_to(ROOT) for p in (ROOT / "derivcheck").rglob("*") if p.suffix in (".py", ".lark", ".j2")}
    missing = [str(p) for p in sources if not (installed / p).exists()]
    assert not missing, f"not in the wheel (add the package to pyproject.toml's packages): {missing}"


def test_the_installed_package_checks_its_catalog_from_any_folder(installed, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(installed), XDG_CACHE_HOME=str(tmp_path / "cache"))
    run = dict(cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    listing = subprocess.run([sys.executable, "-m", "derivcheck", "list"], **run)
    assert listing.returncode == 0, listing.stderr
    assert len(listing.stdout.splitlines()) == len(subprocess.run(
        [sys.executable, "-m", "derivcheck", "list", "--catalog", ROOT / "identities"], **run).stdout.splitlines())
    r = subprocess.run([sys.executable, "-m", "derivcheck", "all", "--only", "ng.inner.*", "--no-report"], **run)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PASSED") and "wall clock" in r.stdout
    assert not any((installed / "derivcheck" / "identities").glob("*.tmp"))


# modules derivcheck imports that are not its declared dependencies, and why that is fine
NOT_DEPENDENCIES = {
    "derivcheck": "itself",
    "pytest": "only the pytest plugin imports it, and pytest is what loads that plugin",
    "markupsafe": "installed with jinja2, which requires it",
}


def test_every_module_the_package_imports_is_a_declared_dependency():
    """A fresh `pip install .` gets only what pyproject.toml declares (scipy was once missing)."""
    import ast
    import importlib.metadata
    import re
    import tomllib

    declared = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in
                tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for path in (ROOT / "derivcheck").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in NOT_DEPENDENCIES}
    undeclared = {m: distributions.get(m, [m]) for m in third_party
                  if not {d.lower() for d in distributions.get(m, [m])} & declared}
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"
