"""Numerically safe building blocks the generated kernels call (hand-written, not generated)."""
import numpy


def sigmoid(z):
    """σ(z) without overflow: exp is only taken of −|z|."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z, axis):
    """Softmax along ``axis``, shifted by the maximum (the log-sum-exp trick)."""
    shifted = z - numpy.max(z, axis=axis, keepdims=True)
    e = numpy.exp(shifted)
    return e / numpy.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis):
    """log softmax(z) = z − logsumexp(z), computed from the shifted z."""
    shifted = z - numpy.max(z, axis=axis, keepdims=True)
    return shifted - numpy.log(numpy.sum(numpy.exp(shifted), axis=axis, keepdims=True))
