"""The same bits on every machine: nothing on the way into the engine or a pinned figure depends on the processor.

Three kinds of library code round differently on different processors (see
:mod:`simulator.model.portable`): BLAS, numpy's SIMD-dispatched transcendentals and
the C library's maths, which glibc picks by processor (variants with and without
fused multiply-adds). The tests here prove the engine's inputs free of all three
without a second machine:

* **restricted subprocesses**: everything the engine is fed, for five shipped
  scenarios and every sampling scheme, and two small runs' results
  (:mod:`tests.engine_inputs`), are computed again in a subprocess whose numpy may
  use no SIMD dispatch beyond its baseline (``NPY_DISABLE_CPU_FEATURES``), and in one
  whose glibc may use none of its AVX2/FMA maths variants (``GLIBC_TUNABLES``), and
  must equal this process's bytes. Each subprocess first shows that its
  restriction took effect (otherwise the comparison would prove nothing and the test
  is skipped, saying why). ``OPENBLAS_CORETYPE`` is never touched: on some processors
  it is set so that OpenBLAS computes correctly;
* **pure-Python references**: the loss direction, the Householder rotation of the
  Sobol points, the macro normals of the Philox stream, the macro paths and the
  book's random draws equal explicit loops with :func:`math.fsum` and scalar calls,
  bit for bit;
* **a static check**: the modules on the way in (the model, the accounts and the
  run workflow) contain no ``@``, no BLAS or LAPACK call, no numpy or C-library
  transcendental and no ``scipy.special`` function.
"""
import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import qmc

from simulator.inputs.loader import load_scenario
from simulator.model import fdlibm, portable
from simulator.model.engine import rng as engine_rng
from simulator.model.macro import cycle_factor, macro_paths
from simulator.model.portfolio import _cap_to_affordability, seasoning
from simulator.model.sampling import (SOBOL_STREAM, UNIFORM_CLIP, cycle_innovations, householder, loss_direction,
                                      resolve_sampling)
from tests import engine_inputs
from tests.reference_numpy import philox4x32_numpy, seed_key_numpy

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "simulator"


# ------------------------------------------------------------------ restricted subprocesses
def numpy_dispatch_restriction():
    """``NPY_DISABLE_CPU_FEATURES`` value disabling every dispatch target this processor has, or ``None``."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    present = [feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)]
    return " ".join(present) or None


GLIBC_WITHOUT_FMA = "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4,-AVX512F,-AVX"
"""``GLIBC_TUNABLES`` that make glibc pick the maths variants of a processor without AVX2 or FMA."""

PROBE = """
import hashlib, json, math, sys
from numpy._core._multiarray_umath import __cpu_features__
points = [0.5 + k / 7919.0 for k in range(20000)]
libm = hashlib.sha256(repr([(math.log(x), math.exp(3 * x), x ** 1.37, math.erfc(x)) for x in points]).encode())
print(json.dumps({"libm": libm.hexdigest(), "features": {k: bool(v) for k, v in __cpu_features__.items()}}))
"""
"""Which C-library maths variant and which numpy CPU features a process sees."""


def run_python(code_or_path, extra_env):
    """Run a Python file or snippet from the repository root with ``extra_env`` added; its stdout as JSON."""
    env = {**os.environ, **extra_env, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, str(code_or_path)] if isinstance(code_or_path, Path) else [sys.executable, "-c",
                                                                                      code_or_path]
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def here():
    """This process's digests of the engine's inputs and of two small runs."""
    return {**engine_inputs.input_digests(), **engine_inputs.run_digests("baseline"),
            **engine_inputs.run_digests("roll_rate_example")}


def restricted_environments():
    restriction = numpy_dispatch_restriction()
    return [pytest.param({"NPY_DISABLE_CPU_FEATURES": restriction} if restriction else None,
                         id="numpy-baseline-dispatch"),
            pytest.param({"GLIBC_TUNABLES": GLIBC_WITHOUT_FMA}, id="glibc-maths-without-fma")]


@pytest.mark.parametrize("extra_env", restricted_environments())
def test_engine_inputs_and_results_do_not_depend_on_the_processor(here, extra_env):
    """Everything the engine is fed, and two small runs, are the same bytes in a restricted subprocess."""
    if extra_env is None:
        pytest.skip("numpy has no SIMD dispatch target on this processor: nothing to restrict")
    parent, child = run_python(PROBE, {}), run_python(PROBE, extra_env)
    if "NPY_DISABLE_CPU_FEATURES" in extra_env:
        disabled = extra_env["NPY_DISABLE_CPU_FEATURES"].split()
        assert not any(child["features"][feature] for feature in disabled), "numpy ignored the restriction"
    elif child["libm"] == parent["libm"]:
        pytest.skip("glibc picked the same maths variant under GLIBC_TUNABLES (a processor without FMA, or not "
                    "glibc): nothing to compare")
    there = run_python(REPO / "tests" / "engine_inputs.py", extra_env)
    assert there.keys() == here.keys()
    moved = [label for label in here if there[label] != here[label]]
    assert not moved, f"{len(moved)} of {len(here)} inputs differ under {extra_env}: {moved[:12]}"


# ------------------------------------------------------------------ pure-Python references
def reference_loss_direction(phi, horizon, n_months, stationary):
    """:func:`loss_direction` with explicit loops, scalar powers and correctly rounded sums."""
    a = [0.0] * (n_months + 1)
    for j in range(1, min(horizon, n_months) + 1):
        a[j] = (1.0 - fdlibm.pow(phi, float(horizon - j + 1))) / (1.0 - phi)
    if stationary:
        a[0] = math.fsum(fdlibm.pow(phi, float(t)) for t in range(1, horizon + 1)) / math.sqrt(1.0 - phi * phi)
    norm = math.sqrt(math.fsum(x * x for x in a))
    return [x / norm for x in a]


def reference_householder(rows, u):
    """:func:`householder` row by row."""
    v = [-x for x in u]
    v[0] += 1.0
    norm2 = math.fsum(x * x for x in v)
    if norm2 == 0.0:
        return [list(row) for row in rows]
    out = []
    for row in rows:
        projection = math.fsum(z * w for z, w in zip(row, v))
        out.append([z - projection * w * (2.0 / norm2) for z, w in zip(row, v)])
    return out


def cycle(persistence, start, volatility=1.0):
    scenario = load_scenario(REPO / "scenarios" / "severe.yaml")
    return scenario.macro.cycle.model_copy(update={"persistence": persistence, "start": start,
                                                   "volatility": volatility})


def assert_bits(got, expected):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape
    assert got.tobytes() == expected.tobytes(), f"max difference {np.max(np.abs(got - expected))}"


@pytest.mark.parametrize("persistence", [0.5, 0.9, 0.97])
@pytest.mark.parametrize("start", [0.0, "stationary"])
@pytest.mark.parametrize("horizon,n_months", [(36, 66), (12, 12), (24, 40)])
def test_loss_direction_matches_pure_python(persistence, start, horizon, n_months):
    expected = reference_loss_direction(persistence, horizon, n_months, start == "stationary")
    assert_bits(loss_direction(cycle(persistence, start), horizon, n_months), expected)


def test_householder_matches_pure_python():
    generator = np.random.Generator(np.random.PCG64(3))
    z = generator.standard_normal((40, 25))
    u = np.array(reference_loss_direction(0.9, 20, 24, True))
    assert_bits(householder(z, u), reference_householder(z.tolist(), u.tolist()))
    e1 = np.zeros(25)
    e1[0] = 1.0
    assert_bits(householder(z, e1), z)


@pytest.mark.parametrize("points", [8, 32])
def test_rotated_sobol_points_match_pure_python(points):
    """Randomised QMC's innovations: scipy's scrambled Sobol points, AS 241 normals one by one, the rotation."""
    severe = load_scenario(REPO / "scenarios" / "severe.yaml")
    run = resolve_sampling(severe.run.model_copy(update={"sampling": "rqmc", "rqmc_points": points, "paths": 80}))
    spec = cycle(0.9, "stationary")
    n_months, seed = 30, 5
    got = cycle_innovations(run, spec, seed, np.arange(run.paths, dtype=np.int64), n_months)
    u = reference_loss_direction(0.9, run.horizon_months, n_months, True)
    expected = []
    for scramble in range(-(-run.paths // points)):
        generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SOBOL_STREAM, scramble])))
        sobol = qmc.Sobol(n_months + 1, scramble=True, seed=generator).random_base2(points.bit_length() - 1)
        normals = [[engine_rng.ndtri(min(max(x, UNIFORM_CLIP), 1.0 - UNIFORM_CLIP)) for x in row]
                   for row in sobol.tolist()]
        expected.extend(reference_householder(normals, u))
    assert_bits(got, expected[:run.paths])


def reference_macro_normals(seed, path, n_months):
    """Path ``path``'s macro-stream normals: Philox words in numpy integers, 52-bit uniforms, AS 241."""
    k0, k1 = seed_key_numpy(seed)
    months = np.arange(n_months, dtype=np.uint64)
    w0, w1, _, _ = philox4x32_numpy(engine_rng.MACRO_STREAM, months, 0, path, k0, k1)
    normals = []
    for hi, lo in zip(w0.tolist(), w1.tolist()):
        bits = ((hi >> 6) << 26) | (lo >> 6)
        normals.append(engine_rng.ndtri((float(bits) + 0.5) * 2.0 ** -52))
    return normals


@pytest.mark.parametrize("sampling", ["mc", "antithetic"])
def test_macro_normals_match_pure_python(sampling):
    severe = load_scenario(REPO / "scenarios" / "severe.yaml")
    run = severe.run.model_copy(update={"sampling": sampling, "paths": 6})
    got = cycle_innovations(run, cycle(0.9, 0.0), 99, np.arange(6, dtype=np.int64), 20)
    if sampling == "mc":
        expected = [reference_macro_normals(99, p, 21) for p in range(6)]
    else:
        expected = [[(-x if p % 2 else x) for x in reference_macro_normals(99, p // 2, 21)] for p in range(6)]
    assert_bits(got, expected)


def reference_central_path(macro, name, n_months):
    """The central path of ``name`` (percent), month by month."""
    base = getattr(macro.baseline, f"{name}_pct")
    level = [base] * (n_months + 1)
    for shock in macro.shocks:
        if shock.variable != name:
            continue
        for t in range(n_months + 1):
            level[t] += reference_shock(shock, base, t)
    return level


def reference_shock(shock, base, t):
    """One shock's deviation (pp) at month ``t``."""
    if shock.shape == "step":
        end = math.inf if shock.end_month is None else shock.end_month
        return shock.size_pp if shock.start_month <= t <= end else 0.0
    if shock.shape == "ramp":
        span = shock.end_month - shock.start_month + 1
        return shock.size_pp * min(max((t - shock.start_month + 1) / span, 0.0), 1.0)
    if shock.shape == "hump":
        rise = min(max((t - shock.start_month + 1) / (shock.peak_month - shock.start_month + 1), 0.0), 1.0)
        decay_start = shock.peak_month + shock.hold_months
        if shock.decay_months > 0:
            fall = min(max(1.0 - (t - decay_start) / shock.decay_months, 0.0), 1.0)
        else:
            fall = 1.0 if t <= decay_start else 0.0
        return shock.size_pp * min(rise, fall)
    step = 1 if shock.frequency == "monthly" else 3
    levels = [base] + list(shock.levels_pct)
    last = step * (len(levels) - 1)
    if t >= last:
        return levels[-1] - base
    j = t // step
    if t == j * step:
        return levels[j] - base
    slope = (levels[j + 1] - levels[j]) / float(step)
    return slope * (t - j * step) + levels[j] - base


@pytest.mark.parametrize("name", ["severe", "adverse", "covid_shock", "baseline"])
def test_macro_paths_match_pure_python(name):
    scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    macro, n_months, seed = scenario.macro, 40, 4
    run = resolve_sampling(scenario.run.model_copy(update={"paths": 16}))
    path_ids = np.arange(16, dtype=np.int64)
    got = macro_paths(macro, seed, path_ids, n_months, run)
    x = cycle_factor(macro.cycle, seed, path_ids, n_months, run)
    eps = cycle_innovations(run, macro.cycle, seed, path_ids, n_months).tolist()
    spec = macro.cycle
    scale = spec.volatility * math.sqrt(1.0 - spec.persistence * spec.persistence)
    expected_x = []
    for row in eps:
        path = [0.0] * (n_months + 1)
        if spec.volatility != 0.0:
            path[0] = spec.volatility * (row[0] if spec.start == "stationary" else spec.start)
            for m in range(1, n_months + 1):
                path[m] = spec.persistence * path[m - 1] + scale * row[m]
        expected_x.append(path)
    assert_bits(x, expected_x)
    central = {name: reference_central_path(macro, name, n_months)
               for name in ("unemployment", "income_growth", "policy_rate")}
    assert_bits(got.unemployment, [[max((c + spec.unemployment_loading_pp * v) / 100.0, 0.001)
                                    for c, v in zip(central["unemployment"], path)] for path in expected_x])
    assert_bits(got.income_growth, [[(c - spec.income_growth_loading_pp * v) / 100.0
                                     for c, v in zip(central["income_growth"], path)] for path in expected_x])
    assert_bits(got.policy_rate, [[c / 100.0 for c in central["policy_rate"]]] * 16)


def test_book_draws_match_pure_python():
    """The synthetic book's normals, seasoning and affordability cap, one loan at a time."""
    n = 500
    normals = portable.standard_normals(np.random.Generator(np.random.PCG64(8)), n)
    integers = np.random.Generator(np.random.PCG64(8)).integers(0, 1 << 52, size=n, dtype=np.int64)
    assert_bits(normals, [engine_rng.ndtri((float(k) + 0.5) * 2.0 ** -52) for k in integers.tolist()])
    generator = np.random.Generator(np.random.PCG64(9))
    u, term = generator.random(n), generator.choice(np.array([3, 6, 12, 24, 36], dtype=np.int32), size=n)
    for prepayment in (0.0, 0.02, 0.1):
        q = 1.0 - prepayment
        expected = [min(max(math.floor(fdlibm.log1p(-x * (1.0 - fdlibm.pow(q, float(t)))) / fdlibm.log(q)), 0),
                        t - 1) if prepayment > 0 else math.floor(x * t) for x, t in zip(u.tolist(), term.tolist())]
        assert seasoning(u, term, prepayment).tolist() == expected
    principal, apr, income = 1000 + 9000 * generator.random(n), 0.36 * generator.random(n), 3000 * generator.random(n)
    apr[:10] = 0.0
    share = 0.3
    expected = []
    for b, a, t, i in zip(principal.tolist(), apr.tolist(), term.tolist(), income.tolist()):
        r = a / 12.0
        per_unit = r / (1.0 - fdlibm.pow(1.0 + r, -float(t))) if r > 0 else 1.0 / t
        expected.append(min(b, share * i / per_unit))
    assert_bits(_cap_to_affordability(principal, apr, term, income, share), expected)


def test_portable_functions_equal_their_scalar_versions():
    """The array functions are the scalar ones applied elementwise (no numpy or libm path in between)."""
    generator = np.random.Generator(np.random.PCG64(10))
    x = np.concatenate([generator.normal(0, 5, 2000), [0.0, -0.0, 1e-300, 700.0, -745.0]])
    p = generator.random(2000)
    for array_function, scalar_function, values in ((portable.exp, fdlibm.exp, x), (portable.ndtr, fdlibm.ndtr, x),
                                                    (portable.log, fdlibm.log, p), (portable.log1p, fdlibm.log1p, p),
                                                    (portable.ndtri, engine_rng.ndtri, p)):
        assert_bits(array_function(values), [scalar_function(v) for v in values.tolist()])
    assert_bits(portable.power(1.0 + p, -12.0 * p), [fdlibm.pow(1.0 + a, -12.0 * a) for a in p.tolist()])
    assert portable.sum_of_products([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]) == math.fsum([0.1, 0.2, 0.3])


# ------------------------------------------------------------------ static check
INPUT_PATH = sorted(set((PACKAGE / "model").rglob("*.py")) | set((PACKAGE / "accounts").glob("*.py"))
                    | {PACKAGE / "workflows" / "results.py"})
"""Modules whose code reaches the engine's inputs or ``summary.json``."""

BLAS = {"dot", "vdot", "inner", "outer", "tensordot", "einsum", "matmul", "linalg", "kron"}
TRANSCENDENTAL = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "power", "float_power", "pow", "sin",
                  "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
                  "arccosh", "arctanh", "cbrt", "hypot", "erf", "erfc", "gamma", "lgamma", "logaddexp"}
LIBRARIES = {"np", "numpy", "math", "scipy", "special", "stats"}


def forbidden_calls(path):
    """``(line, what)`` for every ``@``, BLAS/LAPACK use, numpy or C-library transcendental in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append((node.lineno, "@"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in LIBRARIES:
            if node.attr in BLAS or node.attr in TRANSCENDENTAL:
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Attribute) and node.attr in ("dot", "linalg"):
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module in ("scipy.special", "scipy.linalg", "numpy.linalg"):
            found.append((node.lineno, f"from {node.module} import"))
        elif isinstance(node, ast.ImportFrom) and node.module == "math":
            found.extend((node.lineno, f"math.{alias.name}") for alias in node.names
                         if alias.name in TRANSCENDENTAL)
    return found


@pytest.mark.parametrize("path", [p for p in INPUT_PATH if p.name != "fdlibm.py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_input_path_calls_no_blas_and_no_library_maths(path):
    found = forbidden_calls(path)
    assert not found, (f"{path.relative_to(REPO)} computes on the way into the engine or summary.json with code "
                       f"that rounds differently by processor: {found}. Use simulator.model.portable instead.")


def test_static_check_finds_what_it_forbids(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import numpy as np\nimport math\nfrom scipy.special import ndtr\n"
                      "a = b @ c\nd = np.dot(a, b)\ne = np.exp(a)\nf = math.log(2)\ng = np.linalg.norm(a)\n"
                      "h = a.dot(b)\n")
    assert {what for _, what in forbidden_calls(module)} == {"@", "np.dot", "np.exp", "math.log", "np.linalg",
                                                             "from scipy.special import", ".dot"}
