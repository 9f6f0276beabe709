"""Format names, their modules, and sniffing a file or folder's format from its content."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from ..errors import FormatError

# name -> module (inside exact_lab.formats); every module has read(path, ...) and write(path, ...)
FORMATS = {
    "coco": "coco",
    "voc": "voc",
    "yolo": "yolo",
    "cvat": "cvat",
    "labelme": "labelme",
    "createml": "createml",
    "datumaro": "datumaro",
    "csv": "csv_table",
    "qupath": "qupath",
    "asap": "asap",
    "sliderunner": "sliderunner",
    "exact": "exact_pipe",
    "template": "exact_template",
    "mask": "mask_png",
}

# other spellings users type -> (format, options the alias implies)
ALIASES = {
    "pascal_voc": ("voc", {}), "pascalvoc": ("voc", {}), "voc_xml": ("voc", {}),
    "yolo_darknet": ("yolo", {"layout": "darknet"}), "darknet": ("yolo", {"layout": "darknet"}),
    "yolo_ultralytics": ("yolo", {"layout": "ultralytics"}), "ultralytics": ("yolo", {"layout": "ultralytics"}),
    "yolo_keras": ("yolo", {"layout": "keras"}), "yolo_pytorch": ("yolo", {"layout": "keras"}),
    "keras_yolo": ("yolo", {"layout": "keras"}),
    "cvat_xml": ("cvat", {}), "cvat_images": ("cvat", {}), "cvat_for_images": ("cvat", {}),
    "coco_json": ("coco", {}), "coco_results": ("coco", {"results": True}),
    "geojson": ("qupath", {}), "qupath_geojson": ("qupath", {}),
    "asap_xml": ("asap", {}), "sliderunner_sqlite": ("sliderunner", {}), "sqlite": ("sliderunner", {}),
    "exact_pipe": ("exact", {}), "pipe": ("exact", {}), "exact_template": ("template", {}),
    "mask_png": ("mask", {}), "png": ("mask", {}), "segmentation_mask": ("mask", {}),
    "datumaro_json": ("datumaro", {}), "create_ml": ("createml", {}), "labelme_json": ("labelme", {}),
}


def resolve(name: str) -> tuple[str, object, dict]:
    """(canonical name, module, implied options) for a format name or alias."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    options = {}
    if key in ALIASES:
        key, options = ALIASES[key]
    if key not in FORMATS:
        raise FormatError(
            f"unknown annotation format {name!r}; expected one of {', '.join(sorted(FORMATS))}"
        )
    module = importlib.import_module(f"{__package__}.{FORMATS[key]}")
    return key, module, dict(options)


def sniff(path) -> str:
    """The format of a file or folder, from its content (not only its extension)."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file or folder")
    found = _sniff_dir(p) if p.is_dir() else _sniff_file(p)
    if found is None:
        raise FormatError(
            f"{p}: cannot tell the annotation format from its content; "
            f"pass format= one of {', '.join(sorted(FORMATS))}"
        )
    return found


def _head(p: Path, n: int = 65536) -> str:
    with open(p, "rb") as fh:
        return fh.read(n).decode("utf-8", errors="replace").lstrip("\ufeff")


def _sniff_file(p: Path) -> str | None:
    suffix = p.suffix.lower()
    if suffix in (".sqlite", ".db", ".sqlite3"):
        return "sliderunner"
    if suffix == ".png":
        return "mask"
    if suffix in (".yaml", ".yml"):
        return "yolo"
    if suffix == ".geojson":
        return "qupath"
    head = _head(p)
    text = head.lstrip()
    if head.startswith("SQLite format 3"):
        return "sliderunner"
    if text.startswith("<"):
        if "<ASAP_Annotations" in head:
            return "asap"
        if re.search(r"<annotations[\s>]", head):
            return "cvat"
        if re.search(r"<annotation[\s>]", head):
            return "voc"
        return None
    if text.startswith("{") or text.startswith("["):
        return _sniff_json(text)
    if suffix == ".csv":
        return "csv"
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if first.count("|") >= 2:
        return "exact"
    if re.match(r"^\S+(\s+-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+,\d+)+\s*$", first):
        return "yolo"
    if re.match(r"^\d+(\s+-?[\d.eE+-]+){4,}\s*$", first):
        return "yolo"
    if "," in first:
        return "csv"
    return None


def _sniff_json(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text[:65536])
    if compact.startswith("["):
        if '"image_id"' in compact and '"category_id"' in compact:
            return "coco"
        if '"coordinates":{' in compact and '"label"' in compact:
            return "createml"
        if '"type":"Feature"' in compact:
            return "qupath"
        if compact.startswith("[{") and '"image"' in compact and '"annotations"' in compact:
            return "createml"
        return None
    if '"shapes"' in compact and ('"imagePath"' in compact or '"shape_type"' in compact):
        return "labelme"
    if '"type":"FeatureCollection"' in compact or '"type":"Feature"' in compact:
        return "qupath"
    if '"items"' in compact and ('"categories"' in compact or '"infos"' in compact):
        return "datumaro"
    if '"annotations"' in compact or '"images"' in compact or '"categories"' in compact:
        return "coco"
    return None


def _sniff_dir(p: Path) -> str | None:
    names = {c.name.lower() for c in p.iterdir()}
    if "obj.data" in names or "data.yaml" in names or "dataset.yaml" in names:
        return "yolo"
    if "annotations" in names and (p / "annotations").is_dir():
        sub = list((p / "annotations").glob("*.json"))
        if sub:
            return _sniff_json(_head(sub[0]).lstrip()) or "coco"
        if list((p / "annotations").glob("*.xml")):
            return "voc"
    for child in p.iterdir():
        if child.name.lower() == "annotations" and child.is_dir() and list(child.glob("*.xml")):
            return "voc"
    if any(n.endswith(".createml.json") for n in names) or any(p.glob("*/*.createml.json")):
        return "createml"
    if "obj.names" in names or "classes.txt" in names:
        return "yolo"
    jsons = sorted(p.glob("*.json"))
    if jsons:
        return _sniff_json(_head(jsons[0]).lstrip())
    xmls = sorted(p.glob("*.xml"))
    if xmls:
        return _sniff_file(xmls[0])
    if sorted(p.glob("*.png")):
        return "mask"
    return None
