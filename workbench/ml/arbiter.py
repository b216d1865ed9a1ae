"""The decision arbiter: rule score, ML confidence and sentiment in, APPROVED or REJECTED out.

An :class:`ArbiterConfig` either weighs the components — each scaled to [0, 1]: the rule's score,
the confidence / 100, the sentiment mapped from [-1, 1] — and approves when the weighted score
reaches ``threshold``, or evaluates a ``rule`` such as ``"rule_passes and confidence > 70"``
over the names ``rule_passes``, ``rule_score``, ``confidence`` (0–100) and ``sentiment``
(-1..1). A missing component (a model that failed to load: null confidence) is left out of the
weighting, and a rule that needs it falls back to the weighting of the others; the explanation
says so. Every decision carries every component score and a one-line explanation;
:meth:`Arbiter.decide_many` also counts approvals and rejection reasons.
"""

from __future__ import annotations

import ast
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_number
from workbench.errors import InvalidParameterError

__all__ = ["ArbiterConfig", "Decision", "Arbiter", "DecisionLog"]

_NAMES = ("rule_passes", "rule_score", "confidence", "sentiment")
_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Name,
          ast.Load, ast.Constant, ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq, ast.BinOp, ast.Add, ast.Sub,
          ast.Mult, ast.Div)


@dataclass(frozen=True)
class ArbiterConfig:
    """Weights and threshold, or a rule.

    Examples
    --------
    >>> ArbiterConfig(rule="rule_passes and confidence > 70").rule
    'rule_passes and confidence > 70'
    >>> ArbiterConfig(rule="confidance > 70")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: arbiter `rule` uses unknown name 'confidance'; the names are rule_passes, rule_score, confidence, sentiment.
    """

    w_rule: float = 0.3
    w_ml: float = 0.5
    w_sentiment: float = 0.2
    threshold: float = 0.6
    rule: str | None = None

    def __post_init__(self) -> None:
        for name in ("w_rule", "w_ml", "w_sentiment"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), 0.0, 1e6))
        object.__setattr__(self, "threshold", check_number("threshold", self.threshold, 0.0, 1.0))
        if self.w_rule + self.w_ml + self.w_sentiment <= 0:
            raise InvalidParameterError("the arbiter's weights sum to 0; give at least one a positive weight.")
        if self.rule is not None:
            _compile(self.rule)


def _compile(rule: str) -> Any:
    try:
        tree = ast.parse(rule, mode="eval")
    except SyntaxError as exc:
        raise InvalidParameterError(f"arbiter `rule` {rule!r} is not an expression ({exc.msg}).") from None
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise InvalidParameterError(f"arbiter `rule` may only compare and combine scores; {type(node).__name__} "
                                        f"is not allowed in {rule!r}.")
        if isinstance(node, ast.Name) and node.id not in _NAMES:
            raise InvalidParameterError(f"arbiter `rule` uses unknown name {node.id!r}; the names are {', '.join(_NAMES)}.")
    return compile(tree, "<arbiter rule>", "eval")


@dataclass(frozen=True)
class Decision:
    """One decision: ``status``, the weighted ``score`` (NaN under a rule), every component and a
    one-line ``explanation``; ``reason`` is the short rejection reason counted per run."""

    status: Literal["APPROVED", "REJECTED"]
    score: float
    rule_score: float
    confidence: float | None
    sentiment: float | None
    explanation: str
    reason: str


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


class Arbiter:
    """Decides with an :class:`ArbiterConfig`.

    Examples
    --------
    >>> arb = Arbiter(ArbiterConfig(w_rule=0.5, w_ml=0.5, w_sentiment=0.0, threshold=0.6))
    >>> d = arb.decide(rule_score=0.8, confidence=72.0)
    >>> d.status, round(d.score, 2)
    ('APPROVED', 0.76)
    >>> arb.decide(rule_score=0.8, confidence=None, sentiment=0.0).explanation
    'APPROVED: score 0.80 >= 0.60 (rule 0.80, ML n/a, sentiment +0.00); ML confidence unavailable, decided on the other components'
    """

    def __init__(self, config: ArbiterConfig | None = None) -> None:
        self.config = config or ArbiterConfig()
        self._code = _compile(self.config.rule) if self.config.rule else None

    def decide(self, *, rule_score: float, confidence: float | None = None, sentiment: float | None = None,
               rule_passes: bool = True) -> Decision:
        """Decide on one rule signal (``confidence`` 0–100 or None, ``sentiment`` -1..1 or None)."""
        conf = None if confidence is None or math.isnan(confidence) else float(confidence)
        sent = None if sentiment is None or math.isnan(sentiment) else float(sentiment)
        comps = f"(rule {rule_score:.2f}, ML {_fmt(conf, '.0f')}, sentiment {_fmt(sent, '+.2f')})"
        missing = [n for n, v in (("ML confidence", conf), ("sentiment", sent)) if v is None]
        note = f"; {' and '.join(missing)} unavailable, decided on the other components" if missing else ""
        if not rule_passes:
            return Decision("REJECTED", math.nan, rule_score, conf, sent, f"REJECTED: the rule does not pass {comps}",
                            "rule did not pass")
        cfg = self.config
        if self._code is not None:
            names = {"rule_passes": True, "rule_score": rule_score, "confidence": conf, "sentiment": sent}
            needed = {n.id for n in ast.walk(ast.parse(cfg.rule, mode="eval")) if isinstance(n, ast.Name)}
            if not any(names[n] is None for n in needed):
                ok = bool(eval(self._code, {"__builtins__": {}}, names))  # noqa: S307 - validated expression
                status = "APPROVED" if ok else "REJECTED"
                return Decision(status, math.nan, rule_score, conf, sent,
                                f"{status}: rule {cfg.rule!r} is {ok} {comps}{note}",
                                "" if ok else f"rule {cfg.rule!r} false")
            note += f" (rule {cfg.rule!r} needs them: weighted instead)"
        parts = [(cfg.w_rule, rule_score), (cfg.w_ml, None if conf is None else conf / 100.0),
                 (cfg.w_sentiment, None if sent is None else (sent + 1.0) / 2.0)]
        total = sum(w for w, v in parts if v is not None)
        score = sum(w * v for w, v in parts if v is not None) / total if total > 0 else math.nan
        ok = score >= cfg.threshold
        status = "APPROVED" if ok else "REJECTED"
        sign = ">=" if ok else "<"
        return Decision(status, score, rule_score, conf, sent,
                        f"{status}: score {score:.2f} {sign} {cfg.threshold:.2f} {comps}{note}",
                        "" if ok else "score below threshold")

    def decide_many(self, rule_score: Any, confidence: Any = None, sentiment: Any = None) -> DecisionLog:
        """Decide on many signals at once (arrays of one length; None or NaN: unavailable)."""
        rs = np.asarray(rule_score, dtype=np.float64).ravel()
        conf = _column(confidence, rs.size)
        sent = _column(sentiment, rs.size)
        decisions = [self.decide(rule_score=float(r), confidence=c, sentiment=s)
                     for r, c, s in zip(rs, conf, sent, strict=True)]
        return DecisionLog(decisions)


def _column(values: Any, n: int) -> list[float | None]:
    if values is None:
        return [None] * n
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size != n:
        raise InvalidParameterError(f"arbiter inputs must have one value per signal ({n}); got {a.size}.")
    return [None if math.isnan(v) else float(v) for v in a]


class DecisionLog:
    """The decisions of a run: ``frame()`` (one row each), ``approved`` mask and ``counts``."""

    def __init__(self, decisions: list[Decision]) -> None:
        self.decisions = decisions

    @property
    def approved(self) -> np.ndarray:
        return np.array([d.status == "APPROVED" for d in self.decisions], dtype=bool)

    @property
    def counts(self) -> dict[str, int]:
        """``approved``, ``rejected`` and one count per rejection reason."""
        c = Counter(d.reason for d in self.decisions if d.status == "REJECTED")
        n_ok = int(self.approved.sum())
        return {"approved": n_ok, "rejected": len(self.decisions) - n_ok, **dict(sorted(c.items()))}

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([{"status": d.status, "score": d.score, "rule_score": d.rule_score,
                              "confidence": d.confidence, "sentiment": d.sentiment, "explanation": d.explanation}
                             for d in self.decisions],
                            schema={"status": pl.String, "score": pl.Float64, "rule_score": pl.Float64,
                                    "confidence": pl.Float64, "sentiment": pl.Float64, "explanation": pl.String})
