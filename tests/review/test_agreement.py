"""Agreement statistics against independent implementations on the same data."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
import shapely
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from shapely.geometry import Point, Polygon, box
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from exact_lab.errors import InvalidValueError
from exact_lab.review import cohen_kappa, fleiss_kappa, krippendorff_alpha, match
from exact_lab.review.kappa import category_counts


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_is_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    a = rng.choice(["benign", "malignant", "normal"], 60)
    b = np.where(rng.random(60) < 0.6, a, rng.choice(["benign", "malignant", "normal"], 60))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_is_statsmodels(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, 50)
    ratings = np.array([np.where(rng.random(50) < 0.7, truth, rng.integers(0, 4, 50)) for _ in range(4)])
    table = category_counts(ratings)
    assert table.sum(1).tolist() == [4] * 50
    assert fleiss_kappa(table) == pytest.approx(sm_fleiss(table))


@pytest.mark.parametrize("seed", range(5))
def test_krippendorff_alpha_is_the_packages_with_missing_ratings(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 40)
    ratings = np.array([np.where(rng.random(40) < 0.75, truth, rng.integers(0, 3, 40)) for _ in range(3)], dtype=float)
    ratings[rng.random(ratings.shape) < 0.2] = np.nan
    ours = krippendorff_alpha(np.where(np.isnan(ratings), None, ratings.astype(object)))
    theirs = krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal")
    assert ours == pytest.approx(theirs)


def test_label_agreement_of_image_labels_matches_the_three_implementations(review_project, small_svs):
    proj, _ = review_project
    rng = np.random.default_rng(3)
    proj.add_images([small_svs], image_set="labels")  # a second image
    image_ids = [int(i) for i in proj.images()["image_id"]]
    frames = range(10)  # 2 images x 10 frames as items: labels per image and frame
    items = [(i, f) for i in image_ids for f in frames]
    truth = rng.choice(["benign", "malignant"], len(items))
    labels = {user: np.where(rng.random(len(items)) < 0.75, truth, rng.choice(["benign", "malignant"], len(items)))
              for user in ("alice", "bob", "carol")}
    rows = [{"image_id": i, "frame": f, "type": labels[u][k], "creator": u}
            for u in labels for k, (i, f) in enumerate(items)]
    proj.add_annotations(rows)
    table = proj.label_agreement()
    image = table[table["labels"] == "image"].set_index(["statistic", "users"])["value"]
    assert image[("cohen_kappa", "alice, bob")] == pytest.approx(cohen_kappa_score(labels["alice"], labels["bob"]))
    assert image[("cohen_kappa", "bob, carol")] == pytest.approx(cohen_kappa_score(labels["bob"], labels["carol"]))
    matrix = np.array([labels[u] for u in ("alice", "bob", "carol")])
    assert image[("fleiss_kappa", "alice, bob, carol")] == pytest.approx(sm_fleiss(category_counts(matrix)))
    codes = (matrix == "malignant").astype(float)
    assert image[("krippendorff_alpha", "alice, bob, carol")] == pytest.approx(
        krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal"))


def _scattered_boxes(rng, n, size=30.0, spacing=80.0):
    """Boxes on a jittered grid: no two of one user overlap, so greedy and optimal matching agree."""
    side = int(np.ceil(np.sqrt(n)))
    ix, iy = np.divmod(np.arange(n), side)
    x = ix * spacing + rng.uniform(0, 10, n)
    y = iy * spacing + rng.uniform(0, 10, n)
    return np.column_stack([x, y, x + size, y + size])


def _coco_true_positives(gt_bounds, dt_bounds, scores):
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": 5000, "height": 5000}],
        "categories": [{"id": 1, "name": "cell"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": (b[2] - b[0]) * (b[3] - b[1])}
                        for i, b in enumerate(gt_bounds)],
    }
    gt.createIndex()
    dt = gt.loadRes([{"image_id": 1, "category_id": 1, "score": float(s),
                      "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]} for b, s in zip(dt_bounds, scores)])
    ev = COCOeval(gt, dt, "bbox")
    ev.params.iouThrs = np.array([0.5])
    ev.params.maxDets = [len(dt_bounds) + 10]
    ev.params.areaRng = [[0, 1e10]]
    ev.params.areaRngLbl = ["all"]
    ev.evaluate()
    (found,) = [e for e in ev.evalImgs if e is not None]
    return int((found["dtMatches"][0] > 0).sum())


def test_detection_agreement_matches_cocoeval_where_greedy_and_optimal_agree(review_project):
    proj, image_id = review_project
    rng = np.random.default_rng(7)
    gt = _scattered_boxes(rng, 200)
    keep = rng.random(200) < 0.85  # bob misses some
    shift = rng.normal(0, 6, (200, 2))
    dt = (gt + np.hstack([shift, shift]))[keep]
    extra = _scattered_boxes(rng, 20) + 40  # and draws some between alice's
    dt = np.vstack([dt, extra])
    scores = rng.random(len(dt))
    rows = [{"image_id": image_id, "type": "cell", "creator": "alice", "geometry": box(*b)} for b in gt]
    rows += [{"image_id": image_id, "type": "cell", "creator": "bob", "geometry": box(*b), "score": s}
             for b, s in zip(dt, scores)]
    proj.add_annotations(rows)
    table = proj.agreement(types=["cell"])
    row = table.iloc[0]
    tp = _coco_true_positives(gt, dt, scores)
    assert (row.user_a, row.user_b, row.type) == ("alice", "bob", "cell")
    assert 100 < tp < 200
    assert row.tp == tp
    assert row.fn == 200 - tp and row.fp == len(dt) - tp
    assert row.precision == pytest.approx(tp / len(dt))
    assert row.recall == pytest.approx(tp / 200)
    assert row.f1 == pytest.approx(2 * tp / (200 + len(dt)))
    assert 0.5 <= row.mean_iou <= 1.0


def test_crowded_objects_are_matched_one_to_one_optimally_where_coco_is_greedy():
    # a1 overlaps b1 (IoU 0.9) and b2 (0.6); a2 overlaps b1 only (0.6). COCO hands b1 (highest
    # score) its best ground truth a1 and leaves b2 and a2 alone; the optimum pairs a1-b2, a2-b1.
    a = np.array([[0, 0, 100, 100], [30, 0, 130, 100]], dtype=float)
    b = np.array([[5, 0, 105, 100], [-30, 0, 70, 100]], dtype=float)
    found = match("box", a, b, iou=0.5)
    assert sorted(zip(found.a.tolist(), found.b.tolist())) == [(0, 1), (1, 0)]
    assert _coco_true_positives(a, b, scores=[0.9, 0.8]) == 1


def test_polygons_are_matched_on_their_area_iou(review_project):
    proj, image_id = review_project
    tri = Polygon([(0, 0), (100, 0), (0, 100)])
    close = Polygon([(0, 0), (100, 0), (0, 90)])
    proj.add_annotations([
        {"image_id": image_id, "type": "tumour", "creator": "alice", "geometry": tri},
        {"image_id": image_id, "type": "tumour", "creator": "alice", "geometry": Polygon([(300, 0), (400, 0), (300, 100)])},
        {"image_id": image_id, "type": "tumour", "creator": "bob", "geometry": close},
        # the same bounding box as alice's second, but the other half of it: area IoU 1/3
        {"image_id": image_id, "type": "tumour", "creator": "bob", "geometry": Polygon([(300, 0), (400, 0), (400, 100)])},
    ])
    row = proj.agreement(types="tumour").iloc[0]
    assert (row.tp, row.fp, row.fn) == (1, 1, 1)
    assert row.mean_iou == pytest.approx(close.area / tri.area)


def test_points_match_within_the_radius(review_project):
    proj, image_id = review_project
    proj.add_annotations([
        {"image_id": image_id, "type": "nucleus", "creator": "alice", "geometry": Point(100, 100)},
        {"image_id": image_id, "type": "nucleus", "creator": "alice", "geometry": Point(200, 100)},
        {"image_id": image_id, "type": "nucleus", "creator": "bob", "geometry": Point(103, 104)},
        {"image_id": image_id, "type": "nucleus", "creator": "bob", "geometry": Point(200, 130)},
    ])
    row = proj.agreement(types="nucleus", radius=10).iloc[0]
    assert (row.tp, row.fp, row.fn) == (1, 1, 1)
    assert row.mean_distance == pytest.approx(5.0)
    assert np.isnan(row.mean_iou)
    assert proj.agreement(types="nucleus", radius=40).iloc[0].tp == 2
    with pytest.raises(InvalidValueError, match="radius"):
        proj.agreement(types="nucleus")
    with pytest.raises(InvalidValueError, match="benign"):
        proj.agreement(types="benign")


def test_disagreements_are_a_layer_of_unmatched_and_relabelled_objects(review_project):
    proj, image_id = review_project
    proj.add_annotations([
        {"image_id": image_id, "type": "cell", "creator": "alice", "geometry": box(0, 0, 50, 50)},
        {"image_id": image_id, "type": "cell", "creator": "alice", "geometry": box(100, 0, 150, 50)},
        {"image_id": image_id, "type": "mitosis", "creator": "bob", "geometry": box(2, 2, 50, 50)},
        {"image_id": image_id, "type": "cell", "creator": "bob", "geometry": box(400, 0, 450, 50)},
    ])
    rows = proj.disagreements()
    kinds = sorted(zip(rows["kind"], rows["user"], rows["xmin"]))
    assert kinds == [("label differs", "alice", 0.0), ("unmatched", "alice", 100.0), ("unmatched", "bob", 400.0)]
    differs = rows[rows["kind"] == "label differs"].iloc[0]
    assert (differs.type, differs.other_type) == ("cell", "mitosis")
    assert rows["geometry"].iloc[0].geom_type == "Polygon"
    objects = proj.label_agreement()
    cohen = objects[(objects["labels"] == "object") & (objects["statistic"] == "cohen_kappa")].iloc[0]
    assert cohen["items"] == 1


def test_the_agreement_plot_draws_a_bar_per_pair_and_type(review_project):
    import matplotlib

    matplotlib.use("Agg")
    table = pd.DataFrame({"user_a": ["a", "a", "a"], "user_b": ["b", "c", "b"], "type": ["cell", "cell", "mitosis"],
                          "f1": [0.5, 0.75, 0.25], "precision": 1.0, "recall": 1.0, "mean_iou": 1.0})
    proj, _ = review_project
    ax = proj.plot_agreement(table)
    heights = sorted(p.get_height() for p in ax.patches if not np.isnan(p.get_height()))
    assert heights == [0.25, 0.5, 0.75]
    with pytest.raises(InvalidValueError):
        proj.plot_agreement(table, metric="accuracy")


@pytest.mark.parametrize("case", ["small cells", "many boxes", "huge boxes", "points", "touching"])
def test_grid_candidate_pairs_are_the_strtrees(case):
    from exact_lab.review.matching import overlapping_box_pairs

    rng = np.random.default_rng(len(case))
    n, side, size = {"small cells": (500, 3000, 40), "many boxes": (20_000, 40_000, 45),
                     "huge boxes": (400, 3000, 40), "points": (300, 200, 0), "touching": (200, 100, 10)}[case]
    x, y = rng.uniform(0, side, (2, n))
    w, h = rng.uniform(0, size, (2, n))
    if case == "touching":  # integer grid: many rectangles share an edge or a corner exactly
        x, y, w, h = np.floor(x / 10) * 10, np.floor(y / 10) * 10, np.full(n, 10.0), np.full(n, 10.0)
    a = np.column_stack([x, y, x + w, y + h])
    b = a[rng.permutation(n)] + rng.normal(0, 2, (n, 4)) * (case != "touching")
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2])
    if case == "huge boxes":
        b[:3] = [0, 0, side, side]  # cells as large as the slide: the tree answers
    tree = shapely.STRtree(shapely.box(*b.T))
    expected = set(zip(*(v.tolist() for v in tree.query(shapely.box(*a.T)))))
    ia, ib = overlapping_box_pairs(a, b)
    assert len(ia) == len(set(zip(ia.tolist(), ib.tolist()))), "a pair twice"
    assert set(zip(ia.tolist(), ib.tolist())) == expected and expected
