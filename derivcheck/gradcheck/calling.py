"""The three shapes of user code, reduced to one problem: a scalar function of
named arrays, and the gradients the code claims for it.

- ``loss + gradients``: ``loss(params, *args, **kwargs)`` returns a number (or
  ``(number, grads)``); ``grads(params, *args, **kwargs)`` returns a dict, or
  ``grads`` is that dict already.
- ``layer (VJP)``: ``forward(*inputs, *params, *args, **kwargs)`` returns
  ``(out, cache)`` and ``backward(dout, cache)`` the gradients of the inputs and
  parameters.  The scalar function is ⟨U, out⟩ for a random upstream gradient U,
  whose gradient is what ``backward(U, cache)`` must return.
- ``forward/backward``: the same call, ``forward`` returns ``(loss, cache)`` and
  ``backward(cache)`` the gradients.

Arrays reach the user's code as read-only views, so code that would modify its
arguments in place fails loudly instead of moving the point being checked.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["GradcheckError", "Problem", "loss_problem", "layer_problem", "pair_problem", "as_gradients", "runs_in_float64"]


class GradcheckError(ValueError):
    """The code or its arguments cannot be checked as given (the message says what is wrong)."""


def _frozen(a):
    if isinstance(a, np.ndarray):
        v = a.view()
        v.flags.writeable = False
        return v
    return a


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)


def _cast(a, dtype):
    """A float array in the working dtype; anything else as it is."""
    if dtype is not None and _is_float_array(a) and a.dtype != dtype:
        return a.astype(dtype)
    return a


def _scalar(value, what: str) -> float:
    if isinstance(value, tuple):
        value = value[0]
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number):
        raise GradcheckError(f"{what} must return a number (a scalar loss), got {_describe(value)}")
    return float(arr.reshape(-1)[0])


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _dtype_of(value):
    """The floating dtype a returned value carries (None for a Python float)."""
    if isinstance(value, tuple):
        value = value[0]
    if isinstance(value, (np.ndarray, np.generic)) and np.issubdtype(value.dtype, np.floating):
        return value.dtype
    return None


@dataclass
class Problem:
    """A scalar function of the named arrays in ``point``, and the code's claimed gradients.

    ``loss(values)`` and ``gradients(values)`` take arrays in the working dtype by
    name; every other argument is bound.  ``given`` holds gradients passed as
    arrays (the point cannot then be moved)."""

    code: str
    point: dict  # name -> array in the working dtype: where the gradients are checked
    candidates: tuple  # names that may be checked, in the user's order
    required: tuple  # names that must have a gradient (the parameters)
    loss: Callable
    gradients: Callable | None
    given: dict | None = None
    dtype: np.dtype = np.dtype(np.float64)
    batch: int | None = None  # the batch size: leading axis of the first input with two or more axes
    notes: list = field(default_factory=list)
    evaluations: int = 0
    seen: dict = field(default_factory=dict)  # "dtype": the floating dtype of the last raw output (None: a Python float)
    upstream: np.ndarray | None = None  # the layer shape's random upstream gradient U

    def value(self, values: dict) -> float:
        self.evaluations += 1
        return self.loss(values)

    def claimed(self, values: dict) -> dict:
        if self.given is not None:
            return self.given
        return self.gradients(values)

    @property
    def movable(self) -> bool:
        return self.given is None


def as_gradients(raw, order_options, what: str) -> dict:
    """The code's gradients as a dict by name: a dict as it is, a tuple (or a single
    array) matched by position to the first of ``order_options`` of the same length."""
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, np.ndarray):
        raw = (raw,)
    if isinstance(raw, (tuple, list)):
        for names in order_options:
            if len(names) == len(raw):
                return dict(zip(names, raw))
        expected = " or ".join(f"{len(n)} ({', '.join(n)})" for n in order_options if n)
        raise GradcheckError(f"{what} returned {len(raw)} gradients; expected {expected}, or a dict by name")
    raise GradcheckError(f"{what} must return a dict of gradients by name (or a tuple), got {_describe(raw)}")


def _check_names(params: dict, inputs: dict):
    if not isinstance(params, dict) or not isinstance(inputs, dict):
        raise GradcheckError("params and inputs must be dicts of arrays by name")
    clash = sorted(set(params) & set(inputs))
    if clash:
        raise GradcheckError(f"{clash[0]!r} is both an input and a parameter")
    for name, a in {**inputs, **params}.items():
        if name in params and not _is_float_array(a):
            raise GradcheckError(f"parameter {name!r} must be a float NumPy array, got {_describe(a)}")
    if not params and not any(_is_float_array(a) for a in inputs.values()):
        raise GradcheckError("nothing to check: no parameters and no float inputs")


def _batch(*groups) -> int | None:
    for group in groups:
        for a in group:
            if isinstance(a, np.ndarray) and a.ndim >= 2:
                return int(a.shape[0])
    return None


def _bound(args, kwargs, dtype):
    """The extra arguments in the working dtype, fresh for each call (code may mutate a dict of options)."""
    def fresh():
        a = tuple(_frozen(_cast(x, dtype)) for x in args)
        kw = {k: _frozen(_cast(v, dtype)) if isinstance(v, np.ndarray) else copy.deepcopy(v)
              for k, v in kwargs.items()}
        a = tuple(copy.deepcopy(x) if isinstance(x, (dict, list)) else x for x in a)
        return a, kw
    return fresh


def loss_problem(loss, grads, params: dict, args=(), kwargs=None, dtype=None) -> Problem:
    """Shape 1: a scalar loss of a dict of parameters, and its gradients."""
    kwargs = dict(kwargs or {})
    _check_names(params, {})
    if not callable(loss):
        raise GradcheckError("loss must be callable: loss(params, *args, **kwargs)")
    extra = _bound(args, kwargs, dtype)
    names = tuple(params)

    seen = {}

    def value(values):
        a, kw = extra()
        raw = loss({k: _frozen(v) for k, v in values.items()}, *a, **kw)
        seen["dtype"] = _dtype_of(raw)
        return _scalar(raw, "loss(params, ...)")

    def gradients(values):
        a, kw = extra()
        frozen = {k: _frozen(v) for k, v in values.items()}
        if grads is None:
            out = loss(frozen, *a, **kw)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise GradcheckError("grads is None, so loss(params, ...) must return (loss, grads)")
            return as_gradients(out[1], [names], "loss(params, ...)[1]")
        return as_gradients(grads(frozen, *a, **kw), [names], "grads(params, ...)")

    given = None
    if grads is not None and not callable(grads):
        given = as_gradients(grads, [names], "grads")
    point = {k: _cast(v, dtype) for k, v in params.items()}
    return Problem("loss + gradients", point, names, names, value, gradients, given,
                   batch=_batch(args, kwargs.values()), seen=seen)


def _forward_call(forward, inputs: dict, params: dict, args, kwargs, dtype):
    extra = _bound(args, kwargs, dtype)
    order = tuple(inputs) + tuple(params)
    fixed_inputs = {k: _cast(v, dtype) for k, v in inputs.items()}

    def call(values):
        a, kw = extra()
        merged = {**fixed_inputs, **values}
        return forward(*(_frozen(merged[k]) for k in order), *a, **kw)
    return call


def _split(out, what: str):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise GradcheckError(f"{what} must return (output, cache), got {_describe(out)}")
    return out


def layer_problem(forward, backward, inputs: dict, params: dict, args=(), kwargs=None, dtype=None,
                  rng: np.random.Generator | None = None) -> Problem:
    """Shape 2: a layer; its backward is a vector-Jacobian product, checked through a
    random upstream gradient U (the scalar function is ⟨U, out⟩)."""
    kwargs = dict(kwargs or {})
    _check_names(params, inputs)
    call = _forward_call(forward, inputs, params, args, kwargs, dtype)
    diff_inputs = tuple(k for k, v in inputs.items() if _is_float_array(v))
    point = {k: _cast(v, dtype) for k, v in {**inputs, **params}.items() if k in diff_inputs or k in params}
    out, _ = _split(call(point), "forward")
    out = np.asarray(out)
    if not np.issubdtype(out.dtype, np.floating):
        raise GradcheckError(f"forward's output must be a float array, got {_describe(out)}")
    work = out.dtype if dtype is None else np.dtype(dtype)
    upstream = (rng or np.random.default_rng(0)).standard_normal(out.shape).astype(work)
    up64 = upstream.astype(np.float64)
    seen = {}

    def value(values):
        o = np.asarray(_split(call(values), "forward")[0])
        seen["dtype"] = _dtype_of(o)
        if o.shape != up64.shape:
            raise GradcheckError(f"forward's output changed shape from {up64.shape} to {o.shape} when the "
                                 "inputs moved slightly")
        return float(np.sum(up64 * o.astype(np.float64)))

    orders = [diff_inputs + tuple(params), tuple(params), diff_inputs]

    def gradients(values):
        _, cache = _split(call(values), "forward")
        return as_gradients(backward(_frozen(upstream.copy()), cache), orders, "backward(dout, cache)")

    return Problem("layer (VJP)", point, diff_inputs + tuple(params), tuple(params), value, gradients,
                   batch=_batch(inputs.values(), args), seen=seen, upstream=upstream)


def pair_problem(forward, backward, inputs: dict, params: dict, args=(), kwargs=None, dtype=None) -> Problem:
    """Shape 3: ``forward`` returns (loss, cache) and ``backward(cache)`` the gradients."""
    kwargs = dict(kwargs or {})
    _check_names(params, inputs)
    call = _forward_call(forward, inputs, params, args, kwargs, dtype)
    diff_inputs = tuple(k for k, v in inputs.items() if _is_float_array(v))
    point = {k: _cast(v, dtype) for k, v in {**inputs, **params}.items() if k in diff_inputs or k in params}

    seen = {}

    def value(values):
        raw = _split(call(values), "forward")[0]
        seen["dtype"] = _dtype_of(raw)
        return _scalar(raw, "forward")

    orders = [tuple(params), diff_inputs + tuple(params)]

    def gradients(values):
        _, cache = _split(call(values), "forward")
        return as_gradients(backward(cache), orders, "backward(cache)")

    return Problem("forward/backward", point, diff_inputs + tuple(params), tuple(params), value, gradients,
                   batch=_batch(inputs.values(), args), seen=seen)


def runs_in_float64(problem: Problem) -> tuple[bool, str]:
    """Whether the code, given float64 arrays, computes in float64 throughout (is dtype-generic):
    it runs, and its loss (or output) and every gradient come back as float64."""
    try:
        problem.value(problem.point)
        grads = problem.claimed(problem.point)
    except Exception as exc:  # the float64 re-run is an offer, not a requirement
        return False, f"given float64 arrays it raised {type(exc).__name__}: {exc}"
    if problem.seen.get("dtype") not in (None, np.dtype(np.float64)):
        return False, f"given float64 arrays it returned a {problem.seen['dtype']} result"
    for name, g in grads.items():
        if isinstance(g, np.ndarray) and g.dtype != np.float64:
            return False, f"given float64 arrays it returned a {g.dtype} gradient for {name}"
    return True, ""
