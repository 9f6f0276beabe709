"""Benchmark (a script, not a test): inference over the demo slide (8192 x 6144, 512 px tiles,
64 px overlap). For each model, in the same run:

- T_read   every tile read alone (the pipeline's reading threads, no model);
- T_model  the model alone on the tiles already in memory, run as the pipeline runs it: as many
           batches at once (``default_model_workers``: 2 for both models on 2 cores) with the
           same share of BLAS threads each;
- pipeline ``proj.infer`` (tiles read ahead while the model runs; merge and write not included in
           its loop time, printed separately);
- plain    read a tile, run the model on it, next tile.

Models: the classic nucleus detector (scikit-image, mostly single-threaded) and a small
"1 x 1 convolution" network in numpy (matrix products through BLAS, as a torch model would be).

    python benchmarks/analysis_infer.py [--rounds 3] [--region 4096]

Each figure is the best of ``--rounds`` rounds; in a round every way runs once, in turn, so a burst
of other work on a shared machine does not decide the comparison (the spread is printed). The
slide's top-left ``--region`` square keeps a round short.

Goals: pipeline <= 1.15 x max(T_read, T_model); pipeline >= 1.5x faster than plain.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _analysis_common import demo_project, timed  # noqa: E402

import exact_lab as xl  # noqa: E402
from exact_lab.analysis.models import call  # noqa: E402
from exact_lab.analysis.nuclei import NucleusDetector  # noqa: E402
from exact_lab.analysis.pipeline import READERS, balanced_batches, blas_threads_for, default_model_workers, read_tile  # noqa: E402
from exact_lab.analysis.tiling import plan_tiles  # noqa: E402

TILE, OVERLAP, BATCH = 512, 64, 16


class PixelNet:
    """Two 1 x 1 convolutions (3 -> 32 -> 1) and a threshold: boxes of dark connected blobs."""

    name, version = "pixelnet", "1"

    def __init__(self):
        rng = np.random.default_rng(0)
        self.w1 = rng.normal(size=(3, 32)).astype(np.float32) / 255
        self.w2 = rng.normal(size=(32, 1)).astype(np.float32)

    def __call__(self, batch):
        found = []
        for tile in batch:  # tile by tile: a batch's activations (16 x 512 x 512 x 32 floats) would be 0.5 GB
            x = tile.reshape(-1, 3).astype(np.float32)
            plane = (np.maximum(x @ self.w1, 0) @ self.w2).reshape(tile.shape[:2])
            ys, xs = np.nonzero(plane > np.quantile(plane, 0.999))
            found.append(pd.DataFrame({"xmin": xs[:5], "ymin": ys[:5], "xmax": xs[:5] + 4, "ymax": ys[:5] + 4, "score": 0.5}))
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--region", type=int, default=4096)
    args = parser.parse_args()
    region = (0, 0, args.region, args.region)
    with tempfile.TemporaryDirectory() as tmp:
        proj, image_id, path, _ = demo_project(Path(tmp))
        slide = xl.open_slide(path)
        plan = plan_tiles(image_id, str(path), *slide.dimensions, tile_size=TILE, overlap=OVERLAP, region=region)
        print(f"{len(plan)} tiles of {TILE} px ({OVERLAP} px overlap) over {region}, batches of {BATCH}, "
              f"{READERS} reading threads, best of {args.rounds} rounds")
        for model in (NucleusDetector(), PixelNet()):
            times: dict[str, list[float]] = {"read": [], "model": [], "pipeline": [], "plain": []}
            for _ in range(args.rounds):
                with ThreadPoolExecutor(READERS) as pool:
                    tiles, t = timed(lambda: list(pool.map(lambda i: read_tile(slide, plan, i), range(len(plan)))))
                times["read"].append(t)
                workers = default_model_workers(model)
                # the pipeline's own batches, so T_model is the model alone on what the pipeline gives it
                batches = [np.stack(tiles[i[0]:i[-1] + 1]) for i in balanced_batches(list(range(len(tiles))), BATCH, workers)]
                with ThreadPoolExecutor(workers) as pool, blas_threads_for(workers):
                    times["model"].append(timed(lambda: list(pool.map(lambda b: call(model, b), batches)))[1])
                run = proj.infer(model, image=image_id, region=region, tile_size=TILE, overlap=OVERLAP,
                                 batch_size=BATCH, progress=False)
                times["pipeline"].append(run.seconds)
                times["plain"].append(timed(lambda: [call(model, read_tile(slide, plan, i)[None])
                                                     for i in range(len(plan))])[1])
            best = {k: min(v) for k, v in times.items()}
            spread = ", ".join(f"{k} {min(v):.2f}-{max(v):.2f}" for k, v in times.items())
            bound = max(best["read"], best["model"])
            print(f"{model.name}: T_read {best['read']:.2f} s, T_model {best['model']:.2f} s, "
                  f"pipeline {best['pipeline']:.2f} s, plain {best['plain']:.2f} s  ({spread})")
            print(f"  pipeline = {best['pipeline'] / bound:.2f} x max(T_read, T_model) (goal <= 1.15); "
                  f"{best['plain'] / best['pipeline']:.2f}x faster than plain (goal >= 1.5); {run.count} proposals")
        proj.close()


if __name__ == "__main__":
    main()
