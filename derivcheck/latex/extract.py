"""Displayed equations of a Markdown or LaTeX document, with their source lines.

A display is ``$$…$$``, ``\\[…\\]`` or an ``equation``/``align``/``gather``/
``multline`` environment (starred or not) at the top level of the text.
Markdown code (fenced blocks and inline code spans) and LaTeX comments are not
mathematics and are skipped; an escaped ``\\$`` is a dollar sign, not a
delimiter.  Each display is cut into rows at top-level ``\\\\`` (outside
braces and outside inner environments such as ``pmatrix`` or ``cases``) and
each row into cells at ``&``; alignment wrappers (``align*``, ``aligned``,
``split``, ``gathered``) inside a display are unwrapped.  A display that is
never closed is reported, not dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Display", "Row", "extract", "rows_of", "ExtractError"]

ENVIRONMENTS = ("equation", "align", "gather", "multline", "eqnarray", "displaymath", "flalign", "alignat")
WRAPPERS = ("align", "aligned", "split", "gather", "gathered", "equation", "multline", "eqnarray", "flalign",
            "alignat", "alignedat")


class ExtractError(ValueError):
    """A display that cannot be delimited (never closed)."""


@dataclass
class Row:
    line: int  # 1-based source line where the row starts
    cells: list  # the row's text cut at top-level '&'

    @property
    def text(self) -> str:
        return " ".join(c.strip() for c in self.cells).strip()


@dataclass
class Display:
    line: int  # 1-based line of the opening delimiter
    end_line: int
    latex: str  # the text between the delimiters, as written
    delimiter: str  # "$$", "\\[", or an environment name
    offset: int = 0  # character offset of ``latex`` in the source
    error: str = ""  # set when the display could not be delimited
    rows: list = field(default_factory=list)


_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_BEGIN_ENV = re.compile(r"\\begin\{(" + "|".join(ENVIRONMENTS) + r")(\*?)\}")


def _blank_code(text: str, markdown: bool) -> str:
    """The text with code and comments replaced by spaces (offsets and lines kept)."""
    out = list(text)

    def blank(a, b):
        for i in range(a, b):
            if out[i] != "\n":
                out[i] = " "

    lines = text.splitlines(keepends=True)
    pos = 0
    fence = None
    fence_start = 0
    for line in lines:
        if markdown:
            m = _FENCE.match(line)
            if fence is None and m:
                fence, fence_start = m.group(1), pos
            elif fence is not None and m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and line.strip() == m.group(1):
                blank(fence_start, pos + len(line))
                fence = None
        pos += len(line)
    if fence is not None:  # an unclosed fence runs to the end, as in CommonMark
        blank(fence_start, len(text))
    joined = "".join(out)
    if markdown:
        for m in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", joined, re.S):
            if "\n\n" not in m.group(2):
                blank(m.start(), m.end())
        for m in re.finditer(r"\{%.*?%\}", "".join(out), re.S):  # Jekyll/Liquid tags
            blank(m.start(), m.end())
    else:
        for m in re.finditer(r"(?<!\\)%[^\n]*", joined):
            blank(m.start(), m.end())
    return "".join(out)


def _line_at(starts: list, offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def _find_end_env(text: str, start: int, name: str) -> int:
    """Offset of the matching \\end{name} (nested environments of the same name counted)."""
    depth = 1
    pat = re.compile(r"\\(begin|end)\{" + re.escape(name) + r"\}")
    for m in pat.finditer(text, start):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return m.start()
    return -1


def extract(text: str, markdown: bool = True, clean: str | None = None) -> list[Display]:
    """Every displayed equation of ``text`` in order, each with its rows (``clean``: the text with code blanked,
    when the caller has it already)."""
    clean = _blank_code(text, markdown) if clean is None else clean
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: list[Display] = []
    i, n = 0, len(clean)
    opener = re.compile(r"(?<!\\)\$\$|\\\[|\\begin\{(?:" + "|".join(ENVIRONMENTS) + r")\*?\}")
    while True:
        m = opener.search(clean, i)
        if m is None:
            break
        tok = m.group(0)
        line = _line_at(starts, m.start())
        if tok == "$$":
            close = re.compile(r"(?<!\\)\$\$").search(clean, m.end())
            end = close.start() if close else -1
            after = close.end() if close else n
            delim = "$$"
        elif tok == "\\[":
            close = re.compile(r"\\\]").search(clean, m.end())
            end = close.start() if close else -1
            after = close.end() if close else n
            delim = "\\["
        else:
            env = _BEGIN_ENV.match(clean, m.start())
            name = env.group(1) + env.group(2)
            end = _find_end_env(clean, m.end(), name)
            after = clean.find("}", end) + 1 if end >= 0 else n
            delim = name
        if end < 0:
            found.append(Display(line, line, text[m.end():m.end() + 80], delim, m.end(),
                                 error=f"the display opened by {tok} on line {line} is never closed"))
            i = m.end()
            continue
        body = text[m.end():end]
        d = Display(line, _line_at(starts, end), body, delim, m.end())
        d.rows = rows_of(body, m.end(), starts, env=delim if delim not in ("$$", "\\[") else None)
        found.append(d)
        i = after
    return found


_SKIP_COMMANDS = re.compile(r"\\(?:tag|label)\*?\{[^{}]*\}|\\(?:nonumber|notag)\b")


def rows_of(body: str, offset: int = 0, starts=None, env: str | None = None) -> list[Row]:
    """Rows (at top-level \\\\) and cells (at top-level &) of a display body."""
    starts = starts or [0]
    # unwrap alignment environments at depth 0: their contents are the rows
    body = _SKIP_COMMANDS.sub(lambda m: " " * len(m.group(0)), body)
    masked = _mask_wrappers(body)
    rows: list[Row] = []
    cells: list[str] = []
    cell_start = 0
    row_start = 0
    depth = 0
    env_depth = 0
    i = 0
    n = len(masked)

    def push_cell(end):
        cells.append(masked[cell_start:end])

    while i < n:
        ch = masked[i]
        if ch == "\\":
            if masked.startswith("\\begin{", i):
                env_depth += 1
                i = masked.find("}", i) + 1 or n
                continue
            if masked.startswith("\\end{", i):
                env_depth -= 1
                i = masked.find("}", i) + 1 or n
                continue
            if masked.startswith("\\\\", i) and depth == 0 and env_depth == 0:
                push_cell(i)
                rows.append(Row(_line_at(starts, offset + _first_text(masked, row_start)), cells))
                cells = []
                i += 2
                if i < n and masked[i] == "*":
                    i += 1
                i = _skip_optional_spacing(masked, i)
                cell_start = row_start = i
                continue
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "&" and depth == 0 and env_depth == 0:
            push_cell(i)
            cell_start = i + 1
        i += 1
    push_cell(n)
    rows.append(Row(_line_at(starts, offset + _first_text(masked, row_start)), cells))
    return [r for r in rows if r.text]


def _first_text(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _skip_optional_spacing(s: str, i: int) -> int:
    """After \\\\, an optional [2pt] spacing argument."""
    j = _first_text(s, i)
    if j < len(s) and s[j] == "[":
        k = s.find("]", j)
        if k > 0 and re.fullmatch(r"\[\s*-?[\d.]+\s*[a-z]{2}\s*\]", s[j:k + 1]):
            return k + 1
    return i


_WRAP_BEGIN = re.compile(r"\\begin\{(" + "|".join(WRAPPERS) + r")\*?\}(\{[^{}]*\})?")
_WRAP_END = re.compile(r"\\end\{(" + "|".join(WRAPPERS) + r")\*?\}")


def _mask_wrappers(body: str) -> str:
    """Alignment wrappers at brace depth 0 replaced by spaces (same length)."""
    out = list(body)
    for pat in (_WRAP_BEGIN, _WRAP_END):
        for m in pat.finditer(body):
            if body[:m.start()].count("{") - body[:m.start()].count("}") == 0:
                for k in range(m.start(), m.end()):
                    if out[k] != "\n":
                        out[k] = " "
    return "".join(out)
