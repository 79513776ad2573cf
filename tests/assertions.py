"""Assertions shared by the command-line tests."""


def assert_clean_errors(result, *fragments):
    """Exit 2, nothing on stdout, every stderr line an ``error: `` line, no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
