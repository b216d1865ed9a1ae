"""User errors end in one line on stderr and exit code 1 (2 for usage errors); --debug adds the traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli._app import error_message
from workbench.cli._output import one_line
from workbench.errors import DataValidationError


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def test_validate_malformed_csv_is_one_line_naming_the_columns(cli, home, bad_csv: Path) -> None:
    line = _one_error_line(cli("data", "validate", str(bad_csv)))
    assert "`high` is below `low`" in line
    assert "row 2" in line and "Fix:" in line


def test_debug_shows_the_traceback(cli, home, bad_csv: Path) -> None:
    result = cli("--debug", "data", "validate", str(bad_csv))
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "DataValidationError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: `high` is below `low`")


def test_debug_from_the_environment(cli, home, bad_csv: Path) -> None:
    result = cli("data", "validate", str(bad_csv), env={"WORKBENCH_DEBUG": "1"})
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_misspelled_column_suggests_the_name(cli, home, tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("Date,Open,High,Low,Clsoe,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,11.5,10,11,120\n")
    line = _one_error_line(cli("data", "validate", str(path)))
    assert "`close`" in line and "Did you mean 'close'?" in line


def test_missing_file(cli, home, tmp_path: Path) -> None:
    line = _one_error_line(cli("data", "validate", str(tmp_path / "nope.csv")))
    assert "does not exist" in line and "nope.csv" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "fast=1"], "`fast` must be an integer in [2, 200]; got 1."),
        (["--param", "fats=5"], "SmaCross has no parameter 'fats'. Did you mean 'fast'?"),
        (["--param", "fast=ten"], "`fast` must be an integer in [2, 200]; got 'ten'."),
        (["--param", "fast"], "`--param` must be NAME=VALUE"),
        (["--fast", "50", "--slow", "20"], "break the constraint 'fast < slow'"),
        (["--fast", "5", "--param", "fast=6"], "parameter 'fast' is given twice"),
        (["--direction", "bth"], "`direction` must be one of 'long', 'short', 'both'; got 'bth'. Did you mean 'both'?"),
        (["--fees", "-0.01"], "`fees` must be a float in [0, 0.1); got -0.01."),
        (["--sizing", "pct"], "Did you mean 'percent'?"),
        (["--direction", "both", "--no-allow-short"], "emits short entries but `allow_short` is False"),
    ],
)
def test_bad_backtest_parameters(cli, home, args: list[str], expected: str) -> None:
    line = _one_error_line(cli("backtest", "SmaCross", "--data", "GOOG", *args))
    assert expected in line


def test_unknown_dataset_suggests_a_name(cli, home) -> None:
    line = _one_error_line(cli("backtest", "SmaCross", "--data", "GOGL"))
    assert "Did you mean 'GOOG'?" in line


def test_usage_errors_exit_2(cli, home) -> None:
    assert cli("backtest", "SmaCross", "--data", "GOOG", "--fees", "abc").exit_code == 2
    assert cli("data", "validate").exit_code == 2
    assert cli("runs", "list", "--bogus").exit_code == 2
    result = cli("backtest", "SmaCros", "--data", "GOOG")
    assert result.exit_code == 2
    assert "Did you mean 'SmaCross'?" in " ".join(result.stderr.split())


def test_one_line_joins_multi_line_messages() -> None:
    text = "`ts` has 2 value(s) that are not dates:\n  row 0: ts='x'\n  row 3: ts='y'\nFix: use ISO dates."
    assert one_line(text) == "`ts` has 2 value(s) that are not dates: row 0: ts='x'; row 3: ts='y'; Fix: use ISO dates."
    assert one_line("single") == "single"
    assert error_message(DataValidationError("a:\n b")) == "a: b"
    assert error_message(PermissionError(13, "Permission denied", "/x")) == "Permission denied: '/x'."
