"""Build the demo project: the generated slide, three annotation types, a few thousand
annotations of what the slide really shows, and two committed versions to diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..project import open_project
from .slide import make_demo_slide

SLIDE_NAME = "demo-slide.tiff"
TYPES = [
    # name, vector type, colour, default size
    ("mitotic figure", "box", "#e6194b", (40, 40)),
    ("tumor cell", "polygon", "#4363d8", None),
    ("immune cell", "point", "#3cb44b", None),
]


def _outline(blob, vertices: int = 14):
    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    c, s = np.cos(blob.angle), np.sin(blob.angle)
    x = blob.x + blob.rx * np.cos(t) * c - blob.ry * np.sin(t) * s
    y = blob.y + blob.rx * np.cos(t) * s + blob.ry * np.sin(t) * c
    return shapely.Polygon(np.round(np.column_stack([x, y]), 2))


def build_demo(folder, *, fresh: bool = True, width: int = 8192, height: int = 6144, log=print) -> dict:
    """Create ``folder/slides/demo-slide.tiff`` and the project ``folder/project``; return a summary."""
    folder = Path(folder).absolute()
    project_dir = folder / "project"
    if fresh and project_dir.exists():
        shutil.rmtree(project_dir)
    slide_path = folder / "slides" / SLIDE_NAME
    log(f"writing the demo slide {slide_path} ({width} x {height}) ...")
    slide_path, blobs = make_demo_slide(slide_path, width=width, height=height)

    log(f"creating the project {project_dir} ...")
    alice = open_project(project_dir, user="alice")
    alice.add_team("demo lab")
    alice.add_member("demo lab", "alice", role="admin")
    alice.add_member("demo lab", "bob")
    alice.add_product("mitosis panel", team="demo lab", description="mitotic figures and the cells around them")
    for name, vector_type, color, size in TYPES:
        alice.add_annotation_type(name, vector_type, color=color, default_size=size, product="mitosis panel")
    alice.add_image_set("demo", mode="cooperative", team="demo lab", products=["mitosis panel"],
                        description="a generated slide to try exact-lab on")
    image_id = int(alice.add_images([slide_path], image_set="demo")["image_id"].iloc[0])

    rows = []
    for blob in blobs:
        if blob.mitotic:
            r = max(blob.rx, blob.ry) + 4
            rows.append((image_id, "mitotic figure", shapely.box(round(blob.x - r), round(blob.y - r),
                                                              round(blob.x + r), round(blob.y + r))))
        elif blob.rx < 6.5:
            rows.append((image_id, "immune cell", shapely.Point(round(blob.x, 2), round(blob.y, 2))))
        else:
            rows.append((image_id, "tumor cell", _outline(blob)))
    frame = pd.DataFrame(rows, columns=["image_id", "type", "geometry"])
    frame["source"] = "demo generator"
    uuids = alice.add_annotations(frame)
    alice.commit("v1", message="first pass: every nucleus the generator drew")

    # Bob's review: moves some boxes, deletes some cells, adds a few, retypes a few.
    rng = np.random.default_rng(11)
    bob = open_project(project_dir, user="bob")
    current = bob.annotations(image=image_id)
    boxes = current[current["type"] == "mitotic figure"].head(20)
    moved = boxes[["uuid"]].copy()
    moved["geometry"] = [shapely.affinity.translate(g, rng.integers(-6, 7), rng.integers(-6, 7)) for g in boxes["geometry"]]
    bob.update_annotations(moved)
    cells = current[current["type"] == "tumor cell"]
    bob.delete_annotations(list(cells["uuid"].iloc[:15]))
    retyped = cells.iloc[15:20][["uuid"]].assign(type="immune cell",
                                                 geometry=[g.centroid for g in cells["geometry"].iloc[15:20]])
    bob.update_annotations(retyped)
    new_points = pd.DataFrame({
        "image_id": image_id, "type": "immune cell",
        "geometry": [shapely.Point(float(x), float(y)) for x, y in zip(rng.uniform(500, width - 500, 10),
                                                                          rng.uniform(500, height - 500, 10))],
        "source": "bob",
    })
    bob.add_annotations(new_points)
    bob.commit("v2", message="review by bob: moved, removed, retyped and added")
    bob.close()
    alice.close()
    summary = {
        "folder": str(folder), "slide": str(slide_path), "project": str(project_dir),
        "image_id": image_id, "annotations_v1": len(uuids),
    }
    log(f"demo ready: {len(uuids)} annotations in v1, versions v1 and v2")
    return summary
