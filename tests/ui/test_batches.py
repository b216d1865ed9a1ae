"""The batches page's state follows job rows in the store as a runner moves them."""

from __future__ import annotations

from workbench.jobs import _table
from workbench.store import Store
from workbench.ui.batches import BatchMonitor


def _batch(store, batch_id="b1", n=3):
    _table.insert_batch(store.engine, {"id": batch_id, "name": "sweep", "notebook": "nb.ipynb",
                                       "kernel_name": "python3", "output_dir": "/tmp/out", "options": {}},
                        [{"fast": f} for f in range(n)])


def test_monitor_sees_jobs_move_and_shows_a_failing_cell(tmp_path):
    url = f"sqlite:///{tmp_path / 'wb.db'}"
    with Store(url, artifacts_dir=tmp_path / "a") as store:
        _batch(store)
        mon = BatchMonitor(url=url)
        assert mon.batch == "b1" and mon.counts["queued"] == 3
        assert mon.jobs["params"][0] == '{"fast": 0}'
        assert mon.poll() is False
        claimed = _table.claim(store.engine, "b1", 2)
        for job in claimed:
            _table.start(store.engine, job["id"], job["claim"], worker="w", workdir="/tmp")
        _table.finish(store.engine, claimed[0]["id"], claimed[0]["claim"], "succeeded", output_path="/tmp/out/0.ipynb")
        _table.finish(store.engine, claimed[1]["id"], claimed[1]["claim"], "failed", error="ZeroDivisionError",
                      failed_cell="1 / 0")
        assert mon.poll() is True
        assert mon.counts == {"queued": 1, "running": 0, "succeeded": 1, "failed": 1, "cancelled": 0}
        assert mon.jobs.filter(mon.jobs["number"] == 0)["output_path"][0] == "/tmp/out/0.ipynb"
        mon.job = 1
        assert mon.detail()["failed_cell"] == "1 / 0" and mon.detail()["attempts"] == 1


def test_an_unknown_batch_is_named(tmp_path):
    url = f"sqlite:///{tmp_path / 'wb.db'}"
    with Store(url, artifacts_dir=tmp_path / "a") as store:
        _batch(store, "real")
        mon = BatchMonitor(url=url, batch="unreal")
        assert "No batch with id 'unreal'" in mon.error and "real" in mon.error
