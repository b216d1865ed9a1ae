"""Dashboard widgets come from the strategies' parameter declarations."""

import panel as pn
import pytest

from workbench.strategies import BUILTIN, Param, SmaCross, Strategy
from workbench.ui.explorer import BacktestExplorer
from workbench.ui.widgets import param_widget, param_widgets, widget_values


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_gets_one_widget_per_declared_parameter(name):
    cls = BUILTIN[name]
    widgets = param_widgets(cls)
    space = cls.param_space()
    assert list(widgets) == list(space)
    for pname, p in space.items():
        w = widgets[pname]
        assert w.value == p.default
        if p.choices is not None:
            assert list(w.options) == list(p.choices)
        elif p.low is not None and p.high is not None:
            assert (w.start, w.end) == (p.low, p.high)
    assert cls(**widget_values(widgets)) == cls()


def test_widget_kinds_follow_the_declaration():
    assert isinstance(param_widget("n", Param(3, low=1, high=9)), pn.widgets.IntSlider)
    assert isinstance(param_widget("x", Param(0.5, low=0.0, high=1.0, step=0.1)), pn.widgets.FloatSlider)
    assert isinstance(param_widget("flag", Param(True)), pn.widgets.Checkbox)
    assert isinstance(param_widget("mode", Param("a", choices=("a", "b"))), pn.widgets.Select)
    assert isinstance(param_widget("n", Param(3)), pn.widgets.IntInput)
    assert isinstance(param_widget("x", Param(0.5)), pn.widgets.FloatInput)


def test_adding_a_parameter_adds_its_widget():
    class Extended(SmaCross):
        threshold = Param(0.0, low=0.0, high=0.05, step=0.005, help="minimum gap")

    assert list(param_widgets(Extended)) == ["fast", "slow", "direction", "threshold"]


def test_instance_values_seed_the_widgets():
    assert param_widgets(SmaCross(fast=7, slow=30))["slow"].value == 30


def test_explorer_reruns_on_widget_change_and_reports_bad_values():
    app = BacktestExplorer(dataset="GOOG", strategy="SmaCross")
    first = app.result
    app.strategy_widgets["fast"].value = 5
    assert app.result is not first and app.result.strategy.fast == 5 and app.error == ""
    app.strategy_widgets["fast"].value = 50  # breaks fast < slow
    assert "fast < slow" in app.error
    app.strategy = "RsiMeanReversion"
    assert set(app.strategy_widgets) == set(BUILTIN["RsiMeanReversion"].param_space())
    assert type(app.result.strategy).__name__ == "RsiMeanReversion"
    assert app.view() is not None


def test_strategies_without_declared_bounds_still_get_inputs():
    class Free(Strategy):
        lookback = Param(10, help="free integer")

        def signals(self, bars):  # pragma: no cover - not run here
            raise NotImplementedError

    assert isinstance(param_widgets(Free)["lookback"], pn.widgets.IntInput)


def test_explorer_lists_and_runs_datasets_registered_in_the_store(tmp_path):
    import workbench as wb
    from workbench.demo import register_bars
    from workbench.store import Store

    bars = wb.data.synthetic(3_000, seed=4)
    path = tmp_path / "syn.parquet"
    bars.write_parquet(path)
    with Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "a") as store:
        register_bars(store, "syn-3k", bars, source=str(path))
        app = BacktestExplorer(store=store, dataset="syn-3k")
        assert "syn-3k" in app.param.dataset.objects and "GOOG" in app.param.dataset.objects
        assert app.error == "" and app.result.view.n_bars == 3_000
