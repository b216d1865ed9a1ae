"""The layer rules of the design: only workbench/nb imports Numba, and kernels never see polars,
pandas or SQL."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"
FORBIDDEN_IN_KERNELS = {"polars", "pandas", "sqlmodel", "sqlalchemy", "pyarrow"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


KERNEL_MODULES = sorted((PACKAGE / "nb").rglob("*.py"))
OTHER_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if (PACKAGE / "nb") not in p.parents)


@pytest.mark.parametrize("path", KERNEL_MODULES, ids=lambda p: p.name)
def test_kernel_modules_import_no_dataframe_or_sql_library(path):
    assert not (_imports(path) & FORBIDDEN_IN_KERNELS), f"{path.name} imports {_imports(path) & FORBIDDEN_IN_KERNELS}"


@pytest.mark.parametrize("path", OTHER_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_kernel_package_imports_numba(path):
    assert "numba" not in _imports(path), f"{path.relative_to(PACKAGE)} imports numba; kernels belong in workbench/nb/"


def test_the_rules_see_real_modules():
    assert len(KERNEL_MODULES) >= 4 and len(OTHER_MODULES) >= 20
