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
    "sim_cfg_dt",
    "INTENT_FIELDS",
    "N_INTENT",
    "STATE_FIELDS",
    "N_STATE",
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


# Per-bar order intents written by strategies: a float64 array of shape (n_assets, N_INTENT),
# one row per asset, columns named by the I_* constants (NaN = "not given"), reset every bar.
#   I_ENTRY   +1 open/extend long, -1 open/extend short, 0 nothing
#   I_EXIT    +1 close long, -1 close short, 2 close whatever is open, 0 nothing
#   I_SIZE    order size (NaN: the configured default)      I_LIMIT, I_STOP  entry order prices
#   I_SL, I_TP, I_TSL  stops of the new position             I_WEIGHT  suggested position weight
#   I_TARGET  target weight of equity to rebalance to         I_CANCEL  1: cancel the pending entry
INTENT_FIELDS = ('entry', 'exit', 'size', 'limit', 'stop', 'sl', 'tp', 'tsl', 'weight', 'target', 'cancel')
I_ENTRY = 0
I_EXIT = 1
I_SIZE = 2
I_LIMIT = 3
I_STOP = 4
I_SL = 5
I_TP = 6
I_TSL = 7
I_WEIGHT = 8
I_TARGET = 9
I_CANCEL = 10
N_INTENT = len(INTENT_FIELDS)


# The simulation's settings, passed to the kernels as one record.
sim_cfg_dt = np.dtype(
    [
        ("init_cash", np.float64),
        ("fees", np.float64),         # fraction of traded value
        ("fixed_fees", np.float64),   # cash per order
        ("slippage", np.float64),     # fraction of price, adverse
        ("slippage_ticks", np.float64),
        ("tick_size", np.float64),
        ("spread", np.float64),       # full bid-ask spread as a fraction of price
        ("size", np.float64),         # default size, interpreted by size_mode
        ("size_mode", np.int64),
        ("lot_size", np.float64),     # 0: fractional units; 1: whole units; 0.01: lots of 0.01
        ("allow_short", np.bool_),
        ("leverage", np.float64),
        ("maintenance_margin", np.float64),
        ("fill_timing", np.int64),
        ("reverse", np.bool_),        # an opposite entry closes the position and reverses
        ("accumulate", np.bool_),     # a same-direction entry adds to the position
        ("stop_mode", np.int64),      # 0: fractions of price; 1: absolute prices (sl/tp) and distances (tsl)
        ("sl", np.float64),
        ("tp", np.float64),
        ("tsl", np.float64),
        ("order_valid_bars", np.int64),  # 0: good till cancelled
        ("cash_sharing", np.bool_),
    ],
    align=True,
)

# Per-asset simulation state: a float64 array of shape (n_assets, N_STATE), columns named by the
# S_* constants (integer fields hold whole numbers). A Numba strategy reads its position as
# state[j, S_UNITS]. A position's stops are price levels (S_SL, S_TP) and a trailing distance
# (S_TSL, read as S_TSL_MODE says). Plain arrays rather than records keep the per-bar loop free
# of reference counting.
STATE_FIELDS = ('units', 'entry_price', 'entry_bar', 'entry_fees', 'trade', 'sl', 'tp', 'tsl', 'peak', 'last_price', 'p_kind', 'p_dir', 'p_size', 'p_limit', 'p_stop', 'p_triggered', 'p_sl', 'p_tp', 'p_tsl', 'p_weight', 'p_target', 'p_signal_bar', 'p_expiry', 'tsl_mode')
S_UNITS = 0
S_ENTRY_PRICE = 1
S_ENTRY_BAR = 2
S_ENTRY_FEES = 3
S_TRADE = 4
S_SL = 5
S_TP = 6
S_TSL = 7
S_PEAK = 8
S_LAST_PRICE = 9
S_P_KIND = 10
S_P_DIR = 11
S_P_SIZE = 12
S_P_LIMIT = 13
S_P_STOP = 14
S_P_TRIGGERED = 15
S_P_SL = 16
S_P_TP = 17
S_P_TSL = 18
S_P_WEIGHT = 19
S_P_TARGET = 20
S_P_SIGNAL_BAR = 21
S_P_EXPIRY = 22
S_TSL_MODE = 23  # how S_TSL trails the peak: 0 a fraction of it, 1 a distance in price units
N_STATE = len(STATE_FIELDS)

__all__ += [f"I_{f.upper()}" for f in INTENT_FIELDS] + [f"S_{f.upper()}" for f in STATE_FIELDS]  # noqa: F822
