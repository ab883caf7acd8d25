"""gradcheck, shape 3: a forward/backward pair with a cache — derivcheck's own generated kernel
for the two-layer network of examples/two_layer.toml — first by finite differences, then in
spec mode: the loss ``L`` of the claim file is the truth, at 50 digits, with no step at all.

    python examples/gradcheck_pair.py
"""
from pathlib import Path

import numpy as np

from derivcheck.gradcheck import Spec, check
from derivcheck.kernels import ng_two_layer

SPEC = Path(__file__).with_name("two_layer.toml")


def main():
    rng = np.random.default_rng(0)
    inputs = {"X": rng.standard_normal((12, 4)), "y": rng.integers(0, 2, (12, 1)).astype(float)}
    params = {"W1": rng.standard_normal((4, 5)), "b1": rng.standard_normal((1, 5)),
              "W2": rng.standard_normal((5, 1)), "b2": rng.standard_normal((1, 1))}
    print(check(ng_two_layer.forward, ng_two_layer.backward, inputs=inputs, params=params))
    print()
    print(check(ng_two_layer.forward, ng_two_layer.backward, inputs=inputs, params=params,
                spec=Spec.from_toml(SPEC, "L")))


if __name__ == "__main__":
    main()
