"""Segmentation targets from painted pixel labels (vector type ``mask``) and area annotations."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from shapely.geometry import Polygon

PATCH = 100


@pytest.fixture
def painted_project(project, image_files):
    """One 400 x 300 image: stroma painted over the left half (v1), then grown and a necrosis
    patch added (v2); a tumour polygon (integer corners, so no pixel centre lies on an edge)
    across the painted border."""
    stroma = int(project.add_annotation_type("stroma", "mask"))
    necrosis = int(project.add_annotation_type("necrosis", "mask"))
    project.add_annotation_type("tumour", "polygon")
    (path,) = image_files(1, 400, 300)
    image_id = int(project.add_images([path], image_set="all")["image_id"].iloc[0])
    first = np.zeros((300, 400), np.uint16)
    first[:, :200] = stroma
    project.set_mask(image_id, first)
    project.add_annotations([{"image_id": image_id, "type": "tumour",
                              "geometry": Polygon([(150, 40), (260, 40), (260, 120), (210, 120), (210, 170), (150, 170)])}])
    project.commit("v1")
    second = first.copy()
    second[:, 200:260] = stroma
    second[200:280, 300:390] = necrosis
    project.set_mask(image_id, second)
    project.commit("v2")
    return project, image_id


def expected_target(proj, image_id, row, version, classes):
    """The stored mask at ``version`` mapped to the dataset's classes, the polygon filled over it."""
    from skimage.draw import polygon as fill

    x0, y0 = int(row["l0_x"]), int(row["l0_y"])
    stored = proj.mask(image_id, region=(x0, y0, x0 + PATCH, y0 + PATCH), version=version)
    names = dict(zip(proj.annotation_types()["type_id"], proj.annotation_types()["name"]))
    out = np.zeros((PATCH, PATCH), np.uint8)
    for type_id in np.unique(stored[stored > 0]):
        if names[int(type_id)] in classes:
            out[stored == type_id] = classes.index(names[int(type_id)]) + 1
    for ann in proj.annotations(image=image_id, version=version).itertuples():
        xs, ys = np.asarray(ann.geometry.exterior.coords).T
        # skimage samples at integer coordinates: shift by half a pixel for pixel centres
        rr, cc = fill(ys - y0 - 0.5, xs - x0 - 0.5, shape=(PATCH, PATCH))
        out[rr, cc] = classes.index(ann.type) + 1
    return out


def test_segmentation_target_is_the_stored_mask_with_the_polygon_over_it(painted_project):
    proj, image_id = painted_project
    ds = proj.dataset(image_set="all", version="v2", kind="segmentation", patch_size=PATCH, sampling="grid")
    assert ds.classes == ["stroma", "necrosis", "tumour"]  # painted types count as present, in sort order
    assert len(ds) == 12
    seen = set()
    for i in range(len(ds)):
        _, target = ds[i]
        expected = expected_target(proj, image_id, ds.index.iloc[i], "v2", ds.classes)
        assert target.dtype == np.uint8 and np.array_equal(target, expected), i
        seen |= set(np.unique(target).tolist())
    assert seen == {0, 1, 2, 3}
    # where the polygon covers painted stroma, the polygon's class wins
    patch = ds.index[(ds.index["l0_x"] == 100) & (ds.index["l0_y"] == 0)].index[0]
    target = ds[int(patch)][1]
    assert target[50, 60] == ds.classes.index("tumour") + 1   # (160, 50): inside both
    assert target[50, 40] == ds.classes.index("stroma") + 1   # (140, 50): painted only


def test_segmentation_target_at_an_older_version_is_the_old_mask(painted_project):
    proj, image_id = painted_project
    old = proj.dataset(image_set="all", version="v1", kind="segmentation", patch_size=PATCH, sampling="grid")
    assert old.classes == ["stroma", "tumour"]  # no necrosis painted yet
    for i in range(len(old)):
        expected = expected_target(proj, image_id, old.index.iloc[i], "v1", old.classes)
        assert np.array_equal(old[i][1], expected), i
    # the stroma grown in v2 (x 200..260) is background at v1
    patch = old.index[(old.index["l0_x"] == 200) & (old.index["l0_y"] == 200)].index[0]
    assert not old[int(patch)][1][:, :60].any()


def test_segmentation_targets_read_no_store_once_built_and_leave_out_unlisted_mask_types(painted_project):
    proj, image_id = painted_project
    ds = proj.dataset(image_set="all", version="v2", kind="segmentation", patch_size=PATCH, sampling="grid",
                      types=["tumour", "necrosis"])
    wanted = [expected_target(proj, image_id, ds.index.iloc[i], "v2", ds.classes) for i in range(len(ds))]
    copy = pickle.loads(pickle.dumps(ds))  # what a spawned worker gets
    proj.close()
    for i in range(len(copy)):
        assert np.array_equal(copy[i][1], wanted[i]), i
    assert set(np.unique(np.concatenate([w.ravel() for w in wanted]))) == {0, 1, 2}  # stroma is background


def test_mask_tiles_regions_equal_mask_reads(painted_project):
    proj, image_id = painted_project
    tiles = proj.mask_tiles(image_id, version="v1")
    for box in [(0, 0, 400, 300), (190, 10, 230, 290), (-20, -5, 30, 40)]:
        got = tiles.region(box)
        clipped = (max(box[0], 0), max(box[1], 0), box[2], box[3])
        want = proj.mask(image_id, region=clipped, version="v1")
        assert np.array_equal(got[clipped[1] - box[1]:, clipped[0] - box[0]:], want)
        assert not got[:clipped[1] - box[1]].any() and not got[:, :clipped[0] - box[0]].any()
    assert tiles.classes() == {int(proj.mask_class("stroma"))}


def test_a_coarser_patch_scale_samples_the_mask_pyramid_level_below_it(project, image_files):
    from exact_lab.datasets.targets import PixelLabels

    stroma = int(project.add_annotation_type("stroma", "mask"))
    (path,) = image_files(1, 1300, 700)
    image_id = int(project.add_images([path])["image_id"].iloc[0])
    painted = np.zeros((700, 1300), np.uint8)
    painted[100:650, 300:1250] = stroma
    painted[::7, ::5] = 0  # fine holes: a nearest-pixel sample would shift them
    project.set_mask(image_id, painted)
    level1 = project.mask_tiles(image_id, level=1)
    lookup = np.zeros(stroma + 2, np.int64)
    lookup[stroma] = 1
    labels = PixelLabels({0: level1}, lookup)
    got = labels.patch(0, 400, 200, 2.0, 300, np.uint8)  # level-0 400..1000: a patch pixel is 2 x 2
    want = project.mask(image_id, region=(400, 200, 1000, 700), level=1)
    assert np.array_equal(got[:250], (want == stroma).astype(np.uint8))
    assert not got[250:].any()  # below the image
