"""Chance-corrected agreement on categorical labels: Cohen's kappa (two raters), Fleiss' kappa
(several raters, every item rated by all) and Krippendorff's alpha (nominal, missing ratings
allowed). Plain numpy from the published definitions; the tests compare each with an independent
implementation (scikit-learn, statsmodels, the ``krippendorff`` package)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two equally long label sequences (NaN when chance agreement is total)."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if len(a) != len(b):
        raise InvalidValueError("both raters must label the same items")
    if not len(a):
        return float("nan")
    labels, codes = np.unique(np.concatenate([a, b]).astype(str), return_inverse=True)
    k = len(labels)
    ca, cb = codes[: len(a)], codes[len(a):]
    table = np.zeros((k, k))
    np.add.at(table, (ca, cb), 1)
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(table.sum(1) @ table.sum(0)) / n**2
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa from an items × categories table of how many raters chose each category
    (every row sums to the same number of raters)."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or not len(counts):
        return float("nan")
    raters = counts.sum(1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise InvalidValueError("Fleiss' kappa needs the same number (>= 2) of raters for every item")
    n = raters[0]
    share = counts.sum(0) / counts.sum()
    per_item = (np.square(counts).sum(1) - n) / (n * (n - 1))
    expected = float(np.square(share).sum())
    if expected == 1.0:
        return float("nan")
    return float((per_item.mean() - expected) / (1.0 - expected))


def krippendorff_alpha(ratings) -> float:
    """Krippendorff's alpha for nominal data: ``ratings`` is raters × items, ``None``/NaN where a
    rater gave no label. Items with fewer than two labels do not count."""
    frame = np.asarray(ratings, dtype=object)
    present = np.array([[v is not None and v == v for v in row] for row in frame], dtype=bool)
    values = np.where(present, frame, "").astype(str)
    labels = np.unique(values[present])
    if len(labels) < 1:
        return float("nan")
    index = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    coincidence = np.zeros((k, k))
    for item in range(frame.shape[1]):
        got = [index[v] for v, p in zip(values[:, item], present[:, item]) if p]
        m = len(got)
        if m < 2:
            continue
        counts = np.bincount(got, minlength=k).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)  # ordered pairs of different raters
        coincidence += pairs / (m - 1)
    totals = coincidence.sum(1)
    n = totals.sum()
    if n <= 1:
        return float("nan")
    disagree_observed = n - np.trace(coincidence)
    disagree_expected = (n * n - np.square(totals).sum()) / (n - 1)
    if disagree_expected == 0:
        return float("nan")
    return float(1.0 - disagree_observed / disagree_expected)


def category_counts(ratings) -> np.ndarray:
    """raters × items labels (complete) → the items × categories count table of Fleiss' kappa."""
    values = np.asarray(ratings, dtype=object).astype(str)
    labels, codes = np.unique(values, return_inverse=True)
    codes = codes.reshape(values.shape)
    table = np.zeros((values.shape[1], len(labels)))
    for rater in codes:
        np.add.at(table, (np.arange(values.shape[1]), rater), 1)
    return table
