"""The ``simulate`` console script: signal handling first, then the (heavy) command line.

Importing :mod:`simulator.cli` loads numpy, numba, pandas and matplotlib, a second
or two. A signal in that time would otherwise end the process with Python's
defaults (a ``KeyboardInterrupt`` traceback for SIGINT). Here SIGINT, SIGTERM and
SIGHUP are caught from the first instruction: during the imports nothing has been
written, so the process just says ``interrupted`` and exits with the shell's code
(128 + the signal). Once the command line is loaded, its own handling takes over
(:class:`simulator.cli.InputErrorHandlingGroup`), which unwinds and cleans up.
"""
import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupted_while_starting(signum, frame):
    sys.stderr.write("interrupted\n")
    sys.exit(128 + signum)


def main():
    """Entry point of ``simulate`` (see ``setup.cfg``)."""
    previous = {signum: signal.signal(signum, _interrupted_while_starting) for signum in SIGNALS}
    from simulator.cli import main as command_line
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    return command_line()


if __name__ == "__main__":  # pragma: no cover
    main()
