"""``proj.classify``: a classifier (anything with ``predict_proba`` and ``classes_``, as
scikit-learn's) over annotations' features; each annotation becomes a proposal of the likeliest
class, with ``score``, ``source`` and ``uncertainty`` / ``margin`` / ``entropy`` / ``probabilities``
in its meta, so a review queue can take the least certain first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from .build import as_annotations


def probabilities_meta(probs: np.ndarray, classes) -> list[dict]:
    ordered = np.sort(probs, axis=1)
    top = ordered[:, -1]
    margin = top - (ordered[:, -2] if probs.shape[1] > 1 else 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(probs > 0, probs * np.log(probs), 0), axis=1)
    names = [str(c) for c in classes]
    return [{"uncertainty": float(1 - t), "margin": float(m), "entropy": float(e),
             "probabilities": {n: float(p) for n, p in zip(names, row)}}
            for t, m, e, row in zip(top, margin, entropy, probs)]


def classify(project, annotations, model, features=None, *, name=None, version=None, feature_model=None,
             patch_size: int = 64, write: bool = True) -> pd.DataFrame:
    frame = as_annotations(project, annotations)
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise InvalidValueError("classify needs a fitted classifier with predict_proba and classes_ (scikit-learn's)")
    if features is None:
        features = project.features(frame, model=feature_model, patch_size=patch_size)
    features = np.asarray(features)
    if len(features) != len(frame):
        raise InvalidValueError(f"{len(features)} feature rows for {len(frame)} annotations")
    probs = np.asarray(model.predict_proba(features), dtype=float)
    classes = list(model.classes_)
    known = set(project.annotation_types()["name"])
    unknown = [str(c) for c in classes if str(c) not in known]
    if unknown:
        raise InvalidValueError(f"the classifier's class {unknown[0]!r} is not an annotation type of this project")
    name = name or type(model).__name__
    version = "unversioned" if version is None else str(version)
    metas = probabilities_meta(probs, classes)
    result = pd.DataFrame({
        "uuid": frame["uuid"].to_numpy(), "type": [str(classes[i]) for i in probs.argmax(axis=1)],
        "score": probs.max(axis=1), "uncertainty": [m["uncertainty"] for m in metas],
    })
    if write:
        old = frame["meta"] if "meta" in frame.columns else pd.Series([None] * len(frame))
        merged = [{**(o if isinstance(o, dict) else {}), **m} for o, m in zip(old, metas)]
        project.update_annotations(result[["uuid", "type", "score"]].assign(source=f"{name}:{version}", meta=merged))
    return result.sort_values("uncertainty", ascending=False, kind="stable").reset_index(drop=True)
