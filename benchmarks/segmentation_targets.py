"""Segmentation targets with painted pixel labels: dataset build time, time per target and the
pickled size (what a spawned worker receives), beside the polygons-only peer in the same run.

    python benchmarks/segmentation_targets.py [--slide PATH] [--patch 256]

Two mask classes are painted (the left half of the slide, and a block) and 300 square polygons
drawn; the datasets are 256 px grid patches at scale 1 and at mpp 2.0.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
from shapely.geometry import box

import exact_lab as xl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLIDE = ROOT / ".." / "shared" / "data" / "slides" / "aperio" / "CMU-1-Small-Region.svs"


def painted_project(slide: Path):
    proj = xl.open_project(Path(tempfile.mkdtemp()) / "p", user="bench")
    row = proj.add_images([slide], image_set="all").iloc[0]
    iid, width, height = int(row["image_id"]), int(row["width"]), int(row["height"])
    stroma = proj.add_annotation_type("stroma", "mask")
    necrosis = proj.add_annotation_type("necrosis", "mask")
    proj.add_annotation_type("cell", "polygon")
    labels = np.zeros((height, width), np.uint8)
    labels[:, : width // 2] = stroma
    labels[height // 2: height // 2 + 1000, width // 2 + 100: width // 2 + 900] = necrosis
    proj.set_mask(iid, labels)
    rng = np.random.default_rng(0)
    proj.add_annotations([{"image_id": iid, "type": "cell", "geometry": box(x, y, x + 30, y + 30)}
                          for x, y in zip(rng.uniform(0, width - 40, 300), rng.uniform(0, height - 40, 300))])
    proj.commit("v1")
    return proj


def measure(proj, label: str, patch: int, **kw) -> None:
    t0 = time.perf_counter()
    ds = proj.dataset(image_set="all", version="v1", kind="segmentation", patch_size=patch, sampling="grid", **kw)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(len(ds)):
        ds.target(i)
    each = (time.perf_counter() - t0) / max(1, len(ds))
    print(f"{label:<40} {len(ds):>5} patches  build {build:5.2f} s  target {each * 1000:5.1f} ms  "
          f"pickled {len(pickle.dumps(ds)) / 1024:5.0f} KiB  classes {ds.classes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slide", type=Path, default=DEFAULT_SLIDE)
    parser.add_argument("--patch", type=int, default=256)
    args = parser.parse_args()
    proj = painted_project(args.slide)
    measure(proj, "masks + polygons, scale 1", args.patch)
    measure(proj, "masks + polygons, mpp 2.0", args.patch, mpp=2.0)
    measure(proj, "peer: polygons only, scale 1", args.patch, types=["cell"])


if __name__ == "__main__":
    main()
