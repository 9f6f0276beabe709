"""Apple CreateML JSON: ``[{image, annotations: [{label, coordinates: {x, y, width, height}}]}]``
where x, y is the box centre, in pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..store.integrity import MARKER_FILE
from ._checks import checked_box, number, text
from ._common import Parsed, dump_json, fail, image_table, load_json, searched_folder, source_label, table, type_info


def read(path, *, images=None, **_) -> Parsed:
    p = Path(path)
    # a project folder inside the one searched is not an export: its marker is JSON too
    files = sorted(f for f in p.rglob("*.json") if f.name != MARKER_FILE) if p.is_dir() else [p]
    if not files:
        raise fail(p, None, "expected CreateML .json files")
    rows, imgs = [], []
    for f in files:
        data = load_json(f)
        if not isinstance(data, list):
            raise fail(f, "top level", f"expected a list of images, got {type(data).__name__}")
        for i, item in enumerate(data):
            if not isinstance(item, dict) or "image" not in item:
                raise fail(f, f"[{i}]", "expected an object with 'image' and 'annotations'")
            name = text(item["image"], f, f"[{i}].image", what="an image file name")
            if not name:
                raise fail(f, f"[{i}].image", "expected an image file name")
            imgs.append({"name": name})
            anns = item.get("annotations") or []
            if not isinstance(anns, list):
                raise fail(f, f"[{i}].annotations", "expected a list")
            for k, a in enumerate(anns):
                where = f"[{i}].annotations[{k}]"
                if not isinstance(a, dict) or "label" not in a or not isinstance(a.get("coordinates"), dict):
                    raise fail(f, where, "expected an object with 'label' and 'coordinates'")
                c = a["coordinates"]
                try:
                    x, y, w, h = (number(c[key], f, f"{where}.coordinates.{key}") for key in ("x", "y", "width", "height"))
                except KeyError as exc:
                    raise fail(f, f"{where}.coordinates", f"missing key {exc.args[0]!r}") from None
                if w <= 0 or h <= 0:
                    raise fail(f, f"{where}.coordinates", "expected positive width and height")
                label = text(a["label"], f, f"{where}.label", what="a class name")
                if not label:
                    raise fail(f, f"{where}.label", "expected a class name")
                rows.append({"image": name, "type": label, "shape": "box",
                             "geometry": checked_box(f, f"{where}.coordinates", x - w / 2, y - h / 2, x + w / 2, y + h / 2)})
    return Parsed(annotations=table(rows), images=image_table(imgs), searched=searched_folder(p, files, "CreateML"))


def write(path, annotations, images, types, **_) -> dict:
    path = Path(path)
    out = path if path.suffix.lower() == ".json" else path / "_annotations.createml.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    ok = ~np.isin(vt, ["global", "point"])
    warnings = []
    if (~ok).any():
        warnings.append(f"CreateML holds boxes only: {int((~ok).sum())} point / global annotation(s) not written")
    if np.isin(vt[ok], ["polygon", "mask", "line", "polyline", "ellipse"]).any():
        warnings.append("polygons, lines and ellipses written as their bounding boxes")
    ann = ann[ok]
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    doc = []
    for im in images.to_dict("records"):
        g = groups.get(im["image_id"])
        items = []
        for row in (g.itertuples(index=False) if g is not None else []):
            x0, y0, x1, y1 = row.geometry.bounds
            items.append({"label": source_label(tinfo.get(row.type), row.type),
                          "coordinates": {"x": (x0 + x1) / 2, "y": (y0 + y1) / 2, "width": x1 - x0, "height": y1 - y0}})
        doc.append({"image": im["name"], "annotations": items})
    dump_json(doc, out, indent=True)
    return {"files": [str(out)], "exported": int(len(ann)), "skipped": int((~ok).sum()), "warnings": warnings}
