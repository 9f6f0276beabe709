"""Features per annotation: classic by default, any batch model, cached by model name and version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from exact_lab.analysis.features import FeatureCache
from exact_lab.errors import InvalidValueError


class MeanColour:
    name, version = "mean-colour", "1"

    def __init__(self):
        self.seen = 0
        self.shapes = []

    def __call__(self, batch):
        self.seen += len(batch)
        self.shapes.append(batch.shape)
        return batch.reshape(len(batch), -1, 3).mean(axis=1)


def test_classic_features_separate_the_dark_figures_from_the_other_nuclei(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id)
    x = proj.features(rows)
    assert x.shape == (len(rows), 52) and np.isfinite(x).all()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    y = (rows["type"] == "mitotic figure").to_numpy()
    assert cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=3).mean() > 0.9


def test_a_model_gets_batches_of_patches_and_its_rows_come_back_in_order(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id).sample(frac=1, random_state=1)  # any order
    model = MeanColour()
    x = proj.features(rows, model=model, patch_size=32, batch_size=50)
    assert model.seen == len(rows) and max(s[0] for s in model.shapes) == 50
    assert all(s[1:] == (32, 32, 3) for s in model.shapes)
    again = proj.features(rows.iloc[::-1], model=MeanColour(), patch_size=32, cache=False)
    np.testing.assert_allclose(again[::-1], x, rtol=1e-5)


def test_features_are_cached_per_annotation_and_recomputed_when_it_moves(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id)
    first = MeanColour()
    x = proj.features(rows, model=first, patch_size=32)
    second = MeanColour()
    y = proj.features(rows, model=second, patch_size=32)
    assert second.seen == 0
    np.testing.assert_array_equal(x, y)
    moved = rows.iloc[:4][["uuid"]].assign(geometry=[shapely.affinity.translate(g, 30, 0) for g in rows["geometry"].iloc[:4]])
    proj.update_annotations(moved)
    third = MeanColour()
    z = proj.features(proj.annotations(image=image_id).set_index("uuid").loc[rows["uuid"]].reset_index(),
                      model=third, patch_size=32)
    assert third.seen == 4
    fourth = MeanColour()  # the moved annotations' new vectors are cached too, beside the old ones
    proj.features(proj.annotations(image=image_id), model=fourth, patch_size=32)
    assert fourth.seen == 0
    np.testing.assert_array_equal(z[4:], x[4:])
    assert not np.allclose(z[:4], x[:4])
    other_version = MeanColour()
    other_version.version = "2"
    proj.features(rows.iloc[:10], model=other_version, patch_size=32)
    assert other_version.seen == 10


def test_a_model_without_a_version_is_never_cached(demo_project, tmp_path):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id).head(20)
    calls = []

    def unversioned(batch):
        calls.append(len(batch))
        return batch.mean(axis=(1, 2))

    proj.features(rows, model=unversioned, patch_size=16)
    proj.features(rows, model=unversioned, patch_size=16)
    assert sum(calls) == 40
    assert FeatureCache(tmp_path / "none").read(np.array(["a"]), np.array(["b"])) == {}


def test_features_of_uuids_and_bad_models(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id).head(5)
    uuids = list(rows["uuid"])
    by_uuid = proj.features(uuids[::-1], model=MeanColour(), patch_size=16, cache=False)
    np.testing.assert_allclose(by_uuid[::-1], proj.features(rows, model=MeanColour(), patch_size=16, cache=False), rtol=1e-6)
    with pytest.raises(InvalidValueError, match="'not-a-uuid' is not a uuid"):
        proj.features(["not-a-uuid"], patch_size=16)
    with pytest.raises(InvalidValueError, match="expected N x D"):
        proj.features(uuids, model=lambda b: np.zeros(3), patch_size=16)
    with pytest.raises(InvalidValueError, match="lacks geometry"):
        proj.features(pd.DataFrame({"uuid": uuids}), patch_size=16)
