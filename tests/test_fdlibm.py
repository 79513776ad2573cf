"""The machine-independent maths of :mod:`simulator.model.fdlibm`.

1. Accuracy against an independent implementation, the C library behind Python's
   :mod:`math` (glibc here, within about half an ulp of the true value): on about
   200,000 points per function, spread over the useful domain (log-uniform
   magnitudes, both signs, points near 0 and 1, near the overflow and underflow
   thresholds, tiny and subnormal values), ``|ours - math| <= bound * ulp(math)``.
   The bounds are the measured maxima: 1 ulp for ``exp``, ``log``, ``log1p``,
   ``erf`` and ``pow``; 4 ulp for ``erfc`` and ``ndtr``, whose tail multiplies two
   exponentials, each within 1 ulp (fdlibm's ``erfc`` with glibc's own ``exp`` is
   glibc's ``erfc``, so the difference comes from the two ``exp``).
2. Special values exactly as documented.
3. Machine independence: the compiled code calls no C-library maths and carries
   no fast-math flags, and the machine code has no fused multiply-add.
4. The NumPy ufuncs give the scalar functions' bits.
"""
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.model import fdlibm

REPO = Path(__file__).resolve().parents[1]
N_POINTS = 200_000
INF = math.inf
NAN = math.nan


def log_uniform(rng, low, high, n):
    """``n`` magnitudes spread log-uniformly over ``[low, high]`` (``low`` may be subnormal)."""
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


def signed(rng, values):
    """``values`` with random signs."""
    return values * rng.choice([-1.0, 1.0], values.size)


def near(rng, centre, n, width=1e-6):
    """``n`` points within a relative ``width`` of ``centre``, and the neighbouring doubles of ``centre``."""
    steps = np.arange(-50, 51)
    neighbours = centre + steps * math.ulp(centre)
    return np.concatenate([centre * (1.0 + rng.uniform(-width, width, n)), neighbours])


def exp_points(rng):
    part = N_POINTS // 3
    return np.concatenate([
        rng.uniform(-745.13, 709.78, part),
        signed(rng, log_uniform(rng, 1e-300, 709.0, part)),
        rng.uniform(-1.0, 1.0, part // 2),
        near(rng, 709.782712893384, part // 8, 1e-9),
        near(rng, -708.3964185322641, part // 8, 1e-9),  # results turn subnormal
        rng.uniform(-745.13, -708.4, part // 8),
        near(rng, -745.1332191019411, part // 8, 1e-12),
        [5e-324, -5e-324, 1e-310, -1e-310, 0.5 * math.log(2.0), 1.5 * math.log(2.0)],
    ])


def log_points(rng):
    part = N_POINTS // 3
    return np.concatenate([
        log_uniform(rng, 5e-324, 1.7e308, 2 * part),
        rng.uniform(0.5, 2.0, part // 2),
        near(rng, 1.0, part // 2, 1e-6),
        near(rng, 1.0, part // 2, 1e-15),
        near(rng, math.sqrt(2.0), part // 4),
        log_uniform(rng, 5e-324, 2.2e-308, part // 4),
    ])


def log1p_points(rng):
    part = N_POINTS // 3
    return np.concatenate([
        log_uniform(rng, 5e-324, 1.7e308, part),
        -log_uniform(rng, 5e-324, 1.0 - 2.0 ** -53, part),
        rng.uniform(-1.0, 1.0, part // 2),
        signed(rng, log_uniform(rng, 1e-20, 1e-3, part // 2)),
        -1.0 + log_uniform(rng, 2.0 ** -53, 1e-3, part // 4),
        near(rng, math.sqrt(2.0) - 1.0, part // 8),
        near(rng, math.sqrt(0.5) - 1.0, part // 8),
        near(rng, 2.0 ** 53, part // 8),
    ])


def erf_points(rng):
    part = N_POINTS // 3
    boundaries = [0.84375, 1.25, 1.0 / 0.35, 6.0, 26.5, 27.2, 28.0]
    return np.concatenate([
        rng.uniform(-6.5, 28.0, part),
        signed(rng, log_uniform(rng, 5e-324, 30.0, part)),
        rng.uniform(-1.5, 1.5, part),
        *[signed(rng, near(rng, b, part // (2 * len(boundaries)), 1e-3)) for b in boundaries],
        *[signed(rng, near(rng, b, part // (2 * len(boundaries)), 1e-12)) for b in boundaries],
    ])


def pow_points(rng):
    """``(x, y)`` with ``x > 0`` and ``|y log x| < 709``, plus integer powers and negative bases."""
    half = 2 * N_POINTS // 3
    x = np.concatenate([log_uniform(rng, 1e-300, 1e300, half), log_uniform(rng, 5e-324, 2.2e-308, half // 8),
                        near(rng, 1.0, half // 8, 1e-6), rng.uniform(0.5, 4.0, half // 4)])
    with np.errstate(divide="ignore"):  # x = 1: any y
        largest_y = np.minimum(709.0 / np.abs(np.log(x)), 1e6)
    y = rng.uniform(-1.0, 1.0, x.size) * largest_y * rng.uniform(0.0, 1.0, x.size)
    bases = rng.uniform(-20.0, 20.0, half // 2)
    exponents = rng.integers(-200, 201, bases.size).astype(float)
    fits = np.abs(exponents * np.log(np.abs(bases))) < 709.0
    return np.concatenate([x, bases[fits]]), np.concatenate([y, exponents[fits]])


def reference(function, *args):
    """``function(*args)`` of Python's math module, ``inf`` where it raises OverflowError."""
    try:
        return function(*args)
    except OverflowError:
        return INF


def assert_within_ulps(ours, expected, points, bound, name):
    ours = np.asarray(ours)
    expected = np.asarray(expected)
    with np.errstate(invalid="ignore"):  # inf - inf where both overflow: equal, error 0
        errors = np.where(ours == expected, 0.0, np.abs(ours - expected) / np.spacing(np.abs(expected)))
    worst = int(np.argmax(errors))
    assert errors[worst] <= bound, (f"{name}: {errors[worst]:.3g} ulp at {points[worst]!r} "
                                    f"(ours {ours[worst]!r}, math {expected[worst]!r}); bound {bound} ulp")


ACCURACY = [
    # name, scalar function, Python reference, points, bound in ulp
    ("exp", fdlibm.exp, math.exp, exp_points, 1.0),
    ("log", fdlibm.log, math.log, log_points, 1.0),
    ("log1p", fdlibm.log1p, math.log1p, log1p_points, 1.0),
    ("erf", fdlibm.erf, math.erf, erf_points, 1.0),
    ("erfc", fdlibm.erfc, math.erfc, erf_points, 4.0),
    ("ndtr", fdlibm.ndtr, lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0)), lambda rng: erf_points(rng) * -1.5, 4.0),
]


@pytest.mark.parametrize("name, function, python, points, bound", ACCURACY, ids=[case[0] for case in ACCURACY])
def test_accuracy_against_the_c_library(name, function, python, points, bound):
    x = points(np.random.default_rng(20240611))
    assert x.size >= N_POINTS
    ours = [function(value) for value in x]
    assert_within_ulps(ours, [reference(python, value) for value in x], x, bound, name)


def test_pow_accuracy_against_the_c_library():
    """Within 1 ulp of Python's ``**`` where ``|y log x| < 709`` (fdlibm: "nearly rounded")."""
    x, y = pow_points(np.random.default_rng(20240611))
    assert x.size >= N_POINTS
    ours = fdlibm.pow_array(x, y)
    expected = [reference(math.pow, a, b) for a, b in zip(x, y)]
    assert_within_ulps(ours, expected, list(zip(x, y)), 1.0, "pow")


def test_pow_gives_exact_integer_powers():
    """fdlibm: pow(integer, integer) is the exact integer whenever it is representable."""
    for base in range(-30, 31):
        for exponent in range(0, 40):
            exact = base ** exponent
            if abs(exact) < 2 ** 53:
                assert fdlibm.pow(float(base), float(exponent)) == float(exact), (base, exponent)


def same(a, b):
    """Equal as values, ``nan`` equal to ``nan``, and ``0`` distinguished from ``-0``."""
    if math.isnan(b):
        return math.isnan(a)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


SPECIAL = [
    (fdlibm.exp, (NAN,), NAN), (fdlibm.exp, (INF,), INF), (fdlibm.exp, (-INF,), 0.0),
    (fdlibm.exp, (0.0,), 1.0), (fdlibm.exp, (-0.0,), 1.0), (fdlibm.exp, (709.79,), INF),
    (fdlibm.exp, (1000.0,), INF), (fdlibm.exp, (-745.14,), 0.0), (fdlibm.exp, (-1000.0,), 0.0),
    (fdlibm.exp, (-745.1,), 5e-324), (fdlibm.exp, (709.78,), math.exp(709.78)),
    (fdlibm.log, (NAN,), NAN), (fdlibm.log, (-1.0,), NAN), (fdlibm.log, (-INF,), NAN),
    (fdlibm.log, (-5e-324,), NAN), (fdlibm.log, (0.0,), -INF), (fdlibm.log, (-0.0,), -INF),
    (fdlibm.log, (INF,), INF), (fdlibm.log, (1.0,), 0.0), (fdlibm.log, (5e-324,), math.log(5e-324)),
    (fdlibm.log1p, (NAN,), NAN), (fdlibm.log1p, (-1.0,), -INF), (fdlibm.log1p, (-1.5,), NAN),
    (fdlibm.log1p, (-INF,), NAN), (fdlibm.log1p, (INF,), INF), (fdlibm.log1p, (0.0,), 0.0),
    (fdlibm.log1p, (-0.0,), -0.0), (fdlibm.log1p, (5e-324,), 5e-324), (fdlibm.log1p, (-5e-324,), -5e-324),
    (fdlibm.erf, (NAN,), NAN), (fdlibm.erf, (INF,), 1.0), (fdlibm.erf, (-INF,), -1.0),
    (fdlibm.erf, (0.0,), 0.0), (fdlibm.erf, (-0.0,), -0.0), (fdlibm.erf, (6.0,), 1.0), (fdlibm.erf, (-7.0,), -1.0),
    (fdlibm.erf, (5e-324,), math.erf(5e-324)),
    (fdlibm.erfc, (NAN,), NAN), (fdlibm.erfc, (INF,), 0.0), (fdlibm.erfc, (-INF,), 2.0),
    (fdlibm.erfc, (0.0,), 1.0), (fdlibm.erfc, (-6.0,), 2.0), (fdlibm.erfc, (28.0,), 0.0), (fdlibm.erfc, (40.0,), 0.0),
    (fdlibm.ndtr, (NAN,), NAN), (fdlibm.ndtr, (INF,), 1.0), (fdlibm.ndtr, (-INF,), 0.0), (fdlibm.ndtr, (0.0,), 0.5),
    (fdlibm.pow, (NAN, 0.0), 1.0), (fdlibm.pow, (2.0, 0.0), 1.0), (fdlibm.pow, (0.0, 0.0), 1.0),
    (fdlibm.pow, (1.0, NAN), 1.0), (fdlibm.pow, (1.0, INF), 1.0), (fdlibm.pow, (2.0, NAN), NAN),
    (fdlibm.pow, (NAN, 2.0), NAN), (fdlibm.pow, (-2.0, 0.5), NAN), (fdlibm.pow, (-8.0, 1.0 / 3.0), NAN),
    (fdlibm.pow, (-2.0, 3.0), -8.0), (fdlibm.pow, (-2.0, -2.0), 0.25), (fdlibm.pow, (-1.0, INF), 1.0),
    (fdlibm.pow, (0.0, 2.0), 0.0), (fdlibm.pow, (0.0, -1.0), INF), (fdlibm.pow, (-0.0, 3.0), -0.0),
    (fdlibm.pow, (-0.0, -3.0), -INF), (fdlibm.pow, (-0.0, 0.5), 0.0), (fdlibm.pow, (INF, -1.0), 0.0),
    (fdlibm.pow, (INF, 0.5), INF), (fdlibm.pow, (0.5, INF), 0.0), (fdlibm.pow, (2.0, INF), INF),
    (fdlibm.pow, (2.0, -INF), 0.0), (fdlibm.pow, (0.5, -INF), INF), (fdlibm.pow, (2.0, 1024.0), INF),
    (fdlibm.pow, (2.0, 1023.0), 2.0 ** 1023), (fdlibm.pow, (2.0, -1074.0), 5e-324), (fdlibm.pow, (2.0, -1076.0), 0.0),
    (fdlibm.pow, (10.0, 1e10), INF), (fdlibm.pow, (10.0, -1e10), 0.0), (fdlibm.pow, (-10.0, 1e20), INF),
    (fdlibm.pow, (9.0, 0.5), 3.0), (fdlibm.pow, (3.0, 2.0), 9.0), (fdlibm.pow, (4.0, -1.0), 0.25),
]


@pytest.mark.parametrize("function, args, expected", SPECIAL,
                         ids=[f"{f.__name__}{args}" for f, args, _ in SPECIAL])
def test_special_values(function, args, expected):
    result = function(*args)
    assert same(result, expected), f"{function.__name__}{args} = {result!r}, expected {expected!r}"


def test_exp_turns_subnormal_and_rounds_once():
    """Below -708.4 the result is subnormal: rounded once, as the C library does."""
    x = np.linspace(-745.13, -708.4, 20001)
    assert_within_ulps([fdlibm.exp(v) for v in x], [math.exp(v) for v in x], x, 1.0, "exp (subnormal results)")


INSPECTION_SCRIPT = """
import json
from simulator.model import fdlibm
out = {}
for name, args in [("exp", (1.0,)), ("log", (2.0,)), ("log1p", (0.5,)), ("erf", (0.5,)), ("erfc", (2.0,)),
                   ("ndtr", (0.3,)), ("pow", (2.0, 0.3))]:
    function = getattr(fdlibm, name)
    function(*args)
    signature = function.signatures[0]
    out[name] = {"llvm": function.inspect_llvm(signature), "asm": function.inspect_asm(signature)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def compiled_code(tmp_path_factory):
    """LLVM IR and machine code of every function, compiled afresh in a child process.

    Numba cannot inspect code it loaded from its cache, so the child gets an empty
    cache directory.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba_cache")),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    completed = subprocess.run([sys.executable, "-c", INSPECTION_SCRIPT], env=env, cwd=REPO,
                               capture_output=True, text=True, check=True)
    return json.loads(completed.stdout)


C_LIBRARY_MATHS = r"@(llvm\.)?(exp|exp2|expm1|log|log2|log10|log1p|pow|erf|erfc|fma|fmuladd)(\.f64)?\("
FAST_MATH_FLAG = r"=\s*(fadd|fsub|fmul|fdiv|frem|fneg)\s+((nnan|ninf|nsz|arcp|contract|afn|reassoc|fast)\s+)+"
FUSED_INSTRUCTION = r"^\s*v?f(n)?m(add|sub)\w*\s"


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "erf", "erfc", "ndtr", "pow"])
def test_no_c_library_maths_and_no_fused_operations(compiled_code, name):
    """The IR of each function (with the functions it calls, linked in) calls no libm
    transcendental and no FMA intrinsic, and no float instruction carries a fast-math
    flag that would let LLVM contract or reorder; the machine code has no FMA."""
    llvm, asm = compiled_code[name]["llvm"], compiled_code[name]["asm"]
    assert not re.findall(C_LIBRARY_MATHS, llvm), re.findall(C_LIBRARY_MATHS, llvm)
    assert not re.findall(FAST_MATH_FLAG, llvm), re.findall(FAST_MATH_FLAG, llvm)[:5]
    assert not re.findall(FUSED_INSTRUCTION, asm, flags=re.MULTILINE)
    assert re.search(r"\bfmul\b", llvm)  # the inspected IR is the real code, not an empty stub


UFUNCS = [
    (fdlibm.exp_array, fdlibm.exp, exp_points),
    (fdlibm.log_array, fdlibm.log, log_points),
    (fdlibm.log1p_array, fdlibm.log1p, log1p_points),
    (fdlibm.ndtr_array, fdlibm.ndtr, erf_points),
]


@pytest.mark.parametrize("ufunc, scalar, points", UFUNCS, ids=[case[1].__name__ for case in UFUNCS])
def test_ufuncs_give_the_scalar_bits(ufunc, scalar, points):
    x = np.concatenate([points(np.random.default_rng(7)), [NAN, INF, -INF, 0.0, -0.0, -1.0]])
    expected = np.array([scalar(value) for value in x])
    assert ufunc(x).view(np.uint64).tolist() == expected.view(np.uint64).tolist()


def test_pow_ufunc_gives_the_scalar_bits():
    x, y = pow_points(np.random.default_rng(7))
    expected = np.array([fdlibm.pow(a, b) for a, b in zip(x, y)])
    assert fdlibm.pow_array(x, y).view(np.uint64).tolist() == expected.view(np.uint64).tolist()
