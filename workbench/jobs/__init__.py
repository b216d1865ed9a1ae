"""Batch research: a parameterized notebook run by papermill once per parameter set, as jobs on
Dask, every job's state, outputs and recorded values in the store.

>>> import workbench as wb
>>> wb.jobs.expand({"fast": [5, 10]})
[{'fast': 5}, {'fast': 10}]

``import workbench.jobs`` loads neither papermill nor Dask; they load when a batch runs.
"""

from __future__ import annotations

from workbench.jobs.batch import BatchHandle, batch, batches, cancel, prepare, resume, submit
from workbench.jobs.params import expand, notebook_params
from workbench.jobs.record import record

__all__ = ["BatchHandle", "submit", "batch", "batches", "resume", "cancel", "prepare", "expand", "notebook_params",
           "record"]
