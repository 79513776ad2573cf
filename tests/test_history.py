"""Loan-month histories and macro series: a good file becomes the arrays it describes;
every kind of bad file is refused with an InputError that names the file, the column,
the loan and month, and says how to fix it.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.inputs.errors import InputError
from simulator.inputs.history import (allowed_transitions, extract_transitions, history_from_frame, read_history,
                               read_macro)
from simulator.estimation.rollrates import simulate_roll_rate_history
from simulator.inputs.loader import load_scenario
from simulator.inputs.schema import ROLL_RATE_COLUMNS

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]

EXAMPLE = load_scenario(Path(__file__).resolve().parents[1] / "scenarios"
                        / "roll_rate_example.yaml").behaviour.roll_rate.matrices["default"]
"""``scenarios/roll_rate_example.yaml``'s matrix, percent."""


def good_history():
    """Three loans over four months: one cures, one charges off after 91-120, one closes."""
    rows = [
        ("A1", "2024-01", "current", 1000.0), ("A1", "2024-02", "dpd_1_30", 980.0),
        ("A1", "2024-03", "current", 960.0), ("A1", "2024-04", "current", 940.0),
        ("B2", "2024-01", "dpd_61_90", 500.0), ("B2", "2024-02", "dpd_91_120", 500.0),
        ("B2", "2024-03", "charged_off", 500.0),
        ("C3", "2024-02", "current", 300.0), ("C3", "2024-03", "closed", 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["loan_id", "month", "dpd_state", "balance"])
    frame["segment"] = ["prime"] * 4 + ["subprime"] * 3 + ["prime"] * 2
    return frame


@pytest.fixture
def write(tmp_path):
    """``write(frame_or_text, name="history.csv") -> Path`` (CSV or Parquet by extension)."""
    def write_file(content, name="history.csv"):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif path.suffix == ".parquet":
            content.to_parquet(path, index=False)
        else:
            content.to_csv(path, index=False)
        return path

    return write_file


def problems_of(path):
    """The InputError messages of reading ``path``."""
    with pytest.raises(InputError) as caught:
        read_history(path)
    return caught.value.problems


# --------------------------------------------------------------------------- good files
@pytest.mark.parametrize("name", ["history.csv", "history.parquet"])
def test_good_history_round_trips(write, name):
    history = read_history(write(good_history(), name))
    assert history.source.endswith(name)
    assert history.n_rows == 9 and history.n_loans == 3 and history.n_months == 4
    assert list(history.loan_ids) == ["A1", "B2", "C3"]
    assert history.month_labels == tuple(MONTHS)
    assert history.first_period == 12 * 2024
    names = good_history()["dpd_state"]
    np.testing.assert_array_equal(history.state, [ROLL_RATE_COLUMNS.index(s) for s in names])
    np.testing.assert_array_equal(history.month, [0, 1, 2, 3, 0, 1, 2, 1, 2])
    np.testing.assert_array_equal(history.balance, good_history()["balance"])
    assert [history.segment_names[s] for s in history.segment] == list(good_history()["segment"])


@pytest.mark.parametrize("name", ["synthetic.csv", "synthetic.parquet"])
def test_simulated_history_round_trips_through_files(write, name):
    frame, _ = simulate_roll_rate_history(np.asarray(EXAMPLE) / 100.0, 0.03, 200, 8, seed=4,
                                          segment_names=("cards",))
    direct = history_from_frame(frame, "in memory")
    from_file = read_history(write(frame, name))
    for field in ("loan", "month", "state", "balance", "segment"):
        np.testing.assert_array_equal(getattr(from_file, field), getattr(direct, field), err_msg=field)
    np.testing.assert_array_equal(from_file.loan_ids, direct.loan_ids)
    assert from_file.month_labels == direct.month_labels and from_file.segment_names == ("cards",)


def test_dpd_days_map_to_states():
    """``ceil(dpd / 30)`` capped at 6: 0, 1-30, 31-60, ..., 151-180, beyond 180 stays 151-180."""
    days = [0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181, 400]
    expected = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 6]
    frame = pd.DataFrame({"loan_id": range(len(days)), "month": "2024-01", "dpd": days, "balance": 100.0})
    np.testing.assert_array_equal(history_from_frame(frame).state, expected)


def test_integer_months_state_indices_and_origination():
    frame = pd.DataFrame({"loan_id": [7, 7, 7, 9], "month": [12, 13, 14, 14], "dpd_state": [0, 1, 8, 0],
                          "balance": [10.0, 10.0, 0.0, 5.0], "origination_month": [3, 3, 3, 14]})
    history = history_from_frame(frame)
    assert history.month_format == "integer" and history.month_labels == ("12", "13", "14")
    np.testing.assert_array_equal(history.month, [0, 1, 2, 2])
    np.testing.assert_array_equal(history.state, [0, 1, 8, 0])
    np.testing.assert_array_equal(history.origination_month, [3 - 12, 14 - 12])
    assert history.segment_names == ("default",)


def test_transitions_are_consecutive_rows_of_a_loan():
    transitions = extract_transitions(history_from_frame(good_history()))
    np.testing.assert_array_equal(transitions.loan, [0, 0, 0, 1, 1, 2])
    np.testing.assert_array_equal(transitions.month, [1, 2, 3, 1, 2, 2])
    np.testing.assert_array_equal(transitions.from_state, [0, 1, 0, 3, 4, 0])
    np.testing.assert_array_equal(transitions.to_state, [1, 0, 0, 4, 7, 8])
    np.testing.assert_array_equal(transitions.balance, [1000.0, 980.0, 960.0, 500.0, 500.0, 300.0])
    np.testing.assert_array_equal(transitions.segment, [0, 0, 0, 1, 1, 0])


def test_allowed_transitions_table():
    allowed = allowed_transitions()
    assert allowed[0, 1] and not allowed[0, 2]          # one state worse at most
    assert allowed[5, 0] and allowed[5, 3]              # cure to any better state
    assert all(allowed[s, 8] for s in range(7))         # close from anywhere
    assert [bool(allowed[s, 7]) for s in range(7)] == [False] * 4 + [True] * 3
    assert allowed[6, 6] and not allowed[7].any() and not allowed[8].any()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_panel_of_allowed_moves_validates(data):
    """Property: loans that only make allowed moves, one row a month, always validate; their
    transitions are the consecutive rows; swapping two rows of a loan is refused as unsorted."""
    allowed = allowed_transitions()
    rows = []
    for loan in range(data.draw(st.integers(1, 5), label="loans")):
        month = data.draw(st.integers(0, 3), label="first month")
        state = data.draw(st.integers(0, 6), label="first state")
        rows.append((f"L{loan}", month, state))
        for _ in range(data.draw(st.integers(0, 5), label="moves")):
            if state >= 7:
                break
            state = data.draw(st.sampled_from(np.flatnonzero(allowed[state]).tolist()))
            month += 1
            rows.append((f"L{loan}", month, state))
    frame = pd.DataFrame(rows, columns=["loan_id", "month", "dpd_state"]).assign(balance=1.0)
    history = history_from_frame(frame)
    transitions = extract_transitions(history)
    assert transitions.n_transitions == len(frame) - history.n_loans
    assert allowed[transitions.from_state, transitions.to_state].all()
    two_rows = np.flatnonzero(history.loan[1:] == history.loan[:-1])
    if two_rows.size:
        k = two_rows[0]
        swapped = frame.iloc[np.r_[:k, k + 1, k, k + 2:len(frame)]]
        with pytest.raises(InputError, match="Sort the file by loan_id, month"):
            history_from_frame(swapped)


# --------------------------------------------------------------------------- bad files
def test_missing_file(tmp_path):
    (problem,) = problems_of(tmp_path / "nowhere.csv")
    assert "nowhere.csv: history file not found" in problem and "Check the path" in problem


def test_unreadable_format(write, tmp_path):
    (problem,) = problems_of(write("loan_id,month\n", "history.xlsx"))
    assert "history.xlsx: the file extension must be '.csv' or '.parquet'; got '.xlsx'" in problem
    assert "Save the history as CSV" in problem
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file")
    (problem,) = problems_of(broken)
    assert "broken.parquet: cannot be read as a parquet table" in problem and "Export the history again" in problem


def test_empty_file(write):
    (problem,) = problems_of(write("loan_id,month,dpd_state,balance\n"))
    assert "history.csv: the history has no rows" in problem


def test_missing_and_unknown_columns(write):
    frame = good_history().drop(columns=["balance"]).rename(columns={"segment": "segmnet"})
    problems = problems_of(write(frame))
    assert any("history.csv: required column 'balance' is missing" in p and "loan_id, month, balance" in p
               and "dpd_state" in p for p in problems)
    assert any("column 'segmnet' must be one of" in p and "Did you mean 'segment'?" in p for p in problems)


@pytest.mark.parametrize("drop", [True, False])
def test_exactly_one_delinquency_column(write, drop):
    frame = good_history()
    if drop:
        frame = frame.drop(columns=["dpd_state"])
    else:
        frame["dpd"] = 0
    (problem,) = problems_of(write(frame))
    assert "history.csv: the delinquency column must be exactly one of 'dpd'" in problem
    assert ("got 'neither'" if drop else "got ['dpd', 'dpd_state']") in problem
    assert "Keep dpd_state" in problem


def test_bad_numbers_name_rows_and_are_reported_together(write):
    frame = good_history().drop(columns=["dpd_state"])
    frame["dpd"] = [0, -3, 0, 0, 61, 91, 95, 0, 0]
    frame["balance"] = frame["balance"].astype(object)
    frame.loc[4, "balance"] = "unknown"
    frame.loc[8, "balance"] = -1.0
    problems = problems_of(write(frame))
    assert len(problems) == 2, problems
    balance = next(p for p in problems if "balance must be" in p)
    assert ("history.csv: balance must be a number >= 0; got 'unknown' / '-1.0' in data row 5 (loan 'B2', "
            "month '2024-01')") in balance
    assert "data row 9 (loan 'C3', month '2024-03')" in balance and "Give the outstanding balance" in balance
    dpd = next(p for p in problems if "dpd must be" in p)
    assert "dpd must be a whole number of days >= 0; got -3 in data row 2 (loan 'A1', month '2024-02')" in dpd


def test_fractional_days(write):
    frame = good_history().drop(columns=["dpd_state"]).assign(dpd=[0, 1.5, 0, 0, 61, 91, 95, 0, 0])
    (problem,) = problems_of(write(frame))
    assert "dpd must be a whole number of days >= 0; got 1.5 in data row 2" in problem and "Round" in problem


def test_unknown_state_names(write):
    frame = good_history()
    frame.loc[[1, 3], "dpd_state"] = ["late", "paid"]
    (problem,) = problems_of(write(frame))
    assert "history.csv: dpd_state must be one of current, dpd_1_30" in problem
    assert ("got 'late' / 'paid' in data row 2 (loan 'A1', month '2024-02'), data row 4 (loan 'A1', "
            "month '2024-04')") in problem
    assert "Map the lender's status codes" in problem


def test_bad_months(write):
    frame = good_history()
    frame.loc[0, "month"] = "Jan 2024"
    frame.loc[5, "month"] = "2024-13"
    (problem,) = problems_of(write(frame))
    assert ("month must be a month as YYYY-MM or an integer; got 'Jan 2024' / '2024-13' in data row 1 "
            "(loan 'A1'") in problem
    assert "data row 6 (loan 'B2', month '2024-13')" in problem and "Write months as YYYY-MM" in problem


def test_duplicate_rows(write):
    frame = good_history()
    frame = pd.concat([frame.iloc[:2], frame.iloc[1:2], frame.iloc[2:]], ignore_index=True)
    (problem,) = problems_of(write(frame))
    assert "history.csv: (loan_id, month) must be unique; got data row 3 (loan 'A1', month '2024-02')" in problem
    assert "Keep one row per loan and month" in problem


def test_unsorted_rows(write):
    frame = good_history()
    frame = frame.iloc[[1, 0, 2, 3, 4, 5, 6, 7, 8]]
    (problem,) = problems_of(write(frame))
    assert "history.csv: rows must be sorted by loan_id, then month" in problem
    assert "data row 1 (loan 'A1', month '2024-02')" in problem and "Sort the file by loan_id, month." in problem


def test_split_loan_is_unsorted(write):
    frame = good_history()
    frame = frame.iloc[[0, 1, 4, 5, 6, 2, 3, 7, 8]]
    (problem,) = problems_of(write(frame))
    assert "each loan's rows together" in problem and "Sort the file by loan_id, month." in problem


def test_gaps(write):
    frame = good_history().drop(index=[1, 2]).reset_index(drop=True)
    (problem,) = problems_of(write(frame))
    assert ("history.csv: the months of a loan must be consecutive; got a gap for loan 'A1' between '2024-01' "
            "and '2024-04'") in problem
    assert "Add the missing months" in problem


def test_impossible_transitions(write):
    frame = good_history()
    frame.loc[1, "dpd_state"] = "dpd_61_90"        # current -> 61-90 in one month
    frame.loc[7, "dpd_state"] = "dpd_1_30"         # then 1-30 -> charged off ...
    frame.loc[8, "dpd_state"] = "charged_off"      # ... before 91-120
    frame.loc[8, "balance"] = 300.0
    (problem,) = problems_of(write(frame))
    assert "history.csv: a loan must move at most one state worse a month" in problem
    assert "loan 'A1' current in '2024-01' -> dpd_61_90 in '2024-02'" in problem
    assert "loan 'C3' dpd_1_30 in '2024-02' -> charged_off in '2024-03'" in problem
    assert "Check those loans' delinquency" in problem


def test_rows_after_exit(write):
    frame = pd.concat([good_history(), pd.DataFrame([("C3", "2024-04", "current", 0.0, "prime")],
                                                    columns=good_history().columns)], ignore_index=True)
    (problem,) = problems_of(write(frame))
    assert "history.csv: a loan must have no rows after it is charged_off or closed" in problem
    assert "data row 10 (loan 'C3', month '2024-04')" in problem and "Drop the rows after" in problem


def test_segment_must_be_fixed_per_loan(write):
    frame = good_history()
    frame.loc[2, "segment"] = "subprime"
    (problem,) = problems_of(write(frame))
    assert ("segment must be the same in every row of a loan; got 'subprime' / 'prime' in data row 3 "
            "(loan 'A1'") in problem


def test_long_lists_are_capped(write):
    n = 50
    frame = pd.DataFrame({"loan_id": range(n), "month": "2024-01", "dpd_state": "current", "balance": -1.0})
    (problem,) = problems_of(write(frame))
    assert "data row 1 (loan 0, month '2024-01'), data row 2" in problem and f"(and {n - 3} more)" in problem


# --------------------------------------------------------------------------- macro series
def macro_frame(months=("2023-12",) + tuple(MONTHS)):
    return pd.DataFrame({"month": list(months), "unemployment_pct": np.linspace(4.0, 5.0, len(months)),
                         "rate_pct": 3.0})


def test_macro_aligned_with_history(write):
    history = read_history(write(good_history()))
    macro = read_macro(write(macro_frame().iloc[::-1], "macro.parquet"), history)
    assert list(macro["month"]) == MONTHS
    np.testing.assert_allclose(macro["unemployment_pct"], np.linspace(4.0, 5.0, 5)[1:])
    assert list(macro.columns) == ["month", "unemployment_pct", "rate_pct"]


def test_macro_errors(write):
    history = read_history(write(good_history()))
    frame = macro_frame(("2024-01", "2024-02", "2024-02"))
    frame.loc[0, "unemployment_pct"] = np.nan
    with pytest.raises(InputError) as caught:
        read_macro(write(frame, "macro.csv"), history)
    problems = caught.value.problems
    assert any("macro.csv: unemployment_pct must be a number (percent); got an empty cell in data row 1 "
               "(month '2024-01')" in p for p in problems), problems
    assert any("macro.csv: month must be unique (one row per month); got 2024-02 more than once" in p
               for p in problems)
    assert any("month must cover every month of the history" in p and "got no row for 2024-03, 2024-04" in p
               and "Add the missing months" in p for p in problems)


def test_macro_missing_column_and_gap(write):
    with pytest.raises(InputError, match=r"macro.csv: required column 'unemployment_pct' is missing"):
        read_macro(write(macro_frame().drop(columns=["unemployment_pct"]), "macro.csv"))
    with pytest.raises(InputError, match=r"month must be consecutive \(a monthly series\); got a jump from "
                                         r"2023-12 to 2024-02"):
        read_macro(write(macro_frame().drop(index=[1]), "macro.csv"))


def test_macro_month_format_must_match(write):
    history = read_history(write(good_history()))
    frame = pd.DataFrame({"month": [1, 2, 3, 4], "unemployment_pct": 5.0})
    with pytest.raises(InputError, match=r"macro.csv: month must be in the history's format \(year-month\); "
                                         r"got 'integer'"):
        read_macro(write(frame, "macro.csv"), history)

