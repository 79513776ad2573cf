"""Accounts: what is computed from the engine's per-path aggregates.

Owns IFRS 9 staging and ECL (:mod:`.ifrs9`), the five-category rules and the
provision requirement (:mod:`.provisioning`), funding and liquidity
(:mod:`.liquidity`), profit and capital (:mod:`.profitability`) and the metrics:
monthly series, headline values and their statistics, VaR and ES
(:mod:`.metrics`).

May import: inputs, model (only the aggregates' layout and constants, never the
kernels). Imported by: estimation, workflows and above.
"""
