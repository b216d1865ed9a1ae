"""The optional faces of the workbench and the one check that guards them.

The core install (data, strategies, engine, metrics, optimization, portfolio, store, CLI) needs none
of the packages below. Each face — notebooks, dashboards, batch jobs, machine learning, PDF reports,
a PostgreSQL store — is an extra named for what it lets a user do, and imports its packages only
inside the code that needs them, after :func:`require` has checked that they are installed and
recent enough::

    from workbench._extras import require

    def serve(...):
        require("dashboards")          # or require("dashboards", "panel") for one package
        import panel as pn

A missing package or one below its floor raises :class:`MissingExtraError` naming the package, the
version found, the version needed and the command that installs the extra. The floors agree with
``pyproject.toml`` (a test compares them).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import metadata

from workbench.errors import WorkbenchError, did_you_mean

__all__ = ["EXTRAS", "MissingExtraError", "Package", "PackageStatus", "check", "require", "status"]

DIST_NAME = "quant-workbench"


class MissingExtraError(WorkbenchError, ImportError):
    """An optional package a face needs is not installed, or is older than the supported floor."""


@dataclass(frozen=True)
class Package:
    """One optional package: its distribution name(s) on the index, its import name, its floor."""

    dist: str
    module: str
    floor: str
    alt_dists: tuple[str, ...] = ()

    def installed_version(self) -> str | None:
        """The installed version, or ``None`` when the package cannot be imported."""
        if importlib.util.find_spec(self.module) is None:
            return None
        for name in (self.dist, *self.alt_dists):
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return "unknown"


@dataclass(frozen=True)
class PackageStatus:
    """What :func:`status` found for one package of one extra."""

    extra: str
    package: Package
    version: str | None

    @property
    def ok(self) -> bool:
        """Installed, and not below the floor (an unknown version is given the benefit)."""
        return self.version is not None and not _below(self.version, self.package.floor)

    def problem(self) -> str:
        """``""`` when :attr:`ok`, else what is wrong in one phrase."""
        if self.version is None:
            return f"{self.package.dist} is not installed"
        if not self.ok:
            return f"{self.package.dist} {self.version} is installed, {self.package.floor} or newer is needed"
        return ""


def _p(dist: str, module: str, floor: str, *alt: str) -> Package:
    return Package(dist, module, floor, alt)


#: extra → (what it enables, its packages). Keep in step with [project.optional-dependencies].
EXTRAS: dict[str, tuple[str, tuple[Package, ...]]] = {
    "notebooks": (
        "JupyterLab, the workbench kernel (`workbench kernel install`), widgets, running notebooks",
        (_p("jupyterlab", "jupyterlab", "4.0"), _p("ipykernel", "ipykernel", "6.25"),
         _p("ipywidgets", "ipywidgets", "8.0"), _p("papermill", "papermill", "2.5"),
         _p("nbconvert", "nbconvert", "7.0")),
    ),
    "dashboards": (
        "the Panel dashboards in dashboards/, served by `panel serve` or Voila; result.plot()",
        (_p("panel", "panel", "1.4"), _p("hvplot", "hvplot", "0.9"), _p("voila", "voila", "0.5"),
         _p("ipykernel", "ipykernel", "6.25"), _p("pandas", "pandas", "2.0"), _p("pyarrow", "pyarrow", "14")),
    ),
    "batch": (
        "batch jobs: notebooks and sweeps run by papermill on a Dask cluster",
        (_p("distributed", "distributed", "2024.1"), _p("dask", "dask", "2024.1"),
         _p("papermill", "papermill", "2.5"), _p("nbconvert", "nbconvert", "7.0"),
         _p("ipykernel", "ipykernel", "6.25")),
    ),
    "ml": (
        "machine-learning strategies (XGBoost; the CPU-only wheel xgboost-cpu, or [ml-gpu])",
        (_p("xgboost-cpu", "xgboost", "2.1", "xgboost"), _p("vaderSentiment", "vaderSentiment", "3.3")),
    ),
    "reports": (
        "PDF reports of a run",
        (_p("weasyprint", "weasyprint", "62.0"),),
    ),
    "postgres": (
        "a PostgreSQL store (WORKBENCH_DB_URL=postgresql+psycopg://...)",
        (_p("psycopg", "psycopg", "3.1"),),
    ),
    "pandas": (
        "pandas frames as input to load, the store and the metrics",
        (_p("pandas", "pandas", "2.0"), _p("pyarrow", "pyarrow", "14")),
    ),
}


def _below(version: str, floor: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) < Version(floor)
    except InvalidVersion:
        return False


def _packages(extra: str) -> tuple[Package, ...]:
    if extra not in EXTRAS:
        from workbench.errors import InvalidParameterError

        raise InvalidParameterError(
            f"`extra` must be one of {sorted(EXTRAS)}; got {extra!r}.{did_you_mean(extra, EXTRAS)}"
        )
    return EXTRAS[extra][1]


def status(extra: str | None = None) -> list[PackageStatus]:
    """What is installed of one extra's packages (or of every extra's), without importing them.

    Examples
    --------
    >>> [s.package.dist for s in status("postgres")]
    ['psycopg']
    >>> all(s.version is None or s.version for s in status())
    True
    """
    extras = list(EXTRAS) if extra is None else [extra]
    return [PackageStatus(e, p, p.installed_version()) for e in extras for p in _packages(e)]


def require(extra: str, *modules: str) -> None:
    """Check that the packages of ``extra`` (or only those whose import names are ``modules``) are
    installed at their supported floor or newer.

    Parameters
    ----------
    extra
        The extra's name: one of ``notebooks``, ``dashboards``, ``batch``, ``ml``, ``reports``,
        ``postgres``, ``pandas``.
    *modules
        Import names of the packages this face uses; none means every package of the extra.

    Raises
    ------
    MissingExtraError
        Naming each missing or outdated package, the version found and the one needed, and the
        ``pip install`` command for the extra.

    Examples
    --------
    >>> require("postgres", "psycopg") is None     # installed with the dev extras
    True
    >>> require("dashboards", "numpy")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `modules` of the extra 'dashboards' are ...; got 'numpy'.
    """
    packages = _packages(extra)
    wanted = {p.module: p for p in packages}
    for m in modules:
        if m not in wanted:
            from workbench.errors import InvalidParameterError

            raise InvalidParameterError(
                f"`modules` of the extra {extra!r} are {sorted(wanted)}; got {m!r}."
                f"{did_you_mean(m, wanted)}"
            )
    check(extra, [wanted[m] for m in modules] if modules else list(packages))


def check(extra: str, packages: list[Package]) -> None:
    """Raise :class:`MissingExtraError` unless every one of ``packages`` is installed at its floor.

    Examples
    --------
    >>> check("postgres", [Package("numpy", "numpy", "999")])
    Traceback (most recent call last):
    ...
    workbench._extras.MissingExtraError: numpy ... is installed, 999 or newer is needed: ...
    """
    problems = [s.problem() for s in (PackageStatus(extra, p, p.installed_version()) for p in packages)
                if not s.ok]
    if problems:
        raise MissingExtraError(
            f"{'; '.join(problems)}: this needs the [{extra}] extra ({EXTRAS[extra][0]}). "
            f"Install it with: pip install '{DIST_NAME}[{extra}]'"
        )
