"""The analyst notebooks: each runs top to bottom without an error, and each is committed with its outputs stripped.

The notebooks are executed as a reader would run them: a fresh ``python3`` kernel
whose working directory is ``notebooks/`` (they find ``scenarios/`` by walking up
from there). Figures go to matplotlib's non-interactive Agg backend, and the
kernel's temporary folder (where the notebooks write run directories, PDFs and
workbooks) is the test's ``tmp_path``, so a test run leaves nothing behind. A
notebook that needs more than ``TIMEOUT`` seconds for one cell fails.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
TIMEOUT = 600
"""Seconds per cell; the notebooks run small, this only catches a hang."""


def test_notebooks_are_found():
    """Guards the parametrisation below: no notebooks would otherwise mean no tests, silently."""
    assert {path.name for path in NOTEBOOKS} >= {"quickstart.ipynb", "comparison.ipynb", "loan_tape.ipynb",
                                                 "reverse_and_sensitivity.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # both inherited by the kernel
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    errors = [output for cell in nb.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_outputs_are_stripped(path):
    """Committed notebooks carry no outputs or execution counts (see notebooks/README.md to strip them)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    dirty = [index for index, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts. Strip them with "
                       f"`jupyter nbconvert --clear-output --inplace {path.relative_to(NOTEBOOKS_DIR.parent)}`.")
