"""Machine-learning signals on rule entries: features, labels, purged validation, models.

XGBoost is imported only by the code paths that train or load a model, never by
``import workbench.ml``.
"""

from __future__ import annotations

from workbench.ml.arbiter import Arbiter, ArbiterConfig, Decision, DecisionLog
from workbench.ml.features import Feature, FeatureMatrix, FeatureSet, default_features
from workbench.ml.labels import (
    FixedHorizon,
    LabeledSet,
    Labels,
    TripleBarrier,
    label_entries,
    make_dataset,
)
from workbench.ml.model import ModelLoadError, ModelParams, SignalModel
from workbench.ml.scoring import Calibrator, baselines, classification_metrics
from workbench.ml.sentiment import NEUTRAL, Headlines, LexiconSentiment, LLMSentiment
from workbench.ml.trading import (
    Bands,
    ModelFilter,
    StoredModel,
    WalkForwardModel,
    confidence_weight,
)
from workbench.ml.tune import SEARCH_SPACE, TuneResult, tune
from workbench.ml.validation import CVResult, PurgedCV, cross_validate

__all__ = [
    "Feature", "FeatureSet", "FeatureMatrix", "default_features",
    "TripleBarrier", "FixedHorizon", "Labels", "LabeledSet", "label_entries", "make_dataset",
    "ModelParams", "SignalModel", "ModelLoadError", "Calibrator", "classification_metrics", "baselines",
    "PurgedCV", "CVResult", "cross_validate", "SEARCH_SPACE", "TuneResult", "tune",
    "Arbiter", "ArbiterConfig", "Decision", "DecisionLog", "NEUTRAL", "Headlines", "LexiconSentiment",
    "LLMSentiment", "Bands", "ModelFilter", "StoredModel", "WalkForwardModel", "confidence_weight",
]
