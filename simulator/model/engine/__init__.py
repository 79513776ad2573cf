"""The engine: Numba kernels that simulate every loan of every path month by month.

:mod:`.kernels` (the two borrower models), :mod:`.rng` (Philox4x32-10 streams
keyed by seed, path, loan and month), :mod:`.layout` (the columns of the per-path,
per-month aggregates), :mod:`.amortisation` and :mod:`.shocks` (helpers the
kernels call) and :mod:`.simulate` (scenario and book in, aggregates out).
"""
