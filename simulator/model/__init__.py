"""Model: what is simulated.

Owns the macro paths (:mod:`.macro`: central path plus the per-path credit
cycle), the loan book (:mod:`.portfolio`: synthetic books, loan tapes,
originations) and the engine (:mod:`.engine`: the Numba kernels, the random
streams, the layout of the per-path aggregates and the orchestration that turns
a scenario and a book into those aggregates).

May import: inputs. Imported by: accounts, estimation, workflows and above.
"""
