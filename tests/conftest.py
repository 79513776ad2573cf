"""Shared fixtures for the input-handling tests (scenario files, loan tapes, CLI).

* ``tiny_scenario_dict``: ``scenarios/baseline.yaml`` as a plain dict, cut down to
  4 paths x 6 months x 200 loans so anything that runs it takes well under a second.
* ``write_yaml``: writes a dict (dumped as YAML) or raw text into ``tmp_path`` and
  returns the file's path.
* ``tiny_scenario_file``: the tiny scenario written to ``tmp_path / "tiny.yaml"``.
"""
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"


@pytest.fixture
def tiny_scenario_dict():
    """A small valid scenario as a dict (a fresh copy per test, safe to mutate)."""
    data = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text(encoding="utf-8"))
    data["run"]["paths"] = 4
    data["run"]["horizon_months"] = 6
    data["portfolio"]["n_loans"] = 200
    return data


@pytest.fixture
def write_yaml(tmp_path):
    """``write(content, name="scenario.yaml") -> Path``.

    ``content`` is a dict (dumped with ``yaml.safe_dump``) or a string written as is;
    ``name`` is relative to ``tmp_path`` and may contain folders, created as needed.
    """
    def write(content, name="scenario.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_scenario_file(write_yaml, tiny_scenario_dict):
    """The tiny scenario as a file, ``tmp_path / "tiny.yaml"``."""
    return write_yaml(tiny_scenario_dict, "tiny.yaml")
