"""The result cache: a claim is checked again only when something its verdict depends on changed.

The key of a result is a SHA-256 over everything the verdict depends on:

- the claim: every field (its id — instances are drawn from the seed and the
  id —, kind, each expression as a hash of its tree, so definitions, the
  shapes and assumptions of its symbols and generic functions are in it,
  worked-example numbers, size relations); not its source, note, ``expect``,
  line or LaTeX, which the result is re-labelled with.  A claim carrying a
  program (``code`` claims) is never cached: a program cannot be keyed;
- the run: the seed, the time limits, whether proofs are tried and whether the
  convergence curves (drawn only in reports) are computed;
- the code: the text of every Python file of the derivcheck package, and the
  versions of Python, SymPy, NumPy, mpmath and gmpy2.

A result that depends on timing is never stored: an inconclusive verdict, a
stage that timed out anywhere (derivation steps included), an internal-error
alarm.  A claim whose text could not be read is not stored either (it costs
nothing to re-check).

Storage is one SQLite database (``sqlite3``, in the standard library): its
transactions and file locks make concurrent runs safe, and a damaged file is
detected by SQLite itself.  A library such as diskcache would put the same
SQLite underneath for one more dependency.  Verdicts are pickled (they are
plain dataclasses); the folder is created private to the user, since
unpickling trusts the file.  A damaged database is moved aside and a new one
started; a locked or unwritable one makes the run go on without the cache.
The ``list`` command caches its listing here too, keyed by the content of the
claim files, so that it answers without importing SymPy.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import sqlite3
import sys
import time
from pathlib import Path

__all__ = ["CacheError", "Store", "default_directory", "claim_key", "listing_key", "cacheable", "source_fingerprint"]

SCHEMA = 1  # bump when the stored form changes
KEEP_DAYS = 60  # entries older than this are pruned
DB_NAME = "results.sqlite3"
PACKAGE = Path(__file__).resolve().parent


class CacheError(Exception):
    """The cache folder or database cannot be used (the run goes on without it)."""


def default_directory() -> Path:
    """The user's cache folder for derivcheck (platformdirs: XDG on Linux, ~/Library/Caches on macOS,
    %LOCALAPPDATA% on Windows)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("derivcheck", appauthor=False))


# ---------------------------------------------------------------- keys


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of every Python file of the derivcheck package (the shipped catalog aside: claims are
    keyed by their own content)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("identities", "__pycache__"):
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _versions() -> str:
    import gmpy2
    import mpmath
    import numpy
    import sympy

    return f"python {sys.version_info[:3]} sympy {sympy.__version__} numpy {numpy.__version__} " \
           f"mpmath {mpmath.__version__} gmpy2 {gmpy2.version()}"


def _atom(value) -> str:
    """Canonical text of a node's non-expression field."""
    import sympy

    if isinstance(value, sympy.Basic):
        return sympy.srepr(value)
    if isinstance(value, (frozenset, set)):
        return repr(sorted(map(str, value)))
    if hasattr(value, "generic") and hasattr(value, "name"):  # an elementwise or generic function
        return f"{'generic' if value.generic else 'function'} {value.name}"
    return repr(value)


def expression_hash(e, memo: dict) -> str:
    """A hash of an expression tree (a Merkle hash: node type, fields, children's hashes), computed
    without recursion; shared sub-trees (definitions) are hashed once."""
    from . import expr as E

    def combine(node, hashes):
        parts = [type(node).__name__]
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            parts.append(f"{f.name}={hashes[id(v)] if isinstance(v, E.Expr) else _atom(v)}")
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    return E.fold(e, combine, memo)


LABELS = frozenset({"source", "note", "expect", "origin", "latex"})  # what a result is re-labelled with


class _Unkeyable(Exception):
    """A claim field whose content cannot be written down (a program): the claim is always checked."""


def _field_text(value, memo: dict) -> str:
    from . import expr as E
    import sympy

    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, E.Expr):
        return expression_hash(value, memo)
    if isinstance(value, sympy.Basic):
        return sympy.srepr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_field_text(v, memo) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_field_text(v, memo)}" for k, v in sorted(value.items(), key=str)) + "}"
    raise _Unkeyable(type(value).__name__)


def _claim_content(claim, memo: dict) -> list[str]:
    """Every field of the claim but its labels: a field added to Claim later is keyed too, and one
    that cannot be written down (such as a code claim's program) makes the claim uncacheable."""
    return [f"{f.name}={_field_text(getattr(claim, f.name), memo)}" for f in dataclasses.fields(claim)
            if f.name not in LABELS]


def claim_key(claim, seed: int, limits, memo: dict | None = None) -> str | None:
    """The cache key of a claim's result under a run's seed and limits (None: never cached).
    ``memo`` (node id -> hash) may be shared by the claims of one run: they share definitions."""
    run = (f"seed={seed} exact={limits.exact!r} numeric={limits.numeric!r} symbolic={limits.symbolic!r} "
           f"convergence={getattr(limits, 'convergence', False)!r}")
    try:
        content = _claim_content(claim, {} if memo is None else memo)
    except _Unkeyable:
        return None
    text = "\n".join([f"schema {SCHEMA}", source_fingerprint(), _versions(), run, *content])
    return hashlib.sha256(text.encode()).hexdigest()


def listing_key(paths) -> str | None:
    """A key for ``list``: the content of every claim file under the paths (None if a path is missing)."""
    h = hashlib.sha256(f"schema {SCHEMA}\n{source_fingerprint()}\n".encode())
    for p in map(Path, paths):
        try:
            files = sorted(q for q in p.iterdir() if q.suffix in (".py", ".toml")) if p.is_dir() else [p]
            for q in files:
                h.update(str(q.resolve()).encode() + b"\0" + q.read_bytes() + b"\0")
        except OSError:
            return None
    return h.hexdigest()


def _stages(verdict):
    yield from verdict.stages
    for step in verdict.steps:
        yield from _stages(step.verdict)


def cacheable(result) -> bool:
    """Whether a result is the same on any re-run: nothing timed out, nothing inconclusive or alarming."""
    v = result.verdict
    return (v.status != "inconclusive" and not v.alarm and all(s.status != "timeout" for s in _stages(v))
            and all(s.verdict.status != "inconclusive" for s in v.steps))


# ---------------------------------------------------------------- storage


class Store:
    """Results and listings in one SQLite file under ``directory``."""

    def __init__(self, directory):
        self.path = Path(directory) / DB_NAME
        self.conn = None
        try:
            Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise CacheError(f"cannot create {directory}: {exc.strerror or exc}") from None
        try:
            self.conn = self._open()
        except sqlite3.OperationalError as exc:  # locked, read-only, not a file, …
            raise CacheError(f"{self.path}: {exc}") from None
        except sqlite3.DatabaseError:  # not a database, or damaged: start a new one
            self._set_aside()
            try:
                self.conn = self._open()
            except sqlite3.DatabaseError as exc:
                raise CacheError(f"{self.path}: {exc}") from None

    def _open(self):
        fresh = not self.path.exists()
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            if fresh:
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                with conn:
                    conn.execute("DROP TABLE IF EXISTS results")
                    conn.execute("DROP TABLE IF EXISTS listings")
                    conn.execute(f"PRAGMA user_version = {SCHEMA}")
            with conn:
                conn.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, verdict BLOB NOT NULL, "
                             "seconds REAL NOT NULL, stored REAL NOT NULL)")
                conn.execute("CREATE TABLE IF NOT EXISTS listings (key TEXT PRIMARY KEY, rows TEXT NOT NULL, "
                             "stored REAL NOT NULL)")
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self):
        """Move a damaged database out of the way (kept for inspection), with its WAL files."""
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
        aside = self.path.with_name(f"{DB_NAME}.damaged")
        with contextlib.suppress(OSError):
            os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")
        print(f"derivcheck: the result cache {self.path} was damaged; moved to {aside.name}, starting a new one",
              file=sys.stderr)

    def _guarded(self, run, default):
        """Run a database operation; a problem costs the cache, never the run."""
        if self.conn is None:
            return default
        try:
            return run(self.conn)
        except sqlite3.OperationalError as exc:  # locked for longer than the timeout, disk full, …
            print(f"derivcheck: result cache not used for this step: {exc}", file=sys.stderr)
            return default
        except sqlite3.DatabaseError:
            self._set_aside()
            return default

    def get(self, claims, keys: dict) -> dict:
        """{claim id: Result} for the claims whose key is stored, labelled with the claim as it is now."""
        from .verdict import Result

        wanted = {keys[c.id]: c for c in claims if c.error is None and keys.get(c.id)}

        def run(conn):
            found = {}
            items = list(wanted)
            for start in range(0, len(items), 500):  # SQLite's bound on parameters
                chunk = items[start:start + 500]
                found.update((k, (v, s)) for k, v, s in conn.execute(
                    f"SELECT key, verdict, seconds FROM results WHERE key IN ({','.join('?' * len(chunk))})", chunk))
            return found

        out = {}
        for key, (blob, seconds) in self._guarded(run, {}).items():
            claim = wanted[key]
            try:
                verdict = pickle.loads(blob)
            except Exception:  # a row written by an incompatible version, or damaged: check again
                continue
            out[claim.id] = Result(claim.id, claim.source, claim.kind, verdict, claim.expect, seconds, claim.note,
                                   claim.origin, claim.document)
        return out

    def put(self, items) -> None:
        """Store (key, Result) pairs whose results are not timing-dependent; prune old entries."""
        rows = [(key, pickle.dumps(r.verdict, protocol=pickle.HIGHEST_PROTOCOL), r.seconds, time.time())
                for key, r in items if key and cacheable(r)]

        def run(conn):
            with conn:
                conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)", rows)
                conn.execute("DELETE FROM results WHERE stored < ?", (time.time() - KEEP_DAYS * 86400,))

        if rows:
            self._guarded(run, None)

    def get_listing(self, key: str):
        def run(conn):
            row = conn.execute("SELECT rows FROM listings WHERE key = ?", (key,)).fetchone()
            return None if row is None else [tuple(r) for r in json.loads(row[0])]

        try:
            return self._guarded(run, None)
        except (ValueError, TypeError):
            return None

    def put_listing(self, key: str, rows) -> None:
        def run(conn):
            with conn:
                conn.execute("INSERT OR REPLACE INTO listings VALUES (?, ?, ?)", (key, json.dumps(rows), time.time()))
                conn.execute("DELETE FROM listings WHERE stored < ?", (time.time() - KEEP_DAYS * 86400,))

        self._guarded(run, None)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
