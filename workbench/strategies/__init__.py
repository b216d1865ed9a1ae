"""Strategies: parameters declared once, decisions in one of three styles, and built-ins."""

from workbench.strategies.base import Bars, Context, Signals, Strategy
from workbench.strategies.builtin import (
    BollingerBreakout,
    DonchianBreakout,
    EmaCross,
    RsiMeanReversion,
    SmaCross,
    TrendPullback,
    crossed_above,
    crossed_below,
    signal_weight,
)
from workbench.strategies.params import Param

BUILTIN = {cls.__name__: cls for cls in (SmaCross, EmaCross, RsiMeanReversion, BollingerBreakout,
                                         DonchianBreakout, TrendPullback)}

__all__ = [
    "BUILTIN", "Bars", "BollingerBreakout", "Context", "DonchianBreakout", "EmaCross", "Param",
    "RsiMeanReversion", "Signals", "SmaCross", "Strategy", "TrendPullback", "crossed_above",
    "crossed_below", "signal_weight",
]
