"""The document's own macros: ``\\newcommand``/``\\renewcommand``/``\\def``, collected and expanded.

``\\newcommand{\\dadb}[2]{\\frac{\\partial #1}{\\partial #2}}`` defines a macro
with two arguments; an optional first argument with a default
(``[2][x]``) is supported.  Expansion is textual, argument by argument with
balanced braces, repeated until no defined macro is left; a macro that keeps
expanding (directly or through others) is an error, as is a missing argument.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Macro", "MacroError", "collect", "expand", "strip_definitions"]

MAX_EXPANSIONS = 10_000


class MacroError(ValueError):
    """A macro definition or use that cannot be expanded."""


@dataclass(frozen=True)
class Macro:
    name: str  # without the backslash
    nargs: int
    body: str
    default: str | None = None  # default of an optional first argument
    line: int = 0


_DEF_HEAD = re.compile(r"\\(?:re)?newcommand\*?\s*(?:\{\s*\\([A-Za-z]+)\s*\}|\\([A-Za-z]+))"
                       r"\s*(?:\[(\d)\])?\s*(?:\[([^\]]*)\])?\s*\{")
_DEF_TEX = re.compile(r"\\def\s*\\([A-Za-z]+)\s*((?:#\d)*)\s*\{")


def _group_end(text: str, open_at: int) -> int:
    """Offset just after the brace group that opens at ``open_at`` (a '{'); -1 if unbalanced."""
    depth = 0
    i = open_at
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _definitions(text: str):
    """(start, end, Macro) for every definition in ``text``."""
    for pat in (_DEF_HEAD, _DEF_TEX):
        for m in pat.finditer(text):
            end = _group_end(text, m.end() - 1)
            line = text.count("\n", 0, m.start()) + 1
            if end < 0:
                raise MacroError(f"line {line}: unbalanced braces in the definition {text[m.start():m.end() + 40]!r}")
            body = text[m.end():end - 1]
            if pat is _DEF_HEAD:
                name = m.group(1) or m.group(2)
                nargs = int(m.group(3) or 0)
                default = m.group(4)
            else:
                name, nargs, default = m.group(1), len(m.group(2)) // 2, None
            yield m.start(), end, Macro(name, nargs, body, default, line)


def collect(text: str) -> dict[str, Macro]:
    """The macros a document defines, by name (a later definition replaces an earlier one)."""
    found = sorted(_definitions(text), key=lambda t: t[0])
    return {mac.name: mac for _, _, mac in found}


def strip_definitions(text: str) -> str:
    """``text`` without its macro definitions (what is left of a display that only defines macros)."""
    spans = sorted((a, b) for a, b, _ in _definitions(text))
    out, pos = [], 0
    for a, b in spans:
        out.append(text[pos:a])
        pos = max(pos, b)
    out.append(text[pos:])
    return "".join(out)


def _argument(text: str, i: int, name: str):
    """One macro argument starting at or after ``i``: a brace group or a single token."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        raise MacroError(f"\\{name}: missing argument")
    if text[i] == "{":
        end = _group_end(text, i)
        if end < 0:
            raise MacroError(f"\\{name}: unbalanced braces in its argument")
        return text[i + 1:end - 1], end
    if text[i] == "\\":
        m = re.match(r"\\(?:[A-Za-z]+|.)", text[i:])
        return m.group(0), i + len(m.group(0))
    if text[i] == "}":
        raise MacroError(f"\\{name}: missing argument")
    return text[i], i + 1


def expand(text: str, macros: dict[str, Macro]) -> str:
    """``text`` with every use of a defined macro replaced by its body."""
    if not macros:
        return text
    pat = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    count = 0
    while True:
        m = pat.search(text)
        if m is None:
            return text
        count += 1
        if count > MAX_EXPANSIONS:
            raise MacroError(f"\\{m.group(1)} keeps expanding (a macro that uses itself?)")
        mac = macros[m.group(1)]
        args, i = [], m.end()
        nargs = mac.nargs
        if mac.default is not None:
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            if j < len(text) and text[j] == "[":
                k = text.find("]", j)
                if k < 0:
                    raise MacroError(f"\\{mac.name}: unclosed optional argument")
                args.append(text[j + 1:k])
                i = k + 1
            else:
                args.append(mac.default)
            nargs -= 1
        for _ in range(nargs):
            a, i = _argument(text, i, mac.name)
            args.append(a)
        body = re.sub(r"#(\d)", lambda g: args[int(g.group(1)) - 1] if int(g.group(1)) <= len(args) else g.group(0),
                      mac.body)
        # keep a following letter from gluing onto a body that ends in a command
        if re.search(r"\\[A-Za-z]+$", body) and i < len(text) and text[i].isalpha():
            body += " "
        text = text[:m.start()] + body + text[i:]
