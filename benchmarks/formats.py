"""Benchmark (a script, not a test): import and export of a COCO file with 1,000,000 boxes,
beside pycocotools loading the same file in the same run.

    python benchmarks/formats.py [--boxes 1000000] [--images 1000] [--keep DIR]

Prints the seconds of each step and the ratio of our import into the store to pycocotools'
load alone (goal: <= 1).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_coco(path: Path, n_boxes: int, n_images: int, n_cats: int = 5, seed: int = 0) -> None:
    """A detection file like a model's training set: random boxes on n_images 4000x3000 images."""
    import orjson

    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, 3900, n_boxes), 2)
    y = np.round(rng.uniform(0, 2900, n_boxes), 2)
    w = np.round(rng.uniform(5, 100, n_boxes), 2)
    h = np.round(rng.uniform(5, 100, n_boxes), 2)
    img = rng.integers(1, n_images + 1, n_boxes)
    cat = rng.integers(1, n_cats + 1, n_boxes)
    anns = [{"id": i + 1, "image_id": int(a), "category_id": int(c), "bbox": [bx, by, bw, bh],
             "area": bw * bh, "iscrowd": 0, "segmentation": []}
            for i, (a, c, bx, by, bw, bh) in enumerate(zip(img.tolist(), cat.tolist(), x.tolist(), y.tolist(),
                                                          w.tolist(), h.tolist()))]
    doc = {"images": [{"id": i, "file_name": f"slide_{i:05d}.png", "width": 4000, "height": 3000}
                      for i in range(1, n_images + 1)],
           "categories": [{"id": c, "name": f"class {c}", "supercategory": ""} for c in range(1, n_cats + 1)],
           "annotations": anns}
    path.write_bytes(orjson.dumps(doc))


def timed(label, fn, results):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    results[label] = dt
    print(f"  {label:<44} {dt:8.2f} s", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--boxes", type=int, default=1_000_000)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--keep", help="keep the generated file and project in this folder")
    args = ap.parse_args(argv)

    from pycocotools.coco import COCO

    import exact_lab as xl
    from exact_lab import formats

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="exact-lab-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "boxes.json"
    r: dict = {}
    print(f"COCO file with {args.boxes:,} boxes on {args.images:,} images")
    timed("generate the file", lambda: make_coco(src, args.boxes, args.images), r)
    print(f"  file size {src.stat().st_size / 1e6:.0f} MB")

    def load_pycocotools():
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(src))

    coco = timed("pycocotools COCO(file) [load + index]", load_pycocotools, r)
    assert len(coco.anns) == args.boxes
    del coco

    def load_pycocotools_gc_paused():
        # exact-lab pauses the cyclic collector while it parses; the same favour for the peer
        gc.disable()
        try:
            return load_pycocotools()
        finally:
            gc.enable()

    coco = timed("pycocotools, collector paused like ours", load_pycocotools_gc_paused, r)
    assert len(coco.anns) == args.boxes
    del coco

    parsed = timed("exact-lab read (parse only, no store)", lambda: formats.read(src), r)
    assert len(parsed.annotations) == args.boxes
    del parsed

    proj_dir = work / "project"
    if proj_dir.exists():
        shutil.rmtree(proj_dir)
    proj = xl.open_project(proj_dir, user="bench")
    report = timed("exact-lab import into the store (all of it)",
                   lambda: formats.import_annotations(proj, src, image_set="bench"), r)
    assert report["imported"] == args.boxes, report
    for part, secs in report["seconds"].items():
        print(f"      of which {part:<36} {secs:8.2f} s")
    n = timed("read back: proj.annotations()", lambda: len(proj.annotations(image_set="bench")), r)
    assert n == args.boxes
    out = work / "export.json"
    rep = timed("exact-lab export to COCO (store -> file)",
                lambda: formats.export_annotations(proj, out, "coco", image_set="bench"), r)
    assert rep["exported"] == args.boxes
    check = timed("pycocotools loads our export", lambda: load_pycocotools(), r)
    assert len(check.anns) == args.boxes
    proj.close()

    base = r["pycocotools COCO(file) [load + index]"]
    print()
    print(f"  ratio  import into store / pycocotools load = {r['exact-lab import into the store (all of it)'] / base:.2f}"
          "  (goal <= 1)")
    print(f"  ratio  import into store / pycocotools load with the collector paused = "
          f"{r['exact-lab import into the store (all of it)'] / r['pycocotools, collector paused like ours']:.2f}")
    print(f"  ratio  parse only / pycocotools load         = {r['exact-lab read (parse only, no store)'] / base:.2f}")
    print(f"  ratio  export / pycocotools load             = {r['exact-lab export to COCO (store -> file)'] / base:.2f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


if __name__ == "__main__":
    main()
