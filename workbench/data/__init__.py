"""The data layer: load, validate, inspect and transform OHLCV bars (polars).

>>> import workbench.data as wd
>>> bars = wd.synthetic(250, seed=7)
>>> wd.infer_frequency(bars).periods_per_year
365.0
"""

from workbench.data.arrays import BarArrays, to_arrays
from workbench.data.frequency import Frequency, infer_frequency
from workbench.data.hashing import content_hash
from workbench.data.load import load
from workbench.data.samples import sample, samples
from workbench.data.schema import BAR_COLUMNS, DEFAULT_TZ
from workbench.data.synthetic import synthetic
from workbench.data.transform import align, resample
from workbench.data.validate import validate

__all__ = [
    "BAR_COLUMNS", "DEFAULT_TZ", "BarArrays", "Frequency", "align", "content_hash",
    "infer_frequency", "load", "resample", "sample", "samples", "synthetic", "to_arrays", "validate",
]
