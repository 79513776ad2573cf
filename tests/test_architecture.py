"""The package's layers: imports only go downwards, never in a circle, never hidden inside a function.

Every module of ``simulator/`` is parsed with :mod:`ast` (nothing is imported),
each of its imports is resolved to a module of the package, and four rules are
checked:

1. a module imports only modules of its own layer or of a layer before it in
   :data:`LAYERS`;
2. the graph of imports between modules has no circle;
3. imports sit at module level; only the optional heavy dependencies in
   :data:`OPTIONAL_DEPENDENCIES` may be imported inside a function (so that the
   package works without them);
4. only :data:`CLUSTER_MODULE` imports Dask (at module level, guarded, since it is
   an optional extra).
"""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"

LAYERS = ("version", "inputs", "model", "accounts", "estimation", "workflows", "presentation", "api", "cli")
"""The layers, bottom first; this is the one place their order is written. ``api`` is the package root
(``simulator/__init__.py``), ``version`` the module that holds the version, ``cli`` the command line."""

OPTIONAL_DEPENDENCIES = ("dask", "distributed")
"""Third-party packages a function may import lazily (optional extras)."""

LAZY_IMPORTERS = {
    "simulator": "the package root loads its API (simulator.api) on first use of a name, PEP 562",
    "simulator.cli": "each command loads the layers it needs, so that `simulate --help` and `validate` answer fast",
}
"""The modules that may import the package's own modules inside a function, and why: the command line and the
package root, which must stay light to import (:func:`test_the_command_line_loads_no_heavy_library`)."""

HEAVY_LIBRARIES = ("numpy", "numba", "pandas", "scipy", "matplotlib", "pyarrow", "openpyxl",
                   "dask", "distributed")
"""What ``simulate --help`` must not load (pydantic and yaml, a few hundredths of a second, come with the schema
that ``simulator.inputs`` exports)."""


def module_name(path):
    """Dotted module name of a file of the package (``simulator.model.engine.kernels``)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module):
    """The layer of a module of the package."""
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    layer = parts[1]
    assert layer in LAYERS, f"{module} is in no layer of {LAYERS}: put it in one (and add the layer here if new)"
    return layer


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(module):
    return MODULES[module].name == "__init__.py"


def imported_modules(module):
    """``(target module, line, at_module_level, top-level package name)`` for each import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    module_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports guarded at module level (try/if) still count as module level
        if isinstance(node, (ast.Try, ast.If)):
            module_level.update(id(child) for child in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno, id(node) in module_level, alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package(module) else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                resolved = candidate if candidate in MODULES else target
                found.append((resolved, node.lineno, id(node) in module_level, target.split(".")[0]))
    return found


def package_imports(module):
    return [(target, line) for target, line, _, top in imported_modules(module) if top == "simulator"]


def test_layers_are_known():
    assert {layer_of(module) for module in MODULES} <= set(LAYERS)
    for layer in ("inputs", "model", "accounts", "estimation", "workflows", "presentation"):
        package = f"simulator.{layer}"
        assert package in MODULES, f"{layer} has no __init__.py"
        assert ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))), \
            f"{layer}/__init__.py needs a docstring saying what the layer owns and may import"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down(module):
    rank = LAYERS.index(layer_of(module))
    upward = [f"{module}:{line} imports {target} ({layer_of(target)})" for target, line in package_imports(module)
              if LAYERS.index(layer_of(target)) > rank]
    assert not upward, "imports up a layer:\n" + "\n".join(upward)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_imports_inside_functions(module):
    allowed = OPTIONAL_DEPENDENCIES + (("simulator",) if module in LAZY_IMPORTERS else ())
    hidden = [f"{module}:{line} imports {target} inside a function" for target, line, at_top, top
              in imported_modules(module) if not at_top and top not in allowed]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("module", sorted(LAZY_IMPORTERS))
def test_lazy_importers_import_no_third_party_library_inside_functions(module):
    """The exception is for the package's own layers only: a third-party import inside a function stays hidden."""
    hidden = [f"{module}:{line} imports {target}" for target, line, at_top, top in imported_modules(module)
              if not at_top and top != "simulator"]
    assert not hidden, "\n".join(hidden)


def test_the_command_line_loads_no_heavy_library():
    """Importing the command line and printing ``simulate --help`` loads none of :data:`HEAVY_LIBRARIES` (they
    took 3 s; the commands that simulate load them)."""
    code = ("import sys\nfrom click.testing import CliRunner\nfrom simulator.cli import main\n"
            "for args in (['--help'], ['run', '--help'], ['report', '--help']):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_LIBRARIES!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent, env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


CLUSTER_MODULE = "simulator.workflows.cluster"
"""The one module that talks to Dask: the model layer only hands out blocks of paths."""


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_cluster_module_imports_dask(module):
    dask = [f"{module}:{line} imports {target}" for target, line, _, top in imported_modules(module)
            if top in ("dask", "distributed")]
    assert module == CLUSTER_MODULE or not dask, "\n".join(dask) + f" (only {CLUSTER_MODULE} may)"


def find_cycle(graph):
    """A list of modules forming a circle in ``graph`` (``{module: set of modules}``), or None."""
    done, on_stack, stack = set(), set(), []

    def visit(node):
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child in on_stack:
                return stack[stack.index(child):] + [child]
            if child not in done:
                cycle = visit(child)
                if cycle:
                    return cycle
        on_stack.discard(stack.pop())
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_circles():
    graph = {}
    for module in MODULES:
        targets = {target for target, _ in package_imports(module)}
        # a package's __init__ runs before its modules: importing simulator.a.b imports simulator.a too, but that
        # is Python's doing, not an import the module wrote, so only written imports are edges.
        graph[module] = targets - {module}
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_checks_can_fail():
    """The checker finds a circle and an upward import when there is one (so the tests above are not vacuous)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert LAYERS.index(layer_of("simulator.presentation.plots")) > LAYERS.index(layer_of("simulator.workflows.x"))


REPOSITORY = PACKAGE.parent
CITED_FOLDERS = ("simulator", "tests", "benchmarks")
"""Folders whose source files may cite only papers, standards and pages of the repository."""

OUTSIDE_CITATIONS = {
    "a planning document's section": re.compile(r"\bD[E]SIGN(\.md)?\b"),
    "a style guide outside the repository": re.compile(r"\bST[Y]LE\.md\b"),
    "a notes file outside the repository": re.compile(r"domain-fact[s]"),
    "an issue of the project's tracker": re.compile(r"(?<!numba )\bissues? \d"),
    "a section sign (a section of an outside document)": re.compile("\u00a7"),
}
"""What a comment or docstring must not cite: documents a reader of the repository cannot open. Cite the
paper, the standard or a page under ``docs/`` instead. (A public third-party tracker is fine, as in
"numba issue #5872"; the patterns are spelled so that this file does not match itself.)"""


def outside_citations(text):
    """``(line number, what, line)`` for each citation of a document outside the repository in ``text``."""
    return [(number, what, line.strip()) for number, line in enumerate(text.splitlines(), 1)
            for what, pattern in OUTSIDE_CITATIONS.items() if pattern.search(line)]


@pytest.mark.parametrize("folder", CITED_FOLDERS)
def test_no_comment_cites_a_document_outside_the_repository(folder):
    found = [f"{path.relative_to(REPOSITORY)}:{number}: {what}: {line}"
             for path in sorted((REPOSITORY / folder).rglob("*.py"))
             for number, what, line in outside_citations(path.read_text(encoding="utf-8"))]
    assert not found, "cite the paper, the standard or a page under docs/ instead:\n" + "\n".join(found)


def test_the_citation_check_can_fail():
    text = "\n".join(["x = 1  # see " + "DESIG" + "N 3.2", "# as in " + "iss" + "ue 11 \u00a72", "# numba issue #5872",
                      "# Belkin, Forest and Suchower (1998)"])
    assert [(number, what) for number, what, _ in outside_citations(text)] == [
        (1, "a planning document's section"), (2, "an issue of the project's tracker"),
        (2, "a section sign (a section of an outside document)")]
