"""Segmentation masks as PNG: one image per annotated image, each pixel a class index (palette or
grey PNG), or a colour from a label map (RGB PNG; VOC's colour map when no label map is given).

Reading makes one ``mask`` annotation per class and image: the pixel-exact outline plus the
exact RLE in meta["rle"], so writing it again gives the same pixels. Index 0 is background and
255 is VOC's "void" border; neither becomes an annotation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _geometry as G
from ._checks import integer
from ._common import (
    IMAGE_SUFFIXES,
    Parsed,
    fail,
    image_table,
    is_missing,
    meta_of,
    read_text,
    searched_folder,
    source_label,
    table,
    type_info,
)

VOC_NAMES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
             "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
             "train", "tvmonitor"]


def voc_colormap(n=256) -> np.ndarray:
    """VOC's colour map: the bits of the class index spread over R, G and B."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def _labelmap(path: Path):
    """CVAT/Datumaro ``labelmap.txt`` (name:r,g,b:parts:actions) -> (names, colours)."""
    names, colors = [], []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        names.append(parts[0])
        if len(parts) > 1 and parts[1]:
            rgb = parts[1].split(",")
            if len(rgb) != 3:
                raise fail(path, f"line {n}", f"expected a colour r,g,b, got {parts[1][:40]!r}")
            colors.append([integer(v, path, f"line {n}", what="a colour value", maximum=255) for v in rgb])
        else:
            colors.append(None)
    return names, colors


def read(path, *, images=None, classes=None, labelmap=None, **_) -> Parsed:
    from PIL import Image

    p = Path(path)
    files = sorted(p.glob("*.png")) if p.is_dir() else [p]
    if not files:
        raise fail(p, None, "expected PNG mask files")
    base = p if p.is_dir() else p.parent
    lm = Path(labelmap) if labelmap else next((c for c in (base / "labelmap.txt", base.parent / "labelmap.txt") if c.exists()), None)
    names, colors = (_labelmap(lm) if lm else (list(classes) if classes else None, None))
    warnings, rows, imgs = [], [], []
    for f in files:
        try:
            with Image.open(f) as im:
                mode = im.mode
                arr = np.asarray(im.convert("RGB") if mode not in ("P", "L", "I", "I;16") else im)
        except Exception as exc:
            raise fail(f, None, f"not a readable PNG ({exc})") from None
        if arr.ndim == 3:
            arr, used_voc = _rgb_to_index(f, arr, colors)
            if used_voc and names is None:
                names = VOC_NAMES
        name = _image_name(f, images)
        h, w = arr.shape
        imgs.append({"name": name, "width": w, "height": h})
        for idx in np.unique(arr):
            idx = int(idx)
            if idx in (0, 255):
                continue
            if names is not None and idx >= len(names):
                raise fail(f, f"class index {idx}", f"unknown class: the label map has {len(names)} classes")
            label = names[idx] if names is not None else f"class {idx}"
            mask = arr == idx
            rows.append({"image": name, "type": label, "geometry": G.mask_to_geometry(mask), "shape": "mask",
                         "meta": {"rle": G.rle_encode(mask), "class_index": idx}})
    hints = {}
    if names is not None:
        for i, n in enumerate(names):
            hints[n] = {"vector_type": "mask", "meta": {"class_index": i}}
            if colors and i < len(colors) and colors[i]:
                hints[n]["color"] = "#{:02x}{:02x}{:02x}".format(*tuple(colors[i]))
    return Parsed(annotations=table(rows), images=image_table(imgs), types=hints, warnings=warnings,
                  searched=searched_folder(p, files, "PNG mask"))


def _rgb_to_index(f, rgb, colors):
    table_ = np.asarray([c if c else [-1, -1, -1] for c in colors]) if colors else voc_colormap()
    key = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    keys = (table_[:, 0].astype(np.int64) << 16) | (table_[:, 1].astype(np.int64) << 8) | table_[:, 2]
    lookup = {int(k): i for i, k in enumerate(keys) if k >= 0}
    uniq, inv = np.unique(key, return_inverse=True)
    idx = np.empty(len(uniq), dtype=np.int64)
    for j, k in enumerate(uniq):
        if int(k) not in lookup:
            r, g, b = (int(k) >> 16) & 255, (int(k) >> 8) & 255, int(k) & 255
            raise fail(f, f"colour ({r}, {g}, {b})", "expected a colour of the label map")
        idx[j] = lookup[int(k)]
    return idx[inv].reshape(key.shape), colors is None


def _image_name(f: Path, images) -> str:
    if images is not None and len(images):
        for n in images["name"]:
            if Path(n).stem == f.stem:
                return n
    for folder in (f.parent.parent / "JPEGImages", f.parent.parent / "images", f.parent.parent):
        if folder.is_dir():
            for c in sorted(folder.glob(f.stem + ".*")):
                if c.suffix.lower() in IMAGE_SUFFIXES and c != f:
                    return c.name
    return f.name


def write(path, annotations, images, types, *, palette="voc", **_) -> dict:
    from PIL import Image

    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    ok = np.isin(vt, ["box", "fixed_box", "ellipse", "polygon", "mask"])
    warnings = [f"masks hold areas only: {int((~ok).sum())} point / line / global annotation(s) not written"] if (~ok).any() else []
    ann = ann[ok]
    # class indices: kept from the import when known, else by template order after background
    names = ["background"]
    for name, row in sorted(tinfo.items(), key=lambda kv: (kv[1]["meta"].get("class_index", 1e9),
                                                          kv[1].get("sort_order") if not is_missing(kv[1].get("sort_order")) else 1e9)):
        if row.get("vector_type") not in ("box", "fixed_box", "ellipse", "polygon", "mask"):
            continue
        lb = source_label(row, name)
        want = row["meta"].get("class_index")
        if lb in names:
            continue
        if isinstance(want, int) and want >= len(names):
            names += [f"unused {k}" for k in range(len(names), want)]
        names.append(lb)
    index = {n: i for i, n in enumerate(names)}
    if len(names) > 255:
        raise fail(root, None, f"{len(names)} classes do not fit an 8-bit mask (255 at most)")
    cmap = voc_colormap()
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    files = []
    for im in images.to_dict("records"):
        g = groups.get(im["image_id"])
        if g is None:
            continue
        if is_missing(im.get("width")) or is_missing(im.get("height")):
            raise fail(root, f"image {im['name']!r}", "a mask needs the image's width and height")
        h, w = int(im["height"]), int(im["width"])
        out = np.zeros((h, w), dtype=np.uint8)
        g = g.assign(_z=[meta_of(m).get("z_order", 0) for m in g["meta"]]).sort_values("_z", kind="stable")
        for r in g.itertuples(index=False):
            m = meta_of(r.meta)
            if "rle" in m and tuple(m["rle"]["size"]) == (h, w):
                mask = G.rle_decode(m["rle"])
            else:
                geom = G.ellipse_outline(r.geometry, m.get("rotation", 0)) if r.vector_type == "ellipse" else r.geometry
                mask = G.geometry_to_mask(geom, h, w)
            out[mask] = index[source_label(tinfo.get(r.type), r.type)]
        img = Image.fromarray(out, mode="P")
        img.putpalette(cmap.reshape(-1).tolist())
        f = root / (Path(im["name"]).stem + ".png")
        img.save(f)
        files.append(str(f))
    lm = root / "labelmap.txt"
    lm.write_text("# label:color_rgb:parts:actions\n" + "".join(
        f"{n}:{','.join(str(int(c)) for c in cmap[i])}::\n" for i, n in enumerate(names)))
    files.append(str(lm))
    return {"files": files, "exported": int(len(ann)), "skipped": int((~ok).sum()), "warnings": warnings}


# -- whole label images (the masks room's export and import) -----------------------------------
def read_label_image(path, *, labelmap=None, classes=None) -> tuple[np.ndarray, list[str] | None]:
    """(H x W class indices, class names by index or None) of one PNG mask: palette or grey
    indices as they are, RGB through the label map beside it (VOC's colours without one)."""
    from PIL import Image

    f = Path(path)
    lm = Path(labelmap) if labelmap else next((c for c in (f.parent / "labelmap.txt",) if c.exists()), None)
    names, colors = (_labelmap(lm) if lm else (list(classes) if classes else None, None))
    try:
        with Image.open(f) as im:
            arr = np.asarray(im.convert("RGB") if im.mode not in ("P", "L", "I", "I;16") else im)
    except Exception as exc:
        raise fail(f, None, f"not a readable PNG ({exc})") from None
    if arr.ndim == 3:
        arr, used_voc = _rgb_to_index(f, arr, colors)
        if used_voc and names is None:
            names = VOC_NAMES
    return np.asarray(arr), names


def write_label_image(path, labels: np.ndarray, names: list[str]) -> list[str]:
    """Write class indices as a palette PNG (16-bit grey beyond 255 classes) and, beside it,
    ``labelmap.txt`` naming each index (0 = background). Returns the files written."""
    from PIL import Image

    f = Path(path)
    f.parent.mkdir(parents=True, exist_ok=True)
    cmap = voc_colormap()
    if len(names) <= 256:
        img = Image.fromarray(np.asarray(labels, dtype=np.uint8), mode="P")
        img.putpalette(cmap.reshape(-1).tolist())
    else:
        img = Image.fromarray(np.asarray(labels, dtype=np.uint16))
    img.save(f)
    lm = f.parent / "labelmap.txt"
    lm.write_text("# label:color_rgb:parts:actions\n" + "".join(
        f"{n}:{','.join(str(int(c)) for c in cmap[i % 256])}::\n" for i, n in enumerate(names)))
    return [str(f), str(lm)]
