"""NumPy backprop kernels generated from verified claims.

For each ``Kernel`` of the catalog: the forward pass is the loss's chain of
defined intermediates; the backward pass is the ``claimed`` expression of each
parameter's gradient claim, emitted only when that claim holds.  Expressions
go through SymPy: elementwise arithmetic (which broadcasts, so it is
commutative algebra) becomes SymPy arithmetic, matrix products, transposes
and reductions become opaque functions, ``sympy.cse`` shares common
subexpressions, and a NumPy printer subclass writes the code.  Three tables
shape the result:

- ``_CODE_FORM``: expression node → SymPy form;
- ``_REWRITES``: numerically safer or cheaper forms (log σ(z) → −softplus(−z),
  log softmax → log-softmax, ones(N,1)ᵀ A → a column sum, …);
- ``_CALLS``: how the printer writes each opaque function (an elementwise function's code form and
  in-place form come from its row in functions.FUNCTIONS).

Activations computed in the forward pass are reused: any occurrence of a
forward definition's body in the backward formulas becomes that cached name
(σ(Z)(1 − σ(Z)) is printed A(1 − A)), and the cache holds only what the
backward pass reads.  Last, ``_Lowering`` writes each assignment in place
where nothing reads the old value afterwards (``Z = X @ W; Z += b``,
``tanh(Z, out=Z)``) and evaluates longer elementwise expressions a block of
rows at a time (``_runtime.fused``), so that the passes allocate about one
batch x hidden array each instead of one per operation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy
from sympy.printing.numpy import NumPyPrinter

from . import expr as E
from .claims import Claim, Kernel
from .files import write_atomically
from .functions import FUNCTIONS, PRIMES
from .printing import to_text
from .verdict import HOLDS, Result

__all__ = ["generate", "write_kernels", "KernelError", "KERNEL_DIR"]

KERNEL_DIR = Path(__file__).resolve().parent / "kernels"


class KernelError(ValueError):
    """A kernel cannot be generated (a claim does not hold, an operation has no code form)."""


class NotChecked(KernelError):
    """A claim the kernel needs was not part of this run (``--only``): the kernel is left as it is."""


# the elementwise functions whose table row gives a code form: opaque here, printed by that form
_CODED = tuple(name for name, fn in FUNCTIONS.items() if fn.code)

_F = {name: sympy.Function(name) for name in (
    "matmul", "transpose", "sum_all", "sum0", "sum1", "ones", "zeros", "eye",
    "softmax_rows", "softmax_cols", "log_softmax_rows", "log_softmax_cols", *_CODED)}

# the SymPy form of each elementwise function of the table (functions.FUNCTIONS): SymPy's own where its NumPy
# printer writes the row's exact definition (tanh, exp, log, ...), else opaque; and of "identity", a concrete
# activation for a generic one
_ELEMENTWISE = {**{name: _F[name] if fn.code else fn.exact for name, fn in FUNCTIONS.items()},
                "identity": lambda u: u}


def _prime(concrete: str, u):
    """The derivative of a concrete activation at u, from the shared rules (functions.PRIMES)."""
    if concrete == "identity":
        return sympy.Integer(1)
    if concrete not in PRIMES:
        raise KernelError(f"no derivative rule for the activation {concrete}")
    return PRIMES[concrete](u, _ELEMENTWISE[concrete](u), lambda name, x: _ELEMENTWISE[name](x))


# ---------------------------------------------------------------- expression -> SymPy form


class _Converter:
    def __init__(self, activations: dict):
        self.activations = activations

    def __call__(self, e: E.Expr):
        rule = _CODE_FORM.get(type(e))
        if rule is None:
            raise KernelError(f"{type(e).__name__} has no NumPy form in a kernel ({to_text(e)})")
        return rule(self, e)

    def apply(self, e: E.Apply):
        fn = e.fn
        if getattr(fn, "generic", False):
            concrete = self.activations.get(fn.base)
            if concrete is None:
                raise KernelError(f"the generic function {fn.base} needs a concrete activation (Kernel.activations)")
            if fn.order == 0:
                return _ELEMENTWISE[concrete](self(e.a))
            if fn.order == 1:
                return _prime(concrete, self(e.a))
            raise KernelError(f"no code form for {fn.name} with {fn.base} = {concrete}")
        if fn.name not in _ELEMENTWISE:
            raise KernelError(f"no code form for {fn.name}")
        return _ELEMENTWISE[fn.name](self(e.a))


def _sum(c, e):
    return {None: _F["sum_all"], 0: _F["sum0"], 1: _F["sum1"]}[e.axis](c(e.a))


def _fill(c, e):
    size = (sympy.sympify(e.rows), sympy.sympify(e.cols))
    return _F[e.kind](*size) if e.kind != "eye" else _F["eye"](size[0])


def _term(c, x: E.Expr, other: E.Expr):
    """ones(N, 1) @ b added to a matrix of N rows is b broadcast over the rows, which NumPy does by
    itself (decided here, where the shapes are known)."""
    if (isinstance(x, E.MatMul) and isinstance(x.a, E.Fill) and x.a.kind == "ones"
            and sympy.sympify(x.a.cols) == 1 and E.shape(other) == E.shape(x)):
        return c(x.b)
    return c(x)


_CODE_FORM = {
    E.Symbol: lambda c, e: sympy.Symbol(e.name),
    E.Defined: lambda c, e: sympy.Symbol(e.name),
    E.Scalar: lambda c, e: sympy.sympify(e.value),
    E.Fill: _fill,
    E.Add: lambda c, e: _term(c, e.a, e.b) + _term(c, e.b, e.a),
    E.Mul: lambda c, e: c(e.a) * c(e.b),
    E.Pow: lambda c, e: c(e.a) ** c(e.b),
    E.MatMul: lambda c, e: _F["matmul"](c(e.a), c(e.b)),
    E.Transpose: lambda c, e: _F["transpose"](c(e.a)),
    E.Apply: lambda c, e: c.apply(e),
    E.Softmax: lambda c, e: _F["softmax_rows"](c(e.a)),
    E.Sum: _sum,
}


# ---------------------------------------------------------------- rewrites

_w, _v = sympy.Wild("w"), sympy.Wild("v")
_T, _MM, _ONES = _F["transpose"], _F["matmul"], _F["ones"]


_REWRITES = [  # (pattern, replacement), applied in order until nothing changes
    (_T(_T(_w)), _w),
    (_T(_F["softmax_rows"](_T(_w))), _F["softmax_cols"](_w)),
    (sympy.log(_F["softmax_rows"](_w)), _F["log_softmax_rows"](_w)),
    (sympy.log(_F["softmax_cols"](_w)), _F["log_softmax_cols"](_w)),
    (sympy.log(_F["sigmoid"](_w)), -_F["softplus"](-_w)),  # log σ(z) = −log(1 + e^−z)
    (sympy.log(1 - _F["sigmoid"](_w)), -_F["softplus"](_w)),  # log(1 − σ(z)) = −log(1 + e^z)
    (_MM(_T(_ONES(_v, 1)), _w), _F["sum0"](_w)),  # 1ᵀ A is the column sums
    (_MM(_T(_w), _ONES(_v, 1)), _T(_F["sum0"](_w))),  # Aᵀ 1 likewise, as a column
]


_LINEAR = ("matmul", "transpose", "sum0", "sum1", "sum_all")  # f(c A) = c f(A) for a scalar c


def _scalar_out_of_products(e, scalars: frozenset):
    """(c A) @ B, A @ (c B), sum(c A), (c A)ᵀ → c (…) for a factor c made of sizes and
    numbers: scale the (usually smaller) result once instead of an operand."""
    if getattr(e.func, "__name__", None) not in _LINEAR:
        return e
    factors, operands = [], []
    for arg in e.args:
        if arg.is_Mul:
            c = [f for f in arg.args if f.free_symbols <= scalars]
            factors += c
            operands.append(sympy.Mul(*[f for f in arg.args if f not in c]))
        else:
            operands.append(arg)
    return sympy.Mul(*factors) * e.func(*operands) if factors else e


_LOG_REWRITTEN = (_F["sigmoid"], _F["softmax_rows"], _F["softmax_cols"])  # their logs have a safe form above


def _rewrite(e, scalars: frozenset = frozenset()):
    for _ in range(10):
        before = e
        for pattern, replacement in _REWRITES:
            e = e.replace(pattern, replacement)
        e = e.replace(lambda x: getattr(x.func, "__name__", None) in _LINEAR,
                      lambda x: _scalar_out_of_products(x, scalars))
        if e == before:
            return e
    return e


# ---------------------------------------------------------------- printing


class KernelPrinter(NumPyPrinter):
    """NumPy code for the SymPy form: the opaque functions via ``_CALLS``."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})

    def _print_Function(self, e):
        template = _CALLS.get(e.func.__name__)
        if template is None:
            return super()._print_Function(e)
        return template.format(*[self._operand(a) if e.func.__name__ in _OPERATORS else self._print(a)
                                 for a in e.args])

    def _operand(self, a):
        """An operand of @ or .T: bracketed unless it is a name, a call or a positive number."""
        text = self._print(a)
        atomic = a.is_Symbol or (a.is_Number and a >= 0) or isinstance(a, sympy.Function)
        return text if atomic else f"({text})"

    def _print_Symbol(self, e):
        return e.name

    def _print_Pow(self, e, rational=False):
        if e.exp == -1:
            return f"1/{self.parenthesize(e.base, 50)}"
        return super()._print_Pow(e, rational)

    def doprint(self, expr, assign_to=None):
        text = super().doprint(expr, assign_to)
        return _bare(text)


def _bare(text: str) -> str:
    """Drop one pair of brackets around a whole line: ``(X @ W1)`` → ``X @ W1``."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return text
    return text[1:-1]


# printed as operators or methods, not calls: their operands may need brackets
_OPERATORS = ("matmul", "transpose", "sum_all", "sum0", "sum1")
_CALLS = {
    "matmul": "({0} @ {1})", "transpose": "{0}.T",
    "sum_all": "{0}.sum()", "sum0": "{0}.sum(axis=0, keepdims=True)",  # methods: less call overhead than numpy.sum
    "sum1": "{0}.sum(axis=1, keepdims=True)",
    "ones": "numpy.ones(({0}, {1}))", "zeros": "numpy.zeros(({0}, {1}))", "eye": "numpy.eye({0})",
    "softmax_rows": "rt.softmax({0}, axis=1)", "softmax_cols": "rt.softmax({0}, axis=0)",
    "log_softmax_rows": "rt.log_softmax({0}, axis=1)", "log_softmax_cols": "rt.log_softmax({0}, axis=0)",
    **{name: FUNCTIONS[name].code for name in _CODED},  # sigmoid, relu, step, softplus, ...: their rows' forms
}


# ---------------------------------------------------------------- in-place lowering
#
# Each assignment ``name = expr`` becomes NumPy statements that allocate as little as possible (a
# fresh batch x hidden array costs its page faults, and every pass over it a trip to memory):
# - a matrix product plus a broadcast term: ``Z = X @ W`` then ``Z += b``;
# - an elementwise function of an array nothing reads afterwards: computed into that array;
# - a longer elementwise expression over batch x hidden arrays: evaluated a block of rows at a
#   time (``rt.fused``), so NumPy's temporaries stay block-sized, into an array nothing reads
#   afterwards when there is one.  Products and sums inside it are computed first, as names.
# The arrays a caller passed in or will read (arguments, the cache, results) are never written.

_ELEMENTWISE_OPS = (sympy.Add, sympy.Mul, sympy.Pow,
                    *(form for form in _ELEMENTWISE.values() if isinstance(form, sympy.FunctionClass)))
_INPLACE = {_ELEMENTWISE[name]: fn.inplace for name, fn in FUNCTIONS.items() if fn.inplace}  # the rows' in-place forms


def _elementwise(e) -> bool:
    return e.func in _ELEMENTWISE_OPS


def _broadcast(*shapes):
    return tuple(next((d for d in axis if d != 1), 1) for axis in zip(*shapes))


_SHAPE_OF = {  # shape of an opaque function's value from its arguments' shapes
    "matmul": lambda a, b: (a[0], b[1]), "transpose": lambda a: (a[1], a[0]), "sum_all": lambda a: (1, 1),
    "sum0": lambda a: (1, a[1]), "sum1": lambda a: (a[0], 1), "softmax_rows": lambda a: a,
    "softmax_cols": lambda a: a, "log_softmax_rows": lambda a: a, "log_softmax_cols": lambda a: a,
}


def _shape(e, known: dict) -> tuple:
    """(rows, cols) of a SymPy form: names from ``known``, anything else a scalar (sizes, numbers)."""
    if e.is_Symbol:
        return known.get(e.name, (1, 1))
    if e.is_Number:
        return (1, 1)
    name = getattr(e.func, "__name__", None)
    if name in ("ones", "zeros"):
        return tuple(e.args)
    if name == "eye":
        return (e.args[0], e.args[0])
    if name in _SHAPE_OF:
        return _SHAPE_OF[name](*[_shape(a, known) for a in e.args])
    return _broadcast(*[_shape(a, known) for a in e.args])


def _big(shape) -> bool:
    """A batch x hidden array (no axis of size 1): worth lowering; vectors and scalars are not."""
    return all(d != 1 for d in shape)


class _Lowering:
    """Assignments [(name, SymPy form)] in order → _Lines, given the names that must not be written
    (``keep``), the names read after the last assignment (``live_out``) and the known shapes."""

    def __init__(self, printer, known: dict, keep: set, temps):
        self.printer, self.known, self.keep, self.temps = printer, known, keep, temps

    def __call__(self, assignments, live_out: set) -> list[_Line]:
        hoisted = []
        for name, e in assignments:
            hoisted += self._hoist(name, e)
        last = {}
        for i, (name, e) in enumerate(hoisted):
            for sym in e.free_symbols:
                last[sym.name] = i
        lines = []
        for i, (name, e) in enumerate(hoisted):
            self.known[name] = _shape(e, self.known)
            dead = {s.name for s in e.free_symbols if last.get(s.name) == i and s.name not in live_out
                    and s.name not in self.keep}
            lines.append(self._line(name, e, dead))
        return lines

    def _hoist(self, name, e) -> list:
        """A big elementwise expression with products or sums inside: those first, as names."""
        if not (_elementwise(e) and _big(_shape(e, self.known))) or self._product_plus(e) is not None:
            return [(name, e)]
        out = []

        def visit(x):
            if x.is_Atom or _elementwise(x):
                return x.func(*[visit(a) for a in x.args]) if x.args else x
            if x.func is _F["transpose"] and x.args[0].is_Symbol:
                return x  # a view, not a computation
            t = next(self.temps)
            out.append((t.name, x))
            self.known[t.name] = _shape(x, self.known)
            return t

        body = visit(e)
        return out + [(name, body)]

    def _product_plus(self, e):
        """The matrix product in a sum ``X @ W + b`` that has the sum's own shape, or None."""
        if not e.is_Add:
            return None
        shape = _shape(e, self.known)
        return next((a for a in e.args if getattr(a.func, "__name__", None) == "matmul"
                     and _shape(a, self.known) == shape), None)

    def _line(self, name, e, dead: set) -> _Line:
        p = self.printer
        shape = self.known[name]
        product = self._product_plus(e)
        if product is not None:  # Z = X @ W, then Z += the broadcast rest
            rest = sympy.Add(*[a for a in e.args if a is not product])
            return _Line(name, p.doprint(product), (f"{name} += {p.doprint(rest)}",))
        arg = e.args[0] if len(e.args) == 1 else None
        if e.func in _INPLACE and arg is not None and arg.is_Symbol and arg.name in dead \
                and self.known.get(arg.name) == shape:  # f(Z), and nothing reads Z afterwards
            return _Line(name, _INPLACE[e.func].format(arg.name))
        if _elementwise(e) and _big(shape) and sympy.count_ops(e) > 1:
            names = sorted((s.name for s in e.free_symbols), key=str)
            out = next((n for n in names if n in dead and self.known.get(n) == shape), None)
            return _Line(name, f"rt.fused(lambda {', '.join(names)}: {p.doprint(e)}, {out}, {', '.join(names)})")
        return _Line(name, p.doprint(e))


# ---------------------------------------------------------------- one kernel


@dataclass
class _Line:
    name: str
    code: str
    after: tuple = ()  # statements that finish the value in place (``Z1 += b1``)


def _defined_order(roots) -> list[E.Defined]:
    """Defined nodes reachable from roots, each after the ones it uses."""
    order: list[E.Defined] = []
    seen: set[int] = set()

    def visit(node):
        for child in E.children(node):
            visit(child)
        if isinstance(node, E.Defined) and id(node) not in seen:
            seen.add(id(node))
            order.append(node)

    for r in roots:
        visit(r)
    return order


def _dim_sources(kernel: Kernel) -> list[_Line]:
    """Each dimension used as a number in a formula, read off an argument's shape."""
    lines, done = [], set()
    for s in (*kernel.inputs, *kernel.params):
        for axis, d in enumerate((s.rows, s.cols)):
            if isinstance(d, sympy.Symbol) and d.name not in done:
                done.add(d.name)
                lines.append(_Line(d.name, f"{s.name}.shape[{axis}]"))
    return lines


def _claim_for(kernel: Kernel, param: str, claims: dict, results: dict) -> tuple[Claim, Result]:
    cid = kernel.gradients[param]
    if cid not in claims or cid not in results:
        raise NotChecked(f"kernel {kernel.name}: claim {cid} (gradient of {param}) was not checked")
    claim, result = claims[cid], results[cid]
    if result.verdict.status not in HOLDS:
        raise KernelError(f"kernel {kernel.name}: claim {cid} (gradient of {param}) is "
                          f"{result.verdict.status}; a kernel is only generated from claims that hold")
    if claim.kind != "gradient" or claim.wrt.name != param:
        raise KernelError(f"kernel {kernel.name}: claim {cid} is not the gradient of {param}")
    return claim, result


def _replaced_status(kernel: Kernel, cid: str, results: dict) -> str:
    """The verdict of the document's own formula that a kernel does not use (refuted, ill_formed, …):
    the docstring says which; the claim must have been checked in this run, like the kernel's own."""
    if cid not in results:
        raise NotChecked(f"kernel {kernel.name}: claim {cid} (the formula it replaces) was not checked")
    return results[cid].verdict.status


def generate(kernel: Kernel, claims: dict, results: dict) -> str:
    """The Python source of one kernel module."""
    convert = _Converter(kernel.activations)
    scalars = frozenset(d for s in (*kernel.inputs, *kernel.params) for d in (s.rows, s.cols)
                        if isinstance(d, sympy.Symbol))  # sizes: scalar factors in a formula
    printer = KernelPrinter()
    params = [p.name for p in kernel.params]
    inputs = [s.name for s in kernel.inputs]
    grads = {p: _claim_for(kernel, p, claims, results) for p in params}
    known = {s.name: (s.rows, s.cols) for s in (*kernel.inputs, *kernel.params)}  # shapes, for the lowering

    # forward: the loss's defined intermediates, in order; the loss itself in a numerically safe form
    forward_nodes = _defined_order([kernel.loss])
    forward = {d.name: convert(d.body) for d in forward_nodes}
    # log(A) with A = σ(Z) or softmax(Z) cached: take the log of the activation itself, so that the
    # rewrites can make it stable (log σ → −softplus, log softmax → log-softmax)
    elementwise = {sympy.Symbol(n): body for n, body in forward.items() if _rewrite(body).func in _LOG_REWRITTEN}
    forward_forms = [(d.name, _rewrite(forward[d.name].replace(
        lambda e: e.func == sympy.log, lambda e: sympy.log(e.args[0].xreplace(elementwise)))))
        for d in forward_nodes]
    reuse = {body: sympy.Symbol(n) for n, body in forward.items() if n != kernel.loss.name}
    # step(Z) where H = relu(Z) is cached is step(H): then Z itself need not be kept for the backward pass
    relu_of = {body.args[0]: sympy.Symbol(n) for n, body in forward.items()
               if body.func == _F["relu"] and n != kernel.loss.name}

    def backward_form(e):
        form = convert(e).xreplace(reuse)
        form = form.replace(lambda x: x.func == _F["step"] and x.args[0] in relu_of,
                            lambda x: _F["step"](relu_of[x.args[0]]))
        return _rewrite(form, scalars)

    # backward: intermediates named in the claims, then each gradient, sharing common subexpressions
    grad_exprs = {p: grads[p][0].claimed for p in params}
    backward_nodes = [d for d in _defined_order(list(grad_exprs.values())) if d.name not in forward]
    named = [(d.name, backward_form(d.body)) for d in backward_nodes]
    exprs = [backward_form(grad_exprs[p]) for p in params]
    taken = set(params) | set(inputs) | set(forward) | {n for n, _ in named}
    temps = (sympy.Symbol(f"t{i}") for i in range(10_000) if f"t{i}" not in taken)
    shared, named_exprs = sympy.cse([e for _, e in named] + exprs, symbols=temps, order="none")
    backward_forms = [(str(t), v) for t, v in shared] + [(n, v) for (n, _), v in zip(named, named_exprs)]
    result_forms = dict(zip(params, named_exprs[len(named):]))

    needed = {str(s) for v in [*(v for _, v in shared), *named_exprs] for s in v.free_symbols}
    used_dims = {str(s) for _, e in [*named, *zip(params, exprs)] for s in e.free_symbols}
    used_dims |= {str(s) for body in forward.values() for s in body.free_symbols}
    dims = [line for line in _dim_sources(kernel) if line.name in used_dims]
    backward_dims = [line for line in dims if line.name in needed]
    needed |= {line.code.split(".")[0] for line in backward_dims}  # the argument the size is read from
    cached = [n for n in inputs + params + list(forward) if n in needed]  # only what backward reads

    # lowering: in place where nothing reads a value afterwards; arguments, cache and results are kept
    forward_lines = _Lowering(printer, known, set(inputs) | set(params) | set(cached), temps)(
        forward_forms, live_out=set(cached) | {kernel.loss.name})
    backward_lines = _Lowering(printer, known, set(cached), temps)(
        backward_forms, live_out={str(s) for v in result_forms.values() for s in v.free_symbols})
    results_lines = {p: printer.doprint(v) for p, v in result_forms.items()}

    docs = [(p, to_text(grads[p][0].claimed), grads[p][0].id, grads[p][1].verdict.status, grads[p][0].source)
            for p in params]
    definitions = [(d.name, to_text(d.body)) for d in backward_nodes]
    code = [line.code for line in forward_lines + backward_lines] + [a for line in forward_lines + backward_lines
                                                                    for a in line.after]
    return _template().render(
        kernel=kernel, inputs=inputs, params=params, dims=dims, backward_dims=backward_dims, forward=forward_lines,
        loss=kernel.loss.name, cache=cached, unpack=cached,
        backward=backward_lines, results=results_lines, docs=docs, definitions=definitions,
        forward_docs=[(d.name, to_text(d.body)) for d in forward_nodes],
        replaced={p: (cid, _replaced_status(kernel, cid, results)) for p, cid in kernel.replaces.items()},
        origin=Path(kernel.origin.split(":")[0]).name,
        uses_runtime=any("rt." in c for c in code) or any("rt." in c for c in results_lines.values()))


def _template():
    env = jinja2.Environment(loader=jinja2.PackageLoader("derivcheck", "templates"), autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("kernel.py.j2")


def write_kernels(kernels: list[Kernel], claims: list[Claim], results: list[Result],
                  directory: Path = KERNEL_DIR) -> list[str]:
    """Generate every kernel whose claims hold; write changed files atomically. Returns messages."""
    by_id = {c.id: c for c in claims}
    res = {r.id: r for r in results}
    messages, files = [], {}
    for k in kernels:
        try:
            files[f"{k.name}.py"] = generate(k, by_id, res)
        except NotChecked:
            continue
        except KernelError as exc:
            messages.append(f"not generated: {exc}")
    changed = {name: text.encode("utf-8") for name, text in files.items()
               if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text}
    write_atomically(directory, changed)
    return messages + [f"regenerated {name}" for name in changed]
