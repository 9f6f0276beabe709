"""Masks to and from files: PNG class-index images (at a chosen level) with a label map, COCO
RLE per class, and polygons (contours) as GeoJSON; PNG masks import into mask types."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InvalidValueError, UnknownTypeError
from ..formats.mask_png import read_label_image, write_label_image


class MaskFilesMixin:
    def export_masks(self, folder, image_set=None, format: str = "png", level: int = 0, version=None) -> dict:
        """Write every painted image's mask (of ``image_set``, at ``version``) into ``folder``:
        ``"png"`` one class-index PNG per image and frame plus ``labelmap.txt``; ``"coco"`` one
        ``masks.json`` with an RLE annotation per image, frame and class; ``"polygons"`` one
        GeoJSON per image and frame (level-0 coordinates). Returns {"files": [...]}."""
        if format not in ("png", "coco", "polygons"):
            raise InvalidValueError(f"mask export format must be png, coco or polygons, got {format!r}")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        classes = self.mask_classes()
        names = ["background"] + list(classes["name"])
        file_index = {int(t): i + 1 for i, t in enumerate(classes["type_id"])}  # type_id -> PNG index
        stats = self.mask_stats(image_set=image_set, version=version)
        files, coco = [], {"images": [], "categories": [], "annotations": []}
        coco["categories"] = [{"id": int(t), "name": n} for t, n in zip(classes["type_id"], classes["name"])]
        scale = 1 << int(level)
        for (image_id, frame), _ in stats.groupby(["image_id", "frame"]):
            record = self.images(ids=[int(image_id)]).iloc[0]
            labels = np.asarray(self.mask(int(image_id), level=level, frame=int(frame), version=version))
            stem = Path(str(record["public_name"] or record["name"])).stem + (f"_f{frame}" if frame else "")
            if format == "png":
                lut = np.zeros(max(file_index, default=0) + 1, np.uint16)
                for t, i in file_index.items():
                    lut[t] = i
                files += write_label_image(folder / f"{stem}.png", lut[labels], names)[:1]
            elif format == "coco":
                _coco_add(coco, int(image_id), int(frame), stem, labels, scale)
            else:
                path = folder / f"{stem}.geojson"
                path.write_text(json.dumps(_polygons(labels, scale, dict(zip(classes["type_id"], classes["name"])))))
                files.append(str(path))
        if format == "png" and files:
            files.append(str(folder / "labelmap.txt"))  # written beside each PNG, the same for all
        if format == "coco":
            path = folder / "masks.json"
            path.write_text(json.dumps(coco))
            files.append(str(path))
        return {"files": files}

    def import_mask_png(self, path, image, *, type_map=None, create_types: bool = True, level: int = 0,
                        frame: int = 0, offset=(0, 0)) -> dict:
        """Read a PNG class-index mask (palette, grey, or RGB with a label map) into the image's
        mask: each file class becomes the mask type of the same name (``type_map`` {file name or
        index: type} overrides; missing types are created unless ``create_types=False``). One
        snapshot. Returns {file index: type_id}."""
        labels, names = read_label_image(path)
        indices = [int(i) for i in np.unique(labels) if int(i) not in (0, 255)]
        type_map = dict(type_map or {})
        known = dict(zip(self.mask_classes()["name"], self.mask_classes()["type_id"]))
        mapping = {}
        for idx in indices:
            label = names[idx] if names is not None and idx < len(names) else f"class {idx}"
            target = type_map.get(idx, type_map.get(label, label))
            if target in known:
                mapping[idx] = int(known[target])
            elif isinstance(target, (int, np.integer)) and int(target) in known.values():
                mapping[idx] = int(target)
            elif create_types and isinstance(target, str):
                mapping[idx] = int(self.add_annotation_type(target, "mask"))
                known[target] = mapping[idx]
            else:
                raise UnknownTypeError(f"{path}: class {label!r} (index {idx}) has no mask type in this project "
                                       "(pass type_map= or create_types=True)")
        lut = np.zeros(max(int(labels.max()), 255) + 1, np.uint16)
        for idx, type_id in mapping.items():
            lut[idx] = type_id
        self.set_mask(image, lut[labels], offset=offset, level=level, frame=frame)
        return mapping


def _coco_add(coco: dict, image_id: int, frame: int, stem: str, labels: np.ndarray, scale: int) -> None:
    from pycocotools import mask as rle

    coco_image = len(coco["images"]) + 1
    h, w = labels.shape
    coco["images"].append({"id": coco_image, "file_name": stem, "width": int(w), "height": int(h),
                           "exact_lab_image_id": image_id, "frame": frame, "downsample": scale})
    for cls in [int(c) for c in np.unique(labels) if c]:
        encoded = rle.encode(np.asfortranarray(labels == cls, dtype=np.uint8))
        x, y, bw, bh = (float(v) for v in rle.toBbox(encoded))
        coco["annotations"].append({
            "id": len(coco["annotations"]) + 1, "image_id": coco_image, "category_id": cls, "iscrowd": 1,
            "segmentation": {"size": [int(h), int(w)], "counts": encoded["counts"].decode("ascii")},
            "area": float(rle.area(encoded)), "bbox": [x, y, bw, bh]})


def _polygons(labels: np.ndarray, scale: int, names: dict) -> dict:
    """Contours of each class as GeoJSON polygons in level-0 pixels (pixel edges, holes kept)."""
    import shapely
    from skimage import measure

    features = []
    for cls in [int(c) for c in np.unique(labels) if c]:
        padded = np.pad(labels == cls, 1).astype(np.uint8)
        rings = [shapely.Polygon((c[:, ::-1] - 0.5) * scale) for c in measure.find_contours(padded, 0.5) if len(c) >= 4]
        area = shapely.union_all([r for r in rings if r.is_valid]) if rings else None
        # contours of holes come back as rings too: the symmetric difference keeps holes open
        geom = shapely.symmetric_difference_all([r.buffer(0) for r in rings]) if rings else area
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"type_id": cls, "type": names.get(cls)},
                         "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}
