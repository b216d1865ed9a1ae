"""``workbench kernel install`` writes the ``workbench`` kernelspec bound to this interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from workbench.errors import InvalidParameterError
from workbench.kernel import DISPLAY_NAME, install, source_dir


def _spec_path(prefix: Path) -> Path:
    return prefix / "share" / "jupyter" / "kernels" / "workbench" / "kernel.json"


def test_install_prefix_writes_this_interpreter(cli, tmp_path: Path) -> None:
    result = cli("kernel", "install", "--prefix", str(tmp_path))
    assert result.exit_code == 0, result.output
    spec = json.loads(_spec_path(tmp_path).read_text())
    assert spec["argv"][0] == sys.executable
    assert spec["display_name"] == DISPLAY_NAME == "Python (Quant Workbench)"
    shipped = json.loads((source_dir() / "kernel.json").read_text())
    assert spec["argv"][1:] == shipped["argv"][1:] and spec["language"] == "python"
    found = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")]).get_kernel_spec("workbench")
    assert found.argv[0] == sys.executable and found.display_name == DISPLAY_NAME
    assert str(_spec_path(tmp_path).parent) in result.stdout


def test_install_is_idempotent(tmp_path: Path) -> None:
    first = install(prefix=tmp_path)
    (first / "stale.txt").write_text("left over")
    second = install(prefix=tmp_path)
    assert first == second
    assert sorted(p.name for p in second.iterdir()) == sorted(p.name for p in source_dir().iterdir())
    assert json.loads((second / "kernel.json").read_text())["argv"][0] == sys.executable


def test_install_user_goes_to_the_jupyter_data_dir(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    result = cli("kernel", "install", "--user")
    assert result.exit_code == 0, result.output
    spec = json.loads((tmp_path / "data" / "kernels" / "workbench" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable


def test_user_and_prefix_are_exclusive(cli, tmp_path: Path) -> None:
    assert cli("kernel", "install", "--user", "--prefix", str(tmp_path)).exit_code == 2
    with pytest.raises(InvalidParameterError, match="either `user=True` or `prefix`"):
        install(user=True, prefix=tmp_path)
    with pytest.raises(InvalidParameterError, match="`prefix` must be a directory path"):
        install(prefix=3)  # type: ignore[arg-type]
