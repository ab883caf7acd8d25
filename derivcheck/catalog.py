"""Finding and loading claims: Python catalog modules and TOML claim files.

A Python module exposes its claims as a module-level list ``CLAIMS``.  Loading
never checks anything; it only turns files into Claim objects, or raises
ClaimFileError naming the file and line of what cannot be used.
"""
from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

from .claims import Claim, Kernel
from .parse import ClaimFileError, load_toml

__all__ = ["ClaimFileError", "discover", "load_file", "load_paths", "load_kernels"]

SUFFIXES = (".py", ".toml")
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".tex", ".ipynb")


def discover(directory: Path) -> list[Path]:
    """Claim files in a directory (not recursive), in name order; skips _private.py."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ClaimFileError(f"{directory}: no such directory")
    return sorted(p for p in directory.iterdir()
                  if p.suffix in SUFFIXES and not p.name.startswith("_") and p.is_file())


def _import(path: Path):
    name = f"derivcheck_claims_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ClaimFileError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if Path(fr.filename) == path]
        line = frames[-1].lineno if frames else 0
        raise ClaimFileError(f"{path}:{line}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def _load_python(path: Path) -> list[Claim]:
    module = _import(path)
    claims = getattr(module, "CLAIMS", None)
    if not isinstance(claims, (list, tuple)) or not all(isinstance(c, Claim) for c in claims):
        raise ClaimFileError(f"{path}: a catalog module must define CLAIMS, a list of claims")
    return list(claims)


def load_file(path: Path, declare=None) -> list[Claim]:
    path = Path(path)
    if not path.exists():
        raise ClaimFileError(f"{path}: no such file")
    if path.suffix == ".py":
        return _load_python(path)
    if path.suffix == ".toml":
        return load_toml(path)
    if path.suffix in DOCUMENT_SUFFIXES:  # a document as written: its displayed equations (latex/)
        from .latex import load_document

        return list(load_document(path, declare).claims)
    raise ClaimFileError(f"{path}: expected a .py or .toml claim file, or a document (.md, .tex, .ipynb)")


def load_paths(paths, declare=None) -> list[Claim]:
    """Claims from files and directories; all problems are collected into one ClaimFileError."""
    files: list[Path] = []
    errors: list[str] = []
    for p in map(Path, paths):
        try:
            files.extend(discover(p) if p.is_dir() else [p])
        except ClaimFileError as exc:
            errors.append(str(exc))
    claims: list[Claim] = []
    for path in files:
        try:
            claims.extend(load_file(path, declare))
        except ClaimFileError as exc:
            errors.append(str(exc))
    seen: dict[str, str] = {}
    for c in claims:
        if c.id in seen:
            errors.append(f"{c.origin or '?'}: claim id {c.id!r} is also used at {seen[c.id] or '?'}")
        seen.setdefault(c.id, c.origin)
    if errors:
        raise ClaimFileError("\n".join(errors))
    return claims


def load_kernels(directory) -> list[Kernel]:
    """The kernel specifications (module-level ``KERNELS``) of the catalog's Python modules."""
    kernels: list[Kernel] = []
    for path in discover(Path(directory)):
        if path.suffix == ".py":
            found = getattr(_import(path), "KERNELS", [])
            if not all(isinstance(k, Kernel) for k in found):
                raise ClaimFileError(f"{path}: KERNELS must be a list of Kernel specifications")
            kernels.extend(found)
    return kernels
