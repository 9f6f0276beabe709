"""EXACT-style user-defined export templates.

A template has a base part (``%%content``), an optional image part (``%%imagename``,
``%%imagewidth``, ``%%imageheight``, ``%%annotations``, ``%%annoamount``) used when annotations are
grouped by image, an annotation part (``%%imagename``, ``%%type``, ``%%vector``, ``%%frame``,
``%%UUID``, ``%%minx`` ... ``%%relheight``, ``%%score``, conditionals ``%%ifblurred...%%endif``) and a
vector part repeated per point (``%%x``, ``%%y``, ``%%relx``, ``%%rely``, ``%%count0``, ``%%count1``,
``%%br``), with ``not_in_image_format`` for whole-image annotations.

Reading is the inverse for line-per-annotation templates (no image grouping): give the same
template and each line is matched back into image, type and points.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._checks import integer
from ._common import Parsed, fail, fmt, image_table, is_missing, meta_of, read_text, table
from .exact_pipe import geometry_from_points, vector_points

DEFAULT = {
    "base_format": "%%content",
    "image_format": "%%imagename\n%%annotations",
    "annotation_format": "%%imagename|%%type|{%%vector}|%%ifblurredb%%endif%%ifconcealedc%%endif",
    "vector_format": '"x%%count1": %%x,"y%%count1": %%y,',
    "not_in_image_format": "%%imagename|%%type|not in image",
    "name_format": "export.txt",
    "image_aggregation": False,
}


def _conditional(text, name, keep):
    return re.sub(re.escape(name) + r"(.*?)%%endif", (lambda m: m.group(1)) if keep else "", text, flags=re.S)


def _fill(text, values: dict):
    # longest placeholder first: %%relminx before %%minx, %%imagewidth before %%imagename ...
    for key in sorted(values, key=len, reverse=True):
        text = text.replace(key, str(values[key]))
    return text


def write(path, annotations, images, types, **template) -> dict:
    t = {**DEFAULT, **{k: v for k, v in template.items() if k in DEFAULT}}
    path = Path(path)
    out = path if path.suffix else path / t["name_format"]
    out.parent.mkdir(parents=True, exist_ok=True)
    ann = annotations
    imgs = {r["image_id"]: r for r in images.to_dict("records")}
    lines = {}
    for r in ann.itertuples(index=False):
        im = imgs.get(r.image_id, {"name": r.image, "width": None, "height": None})
        lines.setdefault(r.image_id, []).append(_annotation(t, r, im))
    if t["image_aggregation"]:
        parts = []
        for iid, anns in lines.items():
            im = imgs.get(iid, {"name": "", "width": "", "height": ""})
            parts.append(_fill(t["image_format"], {"%%imagename": im["name"], "%%imagewidth": _int(im.get("width")),
                                                   "%%imageheight": _int(im.get("height")),
                                                   "%%annotations": "\n".join(anns), "%%annoamount": len(anns)}))
        content = "\n".join(parts)
    else:
        content = "\n".join(a for anns in lines.values() for a in anns)
    out.write_text(_fill(t["base_format"], {"%%content": content}) + ("\n" if not content.endswith("\n") else ""))
    return {"files": [str(out)], "exported": int(len(ann)), "skipped": 0, "warnings": []}


def _int(v):
    return "" if is_missing(v) else int(v)


def _annotation(t, r, im):
    W, H = im.get("width"), im.get("height")
    common = {"%%imagename": im["name"], "%%imagewidth": _int(W), "%%imageheight": _int(H), "%%type": r.type}
    if r.geometry is None:
        return _fill(t["not_in_image_format"], common)
    rel = not is_missing(W) and not is_missing(H) and W and H
    vec = ""
    for i, (x, y) in enumerate(vector_points(r.geometry, r.vector_type)):
        vec += _fill(t["vector_format"], {"%%count0": i, "%%count1": i + 1, "%%x": fmt(x), "%%y": fmt(y),
                                          "%%relx": fmt(x / W) if rel else "", "%%rely": fmt(y / H) if rel else "",
                                          "%%br": "\n"})
    x0, y0, x1, y1 = r.geometry.bounds
    w, h = x1 - x0, y1 - y0
    text = t["annotation_format"]
    for flag, value in (("blurred", r.blurred), ("concealed", r.concealed)):
        text = _conditional(text, f"%%ifnot{flag}", not value)
        text = _conditional(text, f"%%if{flag}", bool(value))
    values = {**common, "%%vector": vec, "%%frame": int(r.frame) if not is_missing(r.frame) else 0,
              "%%UUID": r.uuid, "%%meta_data": meta_of(r.meta), "%%deleted": False,
              "%%score": "" if is_missing(r.score) else fmt(r.score),
              "%%first_editor": getattr(r, "creator", ""), "%%last_editor": getattr(r, "editor", ""),
              "%%minx": fmt(x0), "%%miny": fmt(y0), "%%maxx": fmt(x1), "%%maxy": fmt(y1),
              "%%width": fmt(w), "%%height": fmt(h), "%%cx": fmt(x0 + w / 2), "%%cy": fmt(y0 + h / 2),
              "%%rad": fmt(max(w, h) / 2), "%%dia": fmt(max(w, h))}
    if rel:
        values.update({"%%relminx": fmt(x0 / W), "%%relminy": fmt(y0 / H), "%%relmaxx": fmt(x1 / W),
                       "%%relmaxy": fmt(y1 / H), "%%relwidth": fmt(w / W), "%%relheight": fmt(h / H),
                       "%%relcx": fmt((x0 + w / 2) / W), "%%relcy": fmt((y0 + h / 2) / H),
                       "%%relrad": fmt(max(w, h) / 2 / W), "%%reldia": fmt(max(w, h) / W)})
    return _fill(text, values).replace(",}", "}")


# --- reading (the inverse of a line-per-annotation template) ----------------------------------

_NUM = r"(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"


def _pattern(fmt_text, groups):
    out, pos = "", 0
    for m in re.finditer(r"%%[A-Za-z_01]+", fmt_text):
        out += re.escape(fmt_text[pos:m.start()])
        key = m.group(0)
        out += groups.get(key, r".*?")
        pos = m.end()
    return out + re.escape(fmt_text[pos:])


def read(path, *, images=None, known_types=None, vector_types=None, **template) -> Parsed:
    t = {**DEFAULT, **{k: v for k, v in template.items() if k in DEFAULT}}
    if t["image_aggregation"] or "%%vector" not in t["annotation_format"] or re.search(r"%%if", t["vector_format"]):
        raise fail(path, None, "reading back needs a line-per-annotation template (image_aggregation=False) "
                   "whose annotation part contains %%vector")
    decided = dict(zip(known_types["name"], known_types["vector_type"])) if known_types is not None and len(known_types) else {}
    decided.update(vector_types or {})
    vgroups = {"%%x": _NUM, "%%y": _NUM, "%%count0": r"\d+", "%%count1": r"\d+", "%%relx": _NUM, "%%rely": _NUM}
    vec_one = _pattern(t["vector_format"].replace("%%br", "\n"), {k: f"(?:{v})" for k, v in vgroups.items()})
    ann_text = t["annotation_format"]
    for flag in ("blurred", "concealed"):
        ann_text = re.sub(rf"%%if{flag}(.*?)%%endif", lambda m, f=flag: f"%%FLAG{f}", ann_text)
        ann_text = re.sub(rf"%%ifnot{flag}(.*?)%%endif", "", ann_text)
    groups = {"%%imagename": r"(?P<image>.+?)", "%%type": r"(?P<type>.+?)",
              "%%vector": rf"(?P<vector>(?:{vec_one})*)", "%%frame": r"(?P<frame>-?\d+)"}
    pat = _pattern(ann_text, groups)
    pat = pat.replace("%%FLAGblurred", "(?P<blurred>.*?)").replace("%%FLAGconcealed", "(?P<concealed>.*?)")
    ann_re = re.compile("^" + pat + "$")
    nii_re = re.compile("^" + _pattern(t["not_in_image_format"], groups) + "$")
    vgroups.update({"%%relx": f"(?:{_NUM})", "%%rely": f"(?:{_NUM})", "%%count0": r"\d+", "%%count1": r"\d+"})
    vec_re = re.compile(_pattern(t["vector_format"].replace("%%br", "\n"), vgroups))
    dropped_comma = t["vector_format"].endswith(",") and "%%vector}" in t["annotation_format"]
    text = read_text(path)
    rows, names = [], {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if dropped_comma:  # EXACT's export turns ',}' into '}': put the separator back
            line = re.sub(r"(\d)\}", r"\1,}", line)
        m = ann_re.match(line)
        if m:
            pts = np.array([[float(a), float(b)] for a, b in vec_re.findall(m.group("vector"))])
            if len(pts) == 0:
                raise fail(path, f"line {n}", "expected the template's vector part")
            vt = decided.get(m.group("type"))
            row = {"image": m.group("image"), "type": m.group("type"), **geometry_from_points(pts, vt, path, f"line {n}")}
            gd = m.groupdict()
            if gd.get("frame"):
                row["frame"] = integer(gd["frame"], path, f"line {n}", what="a frame number")
            row["blurred"] = bool(gd.get("blurred"))
            row["concealed"] = bool(gd.get("concealed"))
        else:
            m = nii_re.match(line)
            if not m:
                raise fail(path, f"line {n}", "expected a line of the given template")
            row = {"image": m.group("image"), "type": m.group("type"), "geometry": None, "shape": "global"}
        names.setdefault(row["image"], None)
        rows.append(row)
    return Parsed(annotations=table(rows), images=image_table([{"name": k} for k in names]))
