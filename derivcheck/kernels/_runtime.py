"""Numerically safe building blocks the generated kernels call (hand-written, not generated)."""
import numpy

#: elements per block of ``fused``: a few block-sized temporaries stay in a core's L2 cache
BLOCK = 32768


def sigmoid(z, out=None):
    """σ(z) without overflow, and accurate to the last bit for negative z: with e = exp(−|z|),
    σ = 1/(1 + e) where z ≥ 0 and e/(1 + e) elsewhere.  ``out`` may be z itself."""
    negative = z < 0
    e = numpy.abs(z, out=out)
    numpy.negative(e, out=e)
    numpy.exp(e, out=e)
    denominator = e + 1
    numpy.copyto(e, 1, where=~negative)
    return numpy.divide(e, denominator, out=e)


def softmax(z, axis):
    """Softmax along ``axis``, shifted by the maximum (the log-sum-exp trick)."""
    shifted = z - numpy.max(z, axis=axis, keepdims=True)
    e = numpy.exp(shifted, out=shifted)
    e /= numpy.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(z, axis):
    """log softmax(z) = z − logsumexp(z), computed from the shifted z."""
    shifted = z - numpy.max(z, axis=axis, keepdims=True)
    shifted -= numpy.log(numpy.sum(numpy.exp(shifted), axis=axis, keepdims=True))
    return shifted


def fused(fn, out, *args):
    """``fn(*args)``, an elementwise expression, evaluated a block of rows at a time into ``out``
    (a new array when None; ``out`` may be one of the arguments): NumPy's temporaries stay
    block-sized and in cache instead of whole arrays in memory.  Arguments with the result's
    rows are sliced; broadcast rows, scalars and sizes are passed whole."""
    rows = max((a.shape[0] for a in args if numpy.ndim(a) == 2), default=1)
    if out is None:
        first = fn(*[_rows(a, rows, slice(0, 1)) for a in args])
        out = numpy.empty((rows, first.shape[1]), dtype=first.dtype)
    step = max(1, BLOCK // max(out.shape[1], 1))
    for start in range(0, rows, step):
        block = slice(start, start + step)
        out[block] = fn(*[_rows(a, rows, block) for a in args])
    return out


def _rows(a, rows, block):
    return a[block] if numpy.ndim(a) == 2 and a.shape[0] == rows else a
