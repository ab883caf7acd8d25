"""A document's displayed equations turned into claims, with what was skipped and why.

Each statement (a row of a display, or rows chained by a leading ``=``) is
one *equation*.  A chain ``a = b = c`` is a derivation; ``∂f/∂X = e`` a
gradient (or Jacobian, by the declared layout); ``f'(z) = e`` for a function
a derivative claim; a new name on the left (``Z = XW + b``, ``Z := XW``,
``G: X ↦ XW``) a definition later equations may use.  Members that cannot be
read (index notation, a matrix written out, words) are dropped from a chain
with a note, and an equation with fewer than two readable members is
skipped with its reason.  Nothing is dropped silently: every equation is in
``Document.equations`` with its status.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import expr as E
from ..claims import Claim
from ..parse import ClaimFileError
from ..printing import to_text
from .declarations import Declarations, find_block, load_declarations, part_scope
from .extract import extract
from .macros import MacroError, collect, expand, strip_definitions
from .prepare import split_statements
from lark import Tree

from .extract import _blank_code
from .translate import READINGS, SITE_KINDS, Fn, Member, NeedIndex, Skip, Translator, UnknownName, members_of, parse_statement

__all__ = ["Equation", "Document", "read_document", "MAX_READINGS", "MAX_INSTANCES"]

MAX_READINGS = 4  # two ambiguous products in one equation: four readings
MAX_INSTANCES = 16  # index instantiations of one equation
EQUALITY = {"=", ":=", "\\coloneqq", "\\equiv"}
NEW_CHAIN = {"\\implies", "\\Rightarrow", "\\Longrightarrow", "\\iff"}
REL_REASONS = {"\\leftarrow": "update rule", "\\gets": "update rule", ":": "function signature"}


@dataclass
class Equation:
    """One statement of the document and what became of it."""

    line: int
    latex: str
    status: str = "skipped"  # "checked" | "definition" | "skipped"
    reason: str = ""  # a key of REASONS when skipped
    detail: str = ""
    claims: list = field(default_factory=list)  # claim ids
    defines: list = field(default_factory=list)  # names defined
    guesses: list = field(default_factory=list)  # readings the notation leaves open, as chosen (x^2 of a vector)
    parsed: bool = True


@dataclass
class Document:
    path: Path
    equations: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    declarations: str = ""  # where the declarations came from ("" when there were none)

    def coverage(self) -> dict:
        """found, parsed, checked, definitions, skipped (by reason), claims."""
        skipped = Counter(e.reason for e in self.equations if e.status == "skipped")
        return {
            "found": len(self.equations),
            "parsed": sum(e.parsed for e in self.equations),
            "checked": sum(e.status == "checked" for e in self.equations),
            "definitions": sum(e.status == "definition" for e in self.equations),
            "skipped": dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))),
            "claims": len(self.claims),
        }


@dataclass
class _Statement:
    line: int
    latex: str  # as written (macros expanded)
    members: list = field(default_factory=list)  # Member
    error: Skip | None = None
    condition: str = ""  # 'ℓ = 1, …, L−1' written after the statement


def read_document(text: str, path: Path, markdown: bool, declare: Path | None = None) -> Document:
    """The equations and claims of a document's text."""
    path = Path(path)
    lines = text.splitlines()
    doc = Document(path)
    decl = _declarations(text, path, markdown, declare, lines)
    doc.declarations = decl.source if decl.source != "(none)" else ""
    prefix = decl.prefix or re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
    clean = _blank_code(text, markdown)
    try:
        macros = collect(clean)
    except MacroError as exc:
        raise ClaimFileError(f"{path}: {exc}") from None
    state = _State(decl, prefix, path, doc)
    for display in extract(text, markdown, clean):
        if display.error:
            doc.equations.append(Equation(display.line, display.latex, reason="unclosed display",
                                          detail=display.error, parsed=False))
            continue
        if collect(display.latex) and not strip_definitions(display.latex).strip():
            doc.equations.append(Equation(display.line, display.latex.strip(), reason="macro definitions"))
            continue
        for chain in _chains(display, macros):
            try:
                doc.equations.append(_process(chain, state))
            except (ClaimFileError, KeyboardInterrupt):
                raise
            except Exception as exc:  # a bug here must not lose the other equations; it is listed, not hidden
                doc.equations.append(Equation(chain[0].line, " ".join(s.latex for s in chain), reason="internal error",
                                              detail=f"{type(exc).__name__}: {exc} (please report it)"))
    return doc


@dataclass
class _State:
    decl: Declarations
    prefix: str
    path: Path
    doc: Document
    ids: set = field(default_factory=set)
    params: dict = field(default_factory=dict)  # id(scope) -> {defined name: parameters}


def _declarations(text, path, markdown, declare, lines) -> Declarations:
    if declare is not None:
        declare = Path(declare)
        try:
            side = declare.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClaimFileError(f"{declare}: cannot read: {exc}") from None
        return load_declarations(side, str(declare), lines)
    try:
        block = find_block(text, markdown)
    except ClaimFileError as exc:
        raise ClaimFileError(f"{path}:{exc}") from None
    if block is None:
        return load_declarations("", "(none)", lines)
    body, first = block
    return load_declarations(body, str(path), lines, first_line=first)


# ---------------------------------------------------------------- statements and chains

_CONDITION = re.compile(r"\s*(\\ell|[A-Za-z])\s*=\s*([^=]*,[^=]*)")


def _chains(display, macros) -> list:
    """Statements grouped into chains: a statement that starts with '=' continues the one before."""
    chains: list = []
    for row in display.rows:
        try:
            row_text = expand(row.text, macros)
        except MacroError as exc:
            chains.append([_Statement(row.line, row.text, error=Skip("parse error", str(exc)))])
            continue
        for k, text in enumerate(split_statements(row_text)):
            if k > 0 and chains and _CONDITION.fullmatch(text.strip()):
                chains[-1][0].condition = text.strip()
                continue
            st = _Statement(row.line, text)
            continues = bool(re.match(r"^\s*(=|:=|\\approx|\\equiv)", text))
            try:
                st.members = members_of(parse_statement(text))
                head = st.members[0].rel
                if head in NEW_CHAIN:
                    st.members[0].rel, continues = None, False
                elif head is not None:
                    continues = True
            except Skip as exc:
                st.error = exc
            if continues and chains and k == 0:
                chains[-1].append(st)
            else:
                chains.append([st])
    return chains


def _condition(text: str, indices: dict):
    """'ℓ = 1, 2, ⋯, L−1': (index, its values), or None."""
    m = _CONDITION.fullmatch(text)
    if not m:
        return None
    name = m.group(1).lstrip("\\")
    if name not in indices:
        return None
    items = [x.strip() for x in m.group(2).split(",") if x.strip()]
    t = Translator(scope=None, indices=indices)
    try:
        if any(re.fullmatch(r"\\c?dots|\\ldots|\.\.\.", x) for x in items):
            first, last = t._index_value(items[0]), t._index_value(items[-1])
            values = list(range(first, last + 1)) if None not in (first, last) else None
        else:
            values = [t._index_value(x) for x in items]
            values = None if None in values else values
    except NeedIndex:
        return None
    return (name, values) if values else None


def _process(chain: list, state: _State) -> Equation:
    first = chain[0]
    eq = Equation(first.line, " ".join(s.latex for s in chain))
    decl = state.decl
    part = decl.part_at(first.line)
    override = decl.equations.get(first.line, {})
    if "skip" in override:
        eq.reason, eq.detail = "skipped by the declarations", str(override["skip"])
        return eq
    if first.error is not None:
        eq.parsed = False
        eq.reason, eq.detail = first.error.reason, first.error.detail
        return eq
    eq.parsed = all(s.error is None for s in chain)
    members: list = []  # (Member, error or None)
    for s in chain:
        if s.error is not None:
            members.append((Member("=", None, s.latex), s.error))
        else:
            members.extend((m, None) for m in s.members)
    indices = dict(part.indices)
    if first.condition:
        cond = _condition(first.condition, indices)
        if cond:
            indices[cond[0]] = cond[1]
    scope = part_scope(decl, part)
    params = state.params.setdefault(id(scope), {})
    return _claims_of(eq, members, scope, part, indices, params, state, override)


def _claims_of(eq, members, scope, part, indices, params, state, override) -> Equation:
    queue, instances = [dict()], []
    while queue:
        assignment = queue.pop(0)
        try:
            readings = _readings(members, scope, part, indices, assignment, params)
        except NeedIndex as need:
            values = indices.get(need.name)
            values = [values] if isinstance(values, int) else list(values or [])
            if not values or len(instances) + len(queue) + len(values) > MAX_INSTANCES:
                eq.reason, eq.detail = "index notation", f"the index {need.name} has no declared values"
                return eq
            queue.extend({**assignment, need.name: v} for v in values)
            continue
        except Skip as exc:
            eq.reason, eq.detail = exc.reason, exc.detail
            return eq
        definitions = [r["definition"] for r in readings if r.get("definition")]
        if definitions and len(readings) > 1:
            eq.reason, eq.detail = "ambiguous", (f"the definition of {definitions[0][0]} has a product that mixes ⊙ "
                                                 "and matrix products without brackets; bracket it or define the "
                                                 "name in the declarations")
            return eq
        for name, body, fparams in definitions[:1]:
            scope.defines[name] = E.define(name, body)
            if fparams:
                params[name] = fparams
            else:
                params.pop(name, None)
        instances.append((assignment, readings))
    made, defined, skip, partial = [], [], None, []
    for assignment, readings in instances:
        for reading in readings:
            defined.extend(reading["defines"])
            if reading["claim"] is not None or reading["defines"]:
                eq.guesses.extend(g for g in reading["guesses"] if g not in eq.guesses)
            if reading["claim"] is not None:
                made.append((assignment, reading))
            elif reading["skip"] is not None:
                skip = skip or reading["skip"]
                where = ", ".join(f"{k} = {v}" for k, v in sorted(assignment.items()))
                partial.append(f"{where or 'as written'}: {reading['skip'].detail}")
    eq.defines = sorted(set(defined))
    if (made or defined) and partial:
        eq.detail = "not checked " + "; ".join(partial)
    if not made:
        if defined:
            eq.status = "definition"
            return eq
        skip = skip or Skip("not a claim")
        eq.reason, eq.detail = skip.reason, skip.detail
        return eq
    ambiguous = len({r["reading"] for _, r in made}) > 1
    formed: dict = {}
    for a, r in made:
        formed.setdefault(tuple(sorted(a.items())), []).append(_well_formed(r["claim"]))
    for assignment, reading in made:
        key = tuple(sorted(assignment.items()))
        suffix = "".join(f".{k}{v}" for k, v in key)
        if ambiguous:
            suffix += f".reading-{reading['reading']}"
        base = f"{state.prefix}.L{eq.line}{suffix}"
        cid, k = base, 2
        while cid in state.ids:
            cid, k = f"{base}.{k}", k + 1
        state.ids.add(cid)
        notes = list(reading["notes"])
        expect = override.get("expect")
        if assignment:
            notes.insert(0, "with " + ", ".join(f"{k} = {v}" for k, v in key))
        if ambiguous:
            mine = _well_formed(reading["claim"])
            notes.insert(0, _ambiguity_note(reading, formed[key], mine))
            if not mine and any(formed[key]) and expect is None:
                expect = "fails"
        if override.get("note"):
            notes.append(str(override["note"]))
        title = f" ({part.title})" if part.title else ""
        state.doc.claims.append(_make(reading["claim"], cid, f"{state.path.name} line {eq.line}{title}",
                                      f"{state.path}:{eq.line}", expect, "; ".join(notes), eq.latex))
        eq.claims.append(cid)
    eq.status = "checked"
    return eq


def _ambiguity_note(reading, flags, mine) -> str:
    sites = ", ".join(f"'{s[1]}'" for s in reading["sites"])
    label = " and ".join(READINGS[s[2]][c] for s, c in zip(reading["sites"], reading["reading"]))
    if all(flags):
        verdict = "both readings are well-formed: the text does not decide"
    elif mine:
        verdict = "the only well-formed reading: the one the text supports"
    elif any(flags):
        verdict = "shapes do not fit: the text does not support this reading"
    else:
        verdict = "no reading is well-formed"
    kinds = " / ".join(sorted({SITE_KINDS[s[2]] for s in reading["sites"]}))
    return f"ambiguous product {sites} ({kinds}); read {label}: {verdict}"


def _well_formed(claim: dict) -> bool:
    try:
        kind = claim["kind"]
        if kind == "identity":
            return E.shape(claim["lhs"]) == E.shape(claim["rhs"])
        if kind in ("gradient", "jacobian"):
            node = E.Grad if kind == "gradient" else E.Jacobian
            return E.shape(node(claim["f"], claim["wrt"])) == E.shape(claim["claimed"])
        shapes = {E.shape(s) for s in claim["steps"]}
        return len(shapes) == 1
    except E.ShapeError:
        return False


def _make(c: dict, cid, source, origin, expect, note, latex) -> Claim:
    kind = c["kind"]
    fields = {k: v for k, v in c.items() if k != "kind"}
    if kind == "derivation":
        fields["steps"] = tuple(fields["steps"])
    return Claim(cid, kind, source=source, expect=expect, note=note, origin=origin, latex=latex,
                 relations=tuple(c.get("relations", ())), **{k: v for k, v in fields.items() if k != "relations"})


# ---------------------------------------------------------------- one instance of an equation


def _readings(members, scope, part, indices, assignment, params) -> list:
    """Each reading of the equation at one index assignment (two per ambiguous product)."""
    first = _translate(members, scope, part, indices, assignment, {}, params)
    sites = first["sites"]
    if not sites:
        return [first]
    if 2 ** len(sites) > MAX_READINGS:
        raise Skip("ambiguous", f"{len(sites)} ambiguous products")
    out = []
    for combo in itertools.product("ab", repeat=len(sites)):
        r = first if set(combo) == {"a"} else _translate(members, scope, part, indices, assignment,
                                                          dict(zip(sites, combo)), params)
        r["reading"] = "".join(combo)
        r["sites"] = sites
        out.append(r)
    return out


def _translate(members, scope, part, indices, assignment, choices, params) -> dict:
    """One reading: the claim (or the reason there is none), the names it defines, notes."""
    t = Translator(scope=scope, names=part.names, indices=indices, assignment=dict(assignment),
                   layout=part.layout, superscript=part.superscript, loss=part.loss, choices=choices, params=params)
    out = {"claim": None, "skip": None, "defines": [], "notes": [], "reading": "", "sites": [], "guesses": []}
    values = []  # (rel, Expr | Skip, Member)
    for m, err in members:
        if err is not None or m.tree is None:
            values.append((m.rel, err or Skip("not a claim", "a relation with nothing after it"), m))
            continue
        said = len(t.guesses)
        try:
            values.append((m.rel, t.member(m), m))
        except Skip as exc:
            del t.guesses[said:]  # a member that is not read makes no reading
            values.append((m.rel, exc, m))
    out["guesses"] = list(dict.fromkeys(t.guesses))
    out["notes"].extend(out["guesses"])
    out["sites"] = [s for s in t.sites]
    if len(values) >= 3 and values[1][0] == ":" and values[2][0] == "\\mapsto":
        # G: X ↦ X W defines G (or restates it); X names the argument
        arg = values[1][1]
        out["mapsto_params"] = [arg] if isinstance(arg, E.Symbol) else []
        values = [values[0], ("=", values[2][1], values[2][2])] + values[3:]
    start = 0
    defined = _definition(t, values) if len(values) >= 2 else None
    if defined is not None:
        name, body, fparams, start = defined
        out["definition"] = (name, body, fparams)
        out["defines"].append(name)
    elif len(values) >= 2 and _restates(values):
        out["defines"].append(values[0][1].name)  # 'Z = X W' where Z is declared so: consistent, nothing to check
        start = 1
    rest = values[start:]
    rels = [r for r, _, _ in rest[1:]]
    bad = [k for k, r in enumerate(rels) if r not in EQUALITY]
    if bad:
        k = bad[0]
        if rels[k] in ("\\in",) and k == len(rels) - 1:
            rest = rest[:-1]  # '∈ R^{m×n}' after a formula: a shape annotation
        elif not out["defines"]:
            out["skip"] = Skip(REL_REASONS.get(rels[k], "relation not checked"), f"the relation {rels[k]}")
            return out
        else:
            return out
    kept = [(v, m) for _, v, m in rest if isinstance(v, E.Expr)]
    dropped = [(v, m) for _, v, m in rest if not isinstance(v, E.Expr)]
    numbers = [(v, m) for v, m in kept if _is_number(v) and re.search(r"\d\.\d", m.latex)]
    if numbers and len(numbers) < len(kept):
        # 'z = x w + b = 2.0 × 0.5 + 1.0 = 2.0': decimals are values at a point the text chose, not identities
        # (∂x/∂x = 1 is); the symbolic members are compared with each other and the arithmetic with itself
        symbolic = [(v, m) for v, m in kept if (v, m) not in numbers]
        kept, aside = (symbolic, numbers) if len(symbolic) >= 2 else (numbers, symbolic)
        dropped += [(Skip("not a claim", "a value at a point the text chose; compared only with the other values"
                          if aside is numbers else "a formula set equal to numbers: only the arithmetic is compared"),
                     m) for _, m in aside]
    if len(rest) == 1 and not out["defines"]:
        out["skip"] = Skip("not a claim")
        return out
    if len(kept) < 2:
        if not out["defines"]:
            # the reason a defining statement fails is in its body, not in the name it would define
            named = isinstance(values[0][1], UnknownName) and _plain_name(t, values[0][2]) is not None
            reasons = [v for v, m in dropped if not (named and m is values[0][2])]
            out["skip"] = (reasons or [v for v, _ in dropped] or [Skip("not a claim")])[0]
        return out
    for v, m in dropped:
        out["notes"].append(f"not checked: {m.latex or '…'} ({v.detail})")
    exprs = [v for v, _ in kept]
    out["claim"] = _claim_kind(exprs, _prime_claim(t, kept[0][1]))
    out["claim"]["relations"] = part.relations
    return out


def _is_number(e: E.Expr) -> bool:
    """An expression of numbers only (no symbol, name, dimension or fill)."""
    return all(isinstance(n, E.Scalar) and not n.value.free_symbols or not isinstance(n, (E.Scalar, E.Symbol, E.Defined, E.Fill))
               for n in E.walk(e))


def _restates(values) -> bool:
    """A defined name set equal to its own definition, written the same way."""
    (_, v0, _), (rel, v1, _) = values[0], values[1]
    return (isinstance(v0, E.Defined) and isinstance(v1, E.Expr) and rel in EQUALITY
            and to_text(v0.body) == to_text(v1))


def _definition(t, values):
    """(name, body, params, index of the first member to check) for a defining statement, else None."""
    rel1, v0, m0 = values[0]
    _, v1, m1 = values[1]
    rel = values[1][0]
    if rel not in EQUALITY or not isinstance(v1, E.Expr):
        return None
    if isinstance(v0, UnknownName):
        name = _plain_name(t, m0)
        if name is None:
            return None
        params = _parameters(t, m0)
        return name, v1, params, 1
    # f(x) = … again, for a function the document defined before: a new definition (f(x) = x after ReLU)
    term = _term_of(m0.tree)
    factors = [c for c in term.children if c.data == "factor"] if term is not None else []
    if len(factors) == 2 and factors[1].children[0].data == "paren" and isinstance(v0, E.Expr):
        try:
            t.text, t.environments = m0.parsed.text, m0.parsed.environments
            head = t._resolve(t._factor(factors[0]))
        except Skip:
            return None
        params = _parameters(t, m0)
        if isinstance(head, E.Defined) and t.params.get(head.name) and \
                [p.name for p in params] == [p.name for p in t.params[head.name]] and to_text(head.body) != to_text(v1):
            return head.name, v1, params, 1
    return None


def _plain_name(t: Translator, m: Member):
    """The name a member spells when it is a name (with scripts), optionally applied to arguments."""
    tree = _term_of(m.tree)
    if tree is None:
        return None
    factors = [c for c in tree.children if c.data == "factor"]
    if len([c for c in tree.children if c.data == "mulop"]) or not 1 <= len(factors) <= 2:
        return None
    if len(factors) == 2 and factors[1].children[0].data != "paren":
        return None
    if factors[0].children[0].data not in ("letter", "command", "styled"):
        return None  # only a name (with scripts) can be defined
    try:
        t.text, t.environments = m.parsed.text, m.parsed.environments
        t.expression(factors[0])
    except UnknownName as exc:
        return exc.name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", exc.name) else None
    except Skip:
        return None
    return None


def _term_of(tree):
    """The single product a member is, when it is one (no sum)."""
    if tree is not None and tree.data == "sum" and len(tree.children) == 1:
        tree = tree.children[0]
    return tree if tree is not None and tree.data == "term" else None


def _parameters(t: Translator, m: Member) -> list:
    factors = [c for c in _term_of(m.tree).children if c.data == "factor"]
    if len(factors) != 2:
        return []
    args = []
    for c in factors[1].children[0].children:
        if hasattr(c, "data"):
            try:
                args.append(t.expression(c))
            except Skip:
                return []
    return args if all(isinstance(a, E.Symbol) for a in args) else []


def _prime_claim(t: Translator, m: Member):
    """f'(z) on the left: (f applied to a fresh name for z, that name), for a claim against the truth."""
    tree = _term_of(m.tree)
    if tree is None:
        return None
    factors = [c for c in tree.children if c.data == "factor"]
    if len(factors) != 2 or len(tree.children) != 2:
        return None
    head, arg = factors
    if not head.children[1:] or head.children[-1].data != "prime" or arg.children[0].data != "paren":
        return None
    try:
        t.text, t.environments = m.parsed.text, m.parsed.environments
        fn = t._resolve(t._factor(Tree("factor", list(head.children[:-1]))))
        z = t.expression(arg)
    except Skip:
        return None
    if not isinstance(fn, Fn):
        return None
    wrt = z if isinstance(z, (E.Symbol, E.Defined)) else E.Defined(f"({to_text(z)})", z)
    return E.Sum(fn.call([wrt])), wrt


def _has_derivative(e: E.Expr) -> bool:
    return any(isinstance(n, (E.Grad, E.Jacobian, E.Directional)) for n in E.walk(e, into_defined=False))


def _claim_kind(exprs, prime) -> dict:
    if len(exprs) == 2:
        lhs, rhs = exprs
        if not _has_derivative(rhs):
            if prime is not None:
                f, wrt = prime
                return {"kind": "gradient", "f": f, "wrt": wrt, "claimed": rhs}
            if isinstance(lhs, E.Grad):
                return {"kind": "gradient", "f": lhs.f, "wrt": lhs.wrt, "claimed": rhs}
            if isinstance(lhs, E.Jacobian):
                return {"kind": "jacobian", "f": lhs.f, "wrt": lhs.wrt, "claimed": rhs}
            if isinstance(lhs, E.Transpose) and isinstance(lhs.a, E.Jacobian):
                return {"kind": "jacobian", "f": lhs.a.f, "wrt": lhs.a.wrt, "claimed": E.Transpose(rhs)}
        return {"kind": "identity", "lhs": lhs, "rhs": rhs}
    return {"kind": "derivation", "steps": list(exprs)}
