"""The worked loop without downloaded weights: detector proposals, a few labelled and verified, a
scikit-learn classifier on their features labels the rest, least certain first, and the accepted
set is committed as a version with the model attached."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.linear_model import LogisticRegression

from exact_lab.analysis.nuclei import NucleusDetector
from exact_lab.errors import InvalidValueError


def test_a_classifier_trained_on_verified_proposals_labels_the_rest_for_review(demo_project, tmp_path):
    proj, image_id, blobs = demo_project
    proj.add_annotation_type("nucleus", "box")
    proj.add_annotation_type("mitosis", "box")
    run = proj.infer(NucleusDetector(), image=image_id, tile_size=512, progress=False)
    found = run.proposals()
    truth = np.array([(b.x, b.y) for b in blobs])
    _, nearest = cKDTree(truth).query(np.column_stack([(found.xmin + found.xmax) / 2, (found.ymin + found.ymax) / 2]))
    is_mitosis = np.array([blobs[i].mitotic for i in nearest])

    # a reviewer labels and verifies a few of each kind
    seen = np.r_[np.nonzero(is_mitosis)[0][:6], np.nonzero(~is_mitosis)[0][:30]]
    labelled = found.iloc[seen][["uuid"]].assign(type=np.where(is_mitosis[seen], "mitosis", "nucleus"))
    proj.update_annotations(labelled)
    proj.verify(list(labelled["uuid"]))
    verified = proj.annotations(uuids=list(labelled["uuid"]))
    model = LogisticRegression(max_iter=3000, class_weight="balanced").fit(proj.features(verified), verified["type"])

    rest = found.drop(found.index[seen])
    queue = proj.classify(rest, model, name="mitosis-lr", version="1")
    assert len(queue) == len(rest) and queue["uncertainty"].is_monotonic_decreasing
    now = proj.annotations(uuids=list(rest["uuid"])).set_index("uuid")
    assert set(now["source"]) == {"mitosis-lr:1"}
    assert all("uncertainty" in m and "probabilities" in m for m in now["meta"])
    predicted = now.loc[rest["uuid"], "type"].to_numpy() == "mitosis"
    accuracy = (predicted == is_mitosis[np.setdiff1d(np.arange(len(found)), seen)]).mean()
    print(f"classifier on classic features: accuracy {accuracy:.3f} over {len(rest)} unverified proposals")
    assert accuracy > 0.85  # measured 0.908: deterministic, the floor leaves room for other BLAS builds

    proj.verify(list(queue["uuid"].head(10)))  # the least certain, reviewed first
    proj.commit("nuclei-v1", message="detector + classifier, 46 verified")
    joblib.dump(model, tmp_path / "mitosis-lr.joblib")
    record = proj.add_artifact("nuclei-v1", tmp_path / "mitosis-lr.joblib")
    assert joblib.load(record["path"]).classes_.tolist() == ["mitosis", "nucleus"]
    accepted = proj.verifications(version="nuclei-v1")
    assert len(accepted) == 46 and accepted["verified"].all()


def test_classify_refuses_classes_that_are_not_types(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id).head(6)
    model = LogisticRegression().fit(np.arange(12).reshape(6, 2), ["a", "b"] * 3)
    with pytest.raises(InvalidValueError, match="class 'a' is not an annotation type"):
        proj.classify(rows, model, features=np.zeros((6, 2)))
