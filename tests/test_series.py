"""The macro-series reader against hand-made files, and scenarios reading a path shock's levels from a table."""
import numpy as np
import pytest

from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario
from simulator.inputs.series import monthly_levels, read_series
from simulator.model.macro import central_path


@pytest.fixture
def write(tmp_path):
    def write_file(text, name="series.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write_file


def test_monthly_fred_download_with_observation_date_header(write):
    path = write("observation_date,UNRATE\n2007-01-01,4.6\n2007-02-01,4.5\n2007-03-01,4.4\n")
    series = read_series(path, "UNRATE")
    assert series.frequency == "monthly"
    assert series.labels == ["2007-01", "2007-02", "2007-03"]
    np.testing.assert_array_equal(series.values, [4.6, 4.5, 4.4])


def test_quarterly_with_date_header_and_the_only_column_taken_without_being_named(write):
    path = write("date,DRCCLACBS\n2007-01-01,3.98\n2007-04-01,4.02\n2007-07-01,4.41\n")
    series = read_series(path)
    assert series.frequency == "quarterly"
    assert series.labels == ["2007Q1", "2007Q2", "2007Q3"]
    np.testing.assert_array_equal(series.end_months - series.months, [2, 2, 2])


def test_quarterly_is_interpolated_linearly_between_quarter_ends(write):
    series = read_series(write("date,x\n2007-01-01,3\n2007-04-01,6\n"))
    months, values = monthly_levels(series)
    assert [months[0] % 12, months[-1] % 12] == [2, 5]  # March to June
    np.testing.assert_allclose(values, [3, 4, 5, 6])


def test_fred_gap_is_refused_with_file_row_and_date(write):
    path = write("observation_date,UNRATE\n2025-08-01,4.3\n2025-09-01,4.4\n2025-10-01,.\n2025-11-01,4.6\n")
    with pytest.raises(InputError) as error:
        read_series(path, "UNRATE")
    assert error.value.problems == [
        f"{path}: row 4 (2025-10-01) of column 'UNRATE' must be a number (percent); got '.'. The value is missing "
        "(FRED writes '.' for a value not published): fill it in, choose dates that avoid it, or ask for "
        "interpolation (interpolate_gaps: true, or --interpolate-gaps)."]


def test_fred_gap_is_interpolated_on_request_and_ignored_outside_the_dates_used(write):
    path = write("observation_date,UNRATE\n2025-08-01,4.3\n2025-09-01,4.4\n2025-10-01,.\n2025-11-01,4.6\n")
    np.testing.assert_allclose(read_series(path, "UNRATE", interpolate_gaps=True).values, [4.3, 4.4, 4.5, 4.6])
    september = 12 * 2025 + 8
    np.testing.assert_array_equal(read_series(path, "UNRATE", end=september).values, [4.3, 4.4])


def test_gap_at_the_end_cannot_be_interpolated(write):
    path = write("date,x\n2025-08-01,4.3\n2025-09-01,.\n")
    with pytest.raises(InputError, match=r"row 3 \(2025-09-01\) of column 'x' must be a number \(percent\): a gap at"):
        read_series(path, "x", interpolate_gaps=True)


def test_supervisory_table_with_quarter_labels_and_whole_numbers(write):
    path = write("Scenario Name,Date,Real GDP growth,Unemployment rate\n"
                 "Severely Adverse,2026 Q2,-1,9.9\nSeverely Adverse,2026 Q3,0,10\nSeverely Adverse,2026 Q4,1.2,9.5\n")
    series = read_series(path, "Unemployment rate")
    assert series.frequency == "quarterly"
    assert series.labels == ["2026Q2", "2026Q3", "2026Q4"]
    np.testing.assert_array_equal(series.values, [9.9, 10.0, 9.5])


def test_wrong_column_names_the_columns_present(write):
    path = write("Scenario Name,Date,Unemployment rate\nX,2025 Q1,5.6\nX,2025 Q2,6.8\n")
    with pytest.raises(InputError) as error:
        read_series(path, "Unemployment")
    assert error.value.problems == [f"{path}: column must be a column of the file ('Scenario Name', 'Date', "
                                    "'Unemployment rate'); got 'Unemployment'. Check the spelling against the "
                                    "file's header row."]


def test_dates_that_skip_a_period_are_refused(write):
    path = write("date,x\n2007-01-01,1\n2007-02-01,2\n2007-04-01,3\n")
    with pytest.raises(InputError, match="must be consecutive months in increasing order; got '2007-02-01 "
                                         r"\(row 3\) followed by 2007-04-01 \(row 4\)'"):
        read_series(path, "x")


def test_bad_date_and_bad_number_are_named_by_row(write):
    with pytest.raises(InputError, match=r"row 3 of column 'date' must be a date"):
        read_series(write("date,x\n2007-01-01,1\nsoon,2\n"), "x")
    with pytest.raises(InputError, match=r"row 2 \(2007-01-01\) of column 'x' must be a number \(percent\); got 'abc'"):
        read_series(write("date,x\n2007-01-01,abc\n2007-02-01,2\n"), "x")


def test_parquet_reads_like_csv(tmp_path, write):
    csv = read_series(write("date,x\n2007-01-01,1.5\n2007-02-01,2.5\n"), "x")
    import pandas as pd
    pd.read_csv(tmp_path / "series.csv").to_parquet(tmp_path / "series.parquet")
    parquet = read_series(tmp_path / "series.parquet", "x")
    np.testing.assert_array_equal(parquet.values, csv.values)
    np.testing.assert_array_equal(parquet.months, csv.months)


# --------------------------------------------------------------- scenarios reading a table
def test_shipped_fed_scenario_reads_the_supervisory_path():
    scenario = load_scenario("scenarios/fed_2025_severely_adverse.yaml")
    (shock,) = scenario.macro.shocks
    assert shock.frequency == "quarterly" and shock.levels_from is None
    assert shock.levels_pct == [5.6, 6.8, 8.1, 9.2, 9.7, 9.9, 10.0, 9.5, 9.0, 8.6, 8.2, 7.8, 7.5]
    unemployment = central_path(scenario.macro, scenario.run.horizon_months)["unemployment"]
    np.testing.assert_allclose(unemployment[[0, 3, 21, 39]], [4.1, 5.6, 10.0, 7.5])
    np.testing.assert_allclose(unemployment[1:3], [4.6, 5.1])


def test_levels_from_is_relative_to_the_scenario_file_and_errors_name_the_shock(write_yaml, tiny_scenario_dict):
    write_yaml("Date,Unemployment rate\n2025 Q1,5.6\n2025 Q2,6.8\n", "data/fed.csv")
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "path", "variable": "unemployment",
                                              "levels_from": {"file": "data/fed.csv", "column": "Unemployment rate"}}]
    scenario = load_scenario(write_yaml(tiny_scenario_dict, "s.yaml"))
    assert scenario.macro.shocks[0].levels_pct == [5.6, 6.8]
    tiny_scenario_dict["macro"]["shocks"][0]["levels_from"]["column"] = "UNRATE"
    path = write_yaml(tiny_scenario_dict, "bad.yaml")
    with pytest.raises(InputError) as error:
        load_scenario(path)
    assert error.value.problems[0].startswith(f"{path}: macro.shocks[0].levels_from: ")
    assert "column must be a column of the file ('Date', 'Unemployment rate'); got 'UNRATE'" in str(error.value)


def test_a_path_shock_needs_exactly_one_source_of_levels(write_yaml, tiny_scenario_dict):
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "path", "variable": "unemployment"}]
    with pytest.raises(InputError, match="must be given exactly one of levels_pct"):
        load_scenario(write_yaml(tiny_scenario_dict))


def test_a_stated_frequency_must_agree_with_the_table(write_yaml, tiny_scenario_dict):
    write_yaml("date,UNRATE\n2007-01-01,4.6\n2007-02-01,4.5\n", "u.csv")
    tiny_scenario_dict["macro"]["shocks"] = [{"shape": "path", "variable": "unemployment", "frequency": "quarterly",
                                              "levels_from": {"file": "u.csv", "column": "UNRATE"}}]
    with pytest.raises(InputError, match=r"macro.shocks\[0\].frequency must be the table's \('monthly'\)"):
        load_scenario(write_yaml(tiny_scenario_dict))
