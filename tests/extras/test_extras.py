"""The extras table of workbench._extras agrees with pyproject.toml, and require() names the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

from workbench._extras import EXTRAS, MissingExtraError, Package, check, require, status
from workbench.errors import InvalidParameterError

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# extras that are not a face of their own: aggregates, the GPU build of [ml], an Optuna sampler
NOT_FACES = {"all", "dev", "ml-gpu", "gp"}


def _declared() -> dict[str, list[Requirement]]:
    table = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    return {extra: [Requirement(r) for r in reqs] for extra, reqs in table.items()}


def test_every_face_in_pyproject_is_in_the_table_with_the_same_floors():
    declared = _declared()
    assert set(declared) - NOT_FACES <= set(EXTRAS)
    for extra in set(declared) - NOT_FACES:
        floors = {}
        for req in declared[extra]:
            (spec,) = [s for s in req.specifier if s.operator == ">="]
            floors[req.name] = Version(spec.version)
            if req.name == "dask":  # dask[distributed] pins distributed to dask's own version
                floors["distributed"] = floors["dask"]
        for pkg in EXTRAS[extra][1]:
            names = [n for n in (pkg.dist, *pkg.alt_dists) if n in floors]
            assert names, f"[{extra}] in pyproject.toml lacks {pkg.dist}"
            assert all(floors[n] == Version(pkg.floor) for n in names), (extra, pkg, floors)


def test_all_gathers_every_face_and_dev_gathers_all():
    declared = _declared()
    (everything,) = declared["all"]
    assert everything.name == "quant-workbench"
    assert everything.extras == set(EXTRAS)
    assert any(r.name == "quant-workbench" and r.extras == {"all"} for r in declared["dev"])


def test_core_dependencies_hold_no_optional_package():
    core = {Requirement(r).name for r in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]}
    optional = {n for _, pkgs in EXTRAS.values() for p in pkgs for n in (p.dist, *p.alt_dists)}
    assert not core & optional
    assert "cvxpy" not in core and "cvxpy-base" in core


def test_a_package_below_its_floor_names_the_package_the_version_found_and_the_one_needed():
    import numpy

    with pytest.raises(MissingExtraError) as err:
        check("ml", [Package("numpy", "numpy", "999.1")])
    msg = str(err.value)
    assert f"numpy {numpy.__version__} is installed, 999.1 or newer is needed" in msg
    assert "pip install 'quant-workbench[ml]'" in msg
    assert isinstance(err.value, ImportError)


def test_a_missing_package_names_the_extra_to_install():
    with pytest.raises(MissingExtraError, match=r"nonexistent-pkg is not installed: this needs the "
                                                r"\[reports\] extra .* pip install 'quant-workbench\[reports\]'"):
        check("reports", [Package("nonexistent-pkg", "nonexistent_pkg_module", "1.0")])


def test_installed_packages_pass_and_bad_names_are_refused():
    require("notebooks", "ipykernel")  # the dev extras are installed here
    assert all(s.ok for s in status("postgres"))
    with pytest.raises(InvalidParameterError, match="`extra` must be one of .*got 'dashbords'.* Did you mean 'dashboards'"):
        require("dashbords")
    with pytest.raises(InvalidParameterError, match="`modules` of the extra 'ml'"):
        require("ml", "torch")


def test_no_test_skips_for_a_missing_package():
    # every package the tests use is in the [dev] extra: a missing one must fail, not skip quietly
    tests = Path(__file__).resolve().parents[1]
    found = [str(p.relative_to(tests)) for p in tests.rglob("*.py")
             if p != Path(__file__).resolve() and "importorskip(" in p.read_text()]
    assert found == []



def test_make_demo_and_environment_yml_install_the_whole_workbench():
    # conda provides what it can; the pip line brings the rest of [all]
    assert '- -e ".[all]"' in (PYPROJECT.parent / "environment.yml").read_text()
    assert "install --quiet -e '.[all]'" in (PYPROJECT.parent / "Makefile").read_text()
