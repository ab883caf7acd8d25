"""Generated kernels: no drift from regeneration, gradients against finite differences
(and torch.autograd when installed), and a kernel that trains."""
import importlib
import os
from pathlib import Path

import numpy as np
import pytest
import sympy

from derivcheck import expr as E
from derivcheck.assumptions import sampler_for
from derivcheck.catalog import load_kernels, load_paths
from derivcheck.check import check_all
from derivcheck.codegen import KERNEL_DIR, KernelError, generate
from derivcheck.kernels import NAMES

ROOT = Path(__file__).resolve().parent.parent
KERNELS = {k.name: k for k in load_kernels(ROOT / "identities")}
SIZES = (3, 4, 5, 6, 7, 2, 8)  # distinct per dimension: a transpose cannot hide


@pytest.fixture(scope="module")
def checked():
    claims = load_paths([ROOT / "identities"])
    needed = {cid for k in KERNELS.values() for cid in (*k.gradients.values(), *k.replaces.values())}
    picked = [c for c in claims if c.id in needed]
    return {c.id: c for c in claims}, {r.id: r for r in check_all(picked, seed=0, jobs=2)}


def test_every_kernel_module_is_listed():
    assert sorted(KERNELS) == sorted(NAMES)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_committed_kernel_is_what_regeneration_produces(checked, name):
    claims, results = checked
    committed = (KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")
    assert generate(KERNELS[name], claims, results) == committed, \
        f"derivcheck/kernels/{name}.py differs from its regeneration: run " \
        "`python -m derivcheck kernels --out derivcheck/kernels`"


@pytest.mark.parametrize("name", sorted(k for k in KERNELS if KERNELS[k].replaces))
def test_a_replaced_formula_is_named_with_its_own_verdict(checked, name):
    claims, results = checked
    text = generate(KERNELS[name], claims, results)
    for cid in KERNELS[name].replaces.values():
        status = results[cid].verdict.status
        assert status not in ("proved", "proved_at_shapes", "confirmed")
        assert f"claim {cid}, which is {status}\n" in text  # mdl.s8.eq5 is ill_formed, not refuted


def test_a_kernel_is_not_generated_from_a_claim_that_does_not_hold(checked):
    claims, results = checked
    k = KERNELS["ng_two_layer"]
    wrong = dict(k.gradients, W2="ng.backprop.W2.transposed")
    bad = type(k)(k.name, k.title, k.inputs, k.params, k.loss, wrong, origin=k.origin)
    results = dict(results, **{r.id: r for r in check_all([claims["ng.backprop.W2.transposed"]], seed=0)})
    with pytest.raises(KernelError, match="ill_formed"):
        generate(bad, claims, results)


def _instance(kernel, rng):
    """Inputs and parameters at sizes where every dimension differs, drawn by their assumptions."""
    symbols = (*kernel.inputs, *kernel.params)
    dims = sorted({d for s in symbols for d in (s.rows, s.cols) if isinstance(d, sympy.Symbol)}, key=str)
    sizes = dict(zip(dims, SIZES))

    def size(d):
        return sizes[d] if isinstance(d, sympy.Symbol) else int(d)

    values = {s.name: sampler_for(s.name, s.assume).draw(rng, size(s.rows), size(s.cols)) for s in symbols}
    return values, sizes


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-8))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_gradients_pass_gradcheck(name):
    """derivcheck.gradcheck in place of hand-rolled finite differences: its Richardson probes, then (for
    kernels without generic activations) the kernel's loss expression as the 50-digit truth (spec mode)."""
    from derivcheck.gradcheck import Spec, check_pair

    module = importlib.import_module(f"derivcheck.kernels.{name}")
    values, _ = _instance(KERNELS[name], np.random.default_rng(7))
    inputs, params = ({n: values[n] for n in names} for names in (module.INPUTS, module.PARAMETERS))
    report = check_pair(module.forward, module.backward, inputs=inputs, params=params)
    assert report.ok and [r.name for r in report.rows] == list(module.PARAMETERS), str(report)
    if not KERNELS[name].activations:
        exact = check_pair(module.forward, module.backward, inputs=inputs, params=params,
                           spec=Spec(KERNELS[name].loss))
        assert exact.ok and all(r.error <= 1e-12 for r in exact.rows), str(exact)


def _torch_loss(expr, tensors, sizes, torch, activations):
    """The catalog's own loss expression, evaluated with torch operations (independent of the kernel)."""
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "log": torch.log, "exp": torch.exp,
           "identity": lambda t: t}

    def ev(e):
        if isinstance(e, E.Symbol):
            return tensors[e.name]
        if isinstance(e, E.Defined):
            return ev(e.body)
        if isinstance(e, E.Scalar):
            return torch.tensor(float(sympy.sympify(e.value).subs(sizes)), dtype=torch.float64)
        if isinstance(e, E.Fill):
            r, c = (int(sympy.sympify(d).subs(sizes)) for d in (e.rows, e.cols))
            return torch.ones((r, c), dtype=torch.float64)
        if isinstance(e, E.Add):
            return ev(e.a) + ev(e.b)
        if isinstance(e, E.Mul):
            return ev(e.a) * ev(e.b)
        if isinstance(e, E.Pow):
            return ev(e.a) ** ev(e.b)
        if isinstance(e, E.MatMul):
            return ev(e.a) @ ev(e.b)
        if isinstance(e, E.Transpose):
            return ev(e.a).T
        if isinstance(e, E.Apply):
            name = activations[e.fn.base] if getattr(e.fn, "generic", False) else e.fn.name
            return fns[name](ev(e.a))
        if isinstance(e, E.Softmax):
            return torch.softmax(ev(e.a), dim=1)
        if isinstance(e, E.Sum):
            v = ev(e.a)
            return v.sum() if e.axis is None else v.sum(dim=e.axis, keepdim=True)
        raise NotImplementedError(type(e).__name__)

    return ev(expr).sum()


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_gradients_match_torch_autograd(name):
    if os.environ.get("CI"):  # CI installs the test extras, torch's CPU build among them: no quiet skip there
        import torch
    else:
        torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test]'); "
                                                    "finite differences still check every kernel")
    module = importlib.import_module(f"derivcheck.kernels.{name}")
    kernel = KERNELS[name]
    values, sizes = _instance(kernel, np.random.default_rng(11))
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in module.PARAMETERS)
               for k, v in values.items()}
    _torch_loss(kernel.loss, tensors, sizes, torch, kernel.activations).backward()
    loss, cache = module.forward(*[values[n] for n in module.INPUTS + module.PARAMETERS])
    grads = module.backward(cache)
    for p in module.PARAMETERS:
        assert _rel(grads[p], tensors[p].grad.numpy()) <= 1e-10, p


def test_the_section_8_1_kernel_trains_on_the_documents_data():
    from derivcheck.kernels import mdl_sigmoid_mse as k

    x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    rng = np.random.default_rng(1)
    w1, w2 = rng.random((3, 4)), rng.random((4, 1))
    first, _ = k.forward(x, y, w1, w2)
    for _ in range(1000):  # the program's learning rate 1 and 1000 iterations
        loss, cache = k.forward(x, y, w1, w2)
        g = k.backward(cache)
        w1, w2 = w1 - g["weight1"], w2 - g["weight2"]
    last, cache = k.forward(x, y, w1, w2)
    assert last < first / 10
    assert np.all(np.abs(cache["a2"] - y) < 0.2)


def test_softmax_and_bce_kernels_are_stable_for_large_logits():
    from derivcheck.kernels import ng_two_layer, sg_softmax_regression

    X = np.array([[300.0, -300.0], [-300.0, 300.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss, cache = sg_softmax_regression.forward(X, Y, np.eye(2))
    assert np.isfinite(loss) and loss < 1e-100
    assert np.all(np.isfinite(sg_softmax_regression.backward(cache)["W"]))
    W1, b1, W2, b2 = np.eye(2), np.zeros((1, 2)), np.array([[1000.0], [0.0]]), np.zeros((1, 1))
    y = np.array([[0.0], [1.0]])  # the first row is confidently wrong: log σ(−761) must not be −inf
    loss, cache = ng_two_layer.forward(X, y, W1, b1, W2, b2)
    assert np.isfinite(loss) and loss > 100
    assert all(np.all(np.isfinite(g)) for g in ng_two_layer.backward(cache).values())


def test_write_kernels_writes_what_changed_and_only_that(checked, tmp_path):
    from derivcheck.codegen import write_kernels

    claims, results = checked
    first = write_kernels(list(KERNELS.values()), list(claims.values()), list(results.values()), tmp_path)
    assert sorted(first) == sorted(f"regenerated {name}.py" for name in KERNELS)
    assert (tmp_path / "ng_two_layer.py").read_text() == (KERNEL_DIR / "ng_two_layer.py").read_text()
    assert write_kernels(list(KERNELS.values()), list(claims.values()), list(results.values()), tmp_path) == []
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------- lean kernels: in place, and still right


def _arguments(name, seed=5):
    module = importlib.import_module(f"derivcheck.kernels.{name}")
    values, _ = _instance(KERNELS[name], np.random.default_rng(seed))
    return module, [values[n] for n in module.INPUTS + module.PARAMETERS]


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernels_never_write_their_arguments_or_their_cache(name):
    """Forward and backward work in place on their own buffers only: the caller's arrays are untouched,
    and backward can be called twice on one cache."""
    module, args = _arguments(name)
    before = [a.copy() for a in args]
    loss, cache = module.forward(*args)
    assert all(np.array_equal(a, b) for a, b in zip(args, before))
    kept = {k: v.copy() for k, v in cache.items()}
    first = module.backward(cache)
    assert all(np.array_equal(cache[k], kept[k]) for k in kept)
    second = module.backward(cache)
    assert all(np.array_equal(first[p], second[p]) for p in first)
    assert module.forward(*args)[0] == loss


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernels_keep_float32(name):
    """float32 in, float32 out (no silent upcast to float64), and the same gradients to float32 accuracy."""
    module, args = _arguments(name)
    grads64 = module.backward(module.forward(*args)[1])
    loss32, cache32 = module.forward(*[a.astype(np.float32) for a in args])
    grads32 = module.backward(cache32)
    for p in module.PARAMETERS:
        assert grads32[p].dtype == np.float32, p
        assert _rel(grads32[p], grads64[p]) <= 1e-4, p


def test_the_cache_holds_only_what_backward_reads():
    from derivcheck.kernels import ng_two_layer, sg_two_layer

    assert set(ng_two_layer.forward(*_arguments("ng_two_layer")[1])[1]) == {"X", "y", "W2", "A1", "A2"}  # no Z1, Z2
    assert set(sg_two_layer.forward(*_arguments("sg_two_layer")[1])[1]) == {"X", "Y", "W2", "H1", "P"}  # step(A1) = step(H1)


def test_backward_allocates_about_one_batch_by_hidden_array():
    """Issue 12: the backward pass's peak allocation is at most 1.1 x batch x hidden x itemsize, besides
    the gradients it returns (NumPy reports its buffers to tracemalloc)."""
    import tracemalloc

    from derivcheck.kernels import ng_two_layer, sg_two_layer

    rng = np.random.default_rng(3)
    m, n, h = 4096, 32, 256
    for module, classes in ((ng_two_layer, 1), (sg_two_layer, 4)):
        X = rng.standard_normal((m, n))
        Y = np.eye(classes)[rng.integers(0, classes, m)] if classes > 1 else (rng.random((m, 1)) < 0.5) * 1.0
        args = (X, Y, rng.standard_normal((n, h)) / 6, rng.standard_normal((1, h)), rng.standard_normal((h, classes)) / 16,
                rng.standard_normal((1, classes)))
        _, cache = module.forward(*args)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        grads = module.backward(cache)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        returned = sum(g.nbytes for g in grads.values())
        assert peak - returned <= 1.1 * m * h * 8, (module.__name__, peak / (m * h * 8))


def test_fused_evaluation_matches_numpy_for_every_layout():
    from derivcheck.kernels import _runtime as rt

    rng = np.random.default_rng(0)
    for rows, cols in ((1, 1), (3, 5), (1000, 7), (7, 40000), (70000, 1)):  # blocks of many rows, of one row
        A, B = rng.standard_normal((rows, cols)), rng.standard_normal((rows, cols))
        row, col = rng.standard_normal((1, cols)), rng.standard_normal((rows, 1))
        expected = (1 - A**2) * B + row - col / 3
        got = rt.fused(lambda A, B, row, col, k: (1 - A**2) * B + row - col / k, None, A, B, row, col, 3)
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-15, atol=0)
        into = B.copy()
        assert rt.fused(lambda A, B: (1 - A**2) * B, into, A, into) is into  # the result may overwrite an operand
        assert np.allclose(into, (1 - A**2) * B, rtol=1e-15, atol=0)


def test_runtime_sigmoid_is_exact_in_both_tails_and_in_place():
    from derivcheck.kernels import _runtime as rt

    z = np.array([[-1000.0, -745.0, -40.0, -1.0, 0.0, 1e-300, 2.5, 40.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow anywhere (e^-1000 may underflow)
        s = rt.sigmoid(z)
    import mpmath

    exact = [float(1 / (1 + mpmath.exp(-mpmath.mpf(v)))) for v in z[0]]
    assert np.allclose(s[0], exact, rtol=1e-15, atol=0)  # relative accuracy even at e^-745
    same = z.copy()
    assert rt.sigmoid(same, out=same) is same and np.array_equal(same, s)
