"""Differential fuzzing of derivcheck against an independent reference (issue 10, item 5).

Shared by the quick profile (tests/test_fuzz.py) and the long campaign
(benchmarks/fuzz.py, which puts tests/ on sys.path): it is test code, not
part of the package.

- ``expressions``: Hypothesis strategies for equal pairs of well-shaped expressions
- ``derivatives``: gradient, Jacobian and directional claims true by construction
- ``mutations``: false claims by one small change
- ``cases``: the claims of every kind, as one strategy
- ``reference``: explicit entries at 200 digits, discrete symbols enumerated
- ``oracle``: every stage of derivcheck against the reference
- ``reproduce``: claims as TOML claim files (reproducers) and back
- ``campaign``: chunks, statistics, shrinking
- ``regressions/``: every disagreement found and fixed, pinned with the reference's truth (run by
  tests/test_fuzz.py)
- ``pending/``: disagreements still present on main, each with what is wrong in a comment; replay them
  with ``python benchmarks/fuzz.py --replay tests/fuzzing/pending`` and move a file to regressions/
  once it shows no disagreement
"""
