"""SlideRunner SQLite databases: spots, areas (boxes), polygons, special spots and circles, with
each person's label and the agreed class.

The agreed class is the annotation's type; every person's vote is kept in meta["labels"] as
``[{"person": name, "class": name}, ...]`` and written back as SlideRunner label rows. Rows
SlideRunner marked deleted are not imported (counted as skipped).
"""

from __future__ import annotations

import sqlite3
import uuid as _uuid
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from . import _geometry as G
from ._checks import image_size, integer, number, polygon, text
from ._common import UNCLASSIFIED, Parsed, fail, image_table, is_missing, meta_of, source_label, table, type_info, unique_names

SPOT, AREA, POLYGON, SPECIAL_SPOT, CIRCLE = 1, 2, 3, 4, 5


def _connect(path):
    p = Path(path)
    if not p.is_file():
        raise fail(p, None, "no such SQLite file")
    with open(p, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise fail(p, "header", "expected an SQLite 3 database")
    return sqlite3.connect(f"file:{p}?mode=ro", uri=True)


def _frame(con, path, table_, required):
    try:
        df = pd.read_sql_query(f"SELECT * FROM `{table_}`", con)
    except Exception as exc:
        raise fail(path, f"table {table_!r}", f"expected SlideRunner's table ({exc})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise fail(path, f"table {table_!r}", f"expected columns {', '.join(missing)}")
    return df


def _numbers(path, df, table_, column, *, key="uid", integers=False, nullable=False) -> np.ndarray:
    """A column as floats, or a FormatError naming the row (by ``key``) whose cell is text, a
    blob, NULL (unless ``nullable``) or not finite."""
    values = df[column].to_numpy(dtype=object)
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if is_missing(v) and nullable:
            continue
        where = f"table {table_!r} {key} {df[key].iloc[i]} column {column!r}"
        out[i] = integer(v, path, where) if integers else number(v, path, where)
    return out


def _texts(path, df, table_, column, what) -> list[str]:
    """A column of names: text (numbers as their text), or a FormatError naming the row."""
    out = []
    for i, v in enumerate(df[column].to_numpy(dtype=object)):
        where = f"table {table_!r} uid {df['uid'].iloc[i]} column {column!r}"
        name = text(None if is_missing(v) else v, path, where, what=what)
        if not name:
            raise fail(path, where, f"expected {what}")
        out.append(name)
    return out


def read(path, *, images=None, **_) -> Parsed:
    con = _connect(path)
    try:
        slides = _frame(con, path, "Slides", ["uid", "filename"])
        classes = _frame(con, path, "Classes", ["uid", "name"])
        persons = _frame(con, path, "Persons", ["uid", "name"])
        annos = _frame(con, path, "Annotations", ["uid", "slide", "type", "agreedClass"])
        labels = _frame(con, path, "Annotations_label", ["person", "class", "annoId"])
        coords = _frame(con, path, "Annotations_coordinates", ["coordinateX", "coordinateY", "annoId"])
    finally:
        con.close()
    warnings = []
    slide_name, img_rows = _slides(path, slides, warnings)
    class_names = _texts(path, classes, "Classes", "name", "a class name")
    class_name = dict(zip(_numbers(path, classes, "Classes", "uid", integers=True), class_names))
    person_name = dict(zip(_numbers(path, persons, "Persons", "uid", integers=True),
                           _texts(path, persons, "Persons", "name", "a person's name")))
    hints = {}
    if "color" in classes:
        for n, c in zip(class_names, classes["color"]):
            if isinstance(c, str) and c.startswith("#"):
                hints[n] = {"color": c.lower()}
    skipped = 0
    if "deleted" in annos:
        dead = _numbers(path, annos, "Annotations", "deleted", nullable=True)
        dead = ~np.isnan(dead) & (dead != 0)
        if dead.any():
            skipped = int(dead.sum())
            warnings.append(f"{skipped} annotation(s) marked deleted in SlideRunner were not imported")
        annos = annos[~dead]
    xy_by = _coordinates(path, coords)
    votes = {}
    for person, cls, anno in zip(labels["person"], labels["class"], labels["annoId"]):
        votes.setdefault(anno, []).append({"person": person_name.get(person, str(person)),
                                           "class": class_name.get(cls, str(cls))})
    annos = annos.assign(uid=_numbers(path, annos, "Annotations", "uid", integers=True),
                         slide=_numbers(path, annos, "Annotations", "slide", integers=True),
                         type=_numbers(path, annos, "Annotations", "type", integers=True),
                         agreedClass=_numbers(path, annos, "Annotations", "agreedClass", integers=True, nullable=True))
    rows = []
    degenerate = 0
    for rec in annos.to_dict("records"):
        row, flat = _annotation(path, rec, slide_name, class_name, xy_by, votes)
        rows.append(row)
        degenerate += flat
    if degenerate:
        warnings.append(f"{degenerate} area(s)/circle(s) with zero width or height imported as lines or points")
    return Parsed(annotations=table(rows), images=image_table(img_rows), types=hints, warnings=warnings, skipped=skipped)


def _slides(path, slides, warnings) -> tuple[dict, list[dict]]:
    """uid -> image name (directory/file where file names repeat), and the image rows."""
    dirs = slides["directory"] if "directory" in slides else pd.Series([None] * len(slides))
    rel = []
    for i, (d, f) in enumerate(zip(dirs, slides["filename"])):
        where = f"table 'Slides' uid {slides['uid'].iloc[i]}"
        f = text(None if is_missing(f) else f, path, f"{where} column 'filename'", what="a file name")
        if not f:
            raise fail(path, f"{where} column 'filename'", "expected a file name")
        d = text(None if is_missing(d) else d, path, f"{where} column 'directory'", what="a folder name")
        rel.append(f"{d}/{f}" if d else f)
    names, w = unique_names(rel)
    warnings.extend(w)
    img_rows = []
    for i, name in enumerate(names):
        where = f"table 'Slides' uid {slides['uid'].iloc[i]}"
        size = [image_size(slides[c].iloc[i] if c in slides else None, path, f"{where} column {c!r}")
                for c in ("width", "height")]
        img_rows.append({"name": name, "width": size[0], "height": size[1]})
    return dict(zip(_numbers(path, slides, "Slides", "uid", integers=True), names)), img_rows


def _coordinates(path, coords) -> dict:
    """annoId -> (n, 2) coordinates in SlideRunner's order of them."""
    key = "uid" if "uid" in coords else "annoId"
    coords = coords.assign(
        annoId=_numbers(path, coords, "Annotations_coordinates", "annoId", key=key, integers=True),
        coordinateX=_numbers(path, coords, "Annotations_coordinates", "coordinateX", key=key),
        coordinateY=_numbers(path, coords, "Annotations_coordinates", "coordinateY", key=key))
    order = "orderIdx" if "orderIdx" in coords and coords["orderIdx"].notna().any() else "uid" if "uid" in coords else None
    if order:
        coords = coords.assign(**{order: _numbers(path, coords, "Annotations_coordinates", order, key=key, nullable=True)})
    coords = coords.sort_values(["annoId", order] if order else ["annoId"], kind="stable")
    return {k: g[["coordinateX", "coordinateY"]].to_numpy(float) for k, g in coords.groupby("annoId", sort=False)}


def _annotation(path, rec, slide_name, class_name, xy_by, votes) -> tuple[dict, bool]:
    """One row of 'Annotations' as a table row, and whether it was a flat area read as a line."""
    uid = int(rec["uid"])
    where = f"table 'Annotations' uid {uid}"
    if rec["slide"] not in slide_name:
        raise fail(path, where, f"slide {int(rec['slide'])} is not in table 'Slides'")
    agreed = rec["agreedClass"]
    if is_missing(agreed) or agreed == 0:
        label = UNCLASSIFIED
    elif agreed not in class_name:
        raise fail(path, f"{where} agreedClass", f"unknown class: class {int(agreed)} is not in table 'Classes'")
    else:
        label = class_name[agreed]
    xy = xy_by.get(uid)
    if xy is None or not len(xy):
        raise fail(path, where, "expected coordinates in 'Annotations_coordinates'")
    t = int(rec["type"])
    meta = {"labels": votes.get(uid, [])}
    flat = False
    if t in (SPOT, SPECIAL_SPOT):
        geom, shape = shapely.Point(xy[0]), "point"
        if t == SPECIAL_SPOT:
            meta["special_spot"] = True
    elif t in (AREA, CIRCLE):
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if x1 <= x0 or y1 <= y0:
            # A flat area (one click, or a drag along an axis) is no box: keep what it is.
            flat = True
            meta["sliderunner_type"] = t
            if x1 == x0 and y1 == y0:
                geom, shape = shapely.Point(x0, y0), "point"
            else:
                geom, shape = shapely.LineString([(x0, y0), (x1, y1)]), "line"
        else:
            geom, shape = shapely.box(x0, y0, x1, y1), ("box" if t == AREA else "ellipse")
    elif t == POLYGON:
        if len(xy) < 3:
            raise fail(path, where, "expected a polygon with at least 3 coordinates")
        geom, shape = polygon([xy], path, where), "polygon"
    else:
        raise fail(path, f"{where} type", f"expected 1 (spot), 2 (area), 3 (polygon), 4 (special spot) or 5 (circle), got {t}")
    if isinstance(rec.get("guid"), str) and rec["guid"]:
        meta["guid"] = rec["guid"]
    if not is_missing(rec.get("lastModified")):
        meta["lastModified"] = number(rec["lastModified"], path, f"{where} column 'lastModified'")
    desc = rec.get("description")
    return {"image": slide_name[rec["slide"]], "type": label, "geometry": geom, "shape": shape,
            "description": desc if isinstance(desc, str) else None, "meta": meta}, flat


_SCHEMA = [
    "CREATE TABLE `Annotations_label` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `person` INTEGER, `class` INTEGER, `annoId` INTEGER, `exact_id` INTEGER)",
    "CREATE TABLE `Annotations_coordinates` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `coordinateX` INTEGER, `coordinateY` INTEGER, `slide` INTEGER, `annoId` INTEGER, `orderIdx` INTEGER)",
    "CREATE TABLE `Annotations` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `slide` INTEGER, `type` INTEGER, `agreedClass` INTEGER, `guid` TEXT, `deleted` INTEGER DEFAULT 0, `lastModified` REAL DEFAULT 0, `description` TEXT, `clickable` INTEGER DEFAULT 1)",
    "CREATE TABLE `Classes` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `name` TEXT, `color` TEXT)",
    "CREATE TABLE `Persons` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `name` TEXT, `isExactUser` INTEGER DEFAULT 0)",
    "CREATE TABLE `Slides` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, `filename` TEXT, `width` INTEGER, `height` INTEGER, `directory` TEXT, `uuid` TEXT, `exactImageID` TEXT, `EXACTUSER` INTEGER DEFAULT 0)",
    "CREATE TABLE `Log` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT, `dateTime` FLOAT, `labelId` INTEGER)",
]


def write(path, annotations, images, types, **_) -> dict:
    """SlideRunner stores coordinates as integers: they are rounded (the loss this format forces)."""
    path = Path(path)
    out = path if path.suffix else path / "annotations.sqlite"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    tinfo = type_info(types)
    ann = annotations
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    flat = np.array([meta_of(m).get("sliderunner_type") in (AREA, CIRCLE) for m in ann["meta"]], dtype=bool) \
        if len(ann) else np.array([], dtype=bool)
    skip = np.isin(vt, ["global", "line", "polyline"]) & ~flat
    warnings = [f"SlideRunner has no lines or whole-image annotations: {int(skip.sum())} not written"] if skip.any() else []
    ann = ann[~skip]
    con = sqlite3.connect(out)
    try:
        for stmt in _SCHEMA:
            con.execute(stmt)
        class_id, person_id, slide_id = {}, {}, {}
        for name, row in tinfo.items():
            lb = source_label(row, name)
            if lb not in class_id and lb != UNCLASSIFIED:
                cur = con.execute("INSERT INTO Classes (name, color) VALUES (?, ?)", [lb, row.get("color")])
                class_id[lb] = cur.lastrowid
        for im in images.to_dict("records"):
            d, _, f = im["name"].rpartition("/")
            cur = con.execute("INSERT INTO Slides (filename, width, height, directory) VALUES (?, ?, ?, ?)",
                              [f, None if is_missing(im.get("width")) else int(im["width"]),
                               None if is_missing(im.get("height")) else int(im["height"]), d])
            slide_id[im["image_id"]] = cur.lastrowid

        def person(name):
            if name not in person_id:
                person_id[name] = con.execute("INSERT INTO Persons (name) VALUES (?)", [name]).lastrowid
            return person_id[name]

        def klass(name):
            if name == UNCLASSIFIED:
                return 0
            if name not in class_id:
                class_id[name] = con.execute("INSERT INTO Classes (name) VALUES (?)", [name]).lastrowid
            return class_id[name]

        n_rounded = 0
        written = 0
        for row in ann.itertuples(index=False):
            meta = meta_of(row.meta)
            label = source_label(tinfo.get(row.type), row.type)
            g, v = row.geometry, row.vector_type
            shapes = []
            if meta.get("sliderunner_type") in (AREA, CIRCLE):  # a flat area, as it came
                shapes = [(meta["sliderunner_type"], shapely.get_coordinates(g)[[0, -1]])]
            elif v == "point":
                kind = SPECIAL_SPOT if meta.get("special_spot") else SPOT
                shapes = [(kind, [p]) for p in shapely.get_coordinates(g)]
            elif v in ("box", "fixed_box", "ellipse") or (meta.get("shape") == "box" and G.is_rectangle(g)):
                x0, y0, x1, y1 = g.bounds
                shapes = [(CIRCLE if v == "ellipse" else AREA, [(x0, y0), (x1, y1)])]
            else:
                shapes = [(POLYGON, G.exterior_coords(p)) for p in G.polygons_of(g)]
            for kind, pts in shapes:
                pts = np.asarray(pts, dtype=float)
                r = np.round(pts)
                n_rounded += int((r != pts).any())
                guid = meta.get("guid") if len(shapes) == 1 else None
                cur = con.execute(
                    "INSERT INTO Annotations (slide, type, agreedClass, guid, deleted, lastModified, description) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?)",
                    [slide_id[row.image_id], kind, klass(label), guid or str(_uuid.uuid4()),
                     meta.get("lastModified"), row.description if isinstance(row.description, str) else None])
                aid = cur.lastrowid
                con.executemany(
                    "INSERT INTO Annotations_coordinates (coordinateX, coordinateY, slide, annoId, orderIdx) VALUES (?, ?, ?, ?, ?)",
                    [(int(x), int(y), slide_id[row.image_id], aid, i + 1) for i, (x, y) in enumerate(r)])
                votes = meta.get("labels") or [{"person": row.creator if isinstance(getattr(row, "creator", None), str) else "exact-lab",
                                                "class": label}]
                con.executemany("INSERT INTO Annotations_label (person, class, annoId) VALUES (?, ?, ?)",
                                [(person(vt_["person"]), klass(vt_["class"]), aid) for vt_ in votes])
            written += 1
        con.commit()
    finally:
        con.close()
    if n_rounded:
        warnings.append(f"{n_rounded} annotation(s) had fractional coordinates, rounded to whole pixels (SlideRunner stores integers)")
    return {"files": [str(out)], "exported": written, "skipped": int(skip.sum()), "warnings": warnings}
