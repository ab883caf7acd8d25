"""Claim files in TOML, and expression strings parsed by a whitelist over ``ast``.

Nothing in a claim file is ever passed to ``eval``, ``exec`` or ``sympify``:
each expression is parsed with ``ast.parse(mode="eval")`` and walked by a
table of allowed node types (``_Builder``); anything else is an error that
names the offending text.
"""
from __future__ import annotations

import ast
import keyword
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from . import expr as E
from .assumptions import ASSUMPTIONS
from .claims import Claim
from .functions import PRIME_SUFFIX
from .vocabulary import CALLS

__all__ = ["ClaimFileError", "ExpressionError", "parse_expression", "parse_relation", "load_toml", "load_scope"]


class ClaimFileError(Exception):
    """A claim file that cannot be used at all (the message names file and line)."""


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
        return None


_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


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
        return op(self._operand(node.left), self._operand(node.right))

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
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in {text!r}: {exc.msg}") from None
    return _Builder(text.strip(), scope).build(tree)


_RELATIONS = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le}


def parse_relation(text: str, dims: dict) -> sympy.Basic:
    """'m > n' (or >=, <, <=; sides may use + - * and integers) over declared dimensions."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in relation {text!r}: {exc.msg}") from None
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
_CLAIM_KEYS = {
    "identity": ({"lhs", "rhs"}, set()),
    "gradient": ({"f", "wrt", "claimed"}, set()),
    "jacobian": ({"f", "wrt", "claimed"}, set()),
    "directional": ({"f", "wrt", "direction", "claimed"}, set()),
    "value": ({"expr", "at", "equals"}, {"tolerance"}),
    "derivation": ({"steps"}, set()),
}
_COMMON_KEYS = {"id", "source", "kind", "expect", "note"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _line_of(lines: list[str], pattern: str, start: int = 0) -> int:
    """1-based number of the first line at or after ``start`` matching ``pattern`` (0 if none)."""
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i + 1
    return 0


class _File:
    """Error reporting with file and line."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def where(self, line: int) -> str:
        return f"{self.path}:{line}" if line else str(self.path)

    def key_line(self, key: str, start: int = 0) -> int:
        return _line_of(self.lines, rf"^\s*{re.escape(key)}\s*=", start)

    def fail(self, line: int, message: str):
        raise ClaimFileError(f"{self.where(line)}: {message}")


def _check_name(f: _File, name: str, taken: dict, what: str):
    line = f.key_line(name)
    if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
        f.fail(line, f"{what} name {name!r} is not a valid identifier")
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
    if not isinstance(claims, list):
        f.fail(f.key_line("claim"), "claims are written as [[claim]] tables")
    return [_claim(f, c, scope, tuple(relations)) for c in claims]


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
    for key in data:
        if key not in _TOP_KEYS:
            f.fail(f.key_line(key) or _line_of(f.lines, rf"^\s*\[+{re.escape(key)}"), f"unknown section or key {key!r}; "
                   f"expected {', '.join(sorted(_TOP_KEYS))}")

    scope, taken = Scope(), {}
    for name in _list(f, data, "dims"):
        _check_name(f, name, taken, "dimension")
        scope.dims[name] = E.dims(name)[0]
    for name in _list(f, data, "functions"):
        _check_name(f, name, taken, "function")
        g, g_prime = E.elementwise(name)
        scope.generics[name], scope.generics[name + PRIME_SUFFIX] = g, g_prime
        taken[name + PRIME_SUFFIX] = "function"
    relations = []
    for text in _list(f, data, "relations"):
        try:
            relations.append(parse_relation(text, scope.dims))
        except ExpressionError as exc:
            f.fail(_line_of(f.lines, re.escape(text)), str(exc))

    assume = data.get("assume", {})
    if not isinstance(assume, dict):
        f.fail(f.key_line("assume"), "[assume] must be a table")
    symbols = data.get("symbols", {})
    if not isinstance(symbols, dict):
        f.fail(f.key_line("symbols"), "[symbols] must be a table")
    for name, dims_ in symbols.items():
        _check_name(f, name, taken, "symbol")
        line = f.key_line(name)
        if not (isinstance(dims_, list) and len(dims_) == 2):
            f.fail(line, f"symbol {name}: expected [rows, cols], got {dims_!r}")
        shape = [_dim(f, line, name, d, scope.dims) for d in dims_]
        props = assume.get(name, [])
        props = [props] if isinstance(props, str) else props
        bad = [p for p in props if p not in ASSUMPTIONS]
        if bad:
            f.fail(f.key_line(name, _line_of(f.lines, r"^\s*\[assume\]")), f"unknown assumption {bad[0]!r} "
                   f"on {name}; known: {', '.join(sorted(ASSUMPTIONS))}")
        try:
            scope.symbols[name] = E.matrix(name, *shape, assume=props)
        except ValueError as exc:
            f.fail(line, str(exc))
    for name in assume:
        if name not in scope.symbols:
            f.fail(f.key_line(name, _line_of(f.lines, r"^\s*\[assume\]")), f"assumption on undeclared symbol {name!r}")

    define = data.get("define", {})
    for name, body in define.items():
        _check_name(f, name, taken, "defined name")
        line = f.key_line(name, _line_of(f.lines, r"^\s*\[define\]"))
        try:
            scope.defines[name] = E.define(name, parse_expression(body, scope))
        except ExpressionError as exc:
            f.fail(line, f"in the definition of {name}: {exc}")
    return f, data, scope, relations


def _list(f: _File, data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        f.fail(f.key_line(key), f"{key} must be a list")
    return value


def _dim(f: _File, line: int, name: str, d, dims: dict):
    if isinstance(d, int) and not isinstance(d, bool) and d > 0:
        return d
    if isinstance(d, str) and d in dims:
        return dims[d]
    f.fail(line, f"symbol {name}: {d!r} is neither a declared dimension nor a positive integer")


def _claim(f: _File, raw: dict, scope: Scope, relations) -> Claim:
    cid = raw.get("id")
    if not isinstance(cid, str) or not cid:
        f.fail(f.key_line("kind"), "a [[claim]] without an id")
    line = _line_of(f.lines, rf"^\s*id\s*=\s*[\"']{re.escape(cid)}[\"']")
    where = f.where(line)
    kind = raw.get("kind")
    if kind not in _CLAIM_KEYS:  # "code" claims carry a program: Python claim modules only
        f.fail(line, f"claim {cid}: kind must be one of {', '.join(_CLAIM_KEYS)}, not {kind!r}"
               + (" (code claims run a program: write them in a Python claim module)" if kind == "code" else ""))
    required, optional = _CLAIM_KEYS[kind]
    allowed = required | optional | _COMMON_KEYS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        f.fail(f.key_line(unknown[0], line - 1), f"claim {cid}: unknown key {unknown[0]!r} for a {kind} claim")
    missing = sorted(required - set(raw))
    if missing:
        f.fail(line, f"claim {cid}: a {kind} claim needs {', '.join(missing)}")
    expect = raw.get("expect")
    if expect not in (None, "holds", "fails"):
        f.fail(f.key_line("expect", line - 1), f"claim {cid}: expect must be 'holds' or 'fails'")
    common = dict(id=cid, kind=kind, source=str(raw.get("source", "")), expect=expect,
                  note=str(raw.get("note", "")), relations=relations, origin=where)

    fields, key = {}, None
    try:
        if kind == "value":
            key = "expr"
            fields["expr"] = parse_expression(raw["expr"], scope)
            fields.update(at=_at(raw["at"], cid), equals=_numbers(raw["equals"], "equals"),
                          tolerance=float(_numbers(raw.get("tolerance", 1e-9), "tolerance")))
        elif kind == "derivation":
            key = "steps"
            if not isinstance(raw["steps"], list):
                raise ExpressionError("steps must be a list of expressions")
            fields["steps"] = tuple(parse_expression(s, scope) for s in raw["steps"])
        else:
            for key in sorted(required):
                if key in ("wrt", "direction"):
                    fields[key] = _named(raw[key], scope, key)
                else:
                    fields[key] = parse_expression(raw[key], scope)
    except ExpressionError as exc:
        key_line = f.key_line(key, line - 1) if key else line
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


def _numbers(value, key: str):
    """A number or a (nested) list of numbers, as a value claim states them."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, list) and value and all(_is_numbers(v) for v in value))
    if not ok:
        raise ExpressionError(f"{key} must be a number or a list of rows of numbers, got {value!r}")
    return value


def _is_numbers(v) -> bool:
    try:
        _numbers(v, "")
        return True
    except ExpressionError:
        return False


def _at(value, cid: str) -> dict:
    if not isinstance(value, dict):
        raise ExpressionError("at must be a table of values, e.g. at = {x = 2.0}")
    return {k: _numbers(v, f"at.{k}") for k, v in value.items()}
