"""Documents as written: displayed equations of Markdown, LaTeX (and Jupyter) files checked as claims.

``load_document(path, declare=None)`` reads a ``.md``, ``.tex`` or ``.ipynb``
file, finds its displayed equations, expands the document's macros, parses
each statement with a grammar (lark, ``grammar.lark``), translates it into
derivcheck's vocabulary with the declarations (a fenced block in the
document or a side TOML file) and returns a :class:`Document`: its claims,
and every equation with what became of it (checked, a definition, or
skipped with a reason).  ``coverage_text`` prints the summary.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from ..parse import ClaimFileError
from .document import Document, Equation, read_document
from .translate import REASONS

__all__ = ["SUFFIXES", "Document", "Equation", "load_document", "coverage_text", "REASONS"]

SUFFIXES = (".md", ".markdown", ".txt", ".tex", ".ipynb")


def _notebook_text(path: Path, raw: str) -> str:
    """The Markdown cells of a notebook, one after another (cell boundaries kept as blank lines)."""
    try:
        nb = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ClaimFileError(f"{path}:{exc.lineno}: not a valid notebook (JSON): {exc.msg}") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ClaimFileError(f"{path}: not a Jupyter notebook (no cells)")
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            parts.append("".join(src) if isinstance(src, list) else str(src))
    return "\n\n".join(parts)


def load_document(path, declare=None) -> Document:
    """The document at ``path`` read with its declarations (or those of ``declare``)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimFileError(f"{path}: cannot read: {exc}") from None
    declare_text = None
    if declare is not None:
        try:
            declare_text = Path(declare).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClaimFileError(f"{declare}: cannot read: {exc}") from None
    return _cached(str(path), raw, None if declare is None else str(declare), declare_text)


@functools.lru_cache(maxsize=32)
def _cached(path: str, raw: str, declare: str | None, declare_text: str | None) -> Document:
    # keyed by the texts themselves: the same inputs give the same document (the CLI asks twice)
    p = Path(path)
    text = _notebook_text(p, raw) if p.suffix == ".ipynb" else raw
    return read_document(text, p, markdown=p.suffix != ".tex", declare=None if declare is None else Path(declare))


NO_DECLARATIONS = " (no declarations: give them in a fenced block opened with ```toml derivcheck, or with --declare FILE)"


def coverage_text(documents) -> str:
    """What was found, parsed, checked and skipped in each document, and every skipped equation."""
    lines = []
    for doc in documents:
        c = doc.coverage()
        lines.append(f"{doc.path}: {c['found']} equations found, {c['parsed']} parsed, {c['checked']} checked "
                     f"({c['claims']} claims), {c['definitions']} definitions, "
                     f"{sum(c['skipped'].values())} skipped"
                     + (f" (declarations: {doc.declarations})" if doc.declarations else NO_DECLARATIONS))
        for reason, n in c["skipped"].items():
            lines.append(f"    {n:>4}  {reason}")
        skipped = [e for e in doc.equations if e.status == "skipped"]
        if skipped:
            lines.append("  Equations not checked:")
            for e in skipped:
                text = " ".join(e.latex.split())
                text = text if len(text) <= 70 else text[:67] + "..."
                lines.append(f"    line {e.line}: {e.reason}: {e.detail}")
                lines.append(f"        {text}")
        guessed = [e for e in doc.equations if e.guesses]
        if guessed:
            lines.append("  Equations read with a choice the notation leaves open:")
            for e in guessed:
                for guess in e.guesses:
                    lines.append(f"    line {e.line}: {guess}")
    return "\n".join(lines)
