"""Mask storage benchmark: the label image of a 100,000 x 80,000 slide with 5 % painted, stored
in the project (zstd tiles in DuckLake, with the pyramid above level 0) beside the same label
image as a zarr array with zstd chunks of the same size (numcodecs' Zstd, level 3), in one run.

    python benchmarks/masks.py [--width 100000] [--height 80000] [--painted 0.05] [--reads 10]
    python benchmarks/masks.py --brush [--seconds 3]     # brush frame rate in Chromium (masks_brush.py)

Painted areas are blobs (smoothed noise, thresholded into two classes) over 4,096 px blocks
chosen at random until 5 % of the slide is labelled. Prints bytes on disk, the time to write,
the median time to read a 4,096 px region, and the ratio zarr / exact-lab (> 1: we are better).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

BLOCK = 4096


def blobs(rng, tumour, stroma) -> np.ndarray:
    noise = ndimage.zoom(rng.standard_normal((64, 64)).astype(np.float32), BLOCK / 64, order=1)
    out = np.zeros((BLOCK, BLOCK), np.uint8)
    out[noise > 0.35] = tumour
    out[noise < -0.9] = stroma
    return out


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def where_bytes_go(proj, root: Path) -> dict[str, int]:
    """Live tile bytes at level 0 and above, tile versions kept for time travel (rows of the
    table's data files no longer current), the data files' own overhead and delete files, and
    the catalog file."""
    import pyarrow.parquet as pq

    live = dict(proj.sql("SELECT level = 0, sum(octet_length(data)) FROM mask_tiles GROUP BY 1").fetchall())
    level0, above = int(live.get(True, 0)), int(live.get(False, 0))
    parquet = list((root / "data" / "main" / "mask_tiles").glob("*.parquet"))
    in_files = sum(sum(len(v) for v in pq.read_table(f, columns=["data"])["data"].to_pylist())
                   for f in parquet if "data" in pq.read_schema(f).names)  # delete files hold positions only
    live_files = int(proj.sql("SELECT count(*) FROM ducklake_list_files('lake', 'mask_tiles')").fetchone()[0])
    return {"level0": level0, "pyramid": above,
            "older versions": max(in_files - level0 - above, 0),
            "parquet overhead and delete files": sum(f.stat().st_size for f in parquet) - in_files,
            "catalog.sqlite": (root / "catalog.sqlite").stat().st_size,
            "data files now": live_files}


def zarr_pyramid(proj, path: Path, width: int, height: int, tile: int) -> int:
    """Bytes of levels 1+ of the project's label image as zarr arrays (same chunks and codec)."""
    import zarr

    from exact_lab.masks.tiles import decode_tile, top_level

    total = 0
    for level in range(1, top_level(width, height) + 1):
        w, h = -(-width // (1 << level)), -(-height // (1 << level))
        z = zarr.create_array(store=str(path / str(level)), shape=(h, w), chunks=(tile, tile), dtype="uint8",
                              fill_value=0, compressors=zarr.codecs.ZstdCodec(level=3))
        for (tx, ty), data in proj.mask_tiles(1, level=level).tiles.items():
            t = decode_tile(data)
            y1, x1 = min((ty + 1) * tile, h), min((tx + 1) * tile, w)
            z[ty * tile:y1, tx * tile:x1] = t[:y1 - ty * tile, :x1 - tx * tile]
        total += folder_bytes(path / str(level))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=100_000)
    ap.add_argument("--height", type=int, default=80_000)
    ap.add_argument("--painted", type=float, default=0.05)
    ap.add_argument("--reads", type=int, default=10)
    ap.add_argument("--brush", action="store_true", help="measure brush painting in headless Chromium instead")
    ap.add_argument("--seconds", type=float, default=3.0, help="--brush: length of each drag")
    args = ap.parse_args()
    if args.brush:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from masks_brush import main as brush

        raise SystemExit(brush(args.seconds))

    import zarr

    import exact_lab as xl
    from exact_lab.masks.tiles import TILE

    tmp = Path(tempfile.mkdtemp(prefix="mask-bench-"))
    proj = xl.open_project(tmp / "project", user="bench")
    tumour = proj.add_annotation_type("tumour", "mask")
    stroma = proj.add_annotation_type("stroma", "mask")
    # A slide of this size is not in the test data: the benchmark records the image row itself.
    proj._write(lambda con: con.execute(
        "INSERT INTO images (image_id, name, width, height, levels, frames, mpp) VALUES (1, 'big', ?, ?, 1, 1, 0.25)",
        [args.width, args.height]), "benchmark image")
    base_bytes = folder_bytes(tmp / "project")

    z = zarr.create_array(store=str(tmp / "mask.zarr"), shape=(args.height, args.width), chunks=(TILE, TILE),
                          dtype="uint8", fill_value=0, compressors=zarr.codecs.ZstdCodec(level=3))

    rng = np.random.default_rng(0)
    cols, rows = args.width // BLOCK, args.height // BLOCK
    order = rng.permutation(cols * rows)
    target = args.painted * args.width * args.height
    painted, blocks, t_ours, t_zarr = 0, [], 0.0, 0.0
    for k in order:
        if painted >= target:
            break
        bx, by = int(k % cols) * BLOCK, int(k // cols) * BLOCK
        labels = blobs(rng, tumour, stroma)
        painted += int(np.count_nonzero(labels))
        blocks.append((bx, by))
        t0 = time.perf_counter()
        proj.set_mask(1, labels, offset=(bx, by))
        t1 = time.perf_counter()
        z[by:by + BLOCK, bx:bx + BLOCK] = labels
        t2 = time.perf_counter()
        t_ours += t1 - t0
        t_zarr += t2 - t1
    proj.maintain()  # merge the per-call Parquet files, as a project's housekeeping does

    ours_total = folder_bytes(tmp / "project") - base_bytes
    level0 = int(proj.sql("SELECT sum(octet_length(data)) FROM mask_tiles WHERE level = 0").fetchone()[0])
    zarr_bytes = folder_bytes(tmp / "mask.zarr")
    parts = where_bytes_go(proj, tmp / "project")
    # The same pyramid as zarr arrays (one per level, same chunks and codec): zarr then holds
    # what the project holds, the display's downsampled levels included.
    t0 = time.perf_counter()
    pyramid_zarr = zarr_pyramid(proj, tmp / "pyramid.zarr", args.width, args.height, TILE)
    t_zarr_pyramid = time.perf_counter() - t0

    reads_ours, reads_zarr = [], []
    for i in range(args.reads):
        bx, by = blocks[i % len(blocks)]
        x, y = bx + int(rng.integers(0, BLOCK)) - BLOCK // 2, by + int(rng.integers(0, BLOCK)) - BLOCK // 2
        x, y = min(max(x, 0), args.width - BLOCK), min(max(y, 0), args.height - BLOCK)
        t0 = time.perf_counter()
        a = proj.mask(1, region=(x, y, x + BLOCK, y + BLOCK))
        t1 = time.perf_counter()
        b = z[y:y + BLOCK, x:x + BLOCK]
        t2 = time.perf_counter()
        assert np.array_equal(a, b), "the two stores disagree"
        reads_ours.append(t1 - t0)
        reads_zarr.append(t2 - t1)

    mo, mz = statistics.median(reads_ours), statistics.median(reads_zarr)
    print(f"slide {args.width:,} x {args.height:,}, painted {painted / (args.width * args.height):.1%} "
          f"in {len(blocks)} blocks of {BLOCK} px, tiles {TILE} px")
    print(f"{'':34}{'exact-lab':>14}{'zarr+zstd':>14}{'zarr/ours':>11}")
    print(f"{'bytes on disk, level 0 tiles':34}{level0:>14,}{zarr_bytes:>14,}{zarr_bytes / level0:>11.2f}")
    print(f"{'bytes on disk, with pyramid+cat.':34}{ours_total:>14,}{zarr_bytes:>14,}{zarr_bytes / ours_total:>11.2f}")
    both = zarr_bytes + pyramid_zarr
    print(f"{'  levels 1+ only (zarr: as arrays)':34}{parts['pyramid']:>14,}{pyramid_zarr:>14,}{pyramid_zarr / parts['pyramid']:>11.2f}")
    print(f"{'  all levels, both sides':34}{ours_total:>14,}{both:>14,}{both / ours_total:>11.2f}")
    print(f"{'  (zarr pyramid written in, s)':34}{'':>14}{t_zarr_pyramid:>14.2f}")
    print("where our bytes go: " + ", ".join(f"{k} {v:,}" for k, v in parts.items()))
    print(f"{'write (s, ours incl. pyramid)':34}{t_ours:>14.2f}{t_zarr:>14.2f}{t_zarr / t_ours:>11.2f}")
    print(f"{'read 4,096 px region (ms, median)':34}{mo * 1e3:>14.1f}{mz * 1e3:>14.1f}{mz / mo:>11.2f}")
    proj.close()


if __name__ == "__main__":
    main()
