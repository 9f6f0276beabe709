"""Loader benchmark: patches per second delivered to this process through ``proj.dataset`` with
0 and 2 worker processes, beside a plain loop of ``read_region`` on the same patches, in the same
run; CPU seconds (this process + its workers) and peak memory printed.

    python benchmarks/loader.py [--n 600] [--patch 256] [--batch 16] [--repeat 3] [--slide PATH]

Every row hands each patch (and its target) to the consumer here, in this process:
- plain ``read_region`` loop: one OpenSlide read per patch, ``convert("RGB")``, ``np.asarray``;
- dataset ``ds[i]``, 0 workers (the per-process tile cache); "no tile reuse" empties it before
  every patch (a large slide with patches far apart);
- ``ds.batches(16, workers=k)``: the loader (forked workers writing into a shared-memory ring),
  with its two ways of splitting the work (``split="tiles"``, ``"batches"``);
- a ``multiprocessing`` fork Pool returning ``ds[i]`` (patches pickled through pipes): the peer;
- with torch installed, ``torch.utils.data.DataLoader(ds, batch_size, num_workers=2)``.
Workers start with the slides closed and the tile caches empty. The slide defaults to
../shared/data's CMU-1-Small-Region.svs. The rows run in turn ``--repeat`` times; shown: the best
and median seconds, patches/s and ratio from the best (the plain loop's best seconds / the row's,
> 1: faster), the least CPU seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLIDE = ROOT / ".." / "shared" / "data" / "slides" / "aperio" / "CMU-1-Small-Region.svs"
_DS = None


def _pool_read(i):
    return _DS[i]


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain_loop(slide_path, index, size):
    from exact_lab.slides import open_slide

    slide = open_slide(slide_path)
    for x, y in zip(index["l0_x"].to_numpy(), index["l0_y"].to_numpy()):
        yield np.asarray(slide.read_region((int(x), int(y)), 0, (size, size)).convert("RGB")), -1


def direct(ds, reuse=True):
    for i in range(len(ds)):
        if not reuse:
            ds.clear_tiles()
        yield ds[i]


def pooled(ds, batch):
    global _DS
    _DS = ds
    with multiprocessing.get_context("fork").Pool(2) as pool:
        yield from pool.imap(_pool_read, range(len(ds)), chunksize=batch)


def torch_loader(ds, batch):
    from torch.utils.data import DataLoader

    for patches, targets in DataLoader(ds, batch_size=batch, num_workers=2):
        yield patches.numpy(), targets.numpy()


def consume(items, batched) -> int:
    """Count the patches delivered, touching one byte of each so that none is left unread."""
    total = 0
    for patches, _ in items:
        total += len(patches) if batched else 1
        int(np.asarray(patches).reshape(-1)[-1])
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--patch", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--slide", default=str(DEFAULT_SLIDE))
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of every row; the best is shown")
    args = parser.parse_args()

    import exact_lab as xl
    from exact_lab.slides import forget

    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    with tempfile.TemporaryDirectory() as folder:
        proj = xl.open_project(Path(folder) / "project", user="bench")
        proj.add_images([args.slide], image_set="bench")
        ds = proj.dataset(image_set="bench", sampling="random", per_image=args.n, patch_size=args.patch, seed=0)
        n, batch = len(ds), args.batch
        runs = [
            ("plain read_region loop", False, lambda: plain_loop(args.slide, ds.index, args.patch)),
            ("dataset ds[i], 0 workers", False, lambda: direct(ds)),
            ("dataset ds[i], no tile reuse", False, lambda: direct(ds, reuse=False)),
            ("loader, 0 workers", True, lambda: ds.batches(batch, workers=0)),
            ("loader, 2 workers, tiles", True, lambda: ds.batches(batch, workers=2, split="tiles")),
            ("loader, 2 workers, batches", True, lambda: ds.batches(batch, workers=2, split="batches")),
            ("fork Pool(2) returning ds[i]", False, lambda: pooled(ds, batch)),
        ]
        if torch is not None:
            runs.append(("torch DataLoader, 2 workers", True, lambda: torch_loader(ds, batch)))
        seconds = {name: [] for name, _, _ in runs}
        cpus = {name: [] for name, _, _ in runs}
        loads = [os.getloadavg()[0]]
        for _ in range(args.repeat):  # the rows in turn, so a busy moment of the machine hits them all
            for name, batched, make in runs:
                forget()  # every row starts with the slide closed and the caches empty
                ds.clear_tiles()
                cpu, start = cpu_seconds(), time.perf_counter()
                delivered = consume(make(), batched)
                seconds[name].append(time.perf_counter() - start)
                cpus[name].append(cpu_seconds() - cpu)
                assert delivered == n, f"{name}: {delivered} patches delivered of {n}"
            loads.append(os.getloadavg()[0])
        proj.close()

    plain = min(seconds[runs[0][0]])
    print(f"{n} patches of {args.patch} px from {Path(args.slide).name}, batches of {batch}, "
          f"{multiprocessing.cpu_count()} cores, best of {args.repeat} alternating runs, "
          f"load average {min(loads):.2f}-{max(loads):.2f}")
    print(f"{'':30s} {'best s':>7s} {'median':>7s} {'patches/s':>10s} {'vs plain':>9s} {'CPU s':>6s}")
    for name, _, _ in runs:
        best, median, cpu = min(seconds[name]), float(np.median(seconds[name])), min(cpus[name])
        print(f"{name:30s} {best:7.2f} {median:7.2f} {n / best:10.0f} {plain / best:8.2f}x {cpu:6.2f}")
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {self_mb:.0f} MiB, largest worker {child_mb:.0f} MiB")


if __name__ == "__main__":
    main()
