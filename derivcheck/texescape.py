"""Any text as LaTeX that pdflatex compiles with the report's preamble (utf8, T1, amsmath, amssymb).

Claims carry free text (ids, sources, notes, reasons) and formulas whose names
may be any Unicode letter.  pdflatex knows only some characters, and one
unknown character stops the whole PDF, so every character outside printable
ASCII is turned into something the preamble supports, in this order (one
table per way):

- TeX's special characters are escaped; whitespace and control characters
  become a space (a blank line would end a paragraph mid-argument);
- ``SYMBOLS``: punctuation and mathematical signs the documents use, as commands;
- ``GREEK``: Greek letters as math commands, or as the Latin capital they look like
  (LaTeX has no \\Beta: Β is set as an upright B);
- ``LETTERS``: Latin letters that are not an accented ASCII letter (ß, ø, æ …);
- accented letters: the base letter under the accent commands of its marks (é → \\'{e});
- compatibility forms whose normal form is ASCII (fullwidth Ｘ → X);
- anything else is shown by its code point, ``[U+XXXX]``, in typewriter type.

Invisible formatting characters (zero-width spaces, direction marks) are dropped.
"""
from __future__ import annotations

import unicodedata

__all__ = ["tex_escape", "tex_math"]

SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
            "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}"}


def _m(command: str) -> str:
    return r"\ensuremath{" + command + "}"


SYMBOLS = {
    "§": r"\S{}", "¶": r"\P{}", "†": r"\dag{}", "‡": r"\ddag{}", "©": r"\textcopyright{}",
    "®": r"\textregistered{}", "™": r"\texttrademark{}", "£": r"\pounds{}", "°": _m(r"^{\circ}"),
    "«": r"\guillemotleft{}", "»": r"\guillemotright{}", "‹": r"\guilsinglleft{}", "›": r"\guilsinglright{}",
    "¡": "!`", "¿": "?`", "“": "``", "”": "''", "‘": "`", "’": "'", "„": ",,", "‚": ",",
    "–": "--", "—": "---", "―": "---", "‐": "-", "‑": "-", "‒": "-", "−": "-", "…": r"\ldots{}",
    "\u00a0": "~", "\u00ad": r"\-",
    "·": _m(r"\cdot"), "⋅": _m(r"\cdot"), "•": _m(r"\bullet"), "∗": _m(r"\ast"), "½": _m(r"\tfrac12"),
    "¼": _m(r"\tfrac14"), "¾": _m(r"\tfrac34"), "×": _m(r"\times"), "÷": _m(r"\div"), "±": _m(r"\pm"),
    "∓": _m(r"\mp"), "¬": _m(r"\neg"), "µ": _m(r"\mu"),
    "ŷ": _m(r"\hat y"), "Ŷ": _m(r"\hat Y"), "ᵀ": _m(r"^{\top}"), "‖": _m(r"\|"), "′": _m("'"),
    "″": _m("''"), "ℓ": _m(r"\ell"), "→": _m(r"\to"), "←": _m(r"\leftarrow"), "↔": _m(r"\leftrightarrow"),
    "↦": _m(r"\mapsto"), "⇒": _m(r"\Rightarrow"), "⇐": _m(r"\Leftarrow"), "⇔": _m(r"\Leftrightarrow"),
    "↑": _m(r"\uparrow"), "↓": _m(r"\downarrow"), "∂": _m(r"\partial"), "∇": _m(r"\nabla"),
    "∘": _m(r"\circ"), "≠": _m(r"\neq"), "≡": _m(r"\equiv"), "≈": _m(r"\approx"), "≃": _m(r"\simeq"),
    "≅": _m(r"\cong"), "∼": _m(r"\sim"), "∝": _m(r"\propto"), "≤": _m(r"\leq"), "≥": _m(r"\geq"),
    "≪": _m(r"\ll"), "≫": _m(r"\gg"), "⊗": _m(r"\otimes"), "⊙": _m(r"\odot"), "⊕": _m(r"\oplus"),
    "⋯": _m(r"\cdots"), "∈": _m(r"\in"), "∉": _m(r"\notin"), "∑": _m(r"\sum"), "∏": _m(r"\prod"),
    "∫": _m(r"\int"), "√": _m(r"\surd"), "∞": _m(r"\infty"), "∀": _m(r"\forall"), "∃": _m(r"\exists"),
    "∧": _m(r"\wedge"), "∨": _m(r"\vee"), "∩": _m(r"\cap"), "∪": _m(r"\cup"), "⊂": _m(r"\subset"),
    "⊆": _m(r"\subseteq"), "∅": _m(r"\emptyset"), "∖": _m(r"\setminus"), "⊤": _m(r"\top"), "⊥": _m(r"\bot"),
    "∥": _m(r"\parallel"), "∣": _m(r"\mid"), "⟨": _m(r"\langle"), "⟩": _m(r"\rangle"),
    "ℝ": _m(r"\mathbb{R}"), "ℕ": _m(r"\mathbb{N}"), "ℤ": _m(r"\mathbb{Z}"), "ℚ": _m(r"\mathbb{Q}"),
    "ℂ": _m(r"\mathbb{C}"), "ℏ": _m(r"\hbar"),
}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁼⁽⁾ⁱⁿ", "0123456789-+=()in"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₋₊₌₍₎ₐₑₒₓᵢⱼₖₗₘₙₚₛₜ", "0123456789-+=()aeoxijklmnpst"))
SYMBOLS.update({ch: _m("^{" + s + "}") for ch, s in SUPERSCRIPTS.items()})
SYMBOLS.update({ch: _m("_{" + s + "}") for ch, s in SUBSCRIPTS.items()})

GREEK = {ch: _m(cmd) for ch, cmd in {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "ϰ": r"\varkappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "ο": r"o", "π": r"\pi",
    "ϖ": r"\varpi", "ρ": r"\rho", "ϱ": r"\varrho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi",
    "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    # capitals that look like Latin letters have no command of their own
    "Α": r"\mathrm{A}", "Β": r"\mathrm{B}", "Ε": r"\mathrm{E}", "Ζ": r"\mathrm{Z}", "Η": r"\mathrm{H}",
    "Ι": r"\mathrm{I}", "Κ": r"\mathrm{K}", "Μ": r"\mathrm{M}", "Ν": r"\mathrm{N}", "Ο": r"\mathrm{O}",
    "Ρ": r"\mathrm{P}", "Τ": r"\mathrm{T}", "Χ": r"\mathrm{X}", "ϒ": r"\Upsilon",
}.items()}

LETTERS = {"ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}",
           "Ø": r"\O{}", "ł": r"\l{}", "Ł": r"\L{}", "ð": r"\dh{}", "Ð": r"\DH{}", "þ": r"\th{}",
           "Þ": r"\TH{}", "ı": r"\i{}", "ȷ": r"\j{}", "đ": r"\dj{}", "Đ": r"\DJ{}", "ŋ": r"\ng{}",
           "Ŋ": r"\NG{}"}

ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
           "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
           "\u0327": "c", "\u0328": "k", "\u0331": "b"}

WHITESPACE = set("\t\n\r\f\v\x1c\x1d\x1e\x1f\x85\u2028\u2029")


def _accented(ch: str) -> str | None:
    """é → \\'{e}: an ASCII letter under accents LaTeX has commands for; else None."""
    base, *marks = unicodedata.normalize("NFD", ch)
    if not marks or not ("a" <= base.lower() <= "z") or any(m not in ACCENTS for m in marks):
        return None
    out = {"i": r"\i{}", "j": r"\j{}"}.get(base, base) if marks[0] in "\u0300\u0301\u0302\u0308\u0304\u0306" \
        else base  # a dotless i under an accent above, as typesetters do
    for m in marks:
        out = "\\" + ACCENTS[m] + "{" + out + "}"
    return out


def _compatible(ch: str) -> str | None:
    """Ｘ → X: a compatibility form whose normal form is printable ASCII without TeX specials."""
    plain = unicodedata.normalize("NFKC", ch)
    if plain != ch and plain.isascii() and plain.isprintable() and not set(plain) & set(SPECIALS):
        return plain
    return None


def _one(ch: str) -> str:
    if ch in SPECIALS:
        return SPECIALS[ch]
    if ch in WHITESPACE:
        return " "
    if " " <= ch <= "~":
        return ch
    for table in (SYMBOLS, GREEK, LETTERS):
        if ch in table:
            return table[ch]
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    if category == "Cf":  # zero-width spaces and joiners, direction marks, byte-order marks: invisible
        return ""
    for way in (_accented, _compatible):
        text = way(ch)
        if text is not None:
            return text
    return r"\texttt{[U+%04X]}" % ord(ch)


LINE = 1000  # pdflatex reads at most 200,000 bytes a line (its buf_size): long text is broken into lines
WORD = 60  # a run this long without a space gets a break point: TeX cannot set a line wider than 16,384 pt


def _lines(pieces, anywhere: bool) -> str:
    """Join escaped pieces, starting a new line of source after LINE characters: at a space (a newline
    is a space to TeX) or, when ``anywhere``, between two pieces with ``%`` (an invisible line end);
    when ``anywhere``, a run of WORD pieces without a space also gets a break point for the page."""
    out, width, run = [], 0, 0
    for p in pieces:
        if p == " ":
            run = 0
            if width > LINE:
                out.append("\n")
                width = 0
                continue
        elif anywhere and p:
            run += 1
            if run > WORD:
                out.append(r"\allowbreak{}")
                run = 1
            if width > LINE:
                out.append("%\n")
                width = 0
        out.append(p)
        width += len(p)
    return "".join(out)


def tex_escape(text) -> str:
    """Plain text (ids, sources, notes, reasons) as LaTeX for text mode; compiles whatever the text."""
    return _lines((_one(ch) for ch in unicodedata.normalize("NFC", str(text))), anywhere=True)


def tex_math(latex: str) -> str:
    """LaTeX math (from notation.to_latex) with every character outside printable ASCII made safe:
    names may be any Unicode letter.  ASCII is left alone: it is LaTeX source already (so a long
    formula is broken into lines only at its spaces)."""
    def piece(ch):
        if " " <= ch <= "~":
            return ch
        return " " if ch in WHITESPACE else r"\text{" + _one(ch) + "}"

    return _lines((piece(ch) for ch in unicodedata.normalize("NFC", str(latex))), anywhere=False)
