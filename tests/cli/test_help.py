"""Every command has --help; the backtest commands' flags and help come from the declarations."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
import typer
from typer.testing import CliRunner

from workbench.backtesting import BacktestConfig
from workbench.cli import app
from workbench.cli.backtest import strategy_app
from workbench.strategies import BUILTIN, Param, SmaCross


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the tree, as argument paths (``("data", "import")``...)."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(cmd: object, path: tuple[str, ...], ctx: object) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):  # type: ignore[attr-defined]
                sub = cmd.get_command(ctx, name)  # type: ignore[attr-defined]
                paths.append((*path, name))
                walk(sub, (*path, name), ctx)

    walk(root, (), root.make_context("workbench", ["--help"], resilient_parsing=True))
    return paths


def _flat(text: str) -> str:
    """Help text with the panel borders removed and whitespace collapsed."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_command_tree_is_complete() -> None:
    paths = set(_command_paths())
    expected = {("demo",), ("data", "list"), ("data", "show"), ("data", "validate"), ("data", "import"),
                ("runs", "list"), ("runs", "show"), ("db", "upgrade"), ("kernel", "install"), ("backtest",)}
    assert expected <= paths
    assert {("backtest", name) for name in BUILTIN} <= paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "workbench")
def test_every_command_has_help(cli, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert result.stderr == ""


def test_version(cli) -> None:
    from workbench import __version__

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"workbench {__version__}"


def _expected_line(name: str, p: Param) -> list[str]:
    """What the help must say of parameter ``name``, derived from its declaration."""
    parts = [f"--{name.replace('_', '-')}", f"default {p.default}."]
    if p.help:
        parts.append(p.help)
    if p.choices is not None:
        parts.append("|".join(str(c) for c in p.choices))
    elif p.low is not None and p.high is not None:
        parts.append(f"{p.type} in [{p.low:g}, {p.high:g}]")
    return parts


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_strategy_help_lists_each_declared_parameter(cli, name: str) -> None:
    result = cli("backtest", name, "--help")
    assert result.exit_code == 0, result.output
    text = _flat(result.stdout)
    for pname, p in BUILTIN[name].param_space().items():
        for part in _expected_line(pname, p):
            assert part in text, (pname, part)


def test_strategy_help_lists_every_engine_setting(cli) -> None:
    text = _flat(cli("backtest", "SmaCross", "--help").stdout)
    for f in fields(BacktestConfig):
        flag = "--" + f.name.replace("_", "-")
        assert re.search(re.escape(flag) + r"\b", text), flag
    assert "--no-allow-short" in text
    assert "One of percent, units, value, target, risk." in text


def test_strategy_names_are_case_insensitive(cli) -> None:
    assert cli("backtest", "smacross", "--help").exit_code == 0


def test_a_new_param_adds_a_flag_with_no_cli_change(home) -> None:
    class LaggedCross(SmaCross):
        """Moving-average crossover with a declared lag."""

        lag = Param(1, low=0, high=5, help="bars to wait before acting")

    runner = CliRunner()
    text = _flat(runner.invoke(strategy_app(LaggedCross), ["--help"], env={"COLUMNS": "300"}).stdout)
    assert "--lag" in text and "bars to wait before acting" in text and "int in [0, 5]; default 1." in text
    result = runner.invoke(strategy_app(LaggedCross), ["--data", "GOOG", "--lag", "3", "--fast", "5", "--slow", "30"])
    assert result.exit_code == 0, result.output
    assert "LaggedCross(fast=5, slow=30, direction='long', lag=3) on GOOG" in result.stdout
    result = runner.invoke(strategy_app(LaggedCross), ["--data", "GOOG", "--param", "lag=9"])
    assert isinstance(result.exception, ValueError)
    assert "`lag` must be an integer in [0, 5]; got 9." in str(result.exception)


def test_a_param_named_like_a_setting_is_listed_under_param(home) -> None:
    class Sized(SmaCross):
        """A crossover with a parameter named like the engine's `size`."""

        size = Param(0.5, low=0.1, high=1.0, help="fraction to invest")

    runner = CliRunner()
    text = _flat(runner.invoke(strategy_app(Sized), ["--help"], env={"COLUMNS": "300"}).stdout)
    assert "size (only as --param size=VALUE): fraction to invest. float in [0.1, 1]; default 0.5." in text
    result = runner.invoke(strategy_app(Sized), ["--data", "GOOG", "--param", "size=0.25", "--size", "0.5"])
    assert result.exit_code == 0, result.output
    assert "Sized(fast=10, slow=20, direction='long', size=0.25) on GOOG" in result.stdout
    assert "settings: size=0.5" in result.stdout


def test_strategy_help_fits_80_columns_without_cutting_a_word(cli) -> None:
    result = cli("backtest", "SmaCross", "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_no_two_engine_settings_share_a_help_text() -> None:
    from workbench.cli.backtest import engine_settings

    docs = [doc for _name, _kind, _default, doc in engine_settings()]
    assert all(docs) and len(set(docs)) == len(docs)
