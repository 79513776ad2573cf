"""User-facing input errors.

Everything a user can get wrong (a scenario file, a loan tape, a command-line
option) is reported as an :class:`InputError`: one line per problem, each in the
form ``<file>: <field path> must be <constraint>; got <value>. <how to fix>``.
The CLI prints them and exits with code 2, without a traceback. Any other
exception is a bug and keeps its traceback.
"""
from typing import NamedTuple


class InputError(Exception):
    """One or more problems with user input, all reported together.

    Parameters
    ----------
    problems : list of str
        Complete, self-contained messages, one per problem.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


EXCERPT_CHARACTERS = 80
"""A value quoted in a message is cut to this many characters (a huge value must not flood the terminal)."""


def excerpt(value, limit=EXCERPT_CHARACTERS):
    """``str(value)`` cut to ``limit`` characters, with an ellipsis and the full length when cut.

    >>> excerpt("x" * 100, limit=10)
    'xxxxxxxxx... (100 characters)'
    """
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit - 1]}... ({len(text):,} characters)"


class OutputError(Exception):
    """Output that could not be written (a full disk, a permission refused) while running: the CLI prints the
    message and exits with code 1, nothing half-written is left behind."""


class ClusterLost(OutputError):
    """The Dask scheduler went away in the middle of a run: like an :class:`OutputError`, the CLI prints the one-line
    message (which says how to retry) and exits with code 1; nothing is written."""


class Interrupted(BaseException):
    """A termination signal (SIGTERM, SIGHUP) raised as an exception, like ``KeyboardInterrupt`` for SIGINT, so
    that every ``finally`` block cleans up. A ``BaseException``, so ``except Exception`` does not swallow it.

    Parameters
    ----------
    signum : int
    """

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def must_be(source, field, constraint, got, fix):
    """Format one problem in the house style; the value is quoted as its ``repr``, cut by :func:`excerpt`.

    >>> must_be("s.yaml", "run.paths", "an integer >= 1", 0, "Use at least 1 path.")
    's.yaml: run.paths must be an integer >= 1; got 0. Use at least 1 path.'
    """
    return f"{source}: {field} must be {constraint}; got {excerpt(repr(got))}. {fix}"


class Problem(NamedTuple):
    """One broken rule of a scenario section before it is placed in a file: ``field`` is relative to the section
    (``""``: the section itself); the other parts are those of :func:`must_be`."""

    field: str
    constraint: str
    got: object
    fix: str


RULE_ERROR = "scenario_rule"
"""The pydantic error type of a broken rule; the error carries its :class:`Problem` s in ``ctx["problems"]``."""


class ScenarioWarning(UserWarning):
    """A plausible mistake in a valid scenario: the run goes ahead, the CLI prints it, ``--strict`` refuses it."""
