"""Hierarchical Risk Parity (López de Prado, 2016) over a covariance matrix.

1. Correlation distance ``dᵢⱼ = √(½(1 − ρᵢⱼ))``.
2. Hierarchical clustering of the condensed distance matrix (``scipy.cluster.hierarchy.linkage``,
   single linkage by default, as in the paper).
3. Quasi-diagonalisation: assets ordered as the leaves of the dendrogram.
4. Recursive bisection: each list is split in two halves; each half gets its inverse-variance
   portfolio, whose variance ``V`` sets the split ``α = 1 − V_left / (V_left + V_right)``.

The paper's code passes the square distance matrix to ``linkage``, which treats its rows as
observation vectors (so the clustering is on Euclidean distances between distance profiles);
here the distances themselves are clustered, as in skfolio's ``HierarchicalRiskParity``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

__all__ = ["Linkage", "hrp_order", "hrp_weights"]

Linkage = Literal["single", "complete", "average", "weighted", "ward"]


def hrp_order(cov: np.ndarray, linkage: Linkage = "single") -> np.ndarray:
    """Asset indices in quasi-diagonal (dendrogram leaf) order.

    >>> hrp_order(np.array([[1.0, 0.0, 0.9], [0.0, 1.0, 0.0], [0.9, 0.0, 1.0]])).tolist()
    [1, 0, 2]
    """
    n = cov.shape[0]
    if n < 2:
        return np.arange(n)
    sd = np.sqrt(np.diag(cov))
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    dist = np.sqrt(np.clip(0.5 * (1.0 - corr), 0.0, None))
    np.fill_diagonal(dist, 0.0)
    link = hierarchy.linkage(squareform(dist, checks=False), method=linkage)
    return hierarchy.leaves_list(link).astype(np.int64)


def _cluster_variance(cov: np.ndarray, idx: np.ndarray) -> float:
    inv = 1.0 / np.diag(cov)[idx]
    w = inv / inv.sum()
    return float(w @ cov[np.ix_(idx, idx)] @ w)


def hrp_weights(cov: np.ndarray, linkage: Linkage = "single") -> np.ndarray:
    """HRP weights summing to one (long-only). ``cov`` must have positive variances.

    >>> cov = np.diag([0.04, 0.01])
    >>> hrp_weights(cov).round(3).tolist()
    [0.2, 0.8]
    """
    order = hrp_order(cov, linkage)
    w = np.ones(cov.shape[0])
    stack = [order]
    while stack:
        items = stack.pop()
        if len(items) < 2:
            continue
        mid = len(items) // 2
        left, right = items[:mid], items[mid:]
        v_left, v_right = _cluster_variance(cov, left), _cluster_variance(cov, right)
        alpha = 1.0 - v_left / (v_left + v_right)
        w[left] *= alpha
        w[right] *= 1.0 - alpha
        stack += [left, right]
    return w / w.sum()
