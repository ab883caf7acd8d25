"""Text preparation before parsing: what LaTeX layout adds and mathematics does not need.

``\\left``/``\\right`` and the ``\\big`` family, spacing commands and
``\\displaystyle`` are dropped; inner environments (``pmatrix``, ``cases``…)
become placeholders the grammar sees as one token; ``|…|`` and ``\\|…\\|`` are
paired into opening and closing bars; ``\\frac 1m`` gets its braces; an
equation label written after an arrow (``\\rightarrow \\text{EqA1}``) and the
final punctuation are cut off; and a row is split into statements at
``\\quad`` separators (``a = b, \\quad c = d``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Prepared", "prepare", "split_statements"]


@dataclass
class Prepared:
    text: str
    environments: dict = field(default_factory=dict)  # placeholder -> (name, body)
    label: str = ""


_DROP = re.compile(r"\\(?:left|right|[bB]igg?[lr]?|middle)(?![A-Za-z])\s*(?:\.)?|\\(?:displaystyle|textstyle|scriptstyle"
                   r"|limits|nolimits|mathstrut|strut|phantom\{[^{}]*\}|hspace\*?\{[^{}]*\}|vspace\*?\{[^{}]*\}"
                   r"|mkern[-\d.]*mu|kern[-\d.]*\w\w)(?![A-Za-z])|\\[,;:! ]")
_FRAC_SHORT = [
    (re.compile(r"(\\[dtc]?frac)\s*([0-9A-Za-z])\s*([0-9A-Za-z])"), r"\1{\2}{\3}"),
    (re.compile(r"(\\[dtc]?frac)\s*(\{[^{}]*\})\s*([0-9A-Za-z])(?![A-Za-z])"), r"\1\2{\3}"),
    (re.compile(r"(\\[dtc]?frac)\s*([0-9A-Za-z])\s*(\{)"), r"\1{\2}\3"),
]
_LABEL = re.compile(r"(?:\\quad|\\qquad|\s)*\\(?:rightarrow|to|longrightarrow|Rightarrow)\s*(?:\\quad|\\qquad|\s)*"
                    r"(\\(?:text|mathbf|textbf|mathrm)\s*\{[^{}]*\}|\(\s*Eq[^()]*\)|\\text\{Eq[^{}]*\})\s*[.,;]?\s*$")


def _environments(text: str):
    """Top-level \\begin{X}…\\end{X} replaced by placeholders."""
    envs = {}
    out, i = [], 0
    pat = re.compile(r"\\begin\{([A-Za-z*]+)\}")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        name = m.group(1)
        depth, j = 1, m.end()
        inner = re.compile(r"\\(begin|end)\{" + re.escape(name) + r"\}")
        end = -1
        for k in inner.finditer(text, j):
            depth += 1 if k.group(1) == "begin" else -1
            if depth == 0:
                end = k
                break
        if end is None or end == -1:
            out.append(text[i:])
            break
        key = f"\\dcenv{len(envs)}"
        envs[key] = (name, text[m.end():end.start()])
        out.append(text[i:m.start()] + " " + key + " ")
        i = end.end()
    return "".join(out), envs


def _pair(text: str, bar: str, left: str, right: str) -> str:
    """Alternate occurrences of ``bar`` (outside braces of other groups) into left/right."""
    parts = text.split(bar)
    if len(parts) == 1:
        return text
    out = [parts[0]]
    for k, p in enumerate(parts[1:]):
        out.append(f" {left if k % 2 == 0 else right} ")
        out.append(p)
    return "".join(out)


def prepare(text: str) -> Prepared:
    """A statement's text ready for the grammar."""
    text = text.replace("\u2212", "-").replace("\u00d7", "\\times ").replace("\u22c5", "\\cdot ")
    text = _DROP.sub(" ", text)
    text = re.sub(r"(?<!\\)~", " ", text)
    text, envs = _environments(text)
    text = re.sub(r"\\(?:Vert|\|)", "\x00", text)
    text = re.sub(r"\\lVert(?![A-Za-z])", "\x00", text)
    text = re.sub(r"\\rVert(?![A-Za-z])", "\x00", text)
    text = _pair(text, "\x00", "\\lVert", "\\rVert")
    text = re.sub(r"\\[lr]vert(?![A-Za-z])|\\vert(?![A-Za-z])|\\mid(?![A-Za-z])", "|", text)
    text = _pair(text, "|", "\\lvert", "\\rvert")
    for pat, rep in _FRAC_SHORT:
        text = pat.sub(rep, text)
    label = ""
    m = _LABEL.search(text)
    if m:
        label, text = m.group(1), text[:m.start()]
    text = re.sub(r"\\(?:quad|qquad)\s*$", "", text.strip())
    text = re.sub(r"[.,;]\s*$", "", text.strip()).strip()
    return Prepared(text, envs, label)


_SEP = re.compile(r"\\q?quad(?![A-Za-z])(?:\s*\\text\{\s*(?:and|where|with|since|for|or|so|i\.e\.|which makes)\s*\}"
                  r"\s*(?:\\q?quad(?![A-Za-z]))?)?|\\text\{\s*(?:and|where|with|which makes)\s*\}")


def split_statements(row: str) -> list[str]:
    """A row cut at top-level \\quad separators (and 'and'/'where' between them)."""
    out, depth, start = [], 0, 0
    i = 0
    while i < len(row):
        ch = row[i]
        if ch == "\\":
            m = _SEP.match(row, i)
            if m and depth == 0:
                out.append(row[start:i])
                start = i = m.end()
                continue
            i += 2
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        i += 1
    out.append(row[start:])
    parts = [re.sub(r"^[\s,]+|[\s,]+$", "", s) for s in out if s.strip(" ,")]
    merged: list = []
    for part in parts:  # '\quad \rightarrow \text{Eq (5)}' labels the statement before it
        if merged and _LABEL.fullmatch(" " + part):
            merged[-1] += " " + part
        else:
            merged.append(part)
    return merged
