"""Patch datasets: pixels, targets, sampling, manifests, worker processes."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Polygon, box

from exact_lab.datasets.manifest import ManifestMismatchError
from exact_lab.errors import InvalidValueError

SIZE = 64


@pytest.fixture
def shapes_project(project, image_files):
    """Two noise images with boxes (some at the edge of the image) and polygons."""
    project.add_annotation_type("cell", "box")
    project.add_annotation_type("tumour", "polygon")
    paths = image_files(2, 400, 300)
    ids = project.add_images(paths, image_set="all")["image_id"].tolist()
    rows = []
    for image_id in ids:
        rows += [
            {"image_id": image_id, "type": "cell", "geometry": box(40, 40, 60, 70)},
            {"image_id": image_id, "type": "cell", "geometry": box(70, 50, 100, 75)},   # overlaps the first's patch
            {"image_id": image_id, "type": "cell", "geometry": box(380, 280, 400, 300)},  # at the corner
            {"image_id": image_id, "type": "tumour", "geometry": Polygon([(200, 100), (280, 110), (260, 190), (190, 160)])},
        ]
    project.add_annotations(rows)
    project.commit("v1")
    return project, dict(zip(ids, paths))


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def crop_white(array, x0, y0, size):
    """The expected patch: the source pixels, white outside the image."""
    out = np.full((size, size, 3), 255, np.uint8)
    h, w = array.shape[:2]
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(w, x0 + size), min(h, y0 + size)
    out[ys - y0:ye - y0, xs - x0:xe - x0] = array[ys:ye, xs:xe]
    return out


def test_classification_patches_are_the_pixels_centred_on_each_annotation(shapes_project):
    proj, paths = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="classification", patch_size=SIZE)
    assert len(ds) == 8 and ds.classes == ["cell", "tumour"]
    anns = proj.annotations(version="v1").set_index("uuid")
    for i in range(len(ds)):
        patch, label = ds[i]
        row = ds.index.iloc[i]
        ann = anns.loc[row["uuid"]]
        assert patch.shape == (SIZE, SIZE, 3) and patch.dtype == np.uint8
        assert label == ds.classes.index(ann["type"])
        cx, cy = (ann["xmin"] + ann["xmax"]) / 2, (ann["ymin"] + ann["ymax"]) / 2
        x0, y0 = int(round(cx - SIZE / 2)), int(round(cy - SIZE / 2))
        assert np.array_equal(patch, crop_white(pixels(paths[ann["image_id"]]), x0, y0, SIZE))
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_detection_targets_are_the_stored_boxes_clipped_to_the_patch(shapes_project):
    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="detection", patch_size=SIZE, types=["cell"])
    anns = proj.annotations(version="v1", types=["cell"])
    for i in range(len(ds)):
        _, target = ds[i]
        row = ds.index.iloc[i]
        x0, y0 = row["l0_x"], row["l0_y"]
        expected = []
        for ann in anns[anns["image_id"] == row["image_id"]].itertuples():
            bx = np.clip([ann.xmin - x0, ann.ymin - y0, ann.xmax - x0, ann.ymax - y0], 0, SIZE)
            if bx[2] > bx[0] and bx[3] > bx[1]:
                expected.append(bx)
        expected = np.array(sorted(map(tuple, expected)), dtype=np.float32)
        got = np.array(sorted(map(tuple, target["boxes"])), dtype=np.float32)
        assert got.shape == expected.shape and np.allclose(got, expected), (i, got, expected)
        assert (target["labels"] == 0).all()
    # the first box's patch also holds part of the second, clipped at the patch edge
    first = [ds[i][1]["boxes"] for i in range(len(ds)) if len(ds[i][1]["boxes"]) == 2]
    assert first and (first[0] <= SIZE).all() and (first[0] >= 0).all()


def test_segmentation_targets_are_the_polygons_rasterised(shapes_project):
    from skimage.draw import polygon as fill

    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="segmentation", patch_size=96, types=["cell", "tumour"])
    anns = proj.annotations(version="v1")
    checked = 0
    for i in range(len(ds)):
        _, mask = ds[i]
        row = ds.index.iloc[i]
        assert mask.shape == (96, 96) and mask.dtype == np.uint8
        expected = np.zeros((96, 96), np.uint8)
        here = anns[anns["image_id"] == row["image_id"]]
        for ann in sorted(here.itertuples(), key=lambda a: -a.geometry.area):
            xs, ys = np.asarray(ann.geometry.exterior.coords).T
            # skimage samples at integer coordinates: shift by half a pixel for pixel centres
            rr, cc = fill(ys - row["l0_y"] - 0.5, xs - row["l0_x"] - 0.5, shape=(96, 96))
            expected[rr, cc] = ds.classes.index(ann.type) + 1
        differ = mask != expected
        # only pixels whose centres sit on an edge may be decided differently by the two rules
        assert differ.sum() <= 0.02 * max(1, (expected > 0).sum()), (i, differ.sum())
        checked += int((expected == 2).any())
        assert set(np.unique(mask)) <= {0, 1, 2}
    assert checked >= 2  # the tumour polygon was in some patches


def test_grid_random_and_balanced_sampling(shapes_project):
    proj, _ = shapes_project
    grid = proj.dataset(image_set="all", version="v1", patch_size=100, sampling="grid")
    assert len(grid) == 2 * 4 * 3  # 400 x 300 in 100 px tiles
    labels = grid.index["label"].tolist()
    assert labels.count(1) == 2 and labels.count(0) == 2 and labels.count(-1) == 20  # centres in the polygon, a box
    rand = proj.dataset(image_set="all", version="v1", patch_size=50, sampling="random", per_image=5, seed=3)
    again = proj.dataset(image_set="all", version="v1", patch_size=50, sampling="random", per_image=5, seed=3)
    other = proj.dataset(image_set="all", version="v1", patch_size=50, sampling="random", per_image=5, seed=4)
    assert len(rand) == 10 and rand.index.equals(again.index) and not rand.index.equals(other.index)
    assert (rand.index["l0_x"] <= 350).all() and (rand.index["l0_y"] <= 250).all()
    balanced = proj.dataset(image_set="all", version="v1", patch_size=32, sampling="balanced", seed=0)
    assert balanced.index.groupby("label").size().tolist() == [6, 6]  # 6 cells, 2 tumours drawn 6 times


def test_min_verifications_keeps_only_accepted_annotations(shapes_project):
    proj, _ = shapes_project
    uuids = proj.annotations(types=["cell"])["uuid"].tolist()
    proj.verify(uuids[:3], verified=True)
    proj.verify(uuids[:1], verified=True, user="bob")
    proj.verify(uuids[3:4], verified=False, user="bob")
    assert set(proj.dataset(min_verifications=1, types=["cell"]).index["uuid"]) == set(uuids[:3])
    assert set(proj.dataset(min_verifications=2, types=["cell"]).index["uuid"]) == set(uuids[:1])


def test_scale_by_mpp_reads_the_right_extent(project, small_svs):
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    project.add_annotation_type("cell", "box")
    project.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(1000, 1000, 1100, 1100)}])
    ds = project.dataset(kind="classification", patch_size=128, mpp=1.0)
    patch, _ = ds[0]
    scale = 1.0 / project.image(image_id)["mpp"]
    assert patch.shape == (128, 128, 3) and ds.images[image_id].scale == pytest.approx(scale)
    from exact_lab.slides import open_slide

    extent = 128 * scale
    x0, y0 = ds.index["l0_x"].iloc[0], ds.index["l0_y"].iloc[0]
    region = open_slide(small_svs).read_region((int(x0), int(y0)), 0, (int(np.ceil(extent)),) * 2).convert("RGB")
    expected = np.asarray(region.resize((128, 128), Image.Resampling.BILINEAR, box=(0, 0, extent, extent)))
    assert np.abs(patch.astype(int) - expected.astype(int)).mean() < 1.0
    png = project.add_images([write_png_somewhere(project)])
    with pytest.raises(InvalidValueError, match="no microns per pixel"):
        project.dataset(images=png["image_id"].tolist(), mpp=1.0)


def write_png_somewhere(project):
    from pathlib import Path

    from .conftest import write_png

    return write_png(Path(project.location).parent / "plain.png", 50, 50)


def patch_digest(ds) -> str:
    digest = hashlib.sha256()
    for i in range(len(ds)):
        patch, target = ds[i]
        digest.update(patch.tobytes())
        digest.update(json.dumps(target if isinstance(target, int) else
                                 {k: np.asarray(v).tolist() for k, v in target.items()}).encode())
    return digest.hexdigest()


CHILD = """
import hashlib, json, sys
import numpy as np
import exact_lab as xl
sys.path.insert(0, {tests!r})
from datasets.test_dataset import patch_digest
proj = xl.open_project({location!r}, user="bob")
ds = proj.dataset(manifest={manifest!r})
print(patch_digest(ds))
"""


def test_the_same_manifest_gives_the_same_patch_bytes_in_another_process(shapes_project, tmp_path):
    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="detection", patch_size=SIZE, sampling="random",
                      per_image=6, seed=11)
    manifest = ds.save_manifest(tmp_path / "manifest.json")
    data = json.loads(open(manifest).read())
    assert data["snapshot"] == ds.snapshot and data["version"] == "v1" and data["count"] == 12
    assert [img["checksum"] for img in data["images"]] == proj.images(image_set="all")["checksum"].tolist()
    proj.add_annotations([{"image_id": int(ds.index["image_id"].iloc[0]), "type": "cell", "geometry": box(0, 0, 300, 300)}])
    from pathlib import Path

    script = CHILD.format(tests=str(Path(__file__).parent.parent), location=proj.location, manifest=manifest)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == patch_digest(ds)  # the later edit is not in it


def test_a_manifest_that_no_longer_matches_is_refused(shapes_project, tmp_path):
    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", sampling="random", per_image=4)
    tampered = dict(ds.manifest, parameters=dict(ds.manifest["parameters"], seed=99))
    with pytest.raises(ManifestMismatchError, match="index hashes"):
        proj.dataset(manifest=tampered)
    assert proj.dataset(manifest=ds.manifest).index.equals(ds.index)
    with pytest.raises(InvalidValueError, match="not a dataset manifest"):
        proj.dataset(manifest={"format": "other"})


def test_the_manifest_attaches_to_its_version(shapes_project):
    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1")
    record = proj.attach_dataset(ds)
    artifacts = proj.artifacts("v1")
    assert artifacts["name"].tolist() == ["dataset-manifest.json"] and artifacts["meta"].iloc[0]["count"] == len(ds)
    again = proj.dataset(manifest=record["path"])
    assert patch_digest(again) == patch_digest(ds)


_SHARED = None


def _read_in_worker(i):
    patch, target = _SHARED[i]
    return i, hashlib.sha256(patch.tobytes()).hexdigest(), target


def test_worker_processes_after_fork_read_the_same_patches(shapes_project):
    global _SHARED
    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="classification", patch_size=SIZE)
    _SHARED = ds
    try:  # nothing read in this process yet: the fork hook opens the slides, the workers read them
        with multiprocessing.get_context("fork").Pool(2) as pool:
            forked = sorted(pool.map(_read_in_worker, range(len(ds)), chunksize=1))
    finally:
        _SHARED = None
    expected = [(i, hashlib.sha256(ds[i][0].tobytes()).hexdigest(), ds[i][1]) for i in range(len(ds))]
    assert forked == expected
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # pickled: no open slide travels
        spawned = pool.map(ds.__getitem__, [0, 5])
    assert all(np.array_equal(a[0], ds[i][0]) for a, i in zip(spawned, [0, 5]))


def test_a_torch_dataloader_with_two_workers(shapes_project):
    torch = pytest.importorskip("torch", reason="torch is optional (pip install torch==2.13.0)")
    from torch.utils.data import DataLoader

    proj, _ = shapes_project
    ds = proj.dataset(image_set="all", version="v1", kind="classification", patch_size=SIZE)
    loader = DataLoader(ds, batch_size=3, num_workers=2, shuffle=False)
    patches, labels = zip(*loader)
    patches, labels = torch.cat(patches).numpy(), torch.cat(labels).numpy()
    assert patches.shape == (len(ds), SIZE, SIZE, 3)
    assert all(np.array_equal(patches[i], ds[i][0]) and labels[i] == ds[i][1] for i in range(len(ds)))


def test_exports_hold_the_patches_and_targets_with_the_manifest(shapes_project, tmp_path):
    import pyarrow.parquet as pq

    proj, _ = shapes_project
    det = proj.dataset(image_set="all", version="v1", kind="detection", patch_size=SIZE, types=["cell"])
    folder = tmp_path / "yolo"
    det.export(folder, format="yolo")
    for i in range(len(det)):
        patch, target = det[i]
        assert np.array_equal(np.asarray(Image.open(folder / "images" / f"{i:06d}.png")), patch)
        lines = (folder / "labels" / f"{i:06d}.txt").read_text().split("\n")[:-1]
        assert len(lines) == len(target["boxes"])
        for line, (x0, y0, x1, y1) in zip(lines, target["boxes"]):
            _, cx, cy, w, h = map(float, line.split())
            assert np.allclose([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.array([x0, y0, x1, y1]) / SIZE, atol=1e-5)
    assert json.loads((folder / "manifest.json").read_text())["index_sha256"] == det.manifest["index_sha256"]
    coco = json.loads(open(det.export(tmp_path / "coco", format="coco") + "/annotations.json").read())
    assert len(coco["annotations"]) == sum(len(det[i][1]["boxes"]) for i in range(len(det)))
    assert [c["name"] for c in coco["categories"]] == ["cell"]
    cls = proj.dataset(image_set="all", version="v1", patch_size=SIZE)
    cls.export(tmp_path / "folder")
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["cell", "manifest.json", "tumour"]
    assert len(list((tmp_path / "folder" / "cell").iterdir())) == 6
    seg = proj.dataset(image_set="all", version="v1", kind="segmentation", patch_size=SIZE)
    table = pq.read_table(seg.export(tmp_path / "pq", format="parquet") + "/patches.parquet").to_pandas()
    assert len(table) == len(seg)
    assert np.array_equal(np.asarray(Image.open(__import__("io").BytesIO(table["mask_png"].iloc[7]))), seg[7][1])
    with pytest.raises(InvalidValueError, match="export format"):
        seg.export(tmp_path / "x", format="tfrecord")
