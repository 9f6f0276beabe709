"""Mask tiles in DuckLake's files: one set_mask is one snapshot and one data file with its whole
pyramid, a brush stroke stays in the catalog, region reads equal numpy slicing at every level, and
old versions stay readable after the files are merged."""

from __future__ import annotations

import numpy as np

from exact_lab.masks.tiles import TILE, downsample


def snapshot_id(proj) -> int:
    return int(proj.sql("SELECT id FROM lake.current_snapshot()").fetchone()[0])


def mask_files_added(proj, snapshot: int) -> int:
    return int(proj.sql(
        "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file f "
        "JOIN __ducklake_metadata_lake.ducklake_table t USING (table_id) "
        "WHERE t.table_name = 'mask_tiles' AND f.begin_snapshot = ?", [snapshot]).fetchone()[0])


def test_one_set_mask_is_one_snapshot_and_one_data_file_with_its_pyramid(labelled):
    proj, image_id, tumour, stroma = labelled
    rng = np.random.default_rng(5)
    block = rng.choice([0, tumour, stroma], size=(1200, 1500), p=[0.5, 0.3, 0.2]).astype(np.uint8)
    block[:, :700] = tumour  # runs as well as noise
    before = snapshot_id(proj)
    proj.set_mask(image_id, block, offset=(300, 700))
    after = snapshot_id(proj)
    assert after == before + 1
    levels = {lv for (lv,) in proj.sql("SELECT DISTINCT level FROM mask_tiles").fetchall()}
    assert levels == {0, 1, 2, 3}
    assert mask_files_added(proj, after) == 1  # all four levels' tiles in one Parquet file


def test_a_brush_stroke_stays_inlined_in_the_catalog(labelled):
    proj, image_id, tumour, _ = labelled
    proj.paint_stroke(image_id, [(100.0, 100.0), (140.0, 120.0)], 10, "tumour")
    proj.flush()
    assert mask_files_added(proj, snapshot_id(proj)) == 0
    assert (proj.mask(image_id, region=(100, 100, 140, 120)) == tumour).any()


def test_region_reads_equal_numpy_slicing_of_what_was_written_at_every_level(labelled):
    proj, image_id, tumour, stroma = labelled
    width, height = 2220, 2967
    truth = np.zeros((height, width), np.uint8)
    rng = np.random.default_rng(6)
    for _ in range(4):
        h, w = (int(v) for v in rng.integers(200, 900, 2))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        patch = np.where(rng.random((h, w)) < 0.7, tumour, stroma).astype(np.uint8)
        patch[: h // 2] = rng.choice([0, tumour])
        proj.set_mask(image_id, patch, offset=(x, y))
        truth[y:y + h, x:x + w] = patch
    for x0, y0, x1, y1 in [(0, 0, width, height), (511, 513, 1537, 2049), (1000, 7, 1001, 2900)]:
        assert np.array_equal(proj.mask(image_id, region=(x0, y0, x1, y1)), truth[y0:y1, x0:x1])
    # every level is the downsampling rule applied to level 0, tile by tile
    level = truth
    for k in range(1, 4):
        padded = np.zeros((-(-level.shape[0] // TILE) * TILE + TILE, -(-level.shape[1] // TILE) * TILE + TILE), np.uint8)
        padded[:level.shape[0], :level.shape[1]] = level
        rows, cols = padded.shape[0] // (2 * TILE), padded.shape[1] // (2 * TILE)
        up = np.zeros((rows * TILE, cols * TILE), np.uint8)
        for ty in range(rows):
            for tx in range(cols):
                children = {(dx, dy): padded[(2 * ty + dy) * TILE:(2 * ty + dy + 1) * TILE,
                                             (2 * tx + dx) * TILE:(2 * tx + dx + 1) * TILE]
                            for dy in (0, 1) for dx in (0, 1)}
                up[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE] = downsample(children)
        lk_w, lk_h = -(-width // (1 << k)), -(-height // (1 << k))
        level = up[:lk_h, :lk_w]
        assert np.array_equal(proj.mask(image_id, region=(0, 0, width, height), level=k), level), f"level {k}"


def test_old_versions_stay_readable_after_maintain(labelled):
    proj, image_id, tumour, stroma = labelled
    first = np.full((600, 900), tumour, np.uint8)
    proj.set_mask(image_id, first, offset=(100, 200))
    proj.commit("v1")
    proj.set_mask(image_id, np.full((300, 300), stroma, np.uint8), offset=(400, 400))
    proj.paint_stroke(image_id, [(150.0, 250.0)], 20, None)
    proj.commit("v2")
    now = proj.mask(image_id, region=(0, 0, 2220, 2967))
    proj.maintain()
    assert np.array_equal(proj.mask(image_id, region=(100, 200, 1000, 800), version="v1"), first)
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 2220, 2967)), now)
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 2220, 2967), version="v2"), now)
    proj.restore("v1")
    assert np.array_equal(proj.mask(image_id, region=(100, 200, 1000, 800)), first)
    assert int(np.count_nonzero(proj.mask(image_id, region=(0, 0, 2220, 2967)))) == first.size
