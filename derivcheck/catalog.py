"""Finding and loading claims: Python catalog modules and TOML claim files.

A Python module exposes its claims as a module-level list ``CLAIMS`` (and the
catalog's modules their kernels as ``KERNELS``).  Loading never checks
anything; it only turns files into Claim objects, or raises ClaimFileError
naming the file and line of what cannot be used.

A Python claim file is a program: importing it runs it with the user's
permissions.  What can be contained here is: a file in a directory is imported
only when its source text assigns ``CLAIMS`` at top level (``setup.py`` and
helpers are skipped, and the run says so); an import is bounded in time; its
printing goes to standard error (standard output carries ``--json``);
``sys.exit``, ``KeyboardInterrupt`` and any other exception raised by the
module become a ClaimFileError.  What cannot be contained in-process
(``os._exit``, a loop inside C code, changes to the interpreter's state) is
why untrusted claims belong in TOML files, which are only ever parsed.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import importlib.util
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path


__all__ = ["ClaimFileError", "DOCUMENT_SUFFIXES", "Loaded", "discover", "declares_claims", "default_catalog", "load", "load_file",
           "load_paths", "load_kernels", "IMPORT_SECONDS"]

IMPORT_SECONDS = 30.0  # how long importing one Python claim file may take


class ClaimFileError(Exception):
    """A claim file that cannot be used at all (the message names file and line)."""


# SymPy and the expression modules are imported by the loaders, not here: `derivcheck list`
# answers from its cache without them.


@dataclass
class Loaded:
    """What a set of paths holds: claims in file order, the kernel specifications of the Python
    modules, and the files of a directory that were not claim files (with why)."""

    claims: list = field(default_factory=list)
    kernels: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # "path: reason"
    files: list = field(default_factory=list)  # the claim files read


def default_catalog() -> Path:
    """The catalog that ships with derivcheck: ``derivcheck/identities`` in an installed package,
    ``identities/`` beside the package in a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "identities", package.parent / "identities"):
        if candidate.is_dir():
            return candidate
    return package / "identities"


# ---------------------------------------------------------------- which files are claim files


@functools.lru_cache(maxsize=64)  # a directory's files are looked at when found and again when loaded
def declares_claims(source: str) -> bool:
    """Whether Python source assigns (or imports) ``CLAIMS`` outside any function or class:
    decided from the text alone, before anything in it runs."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "CLAIMS" in source  # a broken claim module is reported when imported, anything else skipped
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Name) and node.id == "CLAIMS" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == "CLAIMS":
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


SUFFIXES = (".py", ".toml")  # claim files found in a directory
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".tex", ".ipynb")  # documents as written, read when named (latex/)


def _python_claim_file(path: Path) -> str | None:
    """None when path is a Python claim module, else why it is skipped."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({exc})"
    return None if declares_claims(source) else "a claim module must define CLAIMS at top level"


def discover(directory: Path, skipped: list | None = None) -> list[Path]:
    """Claim files in a directory (not recursive), in name order; skips _private.py and Python
    files whose source does not assign CLAIMS (appending "path: reason" to ``skipped``)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ClaimFileError(f"{directory}: no such directory")
    found = []
    for p in sorted(directory.iterdir()):
        if p.suffix not in SUFFIXES or p.name.startswith("_") or not p.is_file():
            continue
        why = _python_claim_file(p) if p.suffix == ".py" else None
        if why is None:
            found.append(p)
        elif skipped is not None:
            skipped.append(f"{p}: {why}")
    return found


# ---------------------------------------------------------------- importing a Python claim file


@contextlib.contextmanager
def _contained(seconds: float):
    """While a claim module runs: its stdout goes to stderr (Python-level and file descriptor 1),
    it is interrupted after ``seconds`` (timelimit.py: a BaseException, which the module's own
    ``except Exception`` cannot swallow), and a real Ctrl-C is told apart from a KeyboardInterrupt
    the module raises itself (``state["interrupted"]``)."""
    from .timelimit import time_limit

    state = {"interrupted": False}
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_interrupt(signum, frame):
            state["interrupted"] = True
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_interrupt)
    sys.stdout.flush()
    saved_fd = None
    with contextlib.suppress(OSError, ValueError):
        saved_fd = os.dup(1)
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr), time_limit(seconds):
            yield state
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _line_in(path: Path, exc: BaseException) -> int:
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if Path(fr.filename) == path]
    return frames[-1].lineno if frames else 0


def _import(path: Path, seconds: float):
    name = f"derivcheck_claims_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ClaimFileError(f"{path}: cannot be imported as a Python module")
    from .timelimit import StageTimeout

    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _contained(seconds) as state:
            spec.loader.exec_module(module)
    except KeyboardInterrupt as exc:
        if state["interrupted"]:
            raise  # the user pressed Ctrl-C
        raise ClaimFileError(f"{path}:{_line_in(path, exc)}: the module raised KeyboardInterrupt while "
                             "being loaded") from None
    except SystemExit as exc:
        raise ClaimFileError(f"{path}:{_line_in(path, exc)}: the module called sys.exit({exc.code!r}) while "
                             "being loaded; a claim module only defines CLAIMS") from None
    except StageTimeout:
        raise ClaimFileError(f"{path}: loading it took more than {seconds:g} s and was stopped (a Python claim "
                             "file is a program that runs when loaded; --time-limit sets this bound)") from None
    except BaseException as exc:  # anything a module raises is a problem of that file, named with its line
        where = f"{path}:{_line_in(path, exc)}"
        raise ClaimFileError(f"{where}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def _checked(claim, memo: dict):
    """A claim that cannot be checked at all keeps its id and gets the reason as its error; a claim
    too deep for the engines also loses its expressions, so that nothing (reports, caches) walks them.
    ``memo`` (node id -> depth) is shared by the claims of a file, which share their definitions."""
    from .validate import claim_expressions, claim_problem, depth_problem

    if any(depth_problem(e, memo) for e in claim_expressions(claim)):
        dropped = {k: None for k in _EXPRESSION_FIELDS if getattr(claim, k) is not None}
        return dataclasses.replace(claim, **dropped, steps=(),
                                   error=f"{claim.origin}: claim {claim.id}: {claim_problem(claim, memo)}")
    problem = claim_problem(claim, memo)
    if problem is None:
        return claim
    return dataclasses.replace(claim, error=f"{claim.origin}: claim {claim.id}: {problem}")


_EXPRESSION_FIELDS = ("lhs", "rhs", "f", "wrt", "claimed", "direction", "expr")


def _load_python(path: Path, seconds: float, declare=None) -> tuple[list, list]:
    from .claims import Claim, Kernel

    why = _python_claim_file(path)
    if why is not None:
        raise ClaimFileError(f"{path}: not a claim module: {why} (the file was not run)")
    module = _import(path, seconds)
    claims = getattr(module, "CLAIMS", None)
    if not isinstance(claims, (list, tuple)) or not all(isinstance(c, Claim) for c in claims):
        raise ClaimFileError(f"{path}: a catalog module must define CLAIMS, a list of claims")
    bad = next((c for c in claims if not isinstance(c.id, str) or not c.id.strip()), None)
    if bad is not None:
        raise ClaimFileError(f"{bad.origin or path}: a claim without an id")
    kernels = getattr(module, "KERNELS", [])
    if not isinstance(kernels, (list, tuple)) or not all(isinstance(k, Kernel) for k in kernels):
        raise ClaimFileError(f"{path}: KERNELS must be a list of Kernel specifications")
    return list(claims), list(kernels)


def _load_toml(path: Path, seconds: float, declare) -> tuple[list, list]:
    from .parse import load_toml

    return load_toml(path), []


def _load_document(path: Path, seconds: float, declare) -> tuple[list, list]:
    from .latex import load_document

    return list(load_document(path, declare).claims), []


# suffix -> (path, import seconds, declarations file of documents) -> (claims, kernels)
_LOADERS = {".py": _load_python, ".toml": _load_toml,
            **dict.fromkeys(DOCUMENT_SUFFIXES, _load_document)}


def _load_one(path: Path, seconds: float, declare=None) -> tuple[list, list]:
    path = Path(path)
    if not path.exists():
        raise ClaimFileError(f"{path}: no such file")
    if path.is_dir():
        raise ClaimFileError(f"{path}: is a directory")
    loader = _LOADERS.get(path.suffix)
    if loader is None:
        raise ClaimFileError(f"{path}: expected a .py or .toml claim file, or a document (.md, .tex, .ipynb)")
    claims, kernels = loader(path, seconds, declare)
    memo: dict = {}
    return [c if c.error else _checked(c, memo) for c in claims], kernels


def load_file(path: Path, declare=None, seconds: float = IMPORT_SECONDS) -> list:
    return _load_one(path, seconds, declare)[0]


def load(paths, seconds: float = IMPORT_SECONDS, declare=None) -> Loaded:
    """Claims and kernels from files and directories; all problems are collected into one
    ClaimFileError.  A directory without any claim file, or paths holding no claim, is an error."""
    out = Loaded()
    errors: list[str] = []
    for p in map(Path, paths):
        try:
            if p.is_dir():
                found = discover(p, out.skipped)
                if not found:
                    errors.append(f"{p}: no claim files here (.py modules that define CLAIMS, or .toml files)")
                out.files.extend(found)
            else:
                out.files.append(p)
        except ClaimFileError as exc:
            errors.append(str(exc))
    for path in out.files:
        try:
            claims, kernels = _load_one(path, seconds, declare)
        except ClaimFileError as exc:
            errors.append(str(exc))
            continue
        out.claims.extend(claims)
        out.kernels.extend(kernels)
    seen: dict[str, str] = {}
    for c in out.claims:
        if c.id in seen:
            errors.append(f"{c.origin or '?'}: claim id {c.id!r} is also used at {seen[c.id] or '?'}")
        seen.setdefault(c.id, c.origin)
    if not errors and not out.claims:
        errors.append(f"{', '.join(map(str, paths)) or 'no paths'}: no claims in "
                      f"{'this file' if len(out.files) == 1 else 'these files'}")
        documents = [p for p in out.files if p.suffix in DOCUMENT_SUFFIXES]
        if documents:  # say why each equation of a document was not turned into a claim
            from .latex import coverage_text, load_document

            errors.append(coverage_text([load_document(p, declare) for p in documents]))
    if errors:
        raise ClaimFileError("\n".join(errors))
    return out


def load_paths(paths, declare=None, seconds: float = IMPORT_SECONDS) -> list:
    """The claims of files and directories (see ``load``)."""
    return load(paths, seconds, declare).claims


def load_kernels(directory, seconds: float = IMPORT_SECONDS) -> list:
    """The kernel specifications (module-level ``KERNELS``) of a catalog's Python modules."""
    return load([directory], seconds).kernels
