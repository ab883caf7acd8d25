"""Check the gradients of your own NumPy code (issue 14).

    from derivcheck.gradcheck import check_gradients, assert_gradients
    report = check_gradients(loss, grads, params={"W1": W1, "b1": b1}, args=(X, y))
    print(report)          # one row per parameter: verdict, error, evidence, diagnosis
    assert report.ok

Three shapes of code: a loss and its gradients (``check_gradients``), a layer
whose backward is a vector-Jacobian product (``check_layer``), and a
forward/backward pair with a cache (``check_pair``); ``check`` and
``assert_gradients`` pick the shape from the arguments.  Probes along random
directions cost the same whatever the size of the parameters; step and
tolerance come from a Richardson error estimate; float32 code is re-run in
float64 when it is dtype-generic; kinks are redrawn, then reported as kinks;
a wrong gradient gets a diagnosis (sign, transpose, a named factor, swapped
parameters, a bias not summed over the batch, zeros) that is itself checked,
and the entries, rows or columns that are off.  ``Spec`` takes the truth
from a derivcheck claim file instead, at 50 digits.
"""
from .api import GradcheckError, GradientCheckError, assert_gradients, check, check_gradients, check_layer, check_pair
from .result import Entry, Report, Row
from .spec import Spec

__all__ = ["check_gradients", "check_layer", "check_pair", "check", "assert_gradients", "GradientCheckError",
           "GradcheckError", "Report", "Row", "Entry", "Spec"]
