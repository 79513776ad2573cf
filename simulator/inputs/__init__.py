"""Inputs: reading and validating what users give.

Owns the scenario files: their schema (:mod:`.schema`, one model per section, each
rule beside what it constrains), the percent-to-fraction view the other layers read
(:mod:`.resolved`), the rules spanning sections (:mod:`.checks`) and the loading of
files (:mod:`.loader`: YAML, ``extends``, scenario sets). Also the input error every
layer raises for bad input (:mod:`.errors`), the table reader shared by loan tapes
and histories (:mod:`.tables`) and loan-performance histories with their macro
series (:mod:`.history`).

May import: nothing of the simulator (it is the bottom layer). Imported by every
layer above.
"""
from .schema import Scenario

__all__ = ["Scenario"]
