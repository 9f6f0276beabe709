"""Pick an annotation type (template) for every class a file names.

Files label shapes; exact-lab's templates have one vector type each (EXACT's model). A class whose
shapes all fit one vector type becomes one template (boxes and polygons of a class -> a polygon
template; a box kept in it remembers meta["shape"] = "box" so CVAT or LabelMe get a box back).
Shapes that cannot share a template (CVAT's label2 with a polyline and a point set) go to a
second template named "label2 (point)" whose meta["source_label"] is "label2", so writers put the
original label back. Every split is reported as a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Which template vector types can hold a shape, best first.
FITS = {
    "box": ("box", "fixed_box", "polygon", "mask"),
    "polygon": ("polygon", "mask"),
    "mask": ("mask", "polygon"),
    "ellipse": ("ellipse",),
    "point": ("point",),
    "line": ("line", "polyline"),
    "polyline": ("polyline",),
    "global": ("global",),
}
# For a new template: the most specific vector type that holds every shape of the class.
PREFERENCE = ("box", "ellipse", "line", "point", "polyline", "polygon", "mask", "global")


def resolve_types(
    annotations: pd.DataFrame,
    hints: dict,
    existing: pd.DataFrame | None,
    type_map: dict | None = None,
    create_types: bool = True,
):
    """Return (annotations with final type names, new type specs, warnings, skipped count)."""
    ann = annotations
    warnings: list[str] = []
    if type_map:
        ann = ann.assign(type=pd.Series([type_map.get(t, t) for t in ann["type"]], index=ann.index, dtype=object))
    known = {}
    if existing is not None and len(existing):
        known = dict(zip(existing["name"], existing["vector_type"]))

    shapes = ann["shape"].fillna("").to_numpy(dtype=object)
    types = ann["type"].to_numpy(dtype=object)
    new_type = types.copy()
    keep = np.ones(len(ann), dtype=bool)
    box_moved = np.zeros(len(ann), dtype=bool)
    specs: dict[str, dict] = {}
    skipped = 0

    groups = pd.DataFrame({"t": types, "s": shapes}).groupby(["t", "s"], sort=False).indices
    by_class: dict[str, dict[str, np.ndarray]] = {}
    for (t, s), idx in groups.items():
        by_class.setdefault(t, {})[s] = idx

    for cls, shape_rows in by_class.items():
        hint = hints.get(cls, {}) if hints else {}
        counts = {s: len(i) for s, i in shape_rows.items()}
        if cls in known:
            main_vt = known[cls]
        else:
            main_vt = _choose(counts, hint.get("vector_type"))
        for shape, idx in shape_rows.items():
            fits = FITS.get(shape or "polygon", ())
            if main_vt in fits:
                target, vt = cls, main_vt
            else:
                vt = fits[0] if fits else "polygon"
                target = f"{cls} ({vt})"
                warnings.append(
                    f"class {cls!r} holds {counts[shape]} {shape or 'unknown'} shape(s) that a "
                    f"{main_vt!r} template cannot hold; they go to type {target!r}"
                )
            if target not in known and target not in specs:
                if not create_types:
                    keep[idx] = False
                    skipped += len(idx)
                    warnings.append(
                        f"class {target!r} is not an annotation type of the project and "
                        f"create_types=False: {len(idx)} annotation(s) skipped"
                    )
                    continue
                spec = {k: v for k, v in hint.items() if v is not None}
                spec["vector_type"] = vt
                if target != cls:
                    spec["meta"] = {**(spec.get("meta") or {}), "source_label": cls}
                    if vt != hint.get("vector_type"):
                        spec.pop("node_count", None)
                specs[target] = spec
            if target in specs and specs[target]["vector_type"] != vt and target not in known:
                vt = specs[target]["vector_type"]
            new_type[idx] = target
            target_vt = known.get(target, specs.get(target, {}).get("vector_type", vt))
            if shape == "box" and target_vt not in ("box", "fixed_box"):
                box_moved[idx] = True

    ann = ann.assign(type=pd.Series(new_type, index=ann.index, dtype=object))
    if box_moved.any():
        metas = ann["meta"].to_numpy(dtype=object).copy()
        for i in np.flatnonzero(box_moved):
            m = dict(metas[i]) if isinstance(metas[i], dict) else {}
            m.setdefault("shape", "box")
            metas[i] = m
        ann = ann.assign(meta=metas)
    if not keep.all():
        ann = ann[keep].reset_index(drop=True)
    return ann, specs, warnings, skipped


def _choose(counts: dict, hinted: str | None) -> str:
    shapes = [s or "polygon" for s in counts]
    if hinted and all(hinted in FITS.get(s, ()) for s in shapes):
        return hinted
    for vt in PREFERENCE:
        if all(vt in FITS.get(s, ()) for s in shapes):
            return vt
    # No single template holds them all: the one that holds the most shapes wins.
    best, best_n = None, -1
    for vt in PREFERENCE:
        n = sum(c for s, c in counts.items() if vt in FITS.get(s or "polygon", ()))
        if n > best_n:
            best, best_n = vt, n
    return best
