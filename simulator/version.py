"""The package version: one place, read by setup.cfg, the run directory's ``versions`` and the board pack."""
__version__ = "0.1.0"
