"""Enumerations and record dtypes shared by the kernels and their wrappers.

Enums are plain ``IntEnum`` classes; kernels compare against their integer values, which are
mirrored as module-level constants so Numba sees compile-time ints.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "Direction",
    "Side",
    "OrderKind",
    "OrderStatus",
    "RejectReason",
    "ExitReason",
    "SizeMode",
    "FillTiming",
    "order_dt",
    "trade_dt",
]


class Direction(IntEnum):
    LONG = 0
    SHORT = 1


class Side(IntEnum):
    BUY = 0
    SELL = 1


class OrderKind(IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP = 2
    STOP_LIMIT = 3
    STOP_LOSS = 4      # per-position protective stop
    TAKE_PROFIT = 5    # per-position profit target
    TRAILING_STOP = 6  # per-position trailing stop
    LIQUIDATION = 7    # margin call


class OrderStatus(IntEnum):
    FILLED = 0
    REJECTED = 1
    CANCELLED = 2
    EXPIRED = 3


class RejectReason(IntEnum):
    NONE = 0
    NO_CASH = 1          # not enough cash (or margin) for even one unit / lot
    ZERO_SIZE = 2        # the requested size rounds to zero units
    SHORT_DISABLED = 3   # a sell would open a short position but shorting is off
    MAX_LEVERAGE = 4     # the order would exceed the leverage limit
    NO_PRICE = 5         # the fill price is NaN (no bar)


class ExitReason(IntEnum):
    SIGNAL = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TRAILING_STOP = 3
    REVERSE = 4
    END_OF_DATA = 5      # still open at the last bar (marked to market, not closed)
    LIQUIDATION = 6


class SizeMode(IntEnum):
    PERCENT_EQUITY = 0   # fraction of current equity
    UNITS = 1            # fixed number of units
    VALUE = 2            # fixed cash value
    TARGET_WEIGHT = 3    # target position value / equity
    RISK = 4             # risk fraction of equity / stop distance


class FillTiming(IntEnum):
    NEXT_OPEN = 0
    SAME_CLOSE = 1


order_dt = np.dtype(
    [
        ("id", np.int64),
        ("col", np.int64),
        ("bar", np.int64),        # bar index of the fill (or rejection)
        ("signal_bar", np.int64),  # bar index whose close produced the decision
        ("side", np.int64),
        ("kind", np.int64),
        ("size", np.float64),     # units, always > 0 (direction given by side)
        ("price", np.float64),    # fill price after slippage
        ("fees", np.float64),
        ("slippage", np.float64),  # cash cost of slippage and spread
        ("status", np.int64),
        ("reason", np.int64),
    ],
    align=True,
)

trade_dt = np.dtype(
    [
        ("id", np.int64),
        ("col", np.int64),
        ("direction", np.int64),
        ("size", np.float64),
        ("entry_bar", np.int64),
        ("entry_price", np.float64),
        ("entry_fees", np.float64),
        ("exit_bar", np.int64),
        ("exit_price", np.float64),
        ("exit_fees", np.float64),
        ("pnl", np.float64),
        ("ret", np.float64),
        ("exit_reason", np.int64),
        ("is_open", np.bool_),
        ("weight", np.float64),   # the position weight requested when it opened (NaN if none)
    ],
    align=True,
)
