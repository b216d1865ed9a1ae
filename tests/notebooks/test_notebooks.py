"""Every notebook in ``notebooks/`` runs top to bottom under papermill with the ``workbench`` kernel,
with parameters overridden, and records what it claims to record in the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

import workbench.kernel
from workbench.store import Store

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

# Per notebook: the papermill parameters to override (each must exist in its `parameters` cell).
OVERRIDES: dict[str, dict[str, Any]] = {
    "01_quickstart.ipynb": {"fast": 5, "slow": 30},
    "07_ml.ipynb": {"n_features": 8, "n_trials": 2, "retrain_every": 252},
    "02_data.ipynb": {"every": "1mo"},
    "04_optimization.ipynb": {"fast_max": 15, "n_trials": 4, "train": 600, "test": 300},
    "05_portfolio.ipynb": {"n_assets": 4, "lookback": 126},
    "03_strategy.ipynb": {"dataset": "EURUSD", "fast": 5, "slow": 20},
    "06_batch.ipynb": {"datasets": ["GOOG"], "fast": [5], "workers": 1},
}

pytestmark = pytest.mark.xdist_group("notebooks")


@pytest.fixture(scope="module")
def kernel() -> str:
    """Install the kernelspec into this environment, where papermill looks for it."""
    workbench.kernel.install(prefix=sys.prefix)
    return workbench.kernel.KERNEL_NAME


def _parameters_cell(nb: Any) -> Any:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "a notebook needs exactly one cell tagged `parameters`"
    return cells[0]


def test_there_are_notebooks() -> None:
    assert [p.name for p in PATHS][:1] == ["01_quickstart.ipynb"]
    assert set(OVERRIDES) <= {p.name for p in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_committed_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "workbench"
    assert nb.metadata["kernelspec"]["display_name"] == "Python (Quant Workbench)"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "clear the outputs before committing"
    params = _parameters_cell(nb).source
    for name in OVERRIDES.get(path.name, {}):
        assert f"{name} = " in params


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_runs_with_overrides(path: Path, kernel: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill

    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))  # the kernel inherits the environment
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    params = OVERRIDES.get(path.name, {})
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters=params, kernel_name=kernel,
                               cwd=str(NOTEBOOKS), progress_bar=False, log_output=False)
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    if path.name == "01_quickstart.ipynb":
        _check_quickstart(executed, params)
    if path.name == "07_ml.ipynb":
        _check_ml()
    if path.name == "06_batch.ipynb":
        _check_batch()


def _check_batch() -> None:
    """The batch notebook ran 03_strategy as a job whose recorded values are in the store."""
    import workbench as wb

    listed = wb.jobs.batches()
    assert listed.height == 1 and listed["succeeded"].to_list() == [1]
    res = wb.jobs.batch(listed["id"][0]).results()
    assert res.select("dataset", "fast", "state").rows() == [("GOOG", 5, "succeeded")]
    assert res["sharpe"][0] is not None and res["n_trades"][0] > 0
    assert Path(res["html_path"][0]).is_file() and Path(res["comparison"][0]).suffix == ".parquet"


def _check_quickstart(executed: Any, params: dict[str, Any]) -> None:
    with Store() as store:
        runs = store.runs(kind="backtest")
        assert runs.height == 1
        rec = store.run(runs["id"][0])
    assert rec.spec["strategy"]["name"] == "SmaCross"
    assert rec.spec["strategy"]["params"] == {"fast": params["fast"], "slow": params["slow"], "direction": "long"}
    assert rec.spec["config"]["fees"] == 0.002
    assert set(rec.artifacts) >= {"equity", "trades"}
    injected = [c for c in executed.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(injected) == 1 and "fast = 5" in injected[0].source
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert rec.id in printed
    assert json.loads(rec.spec_json)["dataset_hash"] == rec.dataset_hash


def _check_ml() -> None:
    from workbench.ml.registry import ModelRegistry

    with Store() as store:
        reg = ModelRegistry(store)
        assert reg.models()["version"].to_list() == [1, 2]
        assert reg.get("pullback", alias="challenger").version == 2
        assert reg.promotions("pullback").height >= 2
