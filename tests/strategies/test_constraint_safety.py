"""One safe parser for every constraint: the same payloads are refused by strategies and grids."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.errors import InvalidParameterError
from workbench.optimize import grid
from workbench.strategies import Param, SmaCross, Strategy

PAYLOADS = [
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['id'])",
    "__import__('os').system('id')",
    "fast.__class__",
    "(lambda: 1)()",
    "open('/etc/passwd')",
    "fast if slow else slow",
    "[fast, slow]",
    "{'a': fast}",
    "f'{fast}'",
    "fast < slow; import os",
    "exec('1')",
    "getattr(fast, 'real')",
    "fast[0]",
    "fast < 'x' * 10**9",
    "'x' * fast > slow",
]


def _strategy(expr: str) -> type[Strategy]:
    return type("Payload", (Strategy,), {"fast": Param(5, low=1, high=100), "slow": Param(20, low=2, high=200),
                                         "constraints": (expr,), "signals": SmaCross.signals})


@pytest.mark.parametrize("expr", PAYLOADS)
def test_a_payload_in_a_strategy_constraint_is_refused_without_running(expr: str, capfd: pytest.CaptureFixture) -> None:
    with pytest.raises(InvalidParameterError, match="constraint"):
        _strategy(expr)()
    assert "uid=" not in capfd.readouterr().out


@pytest.mark.parametrize("expr", PAYLOADS)
def test_a_payload_in_a_grid_constraint_is_refused(expr: str, capfd: pytest.CaptureFixture) -> None:
    with pytest.raises(InvalidParameterError, match="constraint"):
        grid(wb.data.sample("GOOG"), SmaCross, fast=[5, 10], slow=[20, 30], direction="long", constraint=expr,
             overfit=False)
    assert "uid=" not in capfd.readouterr().out


def test_a_constraint_on_values_it_cannot_compare_is_a_clear_error() -> None:
    cls = type("Mixed", (Strategy,), {"fast": Param(5, low=1, high=100), "mode": Param("a", choices=("a", "b")),
                                      "constraints": ("fast < mode",), "signals": SmaCross.signals})
    with pytest.raises(InvalidParameterError, match=r"constraint 'fast < mode' cannot be evaluated"):
        cls()


def test_valid_constraints_still_hold_for_strategies() -> None:
    cls = _strategy("slow >= 2 * fast and abs(slow - fast) < 150")
    assert cls(fast=5, slow=20).get_params() == {"fast": 5, "slow": 20}
    with pytest.raises(InvalidParameterError, match=r"break the constraint .* \(fast=15, slow=20\)"):
        cls(fast=15, slow=20)
