"""``Param``: type inference, validation messages, grids, Optuna search spaces, description."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.errors import InvalidParameterError
from workbench.strategies import Param


@pytest.mark.parametrize(("param", "kind"), [
    (Param(10), "int"), (Param(np.int64(3)), "int"), (Param(0.5), "float"), (Param(np.float32(0.5)), "float"),
    (Param(True), "bool"), (Param("long", choices=("long", "short")), "str"), (Param(None, choices=(1, 2)), "int"),
    (Param(1, type="float"), "float"),
])
def test_type_inference(param, kind):
    assert param.type == kind


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"default": None}, "cannot infer the type of a Param with default None; pass type="),
    ({"default": 1, "type": "complex"}, "Param `type` must be one of ['int', 'float', 'bool', 'str']; got 'complex'."),
    ({"default": 1, "low": 5, "high": 2}, "Param bounds must satisfy low <= high; got low=5, high=2."),
])
def test_bad_declarations(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        Param(**kwargs)
    assert message in str(info.value)


def test_int_validation():
    p = Param(10, low=2, high=50)
    assert p.validate("fast", 12) == 12 and isinstance(p.validate("fast", 12.0), int)
    assert p.validate("fast", np.int32(7)) == 7 and p.validate("fast", 2) == 2 and p.validate("fast", 50) == 50
    for bad in (1, 51, 2.5, "3", None, True, float("nan")):
        with pytest.raises(InvalidParameterError) as info:
            p.validate("fast", bad)
        assert str(info.value) == f"`fast` must be an integer in [2, 50]; got {bad!r}."


def test_float_validation():
    p = Param(0.5, low=0.0, high=1.0)
    assert p.validate("k", 1) == 1.0 and isinstance(p.validate("k", 1), float)
    for bad in (-0.1, 1.5, float("nan"), "0.5", False):
        with pytest.raises(InvalidParameterError) as info:
            p.validate("k", bad)
        assert str(info.value) == f"`k` must be a number in [0, 1]; got {bad!r}."
    free = Param(1.0)
    assert free.validate("x", -1e9) == -1e9
    with pytest.raises(InvalidParameterError, match=r"in \[-inf, inf\]"):
        free.validate("x", float("nan"))


def test_bool_str_and_choice_validation():
    assert Param(True).validate("flag", np.bool_(False)) is False
    with pytest.raises(InvalidParameterError, match=r"^`flag` must be True or False; got 1\.$"):
        Param(True).validate("flag", 1)
    with pytest.raises(InvalidParameterError, match=r"^`label` must be a string; got 3\.$"):
        Param("a").validate("label", 3)
    p = Param("long", choices=("long", "short", "both"))
    assert p.validate("direction", "both") == "both"
    with pytest.raises(InvalidParameterError) as info:
        p.validate("direction", "bothh")
    assert str(info.value) == "`direction` must be one of 'long', 'short', 'both'; got 'bothh'. Did you mean 'both'?"
    with pytest.raises(InvalidParameterError, match="got 3"):
        Param(1, choices=(1, 2)).validate("n", 3)


def test_grid():
    assert Param(10, low=2, high=6).grid() == [2, 3, 4, 5, 6]
    assert Param(10, low=2, high=20, step=5).grid() == [2, 7, 12, 17]
    assert Param(10, low=2, high=50).grid(10, 20, 5) == [10, 15, 20]
    g = Param(0.5, low=0.0, high=1.0, step=0.25).grid()
    assert g == [0.0, 0.25, 0.5, 0.75, 1.0] and all(isinstance(v, float) for v in g)
    assert Param(2.0, low=0.5, high=4.0, step=0.1).grid()[-1] == pytest.approx(4.0)  # no float drift drops the end
    assert len(Param(2.0, low=0.5, high=4.0, step=0.1).grid()) == 36
    assert Param(True).grid() == [False, True]
    assert Param("a", choices=("a", "b")).grid() == ["a", "b"]
    with pytest.raises(InvalidParameterError, match="a grid needs low, high and step"):
        Param(1.0, low=0.0, high=1.0).grid()
    with pytest.raises(InvalidParameterError, match="Fix: pass a range"):
        Param(5).grid()


def test_suggest_builds_the_declared_optuna_space():
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params = {
        "fast": Param(10, low=2, high=50, step=2),
        "k": Param(2.0, low=0.5, high=4.0, step=0.25),
        "lr": Param(0.01, low=1e-4, high=1.0, log=True),
        "n": Param(8, low=1, high=1024, log=True),
        "flag": Param(False),
        "direction": Param("long", choices=("long", "short", "both")),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(25):
        trial = study.ask()
        values = {name: p.suggest(trial, name) for name, p in params.items()}
        for name, p in params.items():  # every suggestion is valid for its declaration
            assert p.validate(name, values[name]) == values[name]
        study.tell(trial, 0.0)
    dist = trial.distributions
    assert dist["fast"] == IntDistribution(2, 50, step=2)
    assert dist["k"] == FloatDistribution(0.5, 4.0, step=0.25)
    assert dist["lr"] == FloatDistribution(1e-4, 1.0, log=True)
    assert dist["n"] == IntDistribution(1, 1024, log=True)
    assert dist["flag"] == CategoricalDistribution([False, True])
    assert dist["direction"] == CategoricalDistribution(["long", "short", "both"])
    with pytest.raises(InvalidParameterError, match="`x` has no bounds; declare low and high to search it."):
        Param(1.0).suggest(study.ask(), "x")


def test_describe_is_json_ready():
    import json

    d = Param(10, low=2, high=50, help="fast window").describe()
    assert d == {"type": "int", "default": 10, "low": 2, "high": 50, "step": 1, "choices": None, "log": False,
                 "help": "fast window"}
    c = Param("long", choices=("long", "short")).describe()
    assert c["choices"] == ["long", "short"] and json.loads(json.dumps(c)) == c


def test_bounded():
    assert Param(1, low=0, high=2).bounded and Param(True).bounded and Param("a", choices=("a",)).bounded
    assert not Param(1.0, low=0.0).bounded and not math.isnan(Param(1.0).validate("x", 1.0))
