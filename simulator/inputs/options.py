"""Checks of the numbers given as command-line options or as Python parameters, in one message template.

Every numeric option of ``simulate`` and every number inside an option's expression
(``--breach "cumulative_loss_rate>0.05"``, ``--target-se METRIC=SE``, ``--range LO,HI``)
is checked here before any work: it must be a number of the right kind (an integer
where a count is meant; never a boolean), finite, and within its documented range.
The library's functions (:func:`simulator.run` and the other workflows) call the
same checks on their Python parameters, so a notebook gets the same message as
the command line, naming the parameter as it was given (``--paths`` on the command
line, ``paths`` from Python). See docs/guide.md, "Bad input".
"""
import math
import numbers

from .errors import InputError, excerpt, must_be

MAX_PATHS = 1_000_000
"""The most Monte Carlo paths a run may have (``run.paths`` has the same bound)."""
MAX_THREADS = 4096
"""The most engine threads (``run.threads`` has the same bound)."""
MAX_LOANS = 50_000_000
"""The most loans of a synthetic book (``portfolio.n_loans`` has the same bound)."""


def check_integer(name, value, low=None, high=None, fix="", source=None):
    """``value`` as an ``int`` if it is an integer in ``[low, high]`` (``None``: unbounded); :class:`InputError`
    naming ``name`` if not (a boolean, a float, a string or out of range).

    Parameters
    ----------
    name : str
        The option or parameter as the user wrote it (``--paths``, ``paths``).
    value : object
        ``None`` passes through (the option was not given).
    low, high : int, optional
    fix : str
        How to fix a bad value.
    source : str, optional
        What holds the value (the message's first part; default ``name``).

    Examples
    --------
    >>> check_integer("paths", 0, 1, 10, "Use at least 1 path.")
    Traceback (most recent call last):
    ...
    simulator.inputs.errors.InputError: paths must be an integer from 1 to 10; got 0. Use at least 1 path.
    """
    if value is None:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        value = int(value)
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise InputError(option_problem(name, _range_words("an integer", low, high), value, fix, source))
    return value


def check_real(name, value, low=None, high=None, low_open=False, high_open=False, fix="", source=None):
    """``value`` as a finite ``float`` within its bounds; :class:`InputError` naming ``name`` if not.

    ``low_open``/``high_open`` make a bound strict. ``None`` passes through. NaN,
    infinities (including an overflowing literal such as ``1e400``), booleans and
    anything that is not a real number are refused.
    """
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        value = float(value)
        ok = (low is None or (value > low if low_open else value >= low)) and \
             (high is None or (value < high if high_open else value <= high))
    if not ok:
        words = _range_words("a finite number", low, high, low_open, high_open)
        raise InputError(option_problem(name, words, value, fix, source))
    return value


def parse_real(text, name, low=None, high=None, low_open=False, high_open=False, fix="", source=None):
    """A number written in an option (``"0.05"``, ``"1e-4"``) as a checked finite float (see :func:`check_real`).

    Text that is not a number is refused like a number out of range.
    """
    try:
        value = float(str(text).strip())
    except ValueError:
        words = _range_words("a finite number", low, high, low_open, high_open)
        raise InputError(option_problem(name, words, text, fix, source)) from None
    if not math.isfinite(value):  # quote what was written ('1e400'), not what it overflowed to
        words = _range_words("a finite number", low, high, low_open, high_open)
        raise InputError(option_problem(name, words, text, fix, source))
    return check_real(name, value, low, high, low_open, high_open, fix, source)


def option_problem(name, constraint, got, fix, source=None):
    """The house message for an option or parameter: ``--paths must be an integer from 1 to 1000000; got 0.
    <fix>``, or ``<source>: <name> must be ...`` when ``source`` (a scenario, a file) holds it."""
    if source is not None:
        return must_be(source, name, constraint, got, fix).rstrip()
    return f"{name} must be {constraint}; got {excerpt(repr(got))}. {fix}".rstrip()


def _number(value):
    """A bound as written: ``1000000``, ``0.5``."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e16 else f"{value:g}"


def _range_words(kind, low, high, low_open=False, high_open=False):
    """``kind`` with its bounds in words: ``an integer from 1 to 10``, ``a finite number > 0``."""
    if low is not None and high is not None:
        if low_open or high_open:
            return f"{kind} in {'(' if low_open else '['}{_number(low)}, {_number(high)}{')' if high_open else ']'}"
        return f"{kind} from {_number(low)} to {_number(high)}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {_number(low)}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {_number(high)}"
    return kind


RUN_CONTROLS = ("name", "description", "run", "paths", "seed", "portfolio.seed", "portfolio.n_loans",
                "portfolio.source", "portfolio.tape", "portfolio.currency")
"""Scenario keys (and sections) that say how a scenario is run or named, not what the economy or the lender is: a
reverse stress test or a sensitivity moves model and economy parameters and refuses these. Moving ``run.paths`` or
``portfolio.n_loans`` changes the shapes being compared, ``run.horizon_months`` the question asked, and ``run.seed``
or ``portfolio.seed`` the random numbers, which breaks the common random numbers every comparison rests on."""


def check_movable_key(key, option="--shock"):
    """Refuse a run control (:data:`RUN_CONTROLS`) as a key to move, naming it.

    Parameters
    ----------
    key : str
        A dotted scenario key (``behaviour.recovery.rate_pct``).
    option : str
        The option in messages.
    """
    control = next((c for c in RUN_CONTROLS if key == c or key.startswith(c + ".")), None)
    if control is not None:
        raise InputError(option_problem(option, "a model or economy parameter (not a run control: "
                                        f"{', '.join(RUN_CONTROLS)})", key,
                                        f"{control} says how the scenario is run, not what it is; change it with "
                                        "the run's own options (--paths, --seed, --loans) and search a parameter "
                                        "such as behaviour.recovery.rate_pct."))
