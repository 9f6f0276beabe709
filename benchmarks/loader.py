"""Loader benchmark: patches per second through ``proj.dataset`` with 0 and 2 worker processes,
beside a plain loop of ``read_region`` on the same patches, in the same run; peak memory printed.
The dataset reads level 0 through a per-process tile cache; a row with the cache emptied before
every patch shows what a patch costs when no tile is shared.

    python benchmarks/loader.py [--n 600] [--patch 256] [--slide PATH]

The slide defaults to ../shared/data's CMU-1-Small-Region.svs (OpenSlide). Workers are plain
``multiprocessing`` (fork), as a PyTorch DataLoader's are; with torch installed a DataLoader with
2 workers is measured too. Ratio = ours / plain loop (> 1 means faster).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLIDE = ROOT / ".." / "shared" / "data" / "slides" / "aperio" / "CMU-1-Small-Region.svs"
_DS = None


def _read(i):
    patch, target = _DS[i]
    return int(patch[0, 0, 0]) + int(target)


def plain_loop(slide_path, index, size):
    from exact_lab.slides import open_slide

    slide = open_slide(slide_path)
    total = 0
    for x, y in zip(index["l0_x"].to_numpy(), index["l0_y"].to_numpy()):
        patch = np.asarray(slide.read_region((int(x), int(y)), 0, (size, size)).convert("RGB"))
        total += int(patch[0, 0, 0])
    return total


def main():
    global _DS
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--slide", default=str(DEFAULT_SLIDE))
    args = parser.parse_args()

    import exact_lab as xl

    with tempfile.TemporaryDirectory() as folder:
        proj = xl.open_project(Path(folder) / "project", user="bench")
        proj.add_images([args.slide], image_set="bench")
        ds = proj.dataset(image_set="bench", sampling="random", per_image=args.n, patch_size=args.patch, seed=0)
        n = len(ds)
        rows = []

        start = time.perf_counter()
        plain_loop(args.slide, ds.index, args.patch)
        plain = time.perf_counter() - start
        rows.append(("plain read_region loop", plain))

        start = time.perf_counter()
        for i in range(n):
            _read_direct(ds, i)
        rows.append(("dataset, 0 workers", time.perf_counter() - start))

        # The worst case for the tile cache: no patch finds a tile read for an earlier one (as on a
        # large slide with patches far apart), so each pays its 2-9 stored tiles.
        start = time.perf_counter()
        for i in range(n):
            ds._tiles.clear()
            _read_direct(ds, i)
        rows.append(("dataset, 0 w., no tile reuse", time.perf_counter() - start))

        _DS = ds
        from exact_lab.slides import forget

        forget()  # the workers must not find the slide warm from the runs above
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            list(pool.imap(_read, range(n), chunksize=16))
        rows.append(("dataset, 2 workers (fork)", time.perf_counter() - start))

        try:
            from torch.utils.data import DataLoader
        except ImportError:
            DataLoader = None
        if DataLoader is not None:
            start = time.perf_counter()
            for _ in DataLoader(ds, batch_size=16, num_workers=2):
                pass
            rows.append(("torch DataLoader, 2 workers", time.perf_counter() - start))
        proj.close()

    print(f"{n} patches of {args.patch} px from {Path(args.slide).name}, {multiprocessing.cpu_count()} cores")
    print(f"{'':30s} {'seconds':>8s} {'patches/s':>10s} {'vs plain':>9s}")
    for name, seconds in rows:
        print(f"{name:30s} {seconds:8.2f} {n / seconds:10.0f} {plain / seconds:8.2f}x")
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {self_mb:.0f} MiB, largest worker {child_mb:.0f} MiB")


def _read_direct(ds, i):
    patch, target = ds[i]
    return int(patch[0, 0, 0])


if __name__ == "__main__":
    main()
