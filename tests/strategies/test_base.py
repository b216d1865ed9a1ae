"""The Strategy contract: constructors store validated parameters (scikit-learn style), clone,
get_params, equality and hashing, immutability, declared order, constraints, style, spec."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from workbench.errors import InvalidParameterError, StrategyError
from workbench.strategies import BUILTIN, Param, Signals, SmaCross, Strategy


class Base(Strategy):
    window = Param(20, low=2, high=100, help="window")
    k = Param(2.0, low=0.5, high=4.0, step=0.5)

    def signals(self, bars):
        return Signals()


class Child(Base):
    mode = Param("fast", choices=("fast", "slow"))
    k = Param(1.0, low=0.1, high=2.0)  # redeclared: keeps its place, takes the new declaration
    constraints = ("k < window",)


def test_defaults_and_validated_values():
    s = SmaCross()
    assert s.get_params() == {"fast": 10, "slow": 20, "direction": "long"}
    s = SmaCross(fast=5.0, slow=np.int64(30))
    assert s.get_params() == {"fast": 5, "slow": 30, "direction": "long"}
    assert type(s.fast) is int and type(s.slow) is int


def test_param_space_order_and_inheritance():
    assert list(Base.param_space()) == ["window", "k"]
    assert list(Child.param_space()) == ["window", "k", "mode"]
    assert Child.param_space()["k"].high == 2.0
    assert Child().get_params() == {"window": 20, "k": 1.0, "mode": "fast"}
    with pytest.raises(InvalidParameterError, match=r"`k` must be a number in \[0.1, 2\]; got 3.0."):
        Child(k=3.0)


def test_constraints():
    with pytest.raises(InvalidParameterError) as info:
        SmaCross(fast=20, slow=20)
    assert str(info.value) == "SmaCross parameters break the constraint 'fast < slow' (fast=20, slow=20)."

    class Broken(Base):
        constraints = ("window < nonexistent",)

    with pytest.raises(InvalidParameterError, match="Broken constraint 'window < nonexistent' uses 'nonexistent', which is not a parameter"):
        Broken()
    Base.check_constraints({"window": 3, "k": 1.0})  # no constraints: nothing to break
    with pytest.raises(InvalidParameterError):
        SmaCross.check_constraints({"fast": 30, "slow": 20, "direction": "long"})


def test_get_params_is_a_copy():
    s = SmaCross(fast=7)
    p = s.get_params()
    p["fast"] = 99
    assert s.fast == 7 and s.get_params()["fast"] == 7


def test_clone():
    s = SmaCross(fast=7, slow=30)
    c = s.clone(slow=40)
    assert c is not s and type(c) is SmaCross
    assert c.get_params() == {"fast": 7, "slow": 40, "direction": "long"}
    assert s.slow == 30
    assert s.clone() == s and s.clone() is not s
    with pytest.raises(InvalidParameterError, match="constraint 'fast < slow'"):
        s.clone(fast=50)
    with pytest.raises(InvalidParameterError, match="Did you mean 'slow'"):
        s.clone(slwo=3)


def test_equality_and_hash():
    a, b, c = SmaCross(fast=7), SmaCross(fast=7), SmaCross(fast=8)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2

    class Other(SmaCross):
        pass

    assert Other(fast=7) != a
    assert a != "SmaCross(fast=7)"


def test_immutable():
    s = SmaCross()
    with pytest.raises(AttributeError, match=r"SmaCross is immutable; use .clone\(fast=...\)"):
        s.fast = 3
    with pytest.raises(AttributeError):
        s.new_attribute = 1
    assert s.fast == 10


def test_copy_and_pickle_round_trip():
    s = SmaCross(fast=7, direction="both")
    assert copy.deepcopy(s) == s
    assert pickle.loads(pickle.dumps(s)) == s


def test_repr_and_spec():
    s = SmaCross(fast=7, direction="both")
    assert repr(s) == "SmaCross(fast=7, slow=20, direction='both')"
    from workbench.strategies._code import code_of

    assert s.spec() == {"name": "SmaCross", "module": "workbench.strategies.builtin", "version": "1",
                        "code": code_of(SmaCross).hash, "params": {"fast": 7, "slow": 20, "direction": "both"}}
    assert s.name == "SmaCross"


def test_style():
    class Vec(Strategy):
        def signals(self, bars):
            return Signals()

    class Py(Strategy):
        def on_bar(self, ctx):
            pass

    class Nb(Strategy):
        on_bar_nb = staticmethod(lambda *a: None)

    class Nothing(Strategy):
        pass

    assert (Vec().style, Py().style, Nb().style) == ("vectorized", "python", "numba")
    with pytest.raises(StrategyError, match="Nothing defines no decisions"):
        _ = Nothing().style
    assert all(cls().style == "vectorized" for cls in BUILTIN.values())


def test_signals_defaults():
    s = Signals()
    assert s.entries is None and s.stop_mode == "percent"
    with pytest.raises(AttributeError):
        s.entries = np.zeros(3)


def test_default_prepare_and_unimplemented_styles():
    s = Base()
    assert isinstance(s.prepare(None), tuple)
    with pytest.raises(NotImplementedError):
        Strategy.on_bar(s, None)
    with pytest.raises(NotImplementedError):
        Strategy.signals(s, None)
