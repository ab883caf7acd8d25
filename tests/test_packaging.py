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
