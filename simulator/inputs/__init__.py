"""Inputs: reading and validating what users give.

Owns the scenario schema and its loading (:mod:`.scenario`: YAML, ``extends``,
scenario sets), the input error every layer raises for bad input
(:mod:`.errors`), the table reader shared by loan tapes and histories
(:mod:`.tables`) and loan-performance histories with their macro series
(:mod:`.history`).

May import: nothing of the simulator (it is the bottom layer). Imported by every
layer above.
"""
