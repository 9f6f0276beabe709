"""Store benchmark: 1,000,000 boxes on one image, exact-lab's DuckLake store beside SlideRunner's
SQLite schema (annotations, coordinates and labels tables), measured in the same run.

    python benchmarks/store.py [--n 1000000] [--repeat 5]

SlideRunner keeps no versions, so its "commit a version" is a copy of the database file (the
backup its users make), its diff compares two such copies, and reading a version back opens one.
Prints each figure, the peer's, and the ratio peer / ours (> 1 means we are faster).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / ".." / "shared" / "data" / "annotations" / "sliderunner_sqlite" / "SlideRunner-2.0_default_Slides.sqlite"
SIDE = 200_000  # image side in pixels: 1M boxes of 10-60 px on a large slide
VIEW = 2_000    # viewport square


def timed(fn, repeat=1):
    """Median wall time of ``repeat`` runs and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_boxes(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, SIDE - 100, n))
    y = np.round(rng.uniform(0, SIDE - 100, n))
    w = np.round(rng.uniform(10, 60, n))
    h = np.round(rng.uniform(10, 60, n))
    return x, y, x + w, y + h


def viewports(count: int, seed: int = 2):
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, SIDE - VIEW, (count, 2))
    return [(float(a), float(b), float(a) + VIEW, float(b) + VIEW) for a, b in corners]


# -- exact-lab --------------------------------------------------------------------------------
def bench_ours(workdir: Path, boxes, views, changed, repeat):
    import exact_lab as xl

    proj = xl.open_project(workdir / "exact-lab", user="bench")
    proj.add_annotation_type("cell", "box")
    image_id = proj._write(lambda con: _fake_image(proj, con), "bench image")
    x0, y0, x1, y1 = boxes
    frame = pd.DataFrame({"image_id": image_id, "type": "cell", "xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1})
    out = {}
    out["insert"], uuids = timed(lambda: proj.add_annotations(frame))
    proj.annotations(image=image_id, bbox=views[0])  # warm the catalog connection once
    times = []
    for view in views:
        t, hits = timed(lambda: proj.annotations(image=image_id, bbox=view))
        times.append(t)
    out["viewport"] = statistics.median(times)
    out["viewport_hits"] = len(hits)
    out["commit"], _ = timed(lambda: proj.commit("v1"))
    idx, dx = changed
    moved = pd.DataFrame({"uuid": np.asarray(uuids)[idx]})
    import shapely

    moved["geometry"] = shapely.box(x0[idx] + dx, y0[idx], x1[idx] + dx, y1[idx])
    out["update 1%"], _ = timed(lambda: proj.update_annotations(moved))
    proj.commit("v2")
    out["diff"], diff = timed(lambda: proj.diff("v1", "v2"), repeat)
    out["diff_rows"] = len(diff)
    out["read version"], back = timed(lambda: proj.annotations(version="v1"))
    out["read version (arrow)"], arrow = timed(lambda: proj.annotations(version="v1", as_relation=True).to_arrow_table())
    assert len(back) == len(x0) == arrow.num_rows
    proj.close()
    return out


def _fake_image(proj, con):
    """An image record for a 200k x 200k slide (no pixels are read by this benchmark)."""
    from exact_lab.store.util import next_id, utcnow

    set_id = proj._image_set_id("bench", con=con, create=True)
    image_id = next_id(con, "images", "image_id")
    con.execute("INSERT INTO images (image_id, image_set_id, name, public_name, width, height, levels, frames, "
                "added_by, added_at, pseudonymized, placeholder) VALUES (?, ?, 'bench.svs', 'bench.svs', ?, ?, 1, 1, "
                "'bench', ?, false, false)", [image_id, set_id, SIDE, SIDE, utcnow()])
    return image_id


# -- SlideRunner's schema ------------------------------------------------------------------------
def bench_sliderunner(workdir: Path, boxes, views, changed, repeat):
    db_path = workdir / "sliderunner.sqlite"
    shutil.copyfile(REFERENCE, db_path)
    db = sqlite3.connect(db_path)
    # SlideRunner creates these indices when it opens a database.
    db.execute("CREATE INDEX IF NOT EXISTS Annotations_coordinates_annoID ON Annotations_coordinates (annoId)")
    db.execute("CREATE INDEX IF NOT EXISTS Annotations_coordinates_slide ON Annotations_coordinates (slide)")
    db.execute("CREATE INDEX IF NOT EXISTS Annotations_slide ON Annotations (slide)")
    db.execute("DELETE FROM Slides")  # the reference database lists one slide of its own
    db.execute("INSERT INTO Slides (uid, filename, width, height) VALUES (1, 'bench.svs', ?, ?)", [SIDE, SIDE])
    db.execute("INSERT INTO Classes (uid, name) VALUES (1, 'cell')")
    db.execute("INSERT INTO Persons (uid, name) VALUES (1, 'bench')")
    db.commit()
    x0, y0, x1, y1 = (v.astype(np.int64) for v in boxes)
    n = len(x0)
    out = {}

    def insert():
        ids = np.arange(1, n + 1)
        with db:
            # type 2 = area (rectangle): two corner coordinates, as SlideRunner writes them
            db.executemany("INSERT INTO Annotations (uid, slide, type, agreedClass) VALUES (?, 1, 2, 1)",
                           ((int(i),) for i in ids))
            db.executemany("INSERT INTO Annotations_label (person, class, annoId) VALUES (1, 1, ?)",
                           ((int(i),) for i in ids))
            coords = np.empty((2 * n, 4), dtype=np.int64)
            coords[0::2] = np.column_stack([x0, y0, ids, np.full(n, 1)])
            coords[1::2] = np.column_stack([x1, y1, ids, np.full(n, 2)])
            db.executemany("INSERT INTO Annotations_coordinates (coordinateX, coordinateY, slide, annoId, orderIdx) "
                           "VALUES (?, ?, 1, ?, ?)", coords.tolist())

    out["insert"], _ = timed(insert)

    def viewport(view):
        a, b, c, d = view
        return db.execute(
            "SELECT annoId, min(coordinateX), min(coordinateY), max(coordinateX), max(coordinateY) "
            "FROM Annotations_coordinates WHERE slide = 1 GROUP BY annoId "
            "HAVING max(coordinateX) >= ? AND min(coordinateX) <= ? AND max(coordinateY) >= ? AND min(coordinateY) <= ?",
            [a, c, b, d]).fetchall()

    times = []
    for view in views[: max(3, len(views) // 4)]:  # each one is a full scan; fewer suffice
        t, hits = timed(lambda: viewport(view))
        times.append(t)
    out["viewport"] = statistics.median(times)
    out["viewport_hits"] = len(hits)

    v1 = workdir / "sliderunner-v1.sqlite"

    def snapshot(target):
        with sqlite3.connect(target) as copy:
            db.backup(copy)

    out["commit"], _ = timed(lambda: snapshot(v1))
    idx, dx = changed

    def update():
        with db:
            db.executemany("UPDATE Annotations_coordinates SET coordinateX = coordinateX + ? WHERE annoId = ?",
                           [(int(dx[k]), int(i) + 1) for k, i in enumerate(idx)])

    out["update 1%"], _ = timed(update)
    v2 = workdir / "sliderunner-v2.sqlite"
    snapshot(v2)

    def diff():
        with sqlite3.connect(v1) as con:
            con.execute(f"ATTACH '{v2}' AS b")
            query = ("SELECT annoId, orderIdx, coordinateX, coordinateY FROM {0}.Annotations_coordinates EXCEPT "
                     "SELECT annoId, orderIdx, coordinateX, coordinateY FROM {1}.Annotations_coordinates")
            gone = con.execute(query.format("main", "b")).fetchall()
            new = con.execute(query.format("b", "main")).fetchall()
            return {r[0] for r in gone} | {r[0] for r in new}

    out["diff"], changed_ids = timed(diff, repeat)
    out["diff_rows"] = len(changed_ids)

    def read_back():
        with sqlite3.connect(v1) as con:
            return pd.read_sql_query(
                "SELECT a.uid, a.type, a.agreedClass, c.coordinateX, c.coordinateY, c.orderIdx "
                "FROM Annotations a JOIN Annotations_coordinates c ON c.annoId = a.uid WHERE a.slide = 1 "
                "ORDER BY a.uid, c.orderIdx", con)

    out["read version"], back = timed(read_back)
    out["read version (arrow)"] = out["read version"]
    db.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not REFERENCE.exists():
        raise SystemExit(f"the SlideRunner reference database is missing: {REFERENCE}")
    boxes = make_boxes(args.n)
    views = viewports(args.views)
    rng = np.random.default_rng(3)
    idx = np.sort(rng.choice(args.n, args.n // 100, replace=False))
    changed = (idx, rng.integers(1, 20, len(idx)).astype(float))
    with tempfile.TemporaryDirectory(prefix="exact-lab-bench-") as tmp:
        work = Path(tmp)
        print(f"{args.n:,} boxes on one {SIDE:,} px image; viewport {VIEW} px; 1% = {len(idx):,} changed boxes\n")
        ours = bench_ours(work, boxes, views, changed, args.repeat)
        peer = bench_sliderunner(work, boxes, views, changed, args.repeat)
    targets = {"insert": 1.0, "viewport": 0.030, "commit": 0.5, "diff": 0.5}
    print(f"{'operation':<22}{'exact-lab':>12}{'SlideRunner':>14}{'ratio':>9}   target")
    for key in ("insert", "viewport", "commit", "update 1%", "diff", "read version", "read version (arrow)"):
        a, b = ours[key], peer[key]
        target = f"<= {targets[key] * 1000:.0f} ms" if key in targets else ""
        print(f"{key:<22}{a * 1000:>10.1f} ms{b * 1000:>11.1f} ms{b / a:>8.1f}x   {target}")
    print(f"\nviewport hits (last view): exact-lab {ours['viewport_hits']}, SlideRunner {peer['viewport_hits']}")
    print(f"diff rows: exact-lab {ours['diff_rows']}, SlideRunner {peer['diff_rows']}")
    print("ratio = SlideRunner time / exact-lab time; read version: exact-lab builds shapely geometry, "
          "the (arrow) row keeps WKB columns; SlideRunner returns raw coordinate rows")


if __name__ == "__main__":
    main()
