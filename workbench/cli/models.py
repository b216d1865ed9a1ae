"""``workbench models``: the model registry (list, show, promote) and A/B comparisons."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from workbench.cli._output import format_value, stdout

__all__ = ["app"]

app = typer.Typer(help="Machine-learning models in the store: versions, aliases, promotions, A/B tests.",
                  no_args_is_help=True)


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for c in columns:
        table.add_column(c, no_wrap=True)
    return table


@app.command("list")
def list_models(name: Annotated[str | None, typer.Option("--name", help="Only the versions of this model.")] = None) -> None:
    """List every registered model version with its aliases and CV figures."""
    from workbench.ml.registry import ModelRegistry
    from workbench.store import Store

    with Store() as store:
        frame = ModelRegistry(store).models(name)
        where = store.url
    out = stdout()
    if frame.height == 0:
        out.print(f"No models in {escape(where)}. Register one with ModelRegistry(store).register(...).")
        return
    table = _table(f"{frame.height} model version(s) in {escape(where)}",
                   ["name", "version", "aliases", "created", "features", "data", "roc_auc", "log_loss"])
    for r in frame.iter_rows(named=True):
        span = f"{r['data_start']:%Y-%m-%d}..{r['data_end']:%Y-%m-%d}" if r["data_start"] and r["data_end"] else ""
        table.add_row(escape(r["name"]), str(r["version"]), r["aliases"], f"{r['created_at']:%Y-%m-%d %H:%M}",
                      str(r["n_features"]), span, format_value(r["roc_auc"], "num"), format_value(r["log_loss"], "num"))
    out.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    version: Annotated[int | None, typer.Option("--version", "-v", help="A version (default: the newest).")] = None,
    alias: Annotated[str | None, typer.Option("--alias", "-a", help="champion or challenger.")] = None,
) -> None:
    """Show one version: data snapshot, hyperparameters, CV metrics, features and promotions."""
    from workbench.ml.registry import ModelRegistry
    from workbench.store import Store

    with Store() as store:
        reg = ModelRegistry(store)
        rec = reg.get(name, version=version, alias=alias)
        log = reg.promotions(name)
    out = stdout()
    out.print(f"{escape(rec.name)} version {rec.version} {('(' + ', '.join(rec.aliases) + ')') if rec.aliases else ''}",
              markup=False)
    out.print(f"created {rec.created_at:%Y-%m-%d %H:%M} UTC with XGBoost {rec.xgboost_version}", markup=False)
    span = f"{rec.data_start:%Y-%m-%d} .. {rec.data_end:%Y-%m-%d}" if rec.data_start and rec.data_end else "?"
    out.print(f"data: {rec.dataset_hash or '?'} ({span})", markup=False)
    out.print("hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(rec.hyperparameters.items())), markup=False)
    out.print("features: " + ", ".join(f if isinstance(f, str) else f.get("name", str(f)) for f in rec.features),
              markup=False, soft_wrap=True)
    for group, values in sorted(rec.cv_metrics.items()):
        if isinstance(values, dict):
            out.print(f"cv {group}: " + ", ".join(f"{k}={format_value(v, 'num')}" for k, v in sorted(values.items())),
                      markup=False, soft_wrap=True)
    for r in log.iter_rows(named=True):
        out.print(f"promoted {r['from_version']} -> {r['to_version']} as {r['alias']} on {r['created_at']:%Y-%m-%d %H:%M}"
                  f"{' (forced)' if r['forced'] else ''}: {r['reason']}", markup=False, soft_wrap=True)


@app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    version: Annotated[int, typer.Argument(help="The version to promote.")],
    alias: Annotated[str, typer.Option("--alias", help="champion or challenger.")] = "champion",
    experiment: Annotated[str | None, typer.Option("--experiment", help="The A/B experiment whose DSR decides "
                                                   "(default NAME:ab).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Promote even below DSR 0.95 (logged as forced).")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the promotion log).")] = "",
) -> None:
    """Point an alias at a version; to champion only with an A/B DSR of 0.95 or more, or --force."""
    from workbench.ml.ab import ABTest
    from workbench.ml.registry import ModelRegistry
    from workbench.store import Store

    with Store() as store:
        reg = ModelRegistry(store)
        dsr = None
        if alias == "champion":
            ab = ABTest(reg, name, experiment=experiment)
            if ab.records().height:
                cmp = ab.compare()
                rows = cmp.table.filter(cmp.table["version"] == version)
                dsr = float(rows["dsr"][0]) if rows.height else None
        rec = reg.promote(name, version, alias=alias, dsr=dsr, force=force, reason=reason)
    shown = "n/a" if dsr is None else f"{dsr:.3f}"
    stdout().print(f"{name} version {rec.version} is now {alias} (DSR {shown}{', forced' if force else ''}).",
                   markup=False)


@app.command("compare")
def compare(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    experiment: Annotated[str | None, typer.Option("--experiment", help="The A/B experiment (default NAME:ab).")] = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Confidence (0-100) from which a version trades.")] = 50.0,
) -> None:
    """Compare champion and challenger on an A/B experiment's recorded signals and outcomes."""
    from workbench.ml.ab import ABTest
    from workbench.ml.registry import ModelRegistry
    from workbench.store import Store

    with Store() as store:
        cmp = ABTest(ModelRegistry(store), name, experiment=experiment, threshold=threshold).compare()
    table = _table(f"{name}: {cmp.n_signals} signals with outcomes", ["arm", "version", "approved", "hit rate", "IC",
                                                                      "sharpe", "DSR"])
    for r in cmp.table.iter_rows(named=True):
        table.add_row(r["arm"], str(r["version"]), str(r["approved"]), format_value(r["hit_rate"], "pct"),
                      format_value(r["ic"], "num"), format_value(r["sharpe"], "num"), format_value(r["dsr"], "num"))
    out = stdout()
    out.print(table)
    diff = cmp.difference
    out.print("challenger - champion: " + ", ".join(f"{k} {v:+.4f}" for k, v in diff.items()), markup=False)
