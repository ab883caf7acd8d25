"""Declarations for a document: what its notation means, in the TOML claim-file format.

The keys users know from claim files (``dims``, ``relations``,
``functions``, ``[symbols]``, ``[assume]``, ``[define]``) declare sizes,
shapes, assumptions and intermediate names.  A document adds:

- ``prefix`` — the start of its claim ids (default: the file's stem);
- ``layout`` — ``"denominator"`` (∂L/∂X has the shape of X; ∂y/∂x of vectors
  is the transposed Jacobian), ``"numerator"`` (∂L/∂x of a vector x is a row,
  ∂y/∂x is the Jacobian; ∂L/∂W of a matrix still has W's shape) or
  ``"mixed"`` (gradients of scalars in the variable's shape, Jacobians of
  vectors in numerator layout);
- ``superscript`` — ``"power"`` (``x^2`` squares) or ``"layer"`` (``a^2`` is
  the name a2: layer 2, as some notes write it);
- ``loss`` — the name ``\\nabla X`` differentiates when it has no subscript;
- ``[names]`` — LaTeX notation to a name or an expression of the vocabulary:
  ``"W^{[1]}" = "W1"``, ``'\\hat{y}' = "yhat"``, ``'\\mathbf{1}_N' = "ones(N, 1)"``;
  a value may use an index, ``"g" = "g{ell}"``;
- ``[indices]`` — index letters used in scripts: ``ell = [1, 2]`` checks each
  equation that uses ℓ once per value, ``L = 3`` fixes a value;
- ``[[part]]`` — a stretch of the document (``from``: a line number or the
  text of the line where it starts; ``to``: optional) with declarations of its
  own on top of the top-level ones, for documents that reuse a letter;
- ``[equations]`` — per source line: ``skip = "why"``, ``expect``, ``note``.

They come from a fenced block in the document (Markdown: a ``toml derivcheck``
or ``derivcheck`` code fence; LaTeX: ``%`` comment lines after a line
``% derivcheck``) or from a side file (``--declare shapes.toml``).
"""
from __future__ import annotations

import copy
import keyword
import re
import tomllib
from dataclasses import dataclass, field

from .. import expr as E
from ..assumptions import ASSUMPTIONS
from ..functions import PRIME_SUFFIX
from ..parse import ClaimFileError, ExpressionError, Scope, parse_expression, parse_relation
from ..vocabulary import CALLS

__all__ = ["Declarations", "Part", "load_declarations", "find_block", "part_scope", "LAYOUTS"]

LAYOUTS = ("denominator", "numerator", "mixed")
SUPERSCRIPTS = ("power", "layer")
_PART_KEYS = {"dims", "relations", "functions", "symbols", "assume", "define", "names", "indices", "layout",
              "superscript", "loss", "from", "to", "title"}
_TOP_KEYS = (_PART_KEYS - {"from", "to", "title"}) | {"prefix", "part", "equations"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EQUATION_KEYS = {"skip", "expect", "note"}


@dataclass
class Part:
    """Declarations in force over a stretch of lines."""

    start: int = 1
    end: int | None = None
    title: str = ""
    raw: dict = field(default_factory=dict)
    scope: Scope | None = None  # built when first used (top-level definitions made so far included)
    relations: tuple = ()
    names: dict = field(default_factory=dict)
    indices: dict = field(default_factory=dict)
    layout: str = "denominator"
    superscript: str = "power"
    loss: str = ""


@dataclass
class Declarations:
    source: str  # where they were read: a path or "path (fenced block at line N)"
    prefix: str = ""
    top: Part = field(default_factory=Part)
    parts: list = field(default_factory=list)
    equations: dict = field(default_factory=dict)  # line -> {"skip"/"expect"/"note": ...}

    def part_at(self, line: int) -> Part:
        """The part in force at ``line`` (the top level when none is)."""
        found = self.top
        for p in self.parts:
            if p.start <= line and (p.end is None or line <= p.end):
                found = p
        return found


class _Where:
    """file:line for messages about a declarations text."""

    def __init__(self, source: str, text: str, first_line: int = 1):
        self.source, self.lines, self.first = source, text.splitlines(), first_line

    def line_of(self, key: str, start: int = 0) -> int:
        rx = re.compile(r"^\s*(?:[\"']?)" + re.escape(str(key)) + r"(?:[\"']?)\s*=")
        for i in range(start, len(self.lines)):
            if rx.search(self.lines[i]):
                return i + self.first
        return self.first

    def fail(self, key, message: str):
        raise ClaimFileError(f"{self.source}:{self.line_of(key) if key is not None else self.first}: {message}")


def find_block(text: str, markdown: bool) -> tuple[str, int] | None:
    """The declarations block inside a document: (TOML text, line of its first line), or None."""
    lines = text.splitlines()
    if markdown:
        for i, line in enumerate(lines):
            m = re.match(r"^\s*(`{3,}|~{3,})\s*(?:toml\s+)?derivcheck\s*$", line)
            if m:
                fence = m.group(1)
                body = []
                for j in range(i + 1, len(lines)):
                    if lines[j].strip().startswith(fence):
                        return "\n".join(body), i + 2
                    body.append(lines[j])
                raise ClaimFileError(f"line {i + 1}: the derivcheck declarations block is never closed")
        return None
    for i, line in enumerate(lines):
        if re.match(r"^\s*%+\s*derivcheck\s*$", line):
            body = []
            for j in range(i + 1, len(lines)):
                m = re.match(r"^\s*%+ ?(.*)$", lines[j])
                if not m or re.match(r"^\s*%+\s*end derivcheck\s*$", lines[j]):
                    break
                body.append(m.group(1))
            return "\n".join(body), i + 2
    return None


def load_declarations(text: str, source: str, document_lines: list[str], first_line: int = 1) -> Declarations:
    """Declarations from TOML text; errors name the source and line."""
    where = _Where(source, text, first_line)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimFileError(f"{source}: not valid TOML: {exc}") from None
    for key in data:
        if key not in _TOP_KEYS:
            where.fail(key, f"unknown key {key!r}; expected {', '.join(sorted(_TOP_KEYS))}")
    decl = Declarations(source, prefix=str(data.get("prefix", "")))
    if decl.prefix and not re.match(r"^[A-Za-z0-9_.-]+$", decl.prefix):
        where.fail("prefix", f"prefix {decl.prefix!r} may use letters, digits, '.', '_' and '-' only")
    decl.top = _part(where, data, None, document_lines)
    decl.top.scope, decl.top.relations = _scope(where, data, Scope(), ())
    for raw in _table_list(where, data, "part"):
        p = _part(where, raw, decl.top, document_lines)
        decl.parts.append(p)
    decl.parts.sort(key=lambda p: p.start)
    for a, b in zip(decl.parts, decl.parts[1:]):
        if a.end is None:
            a.end = b.start - 1
    eqs = data.get("equations", {})
    if not isinstance(eqs, dict):
        where.fail("equations", "[equations] must be a table keyed by source line")
    for key, spec in eqs.items():
        if not str(key).isdigit() or not isinstance(spec, dict) or set(spec) - _EQUATION_KEYS:
            where.fail(key, f"[equations] {key}: expected a line number and a table with {', '.join(sorted(_EQUATION_KEYS))}")
        if spec.get("expect") not in (None, "holds", "fails"):
            where.fail(key, f"[equations] {key}: expect must be 'holds' or 'fails'")
        decl.equations[int(key)] = spec
    return decl


def _table_list(where, data, key):
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        where.fail(key, f"{key} must be written as [[{key}]] tables")
    return value


def _part(where: _Where, raw: dict, parent: Part | None, document_lines) -> Part:
    if parent is not None:
        unknown = sorted(set(raw) - _PART_KEYS)
        if unknown:
            where.fail(unknown[0], f"[[part]]: unknown key {unknown[0]!r}; expected {', '.join(sorted(_PART_KEYS))}")
        if "from" not in raw:
            where.fail(None, "a [[part]] needs 'from' (a line number or the text of its first line)")
    p = Part(raw=raw, title=str(raw.get("title", "")))
    base = parent or Part()
    p.layout = raw.get("layout", base.layout)
    p.superscript = raw.get("superscript", base.superscript)
    p.loss = raw.get("loss", base.loss)
    if p.layout not in LAYOUTS:
        where.fail("layout", f"layout must be one of {', '.join(LAYOUTS)}, not {p.layout!r}")
    if p.superscript not in SUPERSCRIPTS:
        where.fail("superscript", f"superscript must be one of {', '.join(SUPERSCRIPTS)}, not {p.superscript!r}")
    names = raw.get("names", {})
    indices = raw.get("indices", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        where.fail("names", "[names] maps LaTeX notation to a name or an expression string")
    if not isinstance(indices, dict):
        where.fail("indices", "[indices] maps an index letter to a value or a list of values")
    for k, v in indices.items():
        ok = (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, list) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v))
        if not ok:
            where.fail(k, f"index {k}: expected an integer or a list of integers, got {v!r}")
    p.names = {**base.names, **names}
    p.indices = {**base.indices, **{k.lstrip("\\"): v for k, v in indices.items()}}
    if parent is not None:
        p.start = _line_ref(where, raw.get("from"), document_lines, "from")
        p.end = _line_ref(where, raw["to"], document_lines, "to", after=p.start) - 1 if "to" in raw else None
    return p


def _line_ref(where, ref, document_lines, key, after: int = 0) -> int:
    """A line number, or the first line (after ``after``) that starts with the text, else contains it."""
    if isinstance(ref, int) and not isinstance(ref, bool) and ref > 0:
        return ref
    if isinstance(ref, str) and ref.strip():
        text = ref.strip()
        for test in (lambda line: line.rstrip() == text, lambda line: line.startswith(text),
                     lambda line: line.strip().startswith(text), lambda line: text in line):
            for i in range(after, len(document_lines)):
                if test(document_lines[i]):
                    return i + 1
        where.fail(key, f"{key} = {ref!r}: no line of the document contains this text")
    where.fail(key, f"{key} must be a line number or the text of a line, got {ref!r}")


def part_scope(decl: Declarations, part: Part) -> Scope:
    """The scope of a part: the top level's (as it stands now) with the part's own declarations on top."""
    if part.scope is None:
        where = _Where(decl.source, "")
        part.scope, rel = _scope(where, part.raw, copy.copy(decl.top.scope), decl.top.relations, decl.top.scope)
        part.relations = rel
    return part.scope


def _scope(where: _Where, data: dict, base: Scope, relations: tuple, top: Scope | None = None):
    scope = Scope(dict(base.dims), dict(base.symbols), dict(base.defines), dict(base.generics))
    local: set = set()

    def check(name, what):
        if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
            where.fail(name, f"{what} name {name!r} is not a valid identifier")
        if name in CALLS:
            where.fail(name, f"{what} name {name!r} is a function of the vocabulary")
        if name in local:
            where.fail(name, f"{what} name {name!r} is declared twice")
        local.add(name)
        for t in (scope.dims, scope.symbols, scope.defines, scope.generics):
            t.pop(name, None)  # a part may give a letter a new meaning

    for name in _list(where, data, "dims"):
        check(name, "dimension")
        scope.dims[name] = E.dims(name)[0]
    for name in _list(where, data, "functions"):
        check(name, "function")
        g, g_prime = E.elementwise(name)
        scope.generics[name], scope.generics[name + PRIME_SUFFIX] = g, g_prime
    rels = list(relations)
    for text in _list(where, data, "relations"):
        try:
            rels.append(parse_relation(text, scope.dims))
        except ExpressionError as exc:
            where.fail(None, str(exc))
    symbols = data.get("symbols", {})
    assume = data.get("assume", {})
    if not isinstance(symbols, dict) or not isinstance(assume, dict):
        where.fail("symbols", "[symbols] and [assume] must be tables")
    for name, dims_ in symbols.items():
        check(name, "symbol")
        if not (isinstance(dims_, list) and len(dims_) == 2):
            where.fail(name, f"symbol {name}: expected [rows, cols], got {dims_!r}")
        shape = []
        for d in dims_:
            if isinstance(d, int) and not isinstance(d, bool) and d > 0:
                shape.append(d)
            elif isinstance(d, str) and d in scope.dims:
                shape.append(scope.dims[d])
            else:
                where.fail(name, f"symbol {name}: {d!r} is neither a declared dimension nor a positive integer")
        props = assume.get(name, [])
        props = [props] if isinstance(props, str) else props
        bad = [q for q in props if q not in ASSUMPTIONS]
        if bad:
            where.fail(name, f"unknown assumption {bad[0]!r} on {name}; known: {', '.join(sorted(ASSUMPTIONS))}")
        scope.symbols[name] = E.matrix(name, *shape, assume=props)
    for name in assume:
        if name not in scope.symbols:
            where.fail(name, f"assumption on undeclared symbol {name!r}")
    for name, body in data.get("define", {}).items():
        check(name, "defined name")
        try:
            scope.defines[name] = E.define(name, parse_expression(body, scope))
        except ExpressionError as exc:
            where.fail(name, f"in the definition of {name}: {exc}")
    return scope, tuple(rels)


def _list(where, data, key) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        where.fail(key, f"{key} must be a list")
    return value
