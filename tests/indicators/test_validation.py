"""Bad input is rejected in Python with a message naming the argument, the value and the fix;
accepted inputs (polars, lists, ints, 2-D) come back as float64 arrays of the input's shape."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench import indicators as ind
from workbench.errors import DataValidationError, InvalidParameterError

X = np.linspace(1.0, 2.0, 30)


@pytest.mark.parametrize("fn", [ind.sma, ind.ema, ind.wma, ind.rolling_std])
@pytest.mark.parametrize("window", [0, -3, 31, 2.5, "5", None, True])
def test_bad_window(fn, window):
    with pytest.raises(InvalidParameterError, match=r"`window` must be an integer in \[1, 30\]"):
        fn(X, window)


def test_window_messages_name_the_value_and_the_bars():
    with pytest.raises(InvalidParameterError) as err:
        ind.sma(X, 31)
    assert (
        str(err.value) == "`window` must be an integer in [1, 30]; got 31. The input has 30 bars."
    )


def test_windows_that_need_two_bars():
    with pytest.raises(
        InvalidParameterError, match=r"`window` must be an integer in \[2, 30\]; got 1"
    ):
        ind.zscore(X, 1)
    with pytest.raises(InvalidParameterError, match=r"`window` .* \[1, 29\]; got 30. RSI needs"):
        ind.rsi(X, 30)
    with pytest.raises(DataValidationError, match="`close` must hold at least 2 bars"):
        ind.rsi(np.array([1.0]), 1)
    with pytest.raises(DataValidationError, match="needs at least 2"):
        ind.zscore(np.array([1.0]), 2)


def test_bad_ddof():
    with pytest.raises(
        InvalidParameterError, match=r"`ddof` must be an integer in \[0, 4\]; got 5"
    ):
        ind.rolling_std(X, 5, ddof=5)
    with pytest.raises(InvalidParameterError, match=r"`ddof` .* \[0, 0\]; got 1"):
        ind.bollinger(X, 1, ddof=1)
    with pytest.raises(InvalidParameterError, match="`ddof`"):
        ind.zscore(X, 5, ddof=-1)


@pytest.mark.parametrize("k", [-0.1, float("nan"), float("inf"), "2"])
def test_bad_bollinger_k(k):
    with pytest.raises(InvalidParameterError, match="`k` must be a"):
        ind.bollinger(X, 5, k=k)


def test_bad_macd_spans():
    with pytest.raises(
        InvalidParameterError, match=r"`fast` must be an integer in \[1, 25\]; got 26"
    ):
        ind.macd(X, fast=26, slow=26)
    with pytest.raises(
        InvalidParameterError, match=r"`slow` must be an integer in \[2, 30\]; got 31"
    ):
        ind.macd(X, slow=31)
    with pytest.raises(
        InvalidParameterError, match=r"`signal` must be an integer in \[1, 5\]; got 9"
    ):
        ind.macd(X)  # slow=26 leaves room for a signal of at most 5 bars
    with pytest.raises(InvalidParameterError, match="`signal`"):
        ind.macd(X, fast=2, slow=5, signal=0)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.array(["a", "b", "c"]), "`x` must hold numbers; got an array of dtype <U1"),
        (np.array([True, False, True]), "`x` must hold numbers; got an array of dtype bool"),
        (np.array([1.0, 2.0], dtype=object), "`x` must hold numbers; got an array of dtype object"),
        (np.array([1 + 1j, 2 + 0j]), "dtype complex128"),
        (np.float64(3.0), r"`x` must be 1-D .* got shape \(\)"),
        (np.ones((3, 2, 2)), r"got shape \(3, 2, 2\)"),
        (np.array([]), "`x` must hold at least one bar"),
        (np.ones((3, 0)), "`x` must hold at least one bar"),
        (np.array([1.0, np.inf, 2.0]), "`x` must not contain inf; got inf at position 1"),
        (np.array([[1.0, 2.0], [-np.inf, 1.0]]), r"got -inf at position \(1, 0\)"),
        (pl.Series(["a", "b"]), "`x` must hold numbers; got a polars Series of dtype String"),
        (pl.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]}), r"non-numeric column\(s\) \['s'\]"),
        ([1.0, [2.0, 3.0]], "`x` must be a 1-D or 2-D array of numbers"),
    ],
)
def test_bad_data(x, match):
    with pytest.raises(DataValidationError, match=match):
        ind.sma(x, 1)


def test_mismatched_shapes_name_the_argument():
    h, lo, c = np.ones(10) * 2, np.ones(10), np.ones(9) * 1.5
    with pytest.raises(
        DataValidationError, match=r"`close` must have the shape of `high` \(10,\); got \(9,\)"
    ):
        ind.atr(h, lo, c, 3)
    with pytest.raises(
        DataValidationError, match=r"`low` must have the shape of `high` \(10,\); got \(10, 1\)"
    ):
        ind.donchian(h, lo[:, None], 3)


def test_errors_are_value_errors_for_generic_callers():
    with pytest.raises(ValueError):
        ind.sma(X, 0)
    with pytest.raises(ValueError):
        ind.sma(np.array([np.inf]), 1)


def test_polars_series_and_frames_and_lists_are_accepted():
    s = pl.Series("close", [1, 2, None, 4, 5, 6])  # ints with a null (a gap)
    out = ind.sma(s, 2)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (6,)
    np.testing.assert_array_equal(out, [np.nan, 1.5, np.nan, np.nan, 4.5, 5.5])
    frame = pl.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10, 20, 30]})
    np.testing.assert_array_equal(ind.sma(frame, 2), [[np.nan, np.nan], [1.5, 15.0], [2.5, 25.0]])
    np.testing.assert_array_equal(ind.ema([1, 2, 3], 1), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(
        ind.sma(np.arange(4, dtype=np.int32), np.int64(2)), [np.nan, 0.5, 1.5, 2.5]
    )


def test_non_contiguous_and_float32_input_is_converted():
    x = np.arange(40, dtype=np.float64).reshape(20, 2)
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(ind.sma(fortran, 3), ind.sma(x, 3))
    np.testing.assert_array_equal(
        ind.sma(x[::2, 0], 3), ind.sma(np.ascontiguousarray(x[::2, 0]), 3)
    )
    np.testing.assert_array_equal(ind.sma(x.astype(np.float32), 3), ind.sma(x, 3))


def test_input_is_not_modified():
    x = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    before = x.copy()
    ind.bollinger(x, 2)
    ind.macd(x, fast=1, slow=2, signal=1)
    np.testing.assert_array_equal(x, before)


def test_multi_output_results_are_named_tuples():
    bands = ind.bollinger(X, 5)
    assert bands.mid is bands[0] and bands._fields == ("mid", "upper", "lower")
    assert ind.macd(X, fast=2, slow=5, signal=3)._fields == ("macd", "signal", "hist")
    assert ind.donchian(X, X, 5)._fields == ("upper", "lower", "mid")
