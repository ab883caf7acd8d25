"""Claim files in TOML, and expression strings parsed by a whitelist over ``ast``.

Nothing in a claim file is ever passed to ``eval``, ``exec`` or ``sympify``:
each expression is parsed with ``ast.parse(mode="eval")`` and walked by a
table of allowed node types (``_Builder``); anything else is an error that
names the offending text.
"""
from __future__ import annotations

import ast
import io
import operator
import re
import tokenize
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from . import expr as E
from .assumptions import ASSUMPTIONS
from .catalog import ClaimFileError
from .claims import CLAIM_KINDS, Claim
from .functions import PRIME_SUFFIX
from .conventions import CONVENTIONS
from .validate import compatibility_character, depth_problem, name_problem, value_problem
from .vocabulary import CALLS, CONSTANTS

__all__ = ["ClaimFileError", "ExpressionError", "parse_expression", "parse_relation", "load_toml", "load_scope"]


class ExpressionError(ValueError):
    """An expression outside the vocabulary."""


@dataclass
class Scope:
    """The names an expression may use."""

    dims: dict = field(default_factory=dict)  # name -> sympy Symbol
    symbols: dict = field(default_factory=dict)  # name -> E.Symbol
    defines: dict = field(default_factory=dict)  # name -> E.Defined
    generics: dict = field(default_factory=dict)  # name -> callable (g and g_prime)

    def lookup(self, name: str):
        for table in (self.symbols, self.defines):
            if name in table:
                return table[name]
        if name in self.dims:
            return E.Scalar(self.dims[name])
        if name in CONSTANTS:  # pi
            return E.Scalar(CONSTANTS[name])
        return None


_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


@dataclass(frozen=True)
class _Chain:
    """Operators of one precedence that associate: how one written operand becomes an item, and
    how two items join (a - b is a + (-b), a / b is a * b**-1, exactly as expr.py builds them)."""

    ops: tuple
    item: object  # (operator type, operand) -> item
    join: object  # (item, item) -> expression


_SUM = _Chain((ast.Add, ast.Sub), lambda o, x: -x if o is ast.Sub else x, E.Add)
_PRODUCT = _Chain((ast.Mult, ast.Div), lambda o, x: E.Pow(x, E.Scalar(sympy.Integer(-1))) if o is ast.Div else x,
                  E.Mul)
_MATMUL = _Chain((ast.MatMult,), lambda o, x: x, E.MatMul)
_CHAINS = {op: chain for chain in (_SUM, _PRODUCT, _MATMUL) for op in chain.ops}
BALANCE_FROM = 16  # chains with fewer operators are built as written (left to right)


def _balanced(items: list, join):
    """Join items pairwise, level by level: a tree of depth log2(len(items))."""
    while len(items) > 1:
        paired = [join(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = paired + ([items[-1]] if len(items) % 2 else [])
    return items[0]


class _Builder:
    """Turns an ``ast`` tree into an expression; one method per allowed node type."""

    def __init__(self, text: str, scope: Scope):
        self.text, self.scope = text, scope

    def refuse(self, node, why: str):
        token = ast.get_source_segment(self.text, node) or type(node).__name__
        raise ExpressionError(f"{why}: {token!r}")

    def build(self, node):
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            self.refuse(node, f"not allowed in an expression ({type(node).__name__})")
        return method(node)

    def _Expression(self, node):
        return E.as_expr(self.build(node.body))

    def _BinOp(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            self.refuse(node, "operator not in the vocabulary")
        chain = _CHAINS.get(type(node.op))
        if chain is None:  # ** (right-associative)
            return op(self._operand(node.left), self._operand(node.right))
        # a + b - c + … is a left-deep tree as deep as it is long: walk it with a loop, then
        # build short chains as written and long ones balanced (depth log2 n, not n)
        ops, rights = [], []
        while isinstance(node, ast.BinOp) and type(node.op) in chain.ops:
            ops.append(type(node.op))
            rights.append(node.right)
            node = node.left
        first = self._operand(node)
        ops.reverse()
        rights.reverse()
        if len(rights) < BALANCE_FROM:
            out = first
            for o, right in zip(ops, rights):
                out = _BINARY[o](out, self._operand(right))
            return out
        items = [first] + [chain.item(o, self._operand(r)) for o, r in zip(ops, rights)]
        return _balanced(items, chain.join)

    def _UnaryOp(self, node):
        op = _UNARY.get(type(node.op))
        if op is None:
            self.refuse(node, "operator not in the vocabulary")
        return op(self._operand(node.operand))

    def _operand(self, node):
        value = self.build(node)
        return value if isinstance(value, E.Expr) else E.as_expr(value)

    def _Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.refuse(node, "only numbers are allowed as constants")
        return node.value

    def _Name(self, node):
        found = self.scope.lookup(node.id)
        if found is None:
            if node.id in CALLS or node.id in self.scope.generics:
                self.refuse(node, "a function must be called")
            self.refuse(node, "unknown name")
        return found

    def _Attribute(self, node):
        if node.attr != "T":
            self.refuse(node, "attribute access is not allowed (only .T, the transpose)")
        return E.Transpose(self._operand(node.value))

    def _Call(self, node):
        if not isinstance(node.func, ast.Name):
            self.refuse(node.func, "only vocabulary functions can be called")
        name = node.func.id
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.refuse(node, "keyword or starred arguments are not allowed")
        if name in self.scope.generics:
            if len(node.args) != 1:
                self.refuse(node, f"{name} takes one argument")
            return self.scope.generics[name](self._operand(node.args[0]))
        if name not in CALLS:
            self.refuse(node.func, "unknown function")
        fn, kinds = CALLS[name]
        required = [k for k in kinds if not k.endswith("?")]
        if not len(required) <= len(node.args) <= len(kinds):
            self.refuse(node, f"{name} takes {len(required)}"
                        + (f" to {len(kinds)}" if len(kinds) != len(required) else "") + " arguments")
        return fn(*(self._argument(a, k.rstrip("?")) for a, k in zip(node.args, kinds)))

    def _argument(self, node, kind: str):
        if kind == "e":
            return self._operand(node)
        if kind == "axis":
            if not (isinstance(node, ast.Constant) and node.value in (0, 1) and not isinstance(node.value, bool)):
                self.refuse(node, "the axis must be 0 or 1")
            return node.value
        if kind == "dim":
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and node.value > 0:
                return sympy.Integer(node.value)
            if isinstance(node, ast.Name) and node.id in self.scope.dims:
                return self.scope.dims[node.id]
            self.refuse(node, "expected a dimension name or a positive integer")
        # "wrt": the thing differentiated against
        if not isinstance(node, ast.Name) or node.id not in {**self.scope.symbols, **self.scope.defines}:
            self.refuse(node, "a derivative must be taken w.r.t. a symbol or a defined name")
        return self.scope.lookup(node.id)


def parse_expression(text: str, scope: Scope) -> E.Expr:
    """Parse one expression string of the vocabulary."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {text!r}")
    text = text.strip()
    odd = compatibility_character(text)
    if odd:  # Python's parser would silently turn a fullwidth Ｘ into X
        raise ExpressionError(f"in {_clip(text)}: {odd}")
    if "\x00" in text:
        raise ExpressionError(f"a NUL character in {_clip(text)}")
    try:
        e = _parse(text, scope)
    except (RecursionError, MemoryError):
        raise ExpressionError(f"{_clip(text)} is nested too deeply to parse (Python's parser gives up); "
                              "long sums and products are fine, deep chains such as X.T.T.T… or "
                              "-(-(-…)) are not") from None
    problem = depth_problem(e)
    if problem:
        raise ExpressionError(f"{_clip(text)}: {problem}")
    return e


def _clip(text: str, keep: int = 60) -> str:
    return repr(text if len(text) <= keep else text[:keep] + "…")


def _parse(text: str, scope: Scope) -> E.Expr:
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the error says it
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in {_clip(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        # Python's parser builds a + b + … as a tree as deep as the sum is long and gives up near
        # a few thousand terms: parse the top-level terms (or factors) one by one and join them
        for operators in ("+-", "*/@"):
            parts = _top_level_split(text, operators)
            if parts:
                return _join([(op, _parse(part.strip(), scope)) for op, part in parts])
        raise
    return _Builder(text, scope).build(tree)


_OPENING, _CLOSING = set("([{"), set(")]}")


_OPERATORS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "@": ast.MatMult}
_NOT_OPERANDS = {"not", "and", "or", "lambda", "if", "else", "in", "is"}


def _join(parts: list):
    """[(operator type, expression)] -> one expression; the first operator is ignored.  One chain
    kind is joined balanced; a mix (A @ B * C) left to right, as Python reads it."""
    chains = {_CHAINS[op] for op, _ in parts[1:]}
    if len(chains) == 1:
        chain = chains.pop()
        return _balanced([parts[0][1]] + [chain.item(op, x) for op, x in parts[1:]], chain.join)
    out = parts[0][1]
    for op, x in parts[1:]:
        out = _BINARY[op](out, x)
    return out


def _top_level_split(text: str, operators: str):
    """[(operator type, text)] split at the binary operators (of one precedence) outside brackets,
    or None when there is nothing to split."""
    parts, start, level, previous, op = [], 0, 0, None, ast.Add
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.OP:
                if tok.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
                    previous = tok
                continue
            if tok.string in _OPENING:
                level += 1
            elif tok.string in _CLOSING:
                level -= 1
            operand_before = previous is not None and (
                previous.type in (tokenize.NUMBER, tokenize.STRING) or previous.string in _CLOSING
                or (previous.type == tokenize.NAME and previous.string not in _NOT_OPERANDS))
            if level == 0 and tok.string in operators and len(tok.string) == 1 and operand_before:
                at = offsets[tok.start[0] - 1] + tok.start[1]
                parts.append((op, text[start:at]))
                op, start = _OPERATORS[tok.string], at + 1
            previous = tok
    except (tokenize.TokenError, SyntaxError):
        return None
    parts.append((op, text[start:]))
    return parts if len(parts) > 1 and all(t.strip() for _, t in parts) else None


_RELATIONS = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le}


def parse_relation(text: str, dims: dict) -> sympy.Basic:
    """'m > n' (or >=, <, <=; sides may use + - * and integers) over declared dimensions."""
    odd = compatibility_character(text)
    if odd:
        raise ExpressionError(f"in relation {_clip(text)}: {odd}")
    try:
        return _relation(text, dims)
    except (RecursionError, MemoryError):
        raise ExpressionError(f"relation {_clip(text)} is nested too deeply") from None


def _relation(text: str, dims: dict) -> sympy.Basic:
    text = text.strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in relation {_clip(text)}: {exc.msg}") from None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in _RELATIONS):
        raise ExpressionError(f"a relation compares two sizes with >, >=, < or <=: {text!r}")

    def side(node):
        if isinstance(node, ast.Name) and node.id in dims:
            return dims[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return sympy.Integer(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult):
            return _BINARY[type(node.op)](side(node.left), side(node.right))
        raise ExpressionError(f"not a size in relation {text!r}: {ast.get_source_segment(text, node)!r}")

    return _RELATIONS[type(tree.ops[0])](side(tree.left), side(tree.comparators[0]))


# ---------------------------------------------------------------- TOML files

_TOP_KEYS = {"dims", "relations", "functions", "symbols", "assume", "define", "claim"}
_CLAIM_KEYS = {k.name: (set(k.required), set(k.optional)) for k in CLAIM_KINDS.values() if k.required}
_COMMON_KEYS = {"id", "source", "kind", "expect", "note"}
_HEADER = re.compile(r"^\s*\[")
_CLAIM_HEADER = re.compile(r"^\s*\[\[\s*claim\s*\]\]")


class _File:
    """Error reporting with file and line.  Lines are found in the text by key, within the table the
    key belongs to ([symbols], [define], the n-th [[claim]], …), so that two claims with the same key
    or the same id point at their own lines."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if _HEADER.match(line)]
        self.claim_starts = [i for i, line in enumerate(self.lines) if _CLAIM_HEADER.match(line)]

    def where(self, line: int) -> str:
        return f"{self.path}:{line}" if line else str(self.path)

    def table(self, name: str) -> tuple[int, int]:
        """(first, end) 0-based line range of the table [name]; (0, 0) if it has no header."""
        rx = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]")
        start = next((i for i in self.headers if rx.match(self.lines[i])), None)
        return (0, 0) if start is None else (start, self._end(start))

    def claim_table(self, index: int) -> tuple[int, int]:
        """Line range of the index-th [[claim]] (0-based), or (0, 0) when claims are not written as tables."""
        if index >= len(self.claim_starts):
            return (0, 0)
        start = self.claim_starts[index]
        return (start, self._end(start))

    def _end(self, start: int) -> int:
        return next((i for i in self.headers if i > start), len(self.lines))

    def key_line(self, key: str, span: tuple[int, int] | None = None) -> int:
        """1-based line of ``key = …`` inside span (default: before the first table header)."""
        start, end = span if span and span != (0, 0) else (0, self.headers[0] if self.headers else len(self.lines))
        rx = re.compile(rf"^\s*[\"']?{re.escape(str(key))}[\"']?\s*=")
        found = next((i + 1 for i in range(start, end) if rx.search(self.lines[i])), 0)
        if found or span is None:
            return found
        return span[0] + 1 if span != (0, 0) else 0  # a key written inline: the table's header

    def fail(self, line: int, message: str):
        raise ClaimFileError(f"{self.where(line)}: {message}")


def _check_name(f: _File, name: str, line: int, taken: dict, what: str):
    problem = name_problem(name)
    if problem:
        f.fail(line, f"{what} {problem}")
    if name in CALLS:
        f.fail(line, f"{what} name {name!r} is a function of the vocabulary")
    if name in taken:
        f.fail(line, f"{what} name {name!r} is already used as a {taken[name]}")
    taken[name] = what


def load_toml(path: Path) -> list[Claim]:
    """Claims from a TOML claim file.  File-level problems raise ClaimFileError;
    a claim whose expressions are outside the vocabulary is returned with ``error`` set."""
    f, data, scope, relations = _read(path)
    claims = data.get("claim", [])
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        f.fail(f.key_line("claim"), "claims are written as [[claim]] tables")
    return [_claim(f, c, i, scope, tuple(relations)) for i, c in enumerate(claims)]


def load_scope(path: Path) -> Scope:
    """The dimensions, symbols and definitions of a TOML claim file, without its claims
    (gradcheck's spec mode names the loss by its definition)."""
    return _read(path)[2]


def _read(path: Path):
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimFileError(f"{path}: cannot read: {exc}") from None
    f = _File(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimFileError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ClaimFileError(f"{path}: not usable TOML: nested too deeply") from None
    for key in data:
        if key not in _TOP_KEYS:
            f.fail(f.key_line(key) or f.table(key)[0] + (f.table(key) != (0, 0)),
                   f"unknown section or key {key!r}; expected {', '.join(sorted(_TOP_KEYS))}")

    scope, taken = Scope(), {}
    for name in _list(f, data, "dims"):
        _check_name(f, name, f.key_line("dims"), taken, "dimension")
        scope.dims[name] = E.dims(name)[0]
    for name in _list(f, data, "functions"):
        _check_name(f, name, f.key_line("functions"), taken, "function")
        if name + PRIME_SUFFIX in taken:
            f.fail(f.key_line("functions"), f"function name {name!r}: its derivative's name "
                   f"{name + PRIME_SUFFIX!r} is already used as a {taken[name + PRIME_SUFFIX]}")
        g, g_prime = E.elementwise(name)
        scope.generics[name], scope.generics[name + PRIME_SUFFIX] = g, g_prime
        taken[name + PRIME_SUFFIX] = "function"
    relations = []
    for text in _list(f, data, "relations"):
        try:
            if not isinstance(text, str):
                raise ExpressionError(f"a relation is a string such as \"m > n\", got {text!r}")
            relations.append(parse_relation(text, scope.dims))
        except ExpressionError as exc:
            written = next((i + 1 for i, line in enumerate(f.lines) if isinstance(text, str) and text in line), 0)
            f.fail(written or f.key_line("relations"), str(exc))

    assume = _table(f, data, "assume")
    symbols = _table(f, data, "symbols")
    symbols_span, assume_span = f.table("symbols"), f.table("assume")
    for name, dims_ in symbols.items():
        line = f.key_line(name, symbols_span)
        _check_name(f, name, line, taken, "symbol")
        if not (isinstance(dims_, list) and len(dims_) == 2):
            f.fail(line, f"symbol {name}: expected [rows, cols], got {dims_!r}")
        shape = [_dim(f, line, name, d, scope.dims) for d in dims_]
        props = assume.get(name, [])
        props = [props] if isinstance(props, str) else props
        if not isinstance(props, list) or not all(isinstance(p, str) for p in props):
            f.fail(f.key_line(name, assume_span), f"assumptions on {name}: a name or a list of names, got {props!r}")
        bad = [p for p in props if p not in ASSUMPTIONS]
        if bad:
            f.fail(f.key_line(name, assume_span), f"unknown assumption {bad[0]!r} "
                   f"on {name}; known: {', '.join(sorted(ASSUMPTIONS))}")
        try:
            scope.symbols[name] = E.matrix(name, *shape, assume=props)
        except ValueError as exc:
            f.fail(line, str(exc))
    for name in assume:
        if name not in scope.symbols:
            f.fail(f.key_line(name, assume_span), f"assumption on undeclared symbol {name!r}")

    define = _table(f, data, "define")
    define_span = f.table("define")
    for name, body in define.items():
        line = f.key_line(name, define_span)
        _check_name(f, name, line, taken, "defined name")
        try:
            scope.defines[name] = E.define(name, parse_expression(body, scope))
        except ExpressionError as exc:
            f.fail(line, f"in the definition of {name}: {exc}")
    return f, data, scope, relations


def _list(f: _File, data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        f.fail(f.key_line(key) or f.table(key)[0] + 1, f"{key} must be a list")
    return value


def _table(f: _File, data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        f.fail(f.key_line(key), f"[{key}] must be a table")
    return value


def _dim(f: _File, line: int, name: str, d, dims: dict):
    if isinstance(d, int) and not isinstance(d, bool) and d > 0:
        return d
    if isinstance(d, str) and d in dims:
        return dims[d]
    f.fail(line, f"symbol {name}: {d!r} is neither a declared dimension nor a positive integer")


def _claim(f: _File, raw: dict, index: int, scope: Scope, relations) -> Claim:
    span = f.claim_table(index)
    header = span[0] + 1 if span != (0, 0) else f.key_line("claim")
    cid = raw.get("id")
    if not isinstance(cid, str) or not cid.strip():
        f.fail(header, f"claim {index + 1} of the file ([[claim]] at line {header}) has no id"
               if header else f"claim {index + 1} of the file has no id")
    line = f.key_line("id", span) or header
    where = f.where(line)
    kind = raw.get("kind")
    if kind not in _CLAIM_KEYS:  # "code" claims carry a program: Python claim modules only
        f.fail(line, f"claim {cid}: kind must be one of {', '.join(_CLAIM_KEYS)}, "
               f"not {kind!r}" + (" (code claims run a program: write them in a Python claim module)"
                                  if kind == "code" else ""))
    required, optional = _CLAIM_KEYS[kind]
    allowed = required | optional | _COMMON_KEYS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        f.fail(f.key_line(unknown[0], span), f"claim {cid}: unknown key {unknown[0]!r} for a {kind} claim")
    missing = sorted(required - set(raw))
    if missing:
        f.fail(line, f"claim {cid}: a {kind} claim needs {', '.join(missing)}")
    expect = raw.get("expect")
    if expect not in (None, "holds", "fails"):
        f.fail(f.key_line("expect", span), f"claim {cid}: expect must be 'holds' or 'fails'")
    for key in ("source", "note"):
        if not isinstance(raw.get(key, ""), str):
            f.fail(f.key_line(key, span), f"claim {cid}: {key} must be a string")
    common = dict(id=cid, kind=kind, source=raw.get("source", ""), expect=expect,
                  note=raw.get("note", ""), relations=relations, origin=where)

    fields, key = {}, None
    try:
        if kind == "value":
            key = "expr"
            fields["expr"] = parse_expression(raw["expr"], scope)
            fields.update(at=raw["at"], equals=raw["equals"], tolerance=raw.get("tolerance", 1e-9))
            key = "at"
            if not isinstance(raw["at"], dict):
                raise ExpressionError("at must be a table of values, e.g. at = {x = 2.0}")
            problem = value_problem(Claim(**common, **fields))
            if problem:
                key = problem[0]
                raise ExpressionError(problem[1])
        elif kind == "derivation":
            key = "steps"
            if not isinstance(raw["steps"], list):
                raise ExpressionError("steps must be a list of expressions")
            fields["steps"] = tuple(parse_expression(s, scope) for s in raw["steps"])
        else:
            for key in sorted(required):
                if key in ("wrt", "direction"):
                    fields[key] = _named(raw[key], scope, key)
                elif key == "directions":  # second_differential: two names
                    if not (isinstance(raw[key], list) and len(raw[key]) == 2):
                        raise ExpressionError('directions must name two symbols, such as ["V", "W"]')
                    fields[key] = tuple(_named(d, scope, key) for d in raw[key])
                else:
                    fields[key] = parse_expression(raw[key], scope)
        if "convention" in raw:  # gradient: conventions.py
            key = "convention"
            if not isinstance(raw[key], str) or raw[key] not in CONVENTIONS or not raw[key]:
                raise ExpressionError(f"unknown convention {raw[key]!r}; known: "
                                      + ", ".join(repr(c) for c in CONVENTIONS if c))
            fields[key] = raw[key]
    except ExpressionError as exc:
        key_line = f.key_line(key, span) if key else line
        return Claim(**common | {"origin": f.where(key_line)},
                     error=f"{f.where(key_line)}: claim {cid}, {key}: {exc}")
    return Claim(**common, **fields)


def _named(value, scope: Scope, key: str):
    if not isinstance(value, str):
        raise ExpressionError(f"{key} must be a name, got {value!r}")
    found = scope.symbols.get(value.strip()) or scope.defines.get(value.strip())
    if found is None:
        raise ExpressionError(f"{key} must name a declared symbol or defined name: {value!r}")
    return found
