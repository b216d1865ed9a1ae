"""``workbench backtest STRATEGY``: one command per built-in strategy.

Each command's flags are generated: one per parameter the strategy declares with
:class:`~workbench.strategies.Param` (its help line shows the type, default, bounds or choices
and the declared help) and one per engine setting of
:class:`~workbench.backtesting.BacktestConfig`. Adding a ``Param`` to a strategy adds its flag;
``--param NAME=VALUE`` sets any parameter too. Values are validated by the declarations.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal, Optional

import typer
from rich.markup import escape
from typer.core import TyperGroup

from workbench.cli._output import spinner, stats_table, stdout
from workbench.errors import InvalidParameterError, did_you_mean

__all__ = ["app", "StrategyGroup", "strategy_app", "strategy_command", "parse_value", "parse_assignments",
           "engine_settings"]

_PARAMS_PANEL = "Strategy parameters"
_ENGINE_PANEL = "Engine settings"
_RUN_PANEL = "Data and output"
_RESERVED = {"data", "param", "save", "json", "help"}


class StrategyGroup(TyperGroup):
    """The commands of ``workbench backtest``: one per strategy in ``workbench.strategies.BUILTIN``,
    built when asked for (names are matched case-insensitively)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_builtin())

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = list(_builtin())
            raise typer.BadParameter(
                f"no built-in strategy named {name!r}.{did_you_mean(name, known)} Strategies: {', '.join(known)}.",
                ctx=ctx, param_hint="STRATEGY",
            )
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        strategies = _builtin()
        cls = strategies.get(cmd_name) or next(
            (c for n, c in strategies.items() if n.lower() == cmd_name.lower()), None)
        return None if cls is None else strategy_command(cls)


def _builtin() -> dict[str, type]:
    from workbench.strategies import BUILTIN

    return dict(BUILTIN)


app = typer.Typer(
    cls=StrategyGroup,
    help="Backtest a built-in strategy on a sample, a registered dataset or a file.\n\n"
         "workbench backtest STRATEGY --data NAME_OR_FILE [--param NAME=VALUE ...] [settings] [--save]\n\n"
         "`workbench backtest STRATEGY --help` lists the strategy's parameters and the engine settings.",
    no_args_is_help=True,
    subcommand_metavar="STRATEGY [OPTIONS]",
)


# -- values ----------------------------------------------------------------------------------
def parse_value(param: Any, text: str) -> Any:
    """Convert command-line ``text`` to the type ``param`` declares (bounds are checked later,
    by the declaration). Text that does not convert is returned as is, for the declaration to
    reject with its message.

    >>> from workbench.strategies import Param
    >>> parse_value(Param(10, low=2), "12"), parse_value(Param(0.5), "1e-3"), parse_value(Param(True), "no")
    (12, 0.001, False)
    >>> parse_value(Param(10), "ten")
    'ten'
    """
    if param is None:
        return text
    t = text.strip()
    if param.type == "bool":
        return {"true": True, "1": True, "yes": True, "on": True,
                "false": False, "0": False, "no": False, "off": False}.get(t.lower(), t)
    if param.type in ("int", "float"):
        for convert in ((int, float) if param.type == "int" else (float,)):
            try:
                return convert(t)
            except ValueError:
                continue
        return t
    return text


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["fast=10", "slow=30"]`` → ``{"fast": "10", "slow": "30"}``; each name at most once.

    >>> parse_assignments(["fast=10", "direction = both"])
    {'fast': '10', 'direction': 'both'}
    >>> parse_assignments(["fast"])
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `--param` must be NAME=VALUE, e.g. --param fast=10; got 'fast'.
    """
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidParameterError(f"`--param` must be NAME=VALUE, e.g. --param fast=10; got {item!r}.")
        if name in out:
            raise InvalidParameterError(f"parameter {name!r} is given twice (--param {name}={out[name]} "
                                        f"and --param {item}). Fix: give it once.")
        out[name] = value.strip()
    return out


# -- the generated options -----------------------------------------------------------------------
def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _param_help(param: Any) -> str:
    if param.choices is not None:
        kind = "choice"
    elif param.type == "bool":
        kind = "true or false"
    elif param.low is not None or param.high is not None:
        lo = "-inf" if param.low is None else f"{param.low:g}"
        hi = "inf" if param.high is None else f"{param.high:g}"
        kind = f"{param.type} in [{lo}, {hi}]"
    else:
        kind = param.type
    text = f"{param.help.rstrip('.')}. " if param.help else ""
    return escape(f"{text}{kind}; default {param.default}.")


def _plain(text: str) -> str:
    """Docstring text without reST markup (````code````, ``*emphasis*``)."""
    return re.sub(r"\*(\S[^*]*?)\*", r"\1", text.replace("``", ""))


def _attribute_docs(cls: type) -> dict[str, str]:
    """Descriptions of the ``Attributes`` section of ``cls``'s numpy-style docstring, by name."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    if "Attributes" not in lines:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    for line in lines[lines.index("Attributes") + 2:]:
        header = re.match(r"^([A-Za-z_][\w, ]*?) : ", line)
        if header:
            names = [n.strip() for n in header.group(1).split(",")]
            for n in names:
                out[n] = ""
        elif line.startswith(" ") and names:
            for n in names:
                out[n] = f"{out[n]} {line.strip()}".strip()
        elif line.strip():
            break
    return out


def engine_settings() -> list[tuple[str, Any, Any, str]]:
    """``(name, type, default, help)`` of every :class:`~workbench.backtesting.BacktestConfig`
    field: the engine settings each backtest command accepts as ``--name``.

    >>> [s[0] for s in engine_settings()][:3]
    ['cash', 'fees', 'fixed_fees']
    """
    from workbench.backtesting import BacktestConfig

    hints = typing.get_type_hints(BacktestConfig)
    docs = _attribute_docs(BacktestConfig)
    return [(f.name, hints[f.name], None if f.default is MISSING else f.default, docs.get(f.name, ""))
            for f in fields(BacktestConfig)]


def _engine_parameter(name: str, kind: Any, default: Any, doc: str) -> inspect.Parameter:
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    base = args[0] if typing.get_origin(kind) is not Literal and args else kind
    metavar = {float: "FLOAT", int: "INT"}.get(base)
    if typing.get_origin(kind) is Literal:  # a short metavar leaves the help its width at 80 columns
        base, metavar = str, "CHOICE"
        doc = f"{doc} One of {', '.join(map(str, typing.get_args(kind)))}."
    doc = _plain(doc)
    help_ = escape(f"{doc} Default {default}." if doc else f"Default {default}.")
    decl = f"{_flag(name)}/--no-{name.replace('_', '-')}" if base is bool else _flag(name)
    option = typer.Option(decl, help=help_, rich_help_panel=_ENGINE_PANEL, show_default=False, metavar=metavar)
    return inspect.Parameter(f"s_{name}", inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[Optional[base], option])  # noqa: UP045 (typer reads it)


def _signature(cls: type) -> tuple[inspect.Signature, dict[str, Any]]:
    space = cls.param_space()  # type: ignore[attr-defined]
    settings = engine_settings()
    taken = _RESERVED | {s[0] for s in settings}
    flagged = {name: p for name, p in space.items() if name not in taken and name.isidentifier()}
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("data", kw, annotation=Annotated[str, typer.Option(
        "--data", "-d", metavar="NAME_OR_FILE", rich_help_panel=_RUN_PANEL,
        help="A sample (GOOG, EURUSD...), a dataset registered in the store, or a CSV/Parquet file.")])]
    for name, p in flagged.items():
        metavar = {"int": "INT", "float": "FLOAT", "bool": "BOOL"}.get(p.type, "TEXT")
        if p.choices is not None:
            metavar = "|".join(str(c) for c in p.choices)
        option = typer.Option(_flag(name), metavar=metavar, help=_param_help(p), rich_help_panel=_PARAMS_PANEL)
        params.append(inspect.Parameter(f"p_{name}", kw, default=None, annotation=Annotated[Optional[str], option]))  # noqa: UP045
    params.append(inspect.Parameter("param", kw, default=None, annotation=Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--param", "-p", metavar="NAME=VALUE", rich_help_panel=_PARAMS_PANEL,
        help=_param_option_help(space, flagged))]))
    params.extend(_engine_parameter(*s) for s in settings)
    params.append(inspect.Parameter("save", kw, default=False, annotation=Annotated[bool, typer.Option(
        "--save", rich_help_panel=_RUN_PANEL, help="Record the run (spec, metrics, equity, trades) in the store.")]))
    params.append(inspect.Parameter("as_json", kw, default=False, annotation=Annotated[bool, typer.Option(
        "--json", rich_help_panel=_RUN_PANEL, help="Print the result as JSON instead of tables.")]))
    return inspect.Signature(params), flagged


def _param_option_help(space: dict[str, Any], flagged: dict[str, Any]) -> str:
    """Help of ``--param``; parameters whose name is taken by another option are listed here."""
    text = "Set a strategy parameter by name; repeat for several (the same checks as the flags)."
    for name, p in space.items():
        if name not in flagged:
            text += f" {name} (only as --param {name}=VALUE): {_param_help(p)}"
    return text


def _doc_text(cls: type) -> tuple[str, str]:
    """The strategy docstring without examples, and its first sentence."""
    lines = []
    for line in (inspect.getdoc(cls) or cls.__name__).splitlines():
        if line.lstrip().startswith(">>>") or line.strip() == "Examples":
            break
        lines.append(line)
    text = _plain("\n".join(lines).strip())
    first = " ".join(text.split("\n\n")[0].split())
    return text, first


def strategy_app(cls: type) -> typer.Typer:
    """A one-command Typer app running strategy class ``cls`` (what ``workbench backtest <Strategy>``
    runs): its flags are generated from ``cls.param_space()`` and the engine settings."""
    signature, flagged = _signature(cls)

    def run(**kw: Any) -> None:
        _run(cls, flagged, kw)

    run.__signature__ = signature  # type: ignore[attr-defined]
    text, first = _doc_text(cls)
    run.__doc__ = text
    names = ", ".join(cls.param_space()) or "none"  # type: ignore[attr-defined]
    example = " ".join(f"{_flag(n)} {p.default}" for n, p in list(flagged.items())[:2])
    one = typer.Typer(add_completion=False)
    one.command(name=cls.__name__, help=escape(text), short_help=escape(f"{first} Parameters: {names}."),
                epilog=escape(f"Example: workbench backtest {cls.__name__} --data GOOG {example} --fees 0.001 --save"),
                context_settings={"help_option_names": ["-h", "--help"]})(run)
    return one


def strategy_command(cls: type) -> Any:
    """The ``workbench backtest <Strategy>`` command of strategy class ``cls``."""
    command = typer.main.get_command(strategy_app(cls))
    command.name = cls.__name__
    return command


# -- running -----------------------------------------------------------------------------------------
def _strategy_values(cls: type, flagged: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    texts = parse_assignments(kw.get("param"))
    for name in flagged:
        value = kw.get(f"p_{name}")
        if value is None:
            continue
        if name in texts:
            raise InvalidParameterError(f"parameter {name!r} is given twice ({_flag(name)} {value} and "
                                        f"--param {name}={texts[name]}). Fix: give it once.")
        texts[name] = value
    space = cls.param_space()  # type: ignore[attr-defined]
    return {name: parse_value(space.get(name), text) for name, text in texts.items()}


def _run(cls: type, flagged: dict[str, Any], kw: dict[str, Any]) -> None:
    import workbench as wb
    from workbench.backtesting import BacktestConfig
    from workbench.cli import _datasets
    from workbench.store import Store

    strategy = cls(**_strategy_values(cls, flagged, kw))
    settings = {name: kw[f"s_{name}"] for name, *_ in engine_settings() if kw.get(f"s_{name}") is not None}
    config = BacktestConfig().replace(**settings)
    with Store() as store:
        with spinner(f"Loading {kw['data']}"):
            found = _datasets.resolve(kw["data"], store=store)
        with spinner(f"Backtesting {strategy!r} (the first run compiles the engine)"):
            result = wb.backtest(found.bars, strategy, config=config)
            stats = result.stats
        saved = store.url if kw.get("save") else None
        if saved:
            result.save(store)
    if kw.get("as_json"):
        typer.echo(json.dumps(_json_report(result, found, saved), indent=2, allow_nan=False))
    else:
        _print_report(result, found, settings, saved, stats)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _json_report(result: Any, found: Any, saved: str | None) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "strategy": result.strategy.spec(),
        "dataset": {"name": found.name, "source": found.source, "content_hash": result.dataset_hash},
        "config": {k: _finite(v) for k, v in result.config.to_dict().items()},
        "stats": {k: _finite(v) for k, v in result.stats.to_dict().items()},
        "saved_to": saved,
    }


def _print_report(result: Any, found: Any, settings: dict[str, Any], saved: str | None, stats: Any) -> None:
    out = stdout()
    bars = found.bars
    view = result.view
    out.print(f"{result.strategy!r} on {found.name}", markup=False, style="bold", soft_wrap=True)
    out.print(f"{view.n_bars:,} bars x {view.n_assets} asset(s), {bars['ts'].min():%Y-%m-%d} to "
              f"{bars['ts'].max():%Y-%m-%d}; settings: "
              + (", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"), markup=False, soft_wrap=True)
    out.print(stats_table(stats))
    if saved:
        out.print(f"Saved run {result.run_id} to {saved}. Show it with: workbench runs show {result.run_id[:8]}",
                  markup=False, soft_wrap=True)
    else:
        out.print(f"Run {result.run_id} (not saved; add --save to record it in the store).", markup=False, soft_wrap=True)
