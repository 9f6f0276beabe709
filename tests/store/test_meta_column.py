"""Meta texts back to dicts: one by one for few or Python strings, as one JSON array for many
Arrow strings; the same dicts and Nones either way."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from exact_lab.store.util import load_meta_column


def _texts(n):
    return [json.dumps({"i": i, "name": f"n\u00e9 \"{i}\"", "list": [i, None, 1.5]}) if i % 3 else None for i in range(n)]


@pytest.mark.parametrize("n", [5, 500])
@pytest.mark.parametrize("kind", ["object", "arrow", "pandas-string"])
def test_meta_texts_become_the_same_dicts(n, kind):
    texts = _texts(n)
    series = {"object": lambda: pd.Series(texts, dtype=object),
              "arrow": lambda: pd.Series(pd.arrays.ArrowExtensionArray(pa.array(texts, pa.string()))),
              "pandas-string": lambda: pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))}[kind]()
    series.index = series.index + 10  # the index is kept
    out = load_meta_column(series)
    assert list(out.index) == list(series.index)
    assert list(out) == [json.loads(t) if t is not None else None for t in texts]


def test_a_column_of_nulls_stays_none():
    out = load_meta_column(pd.Series([None] * 100, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    assert out.isna().all() and len(out) == 100
