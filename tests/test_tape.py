"""Loan tapes: a good tape becomes the book it describes (segment defaults fill the
optional columns); every kind of bad tape is refused with an InputError that says
which column, which row and how to fix it.
"""
import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.inputs.errors import InputError
from simulator.model.portfolio import build_book
from simulator.inputs.loader import load_scenario

SEGMENTS = ("prime", "near_prime", "subprime")


def good_tape():
    """Six loans over the three baseline segments, some delinquent."""
    return pd.DataFrame({
        "balance": [1000.0, 2000.0, 500.0, 3000.0, 800.0, 0.0],
        "annual_rate_pct": [12.0, 20.0, 30.0, 15.0, 25.0, 18.0],
        "remaining_term": [6, 12, 3, 24, 9, 1],
        "dpd": [0, 15, 45, 100, 180, 0],
        "segment": ["prime", "near_prime", "subprime", "prime", "subprime", "near_prime"],
    })


@pytest.fixture
def tape_scenario(tmp_path, write_yaml, tiny_scenario_dict):
    """``make(tape, name="tape.csv") -> (Scenario, tape path)``.

    ``tape`` is a DataFrame (written as CSV or Parquet by ``name``'s extension) or
    raw bytes; the scenario is the tiny one reading that tape by a relative path.
    """
    def make(tape, name="tape.csv"):
        tape_path = tmp_path / name
        if isinstance(tape, bytes):
            tape_path.write_bytes(tape)
        elif tape_path.suffix == ".parquet":
            tape.to_parquet(tape_path, index=False)
        else:
            tape.to_csv(tape_path, index=False)
        portfolio = tiny_scenario_dict["portfolio"]
        portfolio.update(source="tape", tape=name)
        portfolio.pop("n_loans", None)
        return load_scenario(write_yaml(tiny_scenario_dict, "tape_scenario.yaml")), tape_path.resolve()

    return make


def tape_problems(scenario):
    with pytest.raises(InputError) as info:
        build_book(scenario, seed=1)
    for problem in info.value.problems:
        assert problem.startswith(f"{scenario.portfolio.tape}: "), problem
    return info.value.problems


def only_tape_problem(scenario):
    problems = tape_problems(scenario)
    assert len(problems) == 1, problems
    return problems[0]


# ------------------------------------------------------------------ good tapes
def test_good_tape_becomes_the_book(tape_scenario):
    frame = good_tape()
    scenario, _ = tape_scenario(frame)
    book = build_book(scenario, seed=1)
    spec = {s.name: s for s in scenario.portfolio.segments}

    assert book.n_loans == len(frame)
    assert book.segment_names == SEGMENTS
    assert [book.segment_names[k] for k in book.segment] == list(frame["segment"])
    np.testing.assert_allclose(book.principal + book.arrears, frame["balance"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(book.balance, frame["balance"], rtol=0, atol=1e-9)
    assert np.all(book.principal >= 0) and np.all(book.arrears >= 0)
    np.testing.assert_array_equal(book.dpd_state, [0, 1, 2, 4, 6, 0])
    assert np.all(book.arrears[frame["dpd"].to_numpy() == 0] == 0)
    assert np.all(book.arrears[frame["dpd"].to_numpy() > 0] > 0)
    np.testing.assert_allclose(book.apr, frame["annual_rate_pct"] / 100.0)
    np.testing.assert_array_equal(book.remaining_term, frame["remaining_term"])
    # optional columns absent: segment defaults
    np.testing.assert_allclose(book.income, [spec[s].income.median for s in frame["segment"]])
    np.testing.assert_allclose(book.score, [spec[s].score.mean for s in frame["segment"]])
    default_savings = np.array([spec[s].savings_months * spec[s].essential_spending_pct / 100
                                * spec[s].income.median for s in frame["segment"]])
    not_distressed = frame["dpd"].to_numpy() <= 30          # 31+ DPD borrowers may start without savings
    np.testing.assert_allclose(book.savings[not_distressed], default_savings[not_distressed])
    np.testing.assert_allclose(book.original_savings, default_savings)
    np.testing.assert_allclose(book.original_principal, frame["balance"])


def test_optional_columns_are_used_when_given(tape_scenario):
    frame = good_tape()
    frame["income"] = [4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0]
    frame["score"] = [700.0, 650.0, 600.0, 710.0, 580.0, 640.0]
    frame["loan_id"] = range(1, 7)
    scenario, _ = tape_scenario(frame)
    book = build_book(scenario, seed=1)
    np.testing.assert_allclose(book.income, frame["income"])
    np.testing.assert_allclose(book.score, frame["score"])


def test_tape_without_segment_column_uses_first_segment(tape_scenario):
    scenario, _ = tape_scenario(good_tape().drop(columns=["segment"]))
    book = build_book(scenario, seed=1)
    assert np.all(book.segment == 0)
    np.testing.assert_allclose(book.income, scenario.portfolio.segments[0].income.median)


def test_parquet_tape_gives_the_same_book_as_csv(tape_scenario):
    csv_book = build_book(tape_scenario(good_tape(), "tape.csv")[0], seed=1)
    parquet_scenario, parquet_path = tape_scenario(good_tape(), "tape.parquet")
    assert parquet_path.suffix == ".parquet"
    parquet_book = build_book(parquet_scenario, seed=1)
    for field in ("segment", "principal", "arrears", "apr", "remaining_term", "dpd_state", "income",
                  "savings", "other_debt", "employed", "score"):
        np.testing.assert_array_equal(getattr(parquet_book, field), getattr(csv_book, field), err_msg=field)


def test_tape_path_is_relative_to_scenario_file(tape_scenario, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario, tape_path = tape_scenario(good_tape())
    assert scenario.portfolio.tape == str(tape_path)
    assert build_book(scenario, seed=1).n_loans == 6


def test_tape_path_inherited_through_extends_stays_relative_to_parent(tape_scenario, write_yaml):
    _, tape_path = tape_scenario(good_tape())
    child = write_yaml("extends: ../tape_scenario.yaml\nrun: {paths: 2}\n", "sub/child.yaml")
    assert load_scenario(child).portfolio.tape == str(tape_path)


def test_run_on_a_tape(tape_scenario):
    scenario, _ = tape_scenario(good_tape())
    results = simulator.run(scenario, paths=2)
    assert results.summary["loans"] == 6
    assert results.summary["paths"] == 2
    assert results.summary["opening_balance"] == pytest.approx(good_tape()["balance"].sum())


def test_loans_override_is_refused_for_a_tape(tape_scenario):
    scenario, _ = tape_scenario(good_tape())
    with pytest.raises(InputError, match="loans= resizes a synthetic book; this scenario reads a loan tape"):
        simulator.run(scenario, paths=2, loans=100)


# ------------------------------------------------------------------- bad tapes
@pytest.mark.parametrize("dropped", [["dpd"], ["balance", "annual_rate_pct"]])
def test_missing_required_column_is_named(tape_scenario, dropped):
    scenario, tape = tape_scenario(good_tape().drop(columns=dropped))
    problems = tape_problems(scenario)
    assert len(problems) == len(dropped)
    for column, problem in zip(dropped, problems):
        assert problem.startswith(f"{tape}: required column '{column}' is missing. The tape needs columns "
                                  "balance, annual_rate_pct, remaining_term, dpd")


def test_nan_balance_is_refused_with_its_row(tape_scenario):
    frame = good_tape()
    frame.loc[1, "balance"] = np.nan
    scenario, tape = tape_scenario(frame)
    problem = only_tape_problem(scenario)
    assert problem.startswith(f"{tape}: column 'balance' must be a finite number in [0, 1e+12]; got ")
    assert "in data row 2 " in problem


def test_negative_balance_is_refused_with_its_row(tape_scenario):
    frame = good_tape()
    frame.loc[2, "balance"] = -5.0
    scenario, tape = tape_scenario(frame)
    problem = only_tape_problem(scenario)
    assert problem.startswith(f"{tape}: column 'balance' must be a finite number in [0, 1e+12]; got ")
    assert "-5.0" in problem
    assert "in data row 3 " in problem and problem.endswith("Fix or remove those rows.")


def test_non_numeric_balance_is_refused(tape_scenario):
    frame = good_tape().astype({"balance": object})
    frame.loc[0, "balance"] = "1,000"
    scenario, tape = tape_scenario(frame)
    assert only_tape_problem(scenario).startswith(
        f"{tape}: column 'balance' must be a finite number in [0, 1e+12]; got '1,000' in data row 1 ")


def test_dpd_beyond_180_is_refused(tape_scenario):
    frame = good_tape()
    frame.loc[3, "dpd"] = 200
    scenario, tape = tape_scenario(frame)
    problem = only_tape_problem(scenario)
    assert problem.startswith(f"{tape}: column 'dpd' must be days past due in [0, 180]")
    assert "200" in problem and "in data row 4 " in problem


def test_fractional_remaining_term_is_refused(tape_scenario):
    frame = good_tape().astype({"remaining_term": float})
    frame.loc[0, "remaining_term"] = 6.5
    scenario, tape = tape_scenario(frame)
    assert only_tape_problem(scenario).startswith(
        f"{tape}: column 'remaining_term' must be an integer number of months in [0, 600]")


def test_unknown_segment_is_refused(tape_scenario):
    frame = good_tape()
    frame.loc[3, "segment"] = "prim"
    scenario, tape = tape_scenario(frame)
    assert only_tape_problem(scenario).startswith(
        f"{tape}: column 'segment' must be one of ['prime', 'near_prime', 'subprime']; got 'prim' in data row 4 ")


def test_unknown_amortisation_is_refused(tape_scenario):
    frame = good_tape()
    frame["amortisation"] = "equal_instalment"
    frame.loc[0, "amortisation"] = "balloon"
    scenario, tape = tape_scenario(frame)
    assert only_tape_problem(scenario).startswith(f"{tape}: column 'amortisation' must be one of [")


def test_unknown_extra_column_is_refused(tape_scenario):
    frame = good_tape()
    frame["colour"] = "red"
    scenario, tape = tape_scenario(frame)
    problem = only_tape_problem(scenario)
    assert problem.startswith(f"{tape}: unknown columns ['colour']. Rename or drop them; known optional columns: ")
    assert "income" in problem and "original_term" in problem


def test_several_bad_values_reported_at_once(tape_scenario):
    frame = good_tape()
    frame.loc[1, "balance"] = -1.0
    frame.loc[3, "dpd"] = 365
    frame.loc[4, "segment"] = "platinum"
    scenario, _ = tape_scenario(frame)
    problems = tape_problems(scenario)
    assert len(problems) == 3, problems
    assert [p.split(": ", 1)[1].split(" must")[0] for p in problems] == [
        "column 'balance'", "column 'dpd'", "column 'segment'"]


def test_tape_with_no_rows_is_refused(tape_scenario):
    scenario, tape = tape_scenario(b"balance,annual_rate_pct,remaining_term,dpd\n")
    assert only_tape_problem(scenario) == f"{tape}: the tape has no rows. Export at least one loan."


@pytest.mark.parametrize("content", [bytes(range(256)) * 10, b""], ids=["binary_garbage", "empty_file"])
def test_unreadable_csv_is_refused(tape_scenario, content):
    scenario, tape = tape_scenario(content)
    problem = only_tape_problem(scenario)
    assert problem.startswith(f"{tape}: cannot be read as a csv table (")
    assert problem.endswith("Export the tape again as CSV with a header row, or as Parquet.")


def test_corrupt_parquet_is_refused(tape_scenario):
    scenario, tape = tape_scenario(b"this is not parquet", "tape.parquet")
    assert only_tape_problem(scenario).startswith(f"{tape}: cannot be read as a parquet table (")


@pytest.mark.parametrize("name", ["tape.xlsx", "tape.txt"])
def test_wrong_extension_is_refused(tape_scenario, name):
    scenario, tape = tape_scenario(b"balance\n1\n", name)
    assert only_tape_problem(scenario) == (f"{tape}: the file extension must be '.csv' or '.parquet'; "
                                           f"got '{tape.suffix}'. Save the tape as CSV or Parquet.")


def test_missing_tape_file_is_refused(tape_scenario):
    scenario, tape = tape_scenario(good_tape())
    tape.unlink()
    assert only_tape_problem(scenario).startswith(f"{tape}: tape file not found.")


def test_bad_value_is_shown_as_plain_number(tape_scenario):
    frame = good_tape()
    frame.loc[2, "balance"] = -5.0
    scenario, _ = tape_scenario(frame)
    assert "np." not in only_tape_problem(scenario)


def test_unreadable_csv_message_is_one_line(tape_scenario):
    scenario, _ = tape_scenario(bytes(range(256)) * 10)
    assert "\n" not in only_tape_problem(scenario)


# ------------------------------------------------------------------ arrears
def test_arrears_are_derived_from_the_scheduled_principal_alone(tape_scenario):
    """Without an ``arrears`` column a loan ``d`` instalments behind owes ``d`` instalments of its scheduled principal
    ``B``, and ``B + A`` is the balance. Checked against the annuity ``B r / (1 - (1 + r)^-n)`` written out here."""
    frame = good_tape().assign(amortisation="equal_instalment")
    book = build_book(tape_scenario(frame)[0], seed=1)
    r = frame["annual_rate_pct"].to_numpy() / 1200.0
    n = frame["remaining_term"].to_numpy()
    months_behind = np.ceil(frame["dpd"].to_numpy() / 30.0)
    annuity_factor = r / (1.0 - (1.0 + r) ** -n)
    np.testing.assert_allclose(book.arrears, months_behind * annuity_factor * book.principal, rtol=1e-12)
    np.testing.assert_allclose(book.principal + book.arrears, frame["balance"], rtol=1e-12)


def test_an_arrears_column_is_taken_as_given(tape_scenario):
    frame = good_tape().assign(arrears=[0.0, 90.0, 120.0, 700.0, 500.0, 0.0])
    book = build_book(tape_scenario(frame)[0], seed=1)
    np.testing.assert_array_equal(book.arrears, frame["arrears"])
    np.testing.assert_allclose(book.principal, frame["balance"] - frame["arrears"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("arrears, row, says", [
    ([0.0, 90.0, 600.0, 700.0, 500.0, 0.0], 3, "at most the balance"),
    ([5.0, 90.0, 120.0, 700.0, 500.0, 0.0], 1, "0 for a current loan"),
    ([0.0, 0.0, 120.0, 700.0, 500.0, 0.0], 2, "above 0 for a delinquent loan"),
    ([0.0, -1.0, 120.0, 700.0, 500.0, 0.0], 2, "a finite number in [0, 1e+12]"),
])
def test_inconsistent_arrears_are_refused_with_the_row(tape_scenario, arrears, row, says):
    problem = only_tape_problem(tape_scenario(good_tape().assign(arrears=arrears))[0])
    assert f"column 'arrears' must be {says}" in problem and f"in data row {row} " in problem, problem


def test_duplicate_loan_ids_are_refused_with_the_rows(tape_scenario):
    frame = good_tape().assign(loan_id=["a", "b", "c", "b", "e", "b"])
    problem = only_tape_problem(tape_scenario(frame)[0])
    assert "column 'loan_id' must be unique; got 'b' in data rows 2, 4, 6 (3 rows share an id" in problem, problem


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), 1e400, 1e13])
@pytest.mark.parametrize("column", ["balance", "income", "savings"])
def test_non_finite_and_implausible_amounts_are_refused(tape_scenario, column, value):
    frame = good_tape().assign(**{column: [1000.0, 2000.0, value, 3000.0, 800.0, 0.0]})
    problem = only_tape_problem(tape_scenario(frame, "tape.parquet")[0])
    assert f"column '{column}' must be a finite number in [0, 1e+12]" in problem and "data row 3" in problem, problem
