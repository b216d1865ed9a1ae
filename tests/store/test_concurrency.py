"""Two processes writing into one store at the same time, each run in its own transaction.

Both processes also open the (still empty) store at the same moment, so the migrations race too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

from workbench.store import Store

N_PER_PROCESS = 1_000

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from workbench.store import Store

    url, artifacts, barrier, tag, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    (barrier / f"ready-{tag}").touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.glob("ready-*"))) < 2:  # start together
        if time.monotonic() > deadline:
            sys.exit("the other writer never started")
        time.sleep(0.005)
    with Store(url, artifacts_dir=artifacts) as store:
        for i in range(n):
            store.save_run(f"{tag}-{i:05d}", kind="backtest", spec={"writer": tag, "i": i},
                           metrics={"i": i, "sharpe": float("nan") if i % 7 == 0 else i / n})
        if tag == "b":  # a status update racing the other writer's inserts
            store.update_run(f"{tag}-00000", status="failed", error="done")
    print("ok", tag)
    """
)


def test_two_processes_write_1000_runs_each(store_url: str, tmp_path: Path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    procs = {
        tag: subprocess.Popen(
            [sys.executable, str(script), store_url, str(artifacts), str(barrier), tag, str(N_PER_PROCESS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for tag in ("a", "b")
    }
    results = {tag: proc.communicate(timeout=600) for tag, proc in procs.items()}  # a hang guard only
    for tag, proc in procs.items():
        out, err = results[tag]
        assert proc.returncode == 0, f"writer {tag} failed:\n{out}\n{err}"
        assert out.strip() == f"ok {tag}"

    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT id FROM runs")).scalars().all()
    engine.dispose()
    expected = {f"{tag}-{i:05d}" for tag in ("a", "b") for i in range(N_PER_PROCESS)}
    assert len(ids) == 2 * N_PER_PROCESS
    assert set(ids) == expected

    with Store(store_url, artifacts_dir=artifacts) as store:
        frame = store.runs(kind="backtest")
        assert frame.height == 2 * N_PER_PROCESS
        assert store.run("a-00999").spec == {"writer": "a", "i": 999}
        assert store.run("b-00007").metrics == {"i": 7, "sharpe": None}
        assert store.run("b-00000").status == "failed"
        assert store.runs(status="failed")["id"].to_list() == ["b-00000"]
