"""Peak memory of filling a very large region: ``proj.fill_mask`` of a polygon with a hole over a
200,000 x 200,000 px image (as one bool array its box would be ~40 GB), committed, with the
time, the Python heap's peak (tracemalloc), the process's peak resident size and the tiles
written. ``python benchmarks/masks_fill.py [--size 200000]``."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import exact_lab as xl


def rings(size: int):
    """An outline over most of a ``size`` px square (one long diagonal edge) and a triangle hole."""
    s = size / 200_000
    outer = [(1000.5 * s, 700.25 * s), (199000.25 * s, 2000.75 * s), (198500.75 * s, 150000.25 * s),
             (150000.5 * s, 199300.25 * s), (1500.25 * s, 198000.5 * s)]
    hole = [(60000.25 * s, 60000.5 * s), (140000.75 * s, 61000.25 * s), (100000.5 * s, 140000.75 * s)]
    return [outer, hole]


def big_project(folder: Path, size: int):
    proj = xl.open_project(folder, user="bench")
    tumour = proj.add_annotation_type("tumour", "mask")
    # A slide of this size is not in the test data: the image row is recorded directly.
    proj._write(lambda con: con.execute(
        "INSERT INTO images (image_id, name, width, height, levels, frames, mpp) VALUES (1, 'big', ?, ?, 1, 1, 0.25)",
        [size, size]), "big image")
    return proj, tumour


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=200_000)
    args = ap.parse_args()
    proj, _ = big_project(Path(tempfile.mkdtemp(prefix="mask-fill-")) / "p", args.size)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    proj.fill_mask(1, rings(args.size), "tumour")
    proj.flush()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tiles = proj.sql("SELECT level, count(*) FROM mask_tiles GROUP BY level ORDER BY level").fetchall()
    print(f"fill of a polygon with a hole over {args.size:,} x {args.size:,} px: {seconds:.1f} s")
    print(f"peak of the Python heap during the fill (tracemalloc): {peak / 2**20:.0f} MiB; "
          f"peak resident size {rss:.0f} MiB (before the fill: {rss0:.0f} MiB)")
    print(f"its box as one bool array: {args.size ** 2 / 2**30:.0f} GiB")
    print("tiles written per level: " + ", ".join(f"{lv}: {n:,}" for lv, n in tiles))
    proj.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
