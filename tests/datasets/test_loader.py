"""The patch loader: the bytes and targets of ``ds[i]`` in the documented order with 0 and 2
workers, and workers and shared memory gone after a full pass, an early break, an exception in
the consumer, a failing read and a killed worker."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from exact_lab.datasets.affinity import TileAffinity
from exact_lab.datasets.loader import PatchLoader
from exact_lab.errors import InvalidValueError, PatchLoaderError

SIZE = 48


@pytest.fixture
def boxes_project(project, image_files):
    """Two noise images with 23 boxes and a polygon: batches of 4 leave a last batch of 3."""
    project.add_annotation_type("cell", "box")
    project.add_annotation_type("tumour", "polygon")
    ids = project.add_images(image_files(2, 400, 300), image_set="all")["image_id"].tolist()
    rows = [{"image_id": ids[k % 2], "type": "cell", "geometry": box(12 * k, 9 * k, 12 * k + 20, 9 * k + 15)}
            for k in range(22)]
    rows.append({"image_id": ids[0], "type": "tumour", "geometry": Polygon([(200, 100), (280, 110), (260, 190)])})
    project.add_annotations(rows)
    project.commit("v1")
    return project


def dataset(proj, kind="classification"):
    return proj.dataset(image_set="all", version="v1", kind=kind, patch_size=SIZE)


def delivered(loader):
    patches, targets = [], []
    for batch, batch_targets in loader:
        patches.append(batch)
        targets += list(batch_targets)
    return np.concatenate(patches), targets


def alive(pid: int) -> bool:
    """True while the process exists, zombie included (a zombie keeps its /proc entry)."""
    return os.path.exists(f"/proc/{pid}")


def shared_mappings() -> int:
    """This process's shared anonymous mappings (how Linux shows an ``mmap(-1)``)."""
    with open("/proc/self/maps") as maps:
        return sum("/dev/zero (deleted)" in line for line in maps)


@pytest.mark.parametrize("workers, split", [(0, "tiles"), (2, "tiles"), (2, "batches")])
def test_batches_hold_the_bytes_and_labels_of_ds_i_in_index_order(boxes_project, workers, split):
    ds = dataset(boxes_project)
    loader = ds.batches(batch_size=4, workers=workers, split=split)
    sizes = [len(patches) for patches, _ in loader]
    assert sizes == [4] * 5 + [3] and len(loader) == 6
    patches, labels = delivered(loader)
    assert patches.dtype == np.uint8 and patches.shape == (len(ds), SIZE, SIZE, 3)
    for i in range(len(ds)):
        assert np.array_equal(patches[i], ds[i][0]), f"patch {i}"
        assert labels[i] == ds[i][1]


def test_a_shuffled_pass_follows_its_documented_order_and_the_seed(boxes_project):
    ds = dataset(boxes_project)
    loader = PatchLoader(ds, batch_size=5, workers=2, shuffle=True, seed=3, drop_last=True)
    first, second = loader.order(0), loader.order(1)
    assert sorted(first) == list(range(len(ds))) and not np.array_equal(first, second)
    assert np.array_equal(first, PatchLoader(ds, shuffle=True, seed=3).order(0))
    patches, labels = delivered(loader)  # pass 0; drop_last leaves out the last 3 of 23
    assert len(patches) == 20
    for row, i in enumerate(first[:20]):
        assert np.array_equal(patches[row], ds[int(i)][0]) and labels[row] == ds[int(i)][1]
    again, _ = delivered(loader)  # pass 1
    assert np.array_equal(again[0], ds[int(second[0])][0])


def test_detection_and_segmentation_targets_come_collated(boxes_project):
    detection = dataset(boxes_project, "detection")
    _, boxes = next(iter(detection.batches(4, workers=2)))
    assert [sorted(b) for b in boxes] == [["boxes", "labels"]] * 4
    assert all(np.array_equal(b["boxes"], detection[i][1]["boxes"]) for i, b in enumerate(boxes))
    segmentation = dataset(boxes_project, "segmentation")
    _, masks = next(iter(segmentation.batches(4, workers=2)))
    assert masks.shape == (4, SIZE, SIZE)
    assert all(np.array_equal(masks[i], segmentation[i][1]) for i in range(4))


def test_getitems_is_the_items_one_by_one(boxes_project):
    ds = dataset(boxes_project)
    items = ds.__getitems__([3, 0, 3])
    assert [t for _, t in items] == [ds[3][1], ds[0][1], ds[3][1]]
    assert all(np.array_equal(p, ds[i][0]) for (p, _), i in zip(items, [3, 0, 3]))


def test_an_early_break_stops_and_reaps_the_workers_and_unmaps_the_ring(boxes_project):
    ds = dataset(boxes_project)
    before = shared_mappings()
    batches = iter(ds.batches(batch_size=2, workers=2))
    next(batches)
    pids = batches.pids
    assert len(pids) == 2 and all(alive(pid) for pid in pids) and shared_mappings() == before + 1
    for _ in batches:
        break  # the consumer leaves with batches still on order
    del batches
    assert not any(alive(pid) for pid in pids)
    assert shared_mappings() == before


def test_an_exception_in_the_consumer_leaves_no_worker_and_no_mapping(boxes_project):
    ds = dataset(boxes_project)
    before, shm = shared_mappings(), set(os.listdir("/dev/shm"))
    batches = iter(ds.batches(batch_size=2, workers=2))
    with pytest.raises(RuntimeError, match="consumer failed"):
        for _ in batches:
            raise RuntimeError("consumer failed")
    del batches  # as when the failing function returns
    assert shared_mappings() == before and set(os.listdir("/dev/shm")) == shm


def test_close_stops_a_pass_still_held(boxes_project):
    ds = dataset(boxes_project)
    before = shared_mappings()
    with ds.batches(batch_size=2, workers=2) as loader:
        held = iter(loader)
        next(held)
    assert not any(alive(pid) for pid in held.pids) and shared_mappings() == before
    assert list(held) == []


def test_two_passes_at_once_each_stop_on_their_own(boxes_project):
    ds = dataset(boxes_project)
    first, second = iter(ds.batches(batch_size=2, workers=2)), iter(ds.batches(batch_size=3, workers=2))
    for (a, _), (b, _) in zip(first, second):
        assert np.array_equal(a[0], ds[0][0]) and np.array_equal(b[0], ds[0][0])
        break
    first.close()  # the second pass's workers hold no end of the first's pipes
    second.close()
    assert first.exitcodes == [0, 0] and second.exitcodes == [0, 0]


def test_a_failing_read_names_the_patch_and_stops_the_workers(boxes_project, monkeypatch):
    ds = dataset(boxes_project)
    original = ds.patch
    monkeypatch.setattr(ds, "patch", lambda i: (_ for _ in ()).throw(OSError("disk gone")) if i == 9 else original(i))
    batches = iter(ds.batches(batch_size=4, workers=2))
    pids = batches.pids
    with pytest.raises(PatchLoaderError, match=r"batch 2: patch 9 of image \d+ \(.*img0\d\.png\): OSError: disk gone"):
        list(batches)
    assert not any(alive(pid) for pid in pids)


def test_a_killed_worker_is_an_error_naming_it(boxes_project):
    ds = dataset(boxes_project)
    batches = iter(ds.batches(batch_size=1, workers=2, split="batches", prefetch=1))
    next(batches)
    os.kill(batches.pids[1], signal.SIGKILL)
    with pytest.raises(PatchLoaderError, match="loader worker 1 .* died with exit code -9"):
        list(batches)
    assert not any(alive(pid) for pid in batches.pids)


def test_bad_settings_are_refused_by_name(boxes_project):
    ds = dataset(boxes_project)
    with pytest.raises(InvalidValueError, match="batch_size"):
        ds.batches(batch_size=0)
    with pytest.raises(InvalidValueError, match="split 'rows'"):
        ds.batches(split="rows")


def test_patch_tiles_are_the_stored_tiles_under_the_patch(boxes_project):
    ds = dataset(boxes_project)
    for i in range(len(ds)):  # PNG images have no stored grid: 256 px tiles
        image_id, l0_x, l0_y = (ds.index[c].iloc[i] for c in ("image_id", "l0_x", "l0_y"))
        cols = range(int(l0_x // 256), int((l0_x + SIZE - 1) // 256) + 1)
        rows = range(int(l0_y // 256), int((l0_y + SIZE - 1) // 256) + 1)
        assert ds.patch_tiles(i) == [(image_id, 0, 0, c, r) for r in rows for c in cols]


def test_affinity_keeps_patches_on_shared_tiles_together_within_the_slack():
    affinity = TileAffinity(2, slack=2)
    left, right = [("a", 0), ("a", 1)], [("a", 8), ("a", 9)]
    chosen = [affinity.assign(tiles) for tiles in [left, right, left, right, left, right]]
    assert chosen == [0, 1, 0, 1, 0, 1]
    crowded = [affinity.assign(left) for _ in range(6)]  # all on worker 0's tiles: the slack hands some over
    assert set(crowded) == {0, 1} and max(affinity.loads) - min(affinity.loads) <= 2


def test_on_a_tiled_slide_the_workers_tile_caches_give_the_bytes_of_ds_i(project, small_svs):
    project.add_images([small_svs], image_set="all")
    ds = project.dataset(image_set="all", sampling="random", per_image=60, patch_size=128, seed=1)
    patches, _ = delivered(ds.batches(batch_size=8, workers=2))  # tiles wanted again: cached at first demand
    for i in range(len(ds)):
        assert np.array_equal(patches[i], ds[i][0]), f"patch {i}"


def test_torch_fetches_a_batch_with_getitems(boxes_project, monkeypatch):
    pytest.importorskip("torch", reason="torch is optional (pip install torch==2.13.0)")
    from torch.utils.data import DataLoader

    ds = dataset(boxes_project)
    asked = []
    getitems = type(ds).__getitems__
    monkeypatch.setattr(type(ds), "__getitems__", lambda self, indices: asked.append(list(indices)) or getitems(self, indices))
    patches, labels = next(iter(DataLoader(ds, batch_size=4, num_workers=0)))
    assert asked == [[0, 1, 2, 3]]
    assert all(np.array_equal(patches[i].numpy(), ds[i][0]) and labels[i] == ds[i][1] for i in range(4))
